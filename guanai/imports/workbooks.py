"""Writing workbooks with openpyxl in write-only mode (rows streamed to the file, constant memory):
the error report of an import and the blank template. Every value goes through `neutralise_cell`."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from guanai.imports.cells import CellValue, neutralise_cell
from guanai.imports.headers import column_letter
from guanai.imports.reading import SourceRow

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
REASON_FONT = Font(color="C00000")
TEMPLATE_ROWS = 5000  # rows of the template that carry the drop-down lists and the text format
TEXT_FORMAT = "@"
DATE_FORMAT = "yyyy-mm-dd"


@dataclass(frozen=True)
class TemplateColumn:
    """A column of a blank template: header text, width, a drop-down list (strict: nothing else may be
    typed; else the list is a suggestion and several values may be typed), text or date format."""

    header: str
    width: float = 12
    choices: tuple[str, ...] = ()
    strict: bool = True
    is_text: bool = False
    is_date: bool = False


def _cell(sheet: Worksheet, value: CellValue, **style: object) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=neutralise_cell(value))
    if isinstance(value, datetime.date | datetime.datetime):
        cell.number_format = DATE_FORMAT if not isinstance(value, datetime.datetime) else "yyyy-mm-dd hh:mm"
    for name, setting in style.items():
        setattr(cell, name, setting)
    return cell


def write_refused_rows(
    out_path: str | Path,
    *,
    columns: Sequence[str],
    rows: Iterable[SourceRow],
    reasons: Mapping[int, str],
    reason_header: str,
    row_header: str,
) -> int:
    """The rows whose numbers are in `reasons`, with their original cells, under a one-row header of the
    columns' header texts, followed by the row's original number and its reason. Returns the rows
    written. The file imports again as it is: the two added columns are ignored by the reader."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("错误行")
    width = len(columns)
    sheet.freeze_panes = "A2"
    header = [_cell(sheet, text, font=HEADER_FONT, fill=HEADER_FILL) for text in columns]
    header += [
        _cell(sheet, row_header, font=HEADER_FONT, fill=HEADER_FILL),
        _cell(sheet, reason_header, font=HEADER_FONT, fill=HEADER_FILL),
    ]
    for index in range(width + 2):
        sheet.column_dimensions[column_letter(index)].width = 14
    sheet.column_dimensions[column_letter(width + 1)].width = 60
    sheet.append(header)
    written = 0
    remaining = set(reasons)
    for row in rows:
        if row.number not in remaining:
            continue
        remaining.discard(row.number)
        cells = list(row.cells[:width]) + [None] * (width - min(width, len(row.cells)))
        sheet.append(
            [_cell(sheet, value) for value in cells]
            + [_cell(sheet, row.number), _cell(sheet, reasons[row.number], font=REASON_FONT)]
        )
        written += 1
        if not remaining:
            break
    workbook.save(str(out_path))
    return written


def write_template_workbook(
    out_path: str | Path, *, title: str, instructions: str, columns: Sequence[TemplateColumn], sheet_name: str
) -> None:
    """Title row, instruction row, header row, then TEMPLATE_ROWS rows with drop-down lists on the
    columns that have choices and the text format on ID-number and phone columns (so that Excel keeps
    all 18 digits)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_name)
    first, last = 4, 3 + TEMPLATE_ROWS
    for index, column in enumerate(columns):
        letter = column_letter(index)
        sheet.column_dimensions[letter].width = column.width
        if column.choices:
            listed = ",".join(column.choices)
            validation = DataValidation(
                type="list",
                formula1=f'"{listed}"',
                allow_blank=True,
                showErrorMessage=column.strict,
                errorTitle="输入有误" if column.strict else None,
                error=f"请从下拉列表中选择：{'、'.join(column.choices)}" if column.strict else None,
                promptTitle=column.header,
                prompt=None if column.strict else "可多选，用顿号（、）分隔",
                showInputMessage=not column.strict,
            )
            validation.add(f"{letter}{first}:{letter}{last}")
            sheet.data_validations.append(validation)
    sheet.freeze_panes = "A4"
    sheet.append([_cell(sheet, title, font=Font(bold=True, size=14))])
    sheet.append(
        [_cell(sheet, instructions, font=Font(color="7F7F7F"), alignment=Alignment(wrap_text=False))]
    )
    sheet.append([_cell(sheet, column.header, font=HEADER_FONT, fill=HEADER_FILL) for column in columns])
    formats = [
        TEXT_FORMAT if column.is_text else DATE_FORMAT if column.is_date else None for column in columns
    ]
    if any(formats):
        for _row in range(TEMPLATE_ROWS):
            cells: list[WriteOnlyCell | None] = []
            for number_format in formats:
                if number_format is None:
                    cells.append(None)
                else:
                    cell = WriteOnlyCell(sheet, value=None)
                    cell.number_format = number_format
                    cells.append(cell)
            sheet.append(cells)
    workbook.save(str(out_path))
