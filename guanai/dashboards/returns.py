"""The statistical returns (统计报表, issue 8 point 7): the standard tables a committee sends upward, for a
region and a month or a year, as one Excel workbook.

The figures are the committees' indicators (`indicators_for`), so the returns show exactly what the
dashboards show, with the same small-number protection: a suppressed count is written as the text "<5",
a withheld one (or one without history) as "—". Each table has the region's total (合计) first, then the
same period a year earlier (上年同期) and the change (增减), then one row per child region.

`returns_tables` gives the tables without any formatting (a page can show them as HTML);
`statistical_returns_xlsx` renders them in the form layout committees use: title, 表号 and 制表机关,
填报单位 and 统计期, the table, a note on the symbols and the sign-off line.

No cell of the workbook is ever a formula: every text cell is stored as a string (a region or committee
name such as "=HYPERLINK(...)" stays text), and numbers are written as values, never as sums.

表5 (sealed records and open 帮教 cases) exists only for a county or above, with rows only for child
regions at county level or above (未成年人保护法 art.103; see `guanai.dashboards.indicators`).
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from guanai.committees.models import Committee, CommitteeKind
from guanai.consultations.vocabulary import Kind
from guanai.core import region_codes
from guanai.core.access import Actor
from guanai.core.region_codes import RegionLevel
from guanai.dashboards.indicators import (
    SUPPRESSED,
    AreaIndicators,
    Indicators,
    indicators_for,
    parse_period,
    share_of,
)
from guanai.dashboards.labels import figure_label
from guanai.dashboards.reports import WITHHELD_TEXT
from guanai.imports.cells import put_cell_value
from guanai.minors.vocabulary import Category, Need, RiskLevel
from guanai.regions.models import Region
from guanai.volunteers.vocabulary import ElderCategory, Specialty

# A cell of a table: a count, a share (0–1), an average rating, "<5" (a suppressed small count) or None
# (withheld, or nothing to compare with).
Value = int | float | Literal["<5"] | None
ColumnKind = Literal["count", "share", "rating"]
RowKind = Literal["total", "year_earlier", "change", "area"]
Progress = Callable[[int, str], None]

SHARE_SUFFIX = ".reply_on_time_share"
RATING_SUFFIX = ".average_rating"
COVERAGE = "coverage"


@dataclass(frozen=True)
class ReturnColumn:
    """One column of figures. `group` is the heading above a run of columns ("" for a column whose label
    spans both heading rows)."""

    key: str  # a figure key of the indicators, "coverage", or "consultations.<kind>.<share or rating>"
    label: str
    group: str = ""
    kind: ColumnKind = "count"

    @property
    def is_additive(self) -> bool:
        """A count: the total is the sum of the rows (shares and averages are not)."""
        return self.kind == "count"


@dataclass(frozen=True)
class ReturnRow:
    label: str
    code: str
    kind: RowKind
    cells: tuple[Value, ...]


@dataclass(frozen=True)
class ReturnTable:
    number: int
    title: str  # 表1 困难青少年基本情况统计表
    sheet_name: str  # at most 31 characters, as Excel requires
    form_number: str  # 表号
    issuer: str  # 制表机关
    reporting_unit: str  # 填报单位
    period_label: str  # 统计期
    unit: str  # 计量单位
    columns: tuple[ReturnColumn, ...]
    rows: tuple[ReturnRow, ...]

    def row(self, kind: RowKind) -> ReturnRow:
        """The first row of a kind (the total, the year-earlier row, the change)."""
        return next(item for item in self.rows if item.kind == kind)

    @property
    def area_rows(self) -> tuple[ReturnRow, ...]:
        return tuple(item for item in self.rows if item.kind == "area")


# --- The tables' columns ----------------------------------------------------------------------------


def _counts(keys: Sequence[str], group: str = "") -> list[ReturnColumn]:
    return [ReturnColumn(key=key, label=figure_label(key), group=group) for key in keys]


def _children_columns() -> list[ReturnColumn]:
    # Sealed records (特殊青少年) are never in the children's figures: their column would always be 0.
    categories = [f"children.category.{int(flag)}" for flag in Category if flag != Category.SPECIAL]
    return [
        *_counts(["children"]),
        *_counts(categories, _("按类别分")),
        *_counts([f"children.need.{int(flag)}" for flag in Need], _("按帮扶需求分")),
        *_counts([f"children.risk.{level}" for level in RiskLevel.values], _("按风险等级分")),
    ]


def _pairing_columns() -> list[ReturnColumn]:
    return [
        *_counts(["eligible", "paired"]),
        ReturnColumn(key=COVERAGE, label=_("结对覆盖率"), kind="share"),
        *_counts(["visits", "overdue", "open_reports"]),
    ]


def _volunteer_columns() -> list[ReturnColumn]:
    return [
        *_counts(["volunteers"]),
        *_counts([f"volunteers.category.{int(flag)}" for flag in ElderCategory], _("按五老类别分")),
        *_counts([f"volunteers.specialty.{int(flag)}" for flag in Specialty], _("按专长分")),
        *_counts([f"volunteers.star.{stars}" for stars in range(6)], _("按星级分")),
        *_counts(["teams"]),
    ]


def _service_columns() -> list[ReturnColumn]:
    columns: list[ReturnColumn] = []
    for kind in Kind:
        group = str(kind.label)
        columns += [
            ReturnColumn(key=f"consultations.{kind.value}", label=_("请求数（件）"), group=group),
            ReturnColumn(
                key=f"consultations.{kind.value}{SHARE_SUFFIX}",
                label=_("按时回复率"),
                group=group,
                kind="share",
            ),
            ReturnColumn(
                key=f"consultations.{kind.value}{RATING_SUFFIX}",
                label=_("平均满意度（1–5分）"),
                group=group,
                kind="rating",
            ),
        ]
    return columns


def _mentoring_columns() -> list[ReturnColumn]:
    return _counts(["sealed_children", "mentoring_cases"])


@dataclass(frozen=True)
class _TableSpec:
    number: int
    title: str
    sheet_name: str
    unit: str
    columns: Callable[[], list[ReturnColumn]]
    is_county_only: bool = False


def _specs() -> list[_TableSpec]:
    return [
        _TableSpec(
            1, _("表1 困难青少年基本情况统计表"), _("表1 困难青少年基本情况"), _("人"), _children_columns
        ),
        _TableSpec(
            2, _("表2 结对帮扶与走访统计表"), _("表2 结对帮扶与走访"), _("人、次、件"), _pairing_columns
        ),
        _TableSpec(
            3, _("表3 五老志愿者队伍统计表"), _("表3 五老志愿者队伍"), _("人、支"), _volunteer_columns
        ),
        _TableSpec(
            4, _("表4 网上法律与心理服务统计表"), _("表4 网上法律与心理服务"), _("件"), _service_columns
        ),
        _TableSpec(
            5,
            _("表5 特殊青少年帮教统计表"),
            _("表5 特殊青少年帮教"),
            _("人、件"),
            _mentoring_columns,
            is_county_only=True,
        ),
    ]


# --- The values ------------------------------------------------------------------------------------


def cell_text(value: Value, column: ReturnColumn, *, is_change: bool = False) -> str:
    """A cell as the workbook shows it, for a page: "<5", "—" for a withheld value, a share as a
    percentage, an average with two decimals, a change with its sign."""
    if value is None:
        return WITHHELD_TEXT
    if isinstance(value, str):
        return value
    sign = "+" if is_change and value != 0 else ""  # as the workbook's formats: no sign on a zero
    if column.kind == "share":
        return f"{value:{sign}.1%}"
    if column.kind == "rating":
        return f"{value:{sign}.2f}"
    return f"{int(value):{sign},d}"


def _value(area: AreaIndicators, column: ReturnColumn, *, is_year_earlier: bool) -> Value:
    key = column.key
    if key == COVERAGE:
        return area.coverage.year_earlier if is_year_earlier else area.coverage.current
    for suffix, parts in ((SHARE_SUFFIX, ("reply_on_time", "reply_measured")), (RATING_SUFFIX, None)):
        if not key.endswith(suffix):
            continue
        kind = key.removeprefix("consultations.").removesuffix(suffix)
        if not is_year_earlier:
            service = area.service.get(kind)
            if service is None:
                return None
            return service.reply_on_time_share if parts else service.average_rating
        # The service levels are given for the period only: a year earlier they are computed from the
        # year-earlier counts, as the indicators compute the current ones.
        numerator, denominator = parts or ("rating_sum", "ratings")
        return share_of(
            _figure(area, f"consultations.{kind}.{numerator}", is_year_earlier=True),
            _figure(area, f"consultations.{kind}.{denominator}", is_year_earlier=True),
        )
    return _figure(area, key, is_year_earlier=is_year_earlier)


def _figure(area: AreaIndicators, key: str, *, is_year_earlier: bool) -> Value:
    figure = area.figures.get(key)
    if figure is None:
        return None
    return figure.year_earlier if is_year_earlier else figure.current


def _change(current: Value, earlier: Value, kind: ColumnKind) -> Value:
    """The change from a year earlier; none when either side is withheld or suppressed."""
    if isinstance(current, str) or isinstance(earlier, str) or current is None or earlier is None:
        return None
    if kind == "count":
        return int(current) - int(earlier)
    return round(current - earlier, 4)


def _period_label(period: str) -> str:
    parsed = parse_period(period)
    if parsed.month is None:
        return _("%(year)d年度") % {"year": parsed.year}
    return _("%(year)d年%(month)d月") % {"year": parsed.year, "month": parsed.month}


def _committee_name(code: str, region_name: str) -> str:
    """The region's committee as it is registered, or "<region>关工委" when none is."""
    name = (
        Committee.objects.filter(region_id=code, kind=CommitteeKind.REGIONAL, is_active=True)
        .values_list("name", flat=True)
        .first()
    )
    return name or _("%(region)s关工委") % {"region": region_name}


def _issuer(code: str) -> str:
    """制表机关: the committee of the province, which sets the forms."""
    province = region_codes.ancestor_codes(code)[0] if region_codes.level_of(code) > 1 else code
    name = Region.objects.filter(code=province).values_list("name", flat=True).first()
    return _committee_name(province, name or province)


def _table(
    spec: _TableSpec, indicators: Indicators, *, reporting_unit: str, issuer: str, period_label: str
) -> ReturnTable:
    columns = tuple(spec.columns())
    total = indicators.total
    current = tuple(_value(total, column, is_year_earlier=False) for column in columns)
    earlier = tuple(_value(total, column, is_year_earlier=True) for column in columns)
    change = tuple(
        _change(now, then, column.kind) for now, then, column in zip(current, earlier, columns, strict=True)
    )
    areas = indicators.children
    if spec.is_county_only:
        # Sealed records have rows only for regions at county level or above.
        areas = [
            item for item in areas if item.level <= RegionLevel.COUNTY and "sealed_children" in item.figures
        ]
    rows = [
        ReturnRow(label=_("合计"), code=indicators.region_code, kind="total", cells=current),
        ReturnRow(label=_("上年同期"), code="", kind="year_earlier", cells=earlier),
        ReturnRow(label=_("比上年同期增减"), code="", kind="change", cells=change),
        *(
            ReturnRow(
                label=item.name,
                code=item.code,
                kind="area",
                cells=tuple(_value(item, column, is_year_earlier=False) for column in columns),
            )
            for item in areas
        ),
    ]
    return ReturnTable(
        number=spec.number,
        title=spec.title,
        sheet_name=spec.sheet_name,
        form_number=_("关统%(number)d表") % {"number": spec.number},
        issuer=issuer,
        reporting_unit=reporting_unit,
        period_label=period_label,
        unit=spec.unit,
        columns=columns,
        rows=tuple(rows),
    )


def returns_tables(*, actor: Actor | None, region_code: str, period: str) -> list[ReturnTable]:
    """The statistical returns of a region (inside the actor's; None is the command line) for a month
    "YYYY-MM" or a year "YYYY", as data: 表1–表4, and 表5 for a county or above."""
    indicators = indicators_for(actor=actor, region_code=region_code, period=period)
    reporting_unit = _committee_name(indicators.region_code, indicators.region_name)
    issuer = _issuer(indicators.region_code)
    period_label = _period_label(indicators.period)
    is_county_or_above = indicators.level <= RegionLevel.COUNTY
    return [
        _table(spec, indicators, reporting_unit=reporting_unit, issuer=issuer, period_label=period_label)
        for spec in _specs()
        if is_county_or_above or not spec.is_county_only
    ]


# --- The workbook ----------------------------------------------------------------------------------

THIN = Side(style="thin", color="000000")
GRID = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
CENTRE = Alignment(horizontal="center", vertical="center", wrap_text=True)
NUMBER_FORMATS: dict[ColumnKind, str] = {"count": "#,##0", "share": "0.0%", "rating": "0.00"}
CHANGE_FORMATS: dict[ColumnKind, str] = {
    "count": "+#,##0;-#,##0;0",
    "share": "+0.0%;-0.0%;0.0%",
    "rating": "+0.00;-0.00;0.00",
}
LEADING_COLUMNS = 2  # the region's name and code
HEADING_ROW = 4  # two heading rows, then the column numbers (甲 乙 1 2 …)
FIRST_DATA_ROW = HEADING_ROW + 3
NAME_WIDTH = 22
CODE_WIDTH = 15
FIGURE_WIDTH = 10


def _put(sheet: Worksheet, row: int, column: int, value: Value | str) -> None:
    """Write a value: text always as a string (never a formula or an error code, whatever it starts
    with), numbers as numbers."""
    put_cell_value(sheet.cell(row=row, column=column), value)


def _merge(sheet: Worksheet, row: int, first: int, last: int, *, to_row: int | None = None) -> None:
    if last > first or (to_row is not None and to_row > row):
        sheet.merge_cells(start_row=row, start_column=first, end_row=to_row or row, end_column=last)


def _write_sheet(sheet: Worksheet, table: ReturnTable) -> None:
    width = LEADING_COLUMNS + len(table.columns)
    # Title, 表号 and 制表机关, then 填报单位, 统计期 and 计量单位 on one line.
    _put(sheet, 1, 1, table.title)
    _merge(sheet, 1, 1, width)
    sheet.cell(row=1, column=1).font = Font(bold=True, size=16)
    sheet.cell(row=1, column=1).alignment = Alignment(horizontal="center", vertical="center")
    sheet.row_dimensions[1].height = 32
    _put(
        sheet,
        2,
        1,
        _("表　　号：%(number)s　　制表机关：%(issuer)s")
        % {"number": table.form_number, "issuer": table.issuer},
    )
    _merge(sheet, 2, 1, width)
    sheet.cell(row=2, column=1).alignment = Alignment(horizontal="right")
    first_break = max(LEADING_COLUMNS, width // 3)
    second_break = min(max(first_break + 1, 2 * width // 3), width - 1)
    line = (
        (1, first_break, _("填报单位：%(unit)s") % {"unit": table.reporting_unit}, "left"),
        (first_break + 1, second_break, _("统计期：%(period)s") % {"period": table.period_label}, "center"),
        (second_break + 1, width, _("计量单位：%(unit)s") % {"unit": table.unit}, "right"),
    )
    for first, last, text, horizontal in line:
        _put(sheet, 3, first, text)
        _merge(sheet, 3, first, last)
        sheet.cell(row=3, column=first).alignment = Alignment(horizontal=horizontal)

    # Two heading rows: a group's heading over its columns, a lone column's label over both rows.
    heading_font = Font(bold=True)
    for position, label in ((1, _("单位名称")), (2, _("区划代码"))):
        _put(sheet, HEADING_ROW, position, label)
        _merge(sheet, HEADING_ROW, position, position, to_row=HEADING_ROW + 1)
    index = 0
    while index < len(table.columns):
        column = table.columns[index]
        position = LEADING_COLUMNS + 1 + index
        if not column.group:
            _put(sheet, HEADING_ROW, position, column.label)
            _merge(sheet, HEADING_ROW, position, position, to_row=HEADING_ROW + 1)
            index += 1
            continue
        run = 1
        while index + run < len(table.columns) and table.columns[index + run].group == column.group:
            run += 1
        _put(sheet, HEADING_ROW, position, column.group)
        _merge(sheet, HEADING_ROW, position, position + run - 1)
        for offset in range(run):
            _put(sheet, HEADING_ROW + 1, position + offset, table.columns[index + offset].label)
        index += run
    # The column numbers of the official forms: 甲 and 乙 for the leading columns, then 1, 2, …
    numbers = [_("甲"), _("乙"), *(str(number) for number in range(1, len(table.columns) + 1))]
    for position, text in enumerate(numbers, start=1):
        _put(sheet, HEADING_ROW + 2, position, text)
    for row in range(HEADING_ROW, HEADING_ROW + 3):
        for position in range(1, width + 1):
            cell = sheet.cell(row=row, column=position)
            cell.font, cell.alignment, cell.border = heading_font, CENTRE, GRID
    sheet.row_dimensions[HEADING_ROW + 1].height = 45

    # The rows: a suppressed count as "<5", a withheld value as "—", numbers with their format.
    row_number = FIRST_DATA_ROW
    for item in table.rows:
        _put(sheet, row_number, 1, item.label)
        _put(sheet, row_number, 2, item.code or None)
        for position in (1, 2):
            cell = sheet.cell(row=row_number, column=position)
            cell.border = GRID
            cell.alignment = Alignment(horizontal="left" if position == 1 else "center", vertical="center")
            if item.kind != "area":
                cell.font = heading_font
        for offset, (column, value) in enumerate(zip(table.columns, item.cells, strict=True)):
            cell = sheet.cell(row=row_number, column=LEADING_COLUMNS + 1 + offset)
            if value is None:
                _put(sheet, row_number, cell.column, WITHHELD_TEXT)
                cell.alignment = CENTRE
            elif value == SUPPRESSED:
                _put(sheet, row_number, cell.column, SUPPRESSED)
                cell.alignment = CENTRE
            else:
                _put(sheet, row_number, cell.column, value)
                formats = CHANGE_FORMATS if item.kind == "change" else NUMBER_FORMATS
                cell.number_format = formats[column.kind]
                cell.alignment = Alignment(horizontal="right", vertical="center")
            cell.border = GRID
            if item.kind != "area":
                cell.font = heading_font
        row_number += 1

    # A note on the symbols, then the sign-off line.
    _put(
        sheet,
        row_number,
        1,
        _("注：“<5”表示数量在1至4之间，为保护未成年人隐私不予公开；“—”表示不予公开或无可比数据。"),
    )
    _merge(sheet, row_number, 1, width)
    sheet.cell(row=row_number, column=1).alignment = Alignment(horizontal="left", wrap_text=True)
    sheet.row_dimensions[row_number].height = 30
    _put(
        sheet,
        row_number + 1,
        1,
        _(
            "单位负责人：　　　　　　填表人：　　　　　　联系电话：　　　　　　"
            "报出日期：　　　　年　　月　　日"
        ),
    )
    _merge(sheet, row_number + 1, 1, width)
    sheet.cell(row=row_number + 1, column=1).alignment = Alignment(horizontal="left")

    sheet.column_dimensions["A"].width = NAME_WIDTH
    sheet.column_dimensions["B"].width = CODE_WIDTH
    for position in range(LEADING_COLUMNS + 1, width + 1):
        sheet.column_dimensions[get_column_letter(position)].width = FIGURE_WIDTH
    sheet.freeze_panes = sheet.cell(row=FIRST_DATA_ROW, column=LEADING_COLUMNS + 1)
    sheet.print_title_rows = f"{HEADING_ROW}:{HEADING_ROW + 2}"
    sheet.page_setup.orientation = sheet.ORIENTATION_LANDSCAPE
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as the rows need
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True


def statistical_returns_xlsx(
    *, actor: Actor | None, region_code: str, period: str, progress: Progress | None = None
) -> bytes:
    """The statistical returns of a region for a month or a year as one workbook, a sheet per table.
    `progress(percent, step)` is told as the figures are counted and as each sheet is written."""
    tables = returns_tables(actor=actor, region_code=region_code, period=period)
    if progress is not None:
        progress(20, _("已汇总统计数据"))
    workbook = Workbook()
    workbook.remove(workbook.active)
    workbook.properties.title = _("%(unit)s统计报表（%(period)s）") % {
        "unit": tables[0].reporting_unit,
        "period": tables[0].period_label,
    }
    for index, table in enumerate(tables, start=1):
        _write_sheet(workbook.create_sheet(table.sheet_name), table)
        if progress is not None:
            progress(20 + math.floor(75 * index / len(tables)), _("已生成%(title)s") % {"title": table.title})
    buffer = io.BytesIO()
    workbook.save(buffer)
    if progress is not None:
        progress(100, _("统计报表已生成"))
    return buffer.getvalue()
