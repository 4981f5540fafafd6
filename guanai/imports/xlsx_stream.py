"""A streaming .xlsx reader for sheets too large to load: expat over the zipped sheet XML, one row at
a time, so memory stays flat whatever the number of rows.

python-calamine (`guanai.imports.reading.CalamineRoster`) is faster but holds the whole sheet in
memory; `open_roster` switches to this reader above `CALAMINE_SHEET_XML_LIMIT`. Both give the same
values for the cells a roster holds: text as str, numbers as float, booleans, error codes as text
("#N/A"), and numbers in a date format as datetime.date (whole days) or datetime.datetime. The shared
strings, which a large sheet has hundreds of thousands of, are kept as one UTF-8 buffer with offsets
rather than as Python strings.
"""

from __future__ import annotations

import datetime
import posixpath
import re
import zipfile
from array import array
from collections.abc import Iterator
from typing import IO, Any
from xml.parsers import expat

from django.utils.translation import gettext as _

from guanai.imports.cells import CellValue
from guanai.imports.reading import Roster, RosterReadError, SourceRow

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
CHUNK = 256 * 1024
EXCEL_EPOCH = datetime.datetime(1899, 12, 30)
EXCEL_EPOCH_1904 = datetime.datetime(1904, 1, 1)
# Built-in number formats that show a date or a time (ECMA-376 §18.8.30, with the CJK ones 27–36 and
# 50–58 that Chinese Excel uses for 2012年7月21日).
BUILTIN_DATE_FORMATS = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)])
_QUOTED_OR_BRACKETED = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')
_COLUMN_LETTERS = re.compile(r"[A-Z]+")


def _parse(part: IO[bytes], start: Any = None, end: Any = None, text: Any = None) -> None:
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    if start is not None:
        parser.StartElementHandler = start
    if end is not None:
        parser.EndElementHandler = end
    if text is not None:
        parser.CharacterDataHandler = text
    while chunk := part.read(CHUNK):
        parser.Parse(chunk, False)
    parser.Parse(b"", True)


def _relationships(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Relationship id → (type, part name) of a part's relationships."""
    folder, name = posixpath.split(part)
    rels_name = posixpath.join(folder, "_rels", name + ".rels")
    found: dict[str, tuple[str, str]] = {}
    if rels_name not in archive.namelist():
        return found

    def start(tag: str, attributes: dict[str, str]) -> None:
        if tag == f"{PACKAGE_RELATIONSHIPS} Relationship" and attributes.get("TargetMode") != "External":
            target = attributes.get("Target", "")
            resolved = (
                target.lstrip("/")
                if target.startswith("/")
                else posixpath.normpath(posixpath.join(folder, target))
            )
            found[attributes.get("Id", "")] = (attributes.get("Type", ""), resolved)

    with archive.open(rels_name) as handle:
        _parse(handle, start=start)
    return found


def first_sheet_part(archive: zipfile.ZipFile) -> str:
    """The part name of the first visible worksheet (xl/worksheets/sheet1.xml as a rule)."""
    sheets: list[tuple[str, str]] = []  # (relationship id, state)

    def start(tag: str, attributes: dict[str, str]) -> None:
        if tag == f"{MAIN} sheet":
            sheets.append((attributes.get(f"{RELATIONSHIPS} id", ""), attributes.get("state", "visible")))

    try:
        with archive.open("xl/workbook.xml") as handle:
            _parse(handle, start=start)
        relationships = _relationships(archive, "xl/workbook.xml")
    except (expat.ExpatError, zipfile.BadZipFile, OSError, EOFError) as error:
        raise RosterReadError("damaged_file", _("文件已损坏或格式不正确，无法读取。")) from error
    for relationship_id, state in sheets:
        kind, part = relationships.get(relationship_id, ("", ""))
        if state == "visible" and kind.endswith("/worksheet"):
            return part
    raise RosterReadError("no_sheet", _("工作簿中没有可见的工作表。"))


class SharedStrings:
    """The shared string table as one UTF-8 buffer with offsets (a large sheet has one string per
    distinct name, ID number and address: as Python strings they would take several times the room)."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._offsets = array("Q", [0])

    def append(self, text: str) -> None:
        self._buffer += text.encode("utf-8")
        self._offsets.append(len(self._buffer))

    def __getitem__(self, index: int) -> str:
        return self._buffer[self._offsets[index] : self._offsets[index + 1]].decode("utf-8")

    def __len__(self) -> int:
        return len(self._offsets) - 1


def _read_shared_strings(archive: zipfile.ZipFile, part: str | None) -> SharedStrings:
    strings = SharedStrings()
    if part is None or part not in archive.namelist():
        return strings
    pieces: list[str] = []
    # Text counts inside <si><t> and <si><r><t>, not inside the phonetic runs <rPh>.
    state = {"in_text": False, "phonetic": 0}
    t_tag, si_tag, rph_tag = f"{MAIN} t", f"{MAIN} si", f"{MAIN} rPh"

    def start(tag: str, attributes: dict[str, str]) -> None:
        if tag == t_tag and not state["phonetic"]:
            state["in_text"] = True
        elif tag == rph_tag:
            state["phonetic"] += 1
        elif tag == si_tag:
            pieces.clear()

    def end(tag: str) -> None:
        if tag == t_tag:
            state["in_text"] = False
        elif tag == rph_tag:
            state["phonetic"] -= 1
        elif tag == si_tag:
            strings.append("".join(pieces))

    def text(data: str) -> None:
        if state["in_text"]:
            pieces.append(data)

    with archive.open(part) as handle:
        _parse(handle, start=start, end=end, text=text)
    return strings


def is_date_format(code: str) -> bool:
    """A custom number format shows a date or time when, outside quotes, brackets and escapes, it uses
    a day, month, year, hour or second placeholder ("yyyy-mm-dd", "yyyy年m月d日", "h:mm")."""
    bare = _QUOTED_OR_BRACKETED.sub("", code.split(";")[0]).lower()
    return any(letter in bare for letter in "dmyhs") and "general" not in bare


def _read_date_styles(archive: zipfile.ZipFile, part: str | None) -> list[bool]:
    """For each cell style (the `s` attribute of a cell), whether it shows a date."""
    if part is None or part not in archive.namelist():
        return []
    custom: dict[int, str] = {}
    styles: list[bool] = []
    depth = {"cell_xfs": False}

    def start(tag: str, attributes: dict[str, str]) -> None:
        if tag == f"{MAIN} numFmt":
            custom[int(attributes.get("numFmtId", "0"))] = attributes.get("formatCode", "")
        elif tag == f"{MAIN} cellXfs":
            depth["cell_xfs"] = True
        elif tag == f"{MAIN} xf" and depth["cell_xfs"]:
            number_format = int(attributes.get("numFmtId", "0"))
            if number_format in custom:
                styles.append(is_date_format(custom[number_format]))
            else:
                styles.append(number_format in BUILTIN_DATE_FORMATS)

    def end(tag: str) -> None:
        if tag == f"{MAIN} cellXfs":
            depth["cell_xfs"] = False

    with archive.open(part) as handle:
        _parse(handle, start=start, end=end)
    return styles


def _uses_1904(archive: zipfile.ZipFile) -> bool:
    found = {"date1904": False}

    def start(tag: str, attributes: dict[str, str]) -> None:
        if tag == f"{MAIN} workbookPr":
            found["date1904"] = attributes.get("date1904", "0").lower() in {"1", "true"}

    with archive.open("xl/workbook.xml") as handle:
        _parse(handle, start=start)
    return found["date1904"]


def column_index(reference: str) -> int:
    """0 for A, 25 for Z, 26 for AA; the letters of a cell reference such as "AB12"."""
    match = _COLUMN_LETTERS.match(reference)
    index = 0
    for letter in match.group(0) if match else "":
        index = index * 26 + (ord(letter) - 64)
    return index - 1


class StreamingXlsxRoster(Roster):
    format = "xlsx"

    def __init__(self, archive: zipfile.ZipFile, sheet_part: str, *, owned: IO[bytes] | None) -> None:
        self._archive = archive
        self._owned = owned
        self._sheet_part = sheet_part
        try:
            relationships = _relationships(archive, "xl/workbook.xml")
            parts = {kind.rsplit("/", 1)[-1]: part for kind, part in relationships.values()}
            self._strings = _read_shared_strings(archive, parts.get("sharedStrings"))
            self._date_styles = _read_date_styles(archive, parts.get("styles"))
            self._epoch = EXCEL_EPOCH_1904 if _uses_1904(archive) else EXCEL_EPOCH
            self._read_head()
        except (expat.ExpatError, zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
            raise RosterReadError("damaged_file", _("文件已损坏或格式不正确，无法读取。")) from error

    def _read_head(self) -> None:
        """From the start of the sheet part: the prefix of the main namespace, if the producer gave it
        one (<x:worksheet>), and the last row of <dimension ref="A1:Q100004"> for the progress bar."""
        with self._archive.open(self._sheet_part) as handle:
            head = handle.read(4096).decode("utf-8", "replace")
        root = re.search(r"<(\w+:)?worksheet[\s>]", head)
        self._prefix = root.group(1) or "" if root else ""
        match = re.search(r'<(?:\w+:)?dimension ref="[A-Z]*\d*:?[A-Z]*(\d+)"', head)
        self.total_rows = int(match.group(1)) if match else None

    def _date(self, serial: float) -> datetime.date | datetime.datetime:
        # Rounded to the millisecond, as Excel shows it: 10:00 is stored as 0.41666666666666669.
        moment = self._epoch + datetime.timedelta(milliseconds=round(serial * 86_400_000))
        return moment.date() if serial.is_integer() else moment

    def rows(self) -> Iterator[SourceRow]:
        strings, date_styles, to_date = self._strings, self._date_styles, self._date
        ready: list[SourceRow] = []
        cells: list[CellValue] = []
        text: list[str] = []
        collect_text = text.append
        # The cell being read: its column, type and style; the row; whether text is being collected.
        column, kind, style, row_number, collecting, phonetic = 0, "n", 0, 0, False, 0
        prefix = self._prefix
        cell_tag, value_tag, text_tag, row_tag, phonetic_tag = (
            prefix + name for name in ("c", "v", "t", "row", "rPh")
        )
        columns: dict[str, int] = {}

        def start(tag: str, attributes: dict[str, str]) -> None:
            nonlocal column, kind, style, row_number, collecting, phonetic
            if tag == cell_tag:
                reference = attributes.get("r")
                if reference:
                    letters = reference.rstrip("0123456789")
                    column = columns.get(letters, -1)
                    if column < 0:
                        column = columns[letters] = column_index(letters)
                else:
                    column = len(cells)
                kind = attributes.get("t", "n")
                style = int(attributes.get("s", 0))
                text.clear()
            elif tag == value_tag or (tag == text_tag and not phonetic):
                collecting = True
            elif tag == row_tag:
                reference = attributes.get("r")
                row_number = int(reference) if reference else row_number + 1
                cells.clear()
            elif tag == phonetic_tag:
                phonetic += 1

        def end(tag: str) -> None:
            nonlocal collecting, phonetic
            if tag == cell_tag:
                if column >= len(cells):
                    cells.extend([""] * (column + 1 - len(cells)))
                cells[column] = convert("".join(text))
            elif tag in (value_tag, text_tag):
                collecting = False
            elif tag == row_tag:
                ready.append(SourceRow(row_number, cells.copy()))
            elif tag == phonetic_tag:
                phonetic -= 1

        def collect(data: str) -> None:
            if collecting:
                collect_text(data)

        def convert(raw: str) -> CellValue:
            if kind == "n":
                if not raw:
                    return ""
                number = float(raw)
                if style and style < len(date_styles) and date_styles[style]:
                    return to_date(number)
                return number
            if kind == "s":
                return strings[int(raw)] if raw else ""
            if kind in ("inlineStr", "str", "e"):
                return raw
            if kind == "b":
                return raw == "1"
            if kind == "d" and raw:
                return datetime.datetime.fromisoformat(raw)
            return raw

        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = collect
        try:
            with self._archive.open(self._sheet_part) as handle:
                while chunk := handle.read(CHUNK):
                    parser.Parse(chunk, False)
                    yield from ready
                    ready.clear()
                parser.Parse(b"", True)
                yield from ready
        except (expat.ExpatError, zipfile.BadZipFile, OSError, EOFError, ValueError, IndexError) as error:
            raise RosterReadError("damaged_file", _("文件已损坏，读取中断。")) from error

    def close(self) -> None:
        self._archive.close()
        if self._owned is not None:
            self._owned.close()
