"""Roster files built inside the tests, the way townships make them: a title and 填报单位 above a two-row
merged header, a 序号 column, footer lines — as .xlsx (openpyxl), .xls (xlwt) and .csv."""

from __future__ import annotations

import csv
import datetime
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook

Row = Sequence[Any]

TITLE = ["淳安县千岛湖镇困境儿童花名册"]
UNIT = ["填报单位：千岛湖镇关工委", None, None, None, None, None, "填报日期：2024年3月1日"]
# Two header rows: 监护人情况 spans 姓名 / 与儿童关系 / 联系电话, every other header spans both rows.
HEADER_TOP = [
    "序号", "姓名", "性别", "出生日期", "公民身份号码", "所在村（社区）", "儿童类别", "需求", "监护人情况",
    None, None,
]  # fmt: skip
HEADER_SUB = [None, None, None, None, None, None, None, None, "姓名", "与儿童关系", "联系电话"]
HEADER_MERGES = ("A3:A4", "B3:B4", "C3:C4", "D3:D4", "E3:E4", "F3:F4", "G3:G4", "H3:H4", "I3:K3")
FOOTER: list[list[Any]] = [["填表人：王芳", None, None, "审核人：李强"], ["2024年3月1日"]]
FIRST_DATA_ROW = 5  # Excel row of the first child in `township_roster`


def child(
    name: str,
    *,
    id_number: Any = "",
    gender: Any = "",
    birth: Any = "",
    village: str = "富城村",
    categories: str = "留守儿童",
    needs: str = "学业",
    guardian: tuple[str, str, Any] = ("王大明", "父亲", "13905710001"),
) -> list[Any]:
    """The cells of one child in the column order of `township_roster` (without 序号)."""
    return [name, gender, birth, id_number, village, categories, needs, *guardian]


def township_roster(children: Sequence[Row], *, footer: bool = True) -> list[list[Any]]:
    rows: list[list[Any]] = [list(TITLE), list(UNIT), list(HEADER_TOP), list(HEADER_SUB)]
    rows += [[number, *cells] for number, cells in enumerate(children, start=1)]
    if footer:
        rows += [[], *FOOTER]
    return rows


def write_xlsx(
    path: Path,
    rows: Sequence[Row],
    *,
    merges: Sequence[str] = HEADER_MERGES,
    text_columns: Sequence[int] = (),
) -> Path:
    """A workbook as Excel saves it (shared strings, merged header cells). Cells of `text_columns`
    (0-based) are stored as text; numbers stay numbers (an ID number typed without care is a number)."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "花名册"
    for row_index, row in enumerate(rows, start=1):
        for column_index, value in enumerate(row, start=1):
            if value is None or value == "":
                continue
            cell = sheet.cell(row=row_index, column=column_index, value=value)
            if column_index - 1 in text_columns:
                cell.number_format = "@"
            if isinstance(value, datetime.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(value, datetime.date):
                cell.number_format = "yyyy年m月d日"
    for merged in merges:
        sheet.merge_cells(merged)
    workbook.save(path)
    return path


def write_xls(path: Path, rows: Sequence[Row], *, merges: Sequence[tuple[int, int, int, int]] = ()) -> Path:
    """A legacy .xls (BIFF8) through xlwt; merges as (first row, last row, first column, last column),
    0-based. Dates are written with a date format, as Excel 2003 stores them."""
    import xlwt

    workbook = xlwt.Workbook(encoding="utf-8")
    sheet = workbook.add_sheet("花名册")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    merged_cells = {(first_row, first_column) for first_row, _last_row, first_column, _last in merges}
    for first_row, last_row, first_column, last_column in merges:
        value = rows[first_row][first_column] if first_column < len(rows[first_row]) else ""
        sheet.write_merge(first_row, last_row, first_column, last_column, value)
    for row_index, row in enumerate(rows):
        for column_index, value in enumerate(row):
            if value is None or value == "" or (row_index, column_index) in merged_cells:
                continue
            if isinstance(value, datetime.date):
                sheet.write(row_index, column_index, value, date_style)
            else:
                sheet.write(row_index, column_index, value)
    workbook.save(str(path))
    return path


def write_csv(
    path: Path, rows: Sequence[Row], *, encoding: str = "utf-8", bom: bool = False, delimiter: str = ","
) -> Path:
    with path.open("w", encoding="utf-8-sig" if bom else encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        for row in rows:
            writer.writerow(["" if value is None else value for value in row])
    return path


XLS_HEADER_MERGES = [(2, 3, column, column) for column in range(8)] + [(2, 2, 8, 10)]
