"""The shared roster reader: file types told by content, encodings, row numbers, broken files, and the
streaming .xlsx reader giving what calamine gives."""

from __future__ import annotations

import codecs
import datetime
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from guanai.imports.cells import is_empty
from guanai.imports.reading import RosterReadError, SourceRow, detect_encoding, file_digest, open_roster
from guanai.imports.xlsx_stream import column_index, is_date_format


def rows_of(path: Path | io.BytesIO, **options: Any) -> list[SourceRow]:
    with open_roster(path, **options) as roster:
        return list(roster.rows())


def filled(rows: list[SourceRow]) -> list[tuple[int, list[Any]]]:
    """Row numbers and cells of the non-empty rows, trailing empty cells dropped."""
    result = []
    for row in rows:
        cells = list(row.cells)
        while cells and is_empty(cells[-1]):
            cells.pop()
        if cells:
            result.append((row.number, [None if is_empty(value) else value for value in cells]))
    return result


def sample_workbook(path: Path) -> Path:
    """Leading empty rows and columns, every cell type a roster holds, text as shared strings."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet["C3"] = "姓名"
    sheet["D3"] = "出生日期"
    sheet["C5"] = "张三明"
    sheet["D5"] = datetime.date(2012, 7, 21)
    sheet["D5"].number_format = "yyyy年m月d日"
    sheet["E5"] = datetime.datetime(2012, 7, 21, 10, 0)
    sheet["F5"] = 330127201207210017
    sheet["G5"] = 41111
    sheet["H5"] = 1.5
    sheet["I5"] = True
    sheet["J5"] = "'330127"
    sheet["K5"] = "３３０"
    sheet["C7"] = "李小红"
    workbook.save(path)
    return path


# fmt: off
FIFTH_ROW = [
    None, None, "张三明", datetime.date(2012, 7, 21), datetime.datetime(2012, 7, 21, 10, 0),
    3.3012720120721e17, 41111.0, 1.5, True, "'330127", "３３０",
]
# fmt: on


@pytest.mark.parametrize("stream", [False, True], ids=["calamine", "streamed"])
def test_rows_keep_excel_row_numbers_and_columns(tmp_path: Path, stream: bool) -> None:
    rows = filled(rows_of(sample_workbook(tmp_path / "a.xlsx"), stream_xlsx=stream))

    assert rows == [
        (3, [None, None, "姓名", "出生日期"]),
        (5, FIFTH_ROW),
        (7, [None, None, "李小红"]),
    ]


def test_the_streaming_reader_keeps_shared_strings_and_skips_phonetic_runs(tmp_path: Path) -> None:
    """A hand-made part as Excel writes it: rich-text runs, a phonetic guide (<rPh>), a prefixed
    namespace, inline strings and cells without references."""
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<x:dimension ref="A1:C3"/><x:sheetData>'
        '<x:row r="1"><x:c r="A1" t="s"><x:v>0</x:v></x:c><x:c r="C1" t="s"><x:v>1</x:v></x:c></x:row>'
        '<x:row r="3"><x:c t="inlineStr"><x:is><x:t>甲</x:t></x:is></x:c><x:c t="b"><x:v>1</x:v></x:c>'
        '<x:c t="e"><x:v>#N/A</x:v></x:c><x:c s="1"><x:v>41111</x:v></x:c></x:row>'
        "</x:sheetData></x:worksheet>"
    )
    shared = (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="2" uniqueCount="2">'
        '<si><r><t>姓</t></r><r><t>名</t></r><rPh sb="0" eb="1"><t>せい</t></rPh></si>'
        "<si><t>3301&amp;27</t></si></sst>"
    )
    styles = (
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<numFmts count="1">'
        '<numFmt numFmtId="180" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/>'
        '</numFmts><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="180"/></cellXfs></styleSheet>'
    )
    path = tmp_path / "hand.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "xl/workbook.xml",
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="隐藏" sheetId="1" state="hidden" r:id="rId9"/>'
            '<sheet name="花名册" sheetId="2" r:id="rId1"/></sheets></workbook>',
        )
        kinds = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
        relationships = "".join(
            f'<Relationship Id="{key}" Type="{kinds}/{kind}" Target="{target}"/>'
            for key, kind, target in (
                ("rId1", "worksheet", "worksheets/data.xml"),
                ("rId9", "worksheet", "/xl/worksheets/hidden.xml"),
                ("rId2", "sharedStrings", "sharedStrings.xml"),
                ("rId3", "styles", "styles.xml"),
            )
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + relationships
            + "</Relationships>",
        )
        archive.writestr("xl/worksheets/data.xml", sheet)
        archive.writestr("xl/worksheets/hidden.xml", "<worksheet/>")
        archive.writestr("xl/sharedStrings.xml", shared)
        archive.writestr("xl/styles.xml", styles)
    with open_roster(path, stream_xlsx=True) as roster:
        assert roster.total_rows == 3
        rows = [(row.number, row.cells) for row in roster.rows()]

    assert rows == [(1, ["姓名", "", "3301&27"]), (3, ["甲", True, "#N/A", datetime.date(2012, 7, 21)])]


def test_large_sheets_are_streamed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from guanai.imports import reading

    path = sample_workbook(tmp_path / "a.xlsx")
    with open_roster(path) as roster:
        assert type(roster).__name__ == "CalamineRoster"
    monkeypatch.setattr(reading, "CALAMINE_SHEET_XML_LIMIT", 100)
    with open_roster(path) as roster:
        assert type(roster).__name__ == "StreamingXlsxRoster"


@pytest.mark.parametrize(
    ("code", "is_date"),
    [
        ("yyyy-mm-dd", True),
        ('yyyy"年"m"月"d"日"', True),
        ("[$-F800]dddd, mmmm dd, yyyy", True),
        ("h:mm", True),
        ("0.00", False),
        ('"d"0', False),
        ("[Red]0", False),
        ("General", False),
        ("@", False),
    ],
)
def test_date_formats(code: str, is_date: bool) -> None:
    assert is_date_format(code) is is_date


def test_column_letters() -> None:
    assert [column_index(reference) for reference in ("A1", "Z9", "AA10", "AB")] == [0, 25, 26, 27]


# --- CSV ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoded", "encoding"),
    [
        pytest.param("姓名,村\n张三明,富城村\n".encode(), "utf-8", id="UTF-8"),
        pytest.param(codecs.BOM_UTF8 + "姓名,村\n张三明,富城村\n".encode(), "utf-8-sig", id="UTF-8 BOM"),
        pytest.param("姓名,村\n张三明,富城村\n".encode("gb18030"), "gb18030", id="GB18030"),
        pytest.param("姓名\t村\r\n张三明\t富城村\r\n".encode("utf-16"), "utf-16", id="UTF-16 (Unicode text)"),
    ],
)
def test_csv_encodings_are_detected(encoded: bytes, encoding: str) -> None:
    source = io.BytesIO(encoded)
    assert detect_encoding(source)[0] == encoding
    assert [row.cells for row in rows_of(source)] == [["姓名", "村"], ["张三明", "富城村"]]


def test_csv_rows_are_records_not_lines() -> None:
    source = io.BytesIO('姓名,备注\n张三明,"两行\n备注"\n李小红,无\n'.encode())
    assert [(row.number, row.cells[0]) for row in rows_of(source)] == [
        (1, "姓名"),
        (2, "张三明"),
        (3, "李小红"),
    ]


def test_gb18030_is_decided_on_the_whole_file(tmp_path: Path) -> None:
    """The first megabyte may be plain ASCII; a GBK name further down still decides."""
    path = tmp_path / "r.csv"
    path.write_bytes(b"a,b\n" * 300_000 + "张三明,富城村\n".encode("gb18030"))
    rows = rows_of(path)
    assert rows[-1].cells == ["张三明", "富城村"]


# --- Files that cannot be read ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "code"),
    [
        pytest.param(b"", "empty_file", id="empty"),
        pytest.param(b"PK\x03\x04garbage", "damaged_file", id="not a zip"),
        pytest.param(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "damaged_file", id="damaged xls"),
        pytest.param(
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "unsupported_type", id="image"
        ),
        pytest.param(
            b"<!DOCTYPE html><html><body><table></table></body></html>", "html_disguised", id="html"
        ),
    ],
)
def test_unreadable_files_say_why(tmp_path: Path, content: bytes, code: str) -> None:
    path = tmp_path / "roster.xls"
    path.write_bytes(content)
    with pytest.raises(RosterReadError) as caught:
        rows_of(path)
    assert caught.value.code == code
    assert caught.value.message


def test_a_word_document_is_not_a_roster(tmp_path: Path) -> None:
    path = tmp_path / "roster.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<document/>")
    with pytest.raises(RosterReadError, match="Word"):
        rows_of(path)


@pytest.mark.parametrize("stream", [False, True], ids=["calamine", "streamed"])
def test_a_truncated_workbook_is_damaged(tmp_path: Path, stream: bool) -> None:
    good = sample_workbook(tmp_path / "good.xlsx").read_bytes()
    path = tmp_path / "cut.xlsx"
    path.write_bytes(good[: len(good) - 200])
    with pytest.raises(RosterReadError) as caught:
        rows_of(path, stream_xlsx=stream)
    assert caught.value.code == "damaged_file"


def test_a_missing_file_cannot_be_opened(tmp_path: Path) -> None:
    with pytest.raises(RosterReadError) as caught:
        rows_of(tmp_path / "missing.xlsx")
    assert caught.value.code == "unreadable"


def test_file_objects_are_read_and_rewound(tmp_path: Path) -> None:
    data = sample_workbook(tmp_path / "a.xlsx").read_bytes()
    upload = io.BytesIO(data)
    assert file_digest(upload) == file_digest(tmp_path / "a.xlsx")
    assert filled(rows_of(upload))[0] == (3, [None, None, "姓名", "出生日期"])
