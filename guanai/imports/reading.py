"""Opening a roster file and streaming its rows, each with the row number Excel shows.

The type is told by the content, not the name: a zip holding `xl/workbook.xml` is .xlsx, an OLE2
compound file is .xls, text is CSV (UTF-8 with or without BOM, UTF-16 with BOM, else GB18030 — what
Excel and WPS save on a Chinese Windows). Workbooks are read with python-calamine; a very large .xlsx
sheet is read by `guanai.imports.xlsx_stream` instead, because calamine holds a whole sheet in memory
(about 1.6 bytes per byte of sheet XML), and an import must not grow with the file.

A file that cannot be read at all raises RosterReadError with a Chinese message; everything else is the
caller's business, row by row.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

import python_calamine
from django.utils.translation import gettext as _

from guanai.imports.cells import CellValue

RosterSource = str | os.PathLike[str] | IO[bytes]

OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURE = b"PK\x03\x04"
SNIFF_BYTES = 64 * 1024
READ_CHUNK = 1024 * 1024
# Above this much sheet XML an .xlsx is streamed rather than loaded by calamine: ~120,000 rows of a
# 17-column roster, ~200 MB of memory for calamine's copy of the sheet.
CALAMINE_SHEET_XML_LIMIT = 128 * 1024 * 1024


class RosterReadError(Exception):
    """The file itself cannot be read: empty, truncated, not a spreadsheet, encrypted, no header."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One row of the sheet: its number as Excel shows it (1-based) and its cells from column A on."""

    number: int
    cells: list[CellValue]


class Roster:
    """An opened roster: the first visible sheet of a workbook, or a CSV file."""

    format: str = ""
    # Rows in the sheet, for a progress bar (an upper bound: blank, header and footer rows included).
    total_rows: int | None = None

    def rows(self) -> Iterator[SourceRow]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the file; rows() may not be called afterwards."""

    def __enter__(self) -> Roster:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_roster(source: RosterSource, *, stream_xlsx: bool | None = None) -> Roster:
    """Open a roster file given as a path or a binary file object (an upload); RosterReadError when it
    cannot be read. `stream_xlsx` forces (True) or forbids (False) the streaming .xlsx reader; by
    default large sheets are streamed."""
    head = _head(source)
    if not head:
        raise RosterReadError("empty_file", _("文件是空的。"))
    if head.startswith(ZIP_SIGNATURE):
        return _open_zip(source, stream_xlsx=stream_xlsx)
    if head.startswith(OLE2_SIGNATURE):
        return CalamineRoster(source, "xls")
    lowered = head[:2048].lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<table", b"<?xml", b"<meta")):
        raise RosterReadError(
            "html_disguised",
            _(
                "该文件是网页（HTML/XML）格式，只是扩展名为 .xls。"
                "请用 Excel 或 WPS 打开后另存为 .xlsx 再导入。"
            ),
        )
    if _looks_like_text(head):
        return CsvRoster(source)
    raise RosterReadError(
        "unsupported_type", _("无法识别的文件类型：请上传 .xlsx、.xls 或 .csv 格式的花名册。")
    )


# --- Sources ------------------------------------------------------------------------------------


def _head(source: RosterSource) -> bytes:
    if isinstance(source, str | os.PathLike):
        try:
            with open(source, "rb") as handle:
                return handle.read(SNIFF_BYTES)
        except OSError as error:
            raise RosterReadError(
                "unreadable", _("无法打开文件：%(error)s") % {"error": error.strerror}
            ) from error
    source.seek(0)
    head = source.read(SNIFF_BYTES)
    source.seek(0)
    return head


def _open_binary(source: RosterSource) -> IO[bytes]:
    if isinstance(source, str | os.PathLike):
        return open(source, "rb")  # the roster closes it
    source.seek(0)
    return source


def _open_zip(source: RosterSource, *, stream_xlsx: bool | None) -> Roster:
    handle = _open_binary(source)
    try:
        archive = zipfile.ZipFile(handle)
        names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        if handle is not source:
            handle.close()
        raise RosterReadError(
            "damaged_file", _("文件不完整或已损坏（无法解压），请重新保存或重新上传。")
        ) from error
    try:
        if "xl/workbook.xml" in names:
            from guanai.imports import xlsx_stream

            sheet = xlsx_stream.first_sheet_part(archive)
            size = archive.getinfo(sheet).file_size if sheet in names else 0
            if stream_xlsx or (stream_xlsx is None and size > CALAMINE_SHEET_XML_LIMIT):
                return xlsx_stream.StreamingXlsxRoster(
                    archive, sheet, owned=handle if handle is not source else None
                )
            archive.close()
            if handle is not source:
                handle.close()
            return CalamineRoster(source, "xlsx")
        if names & {"mimetype", "content.xml"} == {"mimetype", "content.xml"}:
            archive.close()
            if handle is not source:
                handle.close()
            return CalamineRoster(source, "ods")
    except RosterReadError:
        archive.close()
        if handle is not source:
            handle.close()
        raise
    archive.close()
    if handle is not source:
        handle.close()
    if "word/document.xml" in names:
        raise RosterReadError(
            "unsupported_type", _("这是 Word 文档，不是表格：请上传 .xlsx、.xls 或 .csv 格式的花名册。")
        )
    raise RosterReadError(
        "unsupported_type", _("无法识别的文件类型：请上传 .xlsx、.xls 或 .csv 格式的花名册。")
    )


# --- Workbooks through calamine -------------------------------------------------------------------


class CalamineRoster(Roster):
    """The first visible worksheet, read by python-calamine. Calamine yields rows from row 1 of the
    sheet but columns from the first used column: the missing columns are put back, so that cell i is
    always column i (A = 0) and the row numbers are Excel's."""

    def __init__(self, source: RosterSource, file_format: str) -> None:
        self.format = file_format
        try:
            if isinstance(source, str | os.PathLike):
                self._workbook = python_calamine.CalamineWorkbook.from_path(os.fspath(source))
            else:
                source.seek(0)
                self._workbook = python_calamine.CalamineWorkbook.from_filelike(source)
            self._sheet = self._workbook.get_sheet_by_name(self._first_visible_sheet())
        except python_calamine.PasswordError as error:
            raise RosterReadError("encrypted", _("文件设有打开密码，请取消密码后再导入。")) from error
        except RosterReadError:
            raise
        except Exception as error:  # calamine raises its own errors and plain ones for damaged files
            raise RosterReadError(
                "damaged_file", _("文件已损坏或格式不正确，无法读取：%(error)s") % {"error": _short(error)}
            ) from error
        end = self._sheet.end
        self.total_rows = end[0] + 1 if end else 0

    def _first_visible_sheet(self) -> str:
        for sheet in self._workbook.sheets_metadata:
            if (
                sheet.visible == python_calamine.SheetVisibleEnum.Visible
                and sheet.typ == python_calamine.SheetTypeEnum.WorkSheet
            ):
                return sheet.name
        raise RosterReadError("no_sheet", _("工作簿中没有可见的工作表。"))

    def rows(self) -> Iterator[SourceRow]:
        start = self._sheet.start
        offset = start[1] if start else 0
        padding: list[CellValue] = [None] * offset
        try:
            for index, cells in enumerate(self._sheet.iter_rows()):
                values = cast(list[CellValue], cells)
                yield SourceRow(index + 1, padding + values if offset else values)
        except python_calamine.CalamineError as error:
            raise RosterReadError(
                "damaged_file", _("文件已损坏，读取中断：%(error)s") % {"error": _short(error)}
            ) from error

    def close(self) -> None:
        self._workbook.close()


def _short(error: BaseException) -> str:
    return str(error)[:200]


# --- CSV ----------------------------------------------------------------------------------------


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    if b"\x00" in head:
        return False
    for encoding in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
            return True
        except UnicodeDecodeError:
            continue
    return False


def detect_encoding(handle: IO[bytes]) -> tuple[str, int]:
    """The encoding of a CSV file and its number of lines. A BOM decides; otherwise the whole file must
    decode as UTF-8, else as GB18030 (a superset of GBK and GB2312)."""
    handle.seek(0)
    head = handle.read(4)
    handle.seek(0)
    if head.startswith(codecs.BOM_UTF8):
        encodings: tuple[str, ...] = ("utf-8-sig",)
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ("utf-16",)
    else:
        encodings = ("utf-8", "gb18030")
    for encoding in encodings:
        decoder = codecs.getincrementaldecoder(encoding)()
        lines = 0
        handle.seek(0)
        try:
            while chunk := handle.read(READ_CHUNK):
                lines += decoder.decode(chunk).count("\n")
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        handle.seek(0)
        return encoding, lines + 1
    raise RosterReadError(
        "unknown_encoding", _("无法识别 CSV 文件的编码：请另存为“CSV UTF-8（逗号分隔）”后再导入。")
    )


class CsvRoster(Roster):
    """A CSV file (or tab-separated text, as Excel's "Unicode text" saves it); row n is record n."""

    format = "csv"

    def __init__(self, source: RosterSource) -> None:
        self._handle = _open_binary(source)
        self._owned = self._handle is not source
        self.encoding, self.total_rows = detect_encoding(self._handle)
        self._text: io.TextIOWrapper | None = None

    def _delimiter(self, sample: str) -> str:
        lines = [line for line in sample.splitlines()[:30] if line.strip()]
        tabs = sum(line.count("\t") for line in lines)
        commas = sum(line.count(",") for line in lines)
        return "\t" if tabs > commas else ","

    def rows(self) -> Iterator[SourceRow]:
        self._handle.seek(0)
        self._text = io.TextIOWrapper(self._handle, encoding=self.encoding, newline="")
        delimiter = self._delimiter(self._text.read(SNIFF_BYTES))
        self._text.seek(0)
        reader = csv.reader(self._text, delimiter=delimiter)
        try:
            for number, cells in enumerate(reader, start=1):
                yield SourceRow(number, cells)  # type: ignore[arg-type]
        except csv.Error as error:
            raise RosterReadError(
                "damaged_file",
                _("CSV 文件格式有误（第 %(row)d 行）：%(error)s") % {"row": reader.line_num, "error": error},
            ) from error

    def close(self) -> None:
        if self._text is not None:
            self._text.detach()
            self._text = None
        if self._owned:
            self._handle.close()


def file_digest(source: RosterSource) -> str:
    """SHA-256 of the file, hex: the same file imported twice has the same digest."""
    import hashlib

    digest = hashlib.sha256()
    handle = _open_binary(source)
    try:
        while chunk := handle.read(READ_CHUNK):
            digest.update(chunk)
    finally:
        if handle is not source:
            handle.close()
        else:
            handle.seek(0)
    return digest.hexdigest()


def source_name(source: RosterSource) -> str:
    if isinstance(source, str | os.PathLike):
        return Path(source).name
    name: Any = getattr(source, "name", "")
    return Path(str(name)).name if name else ""
