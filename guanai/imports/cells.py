"""Cell values: as text for parsing, and neutralised for writing into a workbook or a CSV file."""

from __future__ import annotations

import datetime
import math
import unicodedata
from typing import Any

# What a reader gives for one cell: calamine's types, str for CSV, None or "" for an empty cell.
CellValue = (
    str | int | float | bool | datetime.date | datetime.datetime | datetime.time | datetime.timedelta | None
)

# A value starting with one of these is read as a formula by Excel, LibreOffice and WPS (CSV injection):
# = + - @, and tab / carriage return which some of them skip before looking (OWASP).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
TEXT_MARKER = "'"


def is_empty(value: CellValue) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def cell_text(value: CellValue) -> str:
    """The cell as text, stripped: integral numbers without ".0", dates as ISO dates, and a leading
    apostrophe (Excel's "this is text" marker, also what `neutralise_cell` adds) removed."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = value.strip()
        return text[1:].strip() if text.startswith(TEXT_MARKER) else text
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(" ")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


def normalise_label(text: str) -> str:
    """A header or vocabulary label reduced for comparison: full-width folded (（ → (, ３ → 3), every
    space and line break dropped, the required-field asterisk and a trailing colon removed, ASCII
    lower-cased."""
    folded = unicodedata.normalize("NFKC", text)
    folded = "".join(folded.split()).replace("*", "").rstrip(":")
    return folded.lower()


def put_cell_value(cell: Any, value: Any) -> None:
    """Write a value into an openpyxl cell as what it is: numbers as numbers, and text always as text,
    never a formula or an error code. Text that begins like a formula also gets Excel's "this is text"
    style (no visible apostrophe), so that editing the cell does not turn it into one either."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        if value.startswith(FORMULA_TRIGGERS):
            cell.quotePrefix = True


def neutralise_cell(value: Any) -> Any:
    """A value safe to write into a workbook or CSV: text that a spreadsheet would run as a formula
    (starting with = + - @, tab or carriage return) gets an apostrophe in front, so it stays text.
    Numbers, dates and other values are returned unchanged (a negative number is a number, not a
    formula). Readers of this package drop the apostrophe again (`cell_text`)."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return TEXT_MARKER + value
    return value
