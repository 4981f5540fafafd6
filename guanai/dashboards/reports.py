"""The annual work report (年度工作统计, issue 8 point 6): a region's indicators for a year beside the
year before, the table of its child regions, for the province the table of every county grouped by city
(the statistics "from every level" for the yearly work conference, DOMAIN.md), and the monthly trend of
visits and requests for help; as a PDF (WeasyPrint, charts drawn on the server by matplotlib as SVG) and
as an Excel workbook (openpyxl).

Every count comes from `indicators_for`, so the report shows what the dashboards show, with the same
small-number protection: a "<5" cell stays "<5" (never a number, never a bar of its height) and a withheld
cell is "—". The monthly trend counts visits and requests by month in two grouped queries with the same
filters as the indicators (visits of sealed records left out), instead of twelve calls of eighteen
queries each; a test checks that the months add up to the year's figures. Neither is a sensitive figure,
so the trend is never suppressed.

No actor is the command line (`annual_report`), run by the operator over the whole tree.
"""

from __future__ import annotations

import base64
import datetime
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count
from django.db.models.functions import ExtractMonth
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from guanai.consultations.models import Consultation
from guanai.consultations.vocabulary import Kind
from guanai.core import region_codes
from guanai.core.access import Actor
from guanai.core.errors import ValidationFailed
from guanai.core.region_codes import RegionLevel
from guanai.dashboards.indicators import (
    SUPPRESSED,
    AreaIndicators,
    Cell,
    Indicators,
    Share,
    indicator_region,
    indicators_for,
)
from guanai.dashboards.labels import figure_label, figure_sections
from guanai.imports.cells import put_cell_value
from guanai.pairings.models import Visit

Progress = Callable[[int, str], None]

WITHHELD_TEXT = "—"
FIRST_YEAR = 2000

# The columns of the printed tables (the workbook has every figure): the work of each area at a glance.
PRINTED_KEYS = (
    "children",
    "eligible",
    "paired",
    "visits",
    "overdue",
    "open_reports",
    "volunteers",
    "teams",
    *(f"consultations.{kind}" for kind in Kind.values),
    "sealed_children",
    "mentoring_cases",
)
# The figures on the report's first pages, beside the year before.
HEADLINE_KEYS = (
    "children",
    "paired",
    "visits",
    "open_reports",
    "volunteers",
    "teams",
    *(f"consultations.{kind}" for kind in Kind.values),
    "sealed_children",
    "mentoring_cases",
)
# Sub-figures of the online help (replies measured, ratings …) are the workbook's, not the summary's.
CONSULTATION_PARTS_PREFIXES = tuple(f"consultations.{kind}." for kind in Kind.values)


# --- The data -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """This year minus the year before, and that as a share of the year before (0.125 = +12.5 %); None
    when either value is suppressed or withheld, the share also when the year before is 0."""

    absolute: int | None
    share: float | None


@dataclass(frozen=True)
class SummaryLine:
    key: str
    label: str
    current: Cell | None
    previous: Cell | None
    change: Change


@dataclass
class Table:
    """Areas (rows) by figures (columns): the child regions of a region, or the counties of one city."""

    title: str
    keys: list[str]
    rows: list[AreaIndicators]
    total: AreaIndicators


@dataclass(frozen=True)
class MonthPoint:
    """One month's visits and requests for help; None for a month that has not begun."""

    month: int
    visits: int | None
    consultations: int | None


@dataclass
class AnnualReport:
    region_code: str
    region_name: str
    level: int
    year: int
    previous_year: int
    compiled_on: datetime.date
    indicators: Indicators
    summary: list[tuple[str, list[SummaryLine]]]
    coverage: Share
    subregions: Table | None
    counties: list[Table] = field(default_factory=list)
    months: list[MonthPoint] = field(default_factory=list)

    @property
    def is_province(self) -> bool:
        return self.level == RegionLevel.PROVINCE

    def headline(self) -> list[SummaryLine]:
        lines = {line.key: line for _title, section in self.summary for line in section}
        return [lines[key] for key in HEADLINE_KEYS if key in lines]


class _Progress:
    """Reports progress to an optional callback: clamped to 0..100 and never going back."""

    def __init__(self, callback: Progress | None, *, low: int = 0, high: int = 100) -> None:
        self.callback = callback
        self.low = low
        self.high = high
        self.last = -1

    def __call__(self, percent: int, step: str) -> None:
        value = self.low + (self.high - self.low) * max(0, min(100, percent)) // 100
        value = max(value, self.last)
        self.last = value
        if self.callback is not None:
            self.callback(value, step)


def change_of(current: Cell | None, previous: Cell | None) -> Change:
    if not isinstance(current, int) or not isinstance(previous, int):
        return Change(absolute=None, share=None)
    absolute = current - previous
    return Change(absolute=absolute, share=round(absolute / previous, 4) if previous else None)


def _summary(total: AreaIndicators) -> list[tuple[str, list[SummaryLine]]]:
    keys = [key for key in total.figures if not key.startswith(CONSULTATION_PARTS_PREFIXES)]
    return [
        (
            title,
            [
                SummaryLine(
                    key=key,
                    label=figure_label(key),
                    current=total.figures[key].current,
                    previous=total.figures[key].year_earlier,
                    change=change_of(total.figures[key].current, total.figures[key].year_earlier),
                )
                for key in section_keys
            ],
        )
        for title, section_keys in figure_sections(keys)
    ]


def _table(title: str, indicators: Indicators) -> Table:
    # Every row of one response has the same keys; sealed figures are absent from rows below county.
    keys = list(indicators.children[0].figures) if indicators.children else []
    return Table(title=title, keys=keys, rows=indicators.children, total=indicators.total)


def subregion_title(level: int) -> str:
    titles = {
        RegionLevel.PROVINCE: _("各市"),
        RegionLevel.CITY: _("各县（市、区）"),
        RegionLevel.COUNTY: _("各乡镇（街道）"),
        RegionLevel.TOWNSHIP: _("各村（社区）"),
    }
    return titles.get(RegionLevel(level), _("下级区域"))


def monthly_trend(*, region_code: str, year: int, today: datetime.date) -> list[MonthPoint]:
    """Visits and requests for help by month of `year` in the region's subtree (the region has been
    checked by the caller), with the indicators' filters; months after today are None."""
    first, last = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    visits = dict(
        Visit.objects.filter(
            region_codes.within_q("pairing__minor__region_id", region_code),
            pairing__minor__is_sealed=False,
            visited_on__gte=first,
            visited_on__lte=last,
        )
        .annotate(month=ExtractMonth("visited_on"))
        .values("month")
        .order_by()
        .annotate(count=Count("pk"))
        .values_list("month", "count")
    )
    start = timezone.make_aware(datetime.datetime(year, 1, 1))
    end = timezone.make_aware(datetime.datetime(year + 1, 1, 1))
    # The month in the current time zone (Asia/Shanghai), as the indicators' periods are.
    consultations = dict(
        Consultation.objects.filter(
            region_codes.within_q("region_id", region_code), created_at__gte=start, created_at__lt=end
        )
        .annotate(month=ExtractMonth("created_at"))
        .values("month")
        .order_by()
        .annotate(count=Count("pk"))
        .values_list("month", "count")
    )
    points = []
    for month in range(1, 13):
        begun = (year, month) <= (today.year, today.month)
        points.append(
            MonthPoint(
                month=month,
                visits=visits.get(month, 0) if begun else None,
                consultations=consultations.get(month, 0) if begun else None,
            )
        )
    return points


def annual_report_data(
    *, actor: Actor | None, region_code: str, year: int, progress: Progress | None = None
) -> AnnualReport:
    """The annual report of a region inside the actor's (404 outside it): its indicators for `year` with
    the year before, the table of its child regions, for the province the counties of every city, and
    the monthly trend. `progress(percent, step)` is called as the work advances, up to 100."""
    report_progress = _Progress(progress)
    report_progress(0, _("准备统计"))
    today = timezone.localdate()
    if year < FIRST_YEAR or year > today.year:
        raise ValidationFailed(
            fields={
                "year": [_("年份应在 %(first)s 至 %(last)s 之间") % {"first": FIRST_YEAR, "last": today.year}]
            }
        )
    code = indicator_region(actor=actor, region_code=region_code)
    indicators = indicators_for(actor=actor, region_code=code, period=str(year), today=today)
    level = indicators.level
    report_progress(20, _("统计%(region)s全年指标") % {"region": indicators.region_name})

    subregions = _table(subregion_title(level), indicators) if indicators.children else None
    counties: list[Table] = []
    if level == RegionLevel.PROVINCE:
        cities = [item for item in indicators.children if not item.is_own_level]
        for index, city in enumerate(cities, start=1):
            of_city = indicators_for(actor=actor, region_code=city.code, period=str(year), today=today)
            if of_city.children:
                counties.append(_table(city.name, of_city))
            report_progress(20 + 60 * index // len(cities), _("统计%(city)s各县") % {"city": city.name})
    report_progress(80, _("统计月度走访与咨询"))
    months = monthly_trend(region_code=code, year=year, today=today)
    report_progress(100, _("统计完成"))
    return AnnualReport(
        region_code=code,
        region_name=indicators.region_name,
        level=level,
        year=year,
        previous_year=year - 1,
        compiled_on=today,
        indicators=indicators,
        summary=_summary(indicators.total),
        coverage=indicators.total.coverage,
        subregions=subregions,
        counties=counties,
        months=months,
    )


# --- Shown values ---------------------------------------------------------------------------------------


def cell_text(value: Cell | float | None) -> str:
    """A cell as printed: the count, "<5" for a suppressed one, "—" for one withheld or without history."""
    if value is None:
        return WITHHELD_TEXT
    if value == SUPPRESSED:
        return SUPPRESSED
    return f"{value:,}" if isinstance(value, int) else str(value)


def share_text(value: float | None) -> str:
    return WITHHELD_TEXT if value is None else f"{value * 100:.1f}%"


def change_text(change: Change) -> tuple[str, str]:
    """The change as printed: "+3" / "−2" and "+12.5%" ("—" when there is none to show)."""
    if change.absolute is None:
        return WITHHELD_TEXT, WITHHELD_TEXT
    absolute = f"+{change.absolute:,}" if change.absolute > 0 else f"{change.absolute:,}".replace("-", "−")
    if change.share is None:
        return absolute, WITHHELD_TEXT
    percent = f"{change.share * 100:+.1f}%".replace("-", "−")
    return absolute, percent


def printed_keys(table: Table) -> list[str]:
    return [key for key in PRINTED_KEYS if key in table.keys]


# --- Charts ---------------------------------------------------------------------------------------------


def _figure(width: float, height: float) -> Any:
    # The object-oriented API (no pyplot): no global state, safe in a worker thread.
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure as ChartFigure

    return ChartFigure(figsize=(width, height))


def _svg(chart: Any) -> str:
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context(
        {
            "svg.fonttype": "none",  # text stays text (searchable, drawn by WeasyPrint with Noto CJK)
            "svg.hashsalt": "guanai",  # stable element ids: the same report gives the same SVG
            "font.family": ["Noto Sans CJK SC"],
            "font.size": 9,
            "axes.unicode_minus": False,
        }
    ):
        chart.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    return buffer.getvalue()


def _bars(*, title: str, labels: Sequence[str], values: Sequence[float | str | None], unit: str = "") -> str:
    """Bars of counts (or shares in %); a "<5" cell is drawn at height 0 labelled "<5", a withheld one
    labelled "—", so no protected number is ever drawn."""
    import matplotlib
    from matplotlib.ticker import FixedLocator, MaxNLocator, PercentFormatter

    with matplotlib.rc_context({"font.family": ["Noto Sans CJK SC"], "axes.unicode_minus": False}):
        chart = _figure(7.2, 0.9 + 0.32 * max(len(labels), 3))
        axes = chart.subplots()
        heights = [float(value) if isinstance(value, int | float) else 0.0 for value in values]
        positions = list(range(len(labels)))
        axes.barh(positions, heights, color="#2f6f9f")
        axes.set_yticks(positions, labels=list(labels))
        axes.invert_yaxis()
        axes.set_title(title)
        if unit == "%":
            # Shares: the whole scale, so that bars of different reports compare at a glance.
            axes.set_xlim(0, 118)
            axes.xaxis.set_major_locator(FixedLocator([0, 20, 40, 60, 80, 100]))
            axes.xaxis.set_major_formatter(PercentFormatter(100))
        else:
            axes.set_xlim(0, (max(heights, default=0.0) or 1.0) * 1.18)
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        for position, value, height in zip(positions, values, heights, strict=True):
            text: str
            if value == SUPPRESSED:
                text = SUPPRESSED
            elif value is None:
                text = WITHHELD_TEXT
            elif isinstance(value, float) and unit == "%":
                text = f"{value:.1f}%"
            else:
                text = f"{int(height):,}"
            axes.annotate(
                text, (height, position), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8
            )
        axes.spines[["top", "right"]].set_visible(False)
        return _svg(chart)


def _lines(*, title: str, months: list[MonthPoint]) -> str:
    import matplotlib
    from matplotlib.ticker import MaxNLocator

    with matplotlib.rc_context({"font.family": ["Noto Sans CJK SC"], "axes.unicode_minus": False}):
        chart = _figure(7.2, 3.2)
        axes = chart.subplots()
        shown = [point for point in months if point.visits is not None]
        numbers = [point.month for point in shown]
        axes.plot(numbers, [point.visits for point in shown], marker="o", label=_("走访次数"))
        axes.plot(numbers, [point.consultations for point in shown], marker="s", label=_("网上咨询请求数"))
        axes.set_xticks(range(1, 13), labels=[_("%(month)s月") % {"month": month} for month in range(1, 13)])
        axes.set_xlim(0.5, 12.5)
        highest = max([point.visits or 0 for point in shown] + [point.consultations or 0 for point in shown])
        axes.set_ylim(0, max(highest, 4) * 1.15)  # a scale of whole numbers, also for an empty year
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_title(title)
        axes.legend(loc="upper left", frameon=False)
        axes.spines[["top", "right"]].set_visible(False)
        return _svg(chart)


@dataclass(frozen=True)
class Chart:
    title: str
    svg: str
    note: str = ""

    @property
    def data_uri(self) -> str:
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode("utf-8")).decode("ascii")


def report_charts(report: AnnualReport) -> list[Chart]:
    """The report's charts: children by category, pairing coverage by child region, visits and requests
    by month."""
    charts = []
    categories = [key for key in report.indicators.total.figures if key.startswith("children.category.")]
    category_values = [report.indicators.total.figures[key].current for key in categories]
    charts.append(
        Chart(
            title=_("关爱对象分类（%(year)s年）") % {"year": report.year},
            svg=_bars(
                title=_("关爱对象分类"),
                labels=[figure_label(key) for key in categories],
                values=category_values,
            ),
            note=_("“<5”为 1–4 的受保护计数，按 0 绘制。") if SUPPRESSED in category_values else "",
        )
    )
    if report.subregions is not None and report.subregions.rows:
        rows = report.subregions.rows
        shares = [row.coverage.current for row in rows]
        withheld = [row.name for row, share in zip(rows, shares, strict=True) if share is None]
        charts.append(
            Chart(
                title=_("%(areas)s结对覆盖率") % {"areas": report.subregions.title},
                svg=_bars(
                    title=_("结对覆盖率（已结对 ÷ 已同意结对关爱）"),
                    labels=[row.name for row in rows],
                    values=[None if share is None else share * 100 for share in shares],
                    unit="%",
                ),
                note=(
                    _("标“—”者无可计算的覆盖率（无同意结对的对象，或计数受保护）：%(areas)s。")
                    % {"areas": "、".join(withheld)}
                    if withheld
                    else ""
                ),
            )
        )
    charts.append(
        Chart(
            title=_("%(year)s年各月走访与网上咨询") % {"year": report.year},
            svg=_lines(title=_("各月走访与网上咨询"), months=report.months),
        )
    )
    return charts


# --- PDF ------------------------------------------------------------------------------------------------


def _printed_table(table: Table) -> dict[str, Any]:
    keys = printed_keys(table)
    coverage_after = keys.index("paired") + 1 if "paired" in keys else len(keys)

    def cells(area: AreaIndicators) -> list[str]:
        values = [cell_text(area.figures[key].current) for key in keys]
        values.insert(coverage_after, share_text(area.coverage.current))
        return values

    headers = [figure_label(key) for key in keys]
    headers.insert(coverage_after, _("结对覆盖率"))
    return {
        "title": table.title,
        "headers": headers,
        "rows": [{"name": row.name, "cells": cells(row)} for row in table.rows],
        "total": {"name": _("合计"), "cells": cells(table.total)},
    }


def _printed_summary(report: AnnualReport) -> list[dict[str, Any]]:
    sections = []
    for title, lines in report.summary:
        printed = []
        for line in lines:
            absolute, percent = change_text(line.change)
            printed.append(
                {
                    "label": line.label,
                    "current": cell_text(line.current),
                    "previous": cell_text(line.previous),
                    "change": absolute,
                    "change_percent": percent,
                }
            )
        sections.append({"title": title, "lines": printed})
    return sections


def _css_string(text: str) -> str:
    """A CSS string literal of `text`: ASCII punctuation as hex escapes, so that no quote, backslash or
    angle bracket in a name can end the string or the <style> element."""
    return (
        '"'
        + "".join(
            character
            if character.isalnum() or character == " " or ord(character) > 0x7F
            else f"\\{ord(character):x} "
            for character in text
        )
        + '"'
    )


def _page_css() -> str:
    """The page's margin text: "第 N 页，共 M 页", with the numbers as CSS counters."""
    marker = "\x00"
    template = _("第 %(page)s 页，共 %(pages)s 页") % {
        "page": f"{marker}page{marker}",
        "pages": f"{marker}pages{marker}",
    }
    parts = template.split(marker)
    return " ".join(
        f"counter({part})" if index % 2 else _css_string(part) for index, part in enumerate(parts) if part
    )


def annual_report_pdf(
    *, actor: Actor | None, region_code: str, year: int, progress: Progress | None = None
) -> bytes:
    """The annual report as an A4 PDF in Chinese: a cover, the key figures beside the year before, the
    tables, the charts, and on every page its number and the small-number note."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    report_progress = _Progress(progress)
    report = annual_report_data(
        actor=actor, region_code=region_code, year=year, progress=_Progress(report_progress, high=70)
    )
    report_progress(75, _("绘制图表"))
    charts = report_charts(report)
    report_progress(85, _("排版 PDF"))
    headline = []
    for line in report.headline():
        absolute, percent = change_text(line.change)
        headline.append(
            {
                "label": line.label,
                "current": cell_text(line.current),
                "previous": cell_text(line.previous),
                "change": absolute,
                "change_percent": percent,
            }
        )
    context = {
        "header_css": mark_safe(_css_string(f"{report.region_name} {report.year}")),  # noqa: S308 escaped
        "note_css": mark_safe(_css_string(_("县级以下 1–4 的敏感计数显示为 <5"))),  # noqa: S308 escaped
        "page_css": mark_safe(_page_css()),  # noqa: S308 escaped by _css_string
        "report": report,
        "headline": headline,
        "coverage": {
            "current": share_text(report.coverage.current),
            "previous": share_text(report.coverage.year_earlier),
        },
        "summary": _printed_summary(report),
        "subregions": _printed_table(report.subregions) if report.subregions else None,
        "counties": [_printed_table(table) for table in report.counties],
        "charts": charts,
        "months": report.months,
    }
    html = render_to_string("dashboards/report/annual.html", context)
    # Everything is embedded (the charts as data: URIs, the system's fonts): nothing is fetched, so no
    # name printed in the report can make the server request an address.
    fetcher = URLFetcher(allowed_protocols={"data"})
    document: bytes = HTML(string=html, url_fetcher=fetcher).write_pdf()
    report_progress(100, _("完成"))
    return document


# --- Excel ----------------------------------------------------------------------------------------------


def _put(
    sheet: Any, row: int, column: int, value: Cell | float | str | None, *, number_format: str = ""
) -> Any:
    """Write one cell: numbers as numbers, "<5" and "—" as text, and every text as text even when it
    begins like a formula (a region named "=…" stays a name, never a formula)."""
    cell = sheet.cell(row=row, column=column)
    if value is None:
        value = WITHHELD_TEXT
    put_cell_value(cell, value)
    if not isinstance(value, str) and number_format:
        cell.number_format = number_format
    return cell


def _text_width(text: str) -> int:
    return sum(2 if ord(character) > 0x2E80 else 1 for character in text)


def _finish_sheet(sheet: Any, headers: list[str], *, minimum: int = 8, maximum: int = 40) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    for column, header in enumerate(headers, start=1):
        cell = _put(sheet, 1, column, header)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        widest = max(
            [
                _text_width(str(value))
                for (value,) in sheet.iter_rows(min_col=column, max_col=column, values_only=True)
            ]
            + [minimum]
        )
        sheet.column_dimensions[get_column_letter(column)].width = min(widest + 2, maximum)
    sheet.freeze_panes = "A2"


def _area_sheet(workbook: Any, title: str, tables: list[Table], *, with_group: bool) -> None:
    sheet = workbook.create_sheet(title=title[:31])
    keys: list[str] = []
    for table in tables:
        keys += [key for key in table.keys if key not in keys]
    headers = ([_("所属市")] if with_group else []) + [_("区划代码"), _("名称"), _("结对覆盖率")]
    headers += [figure_label(key) for key in keys]
    row = 2
    for table in tables:
        for area in [*table.rows, table.total]:
            is_total = area is table.total
            values: list[Any] = [table.title] if with_group else []
            values += [area.code, _("合计") if is_total else area.name]
            for column, value in enumerate(values, start=1):
                _put(sheet, row, column, value)
            _put(sheet, row, len(values) + 1, area.coverage.current, number_format="0.0%")
            for offset, key in enumerate(keys, start=len(values) + 2):
                figure = area.figures.get(key)
                _put(sheet, row, offset, figure.current if figure else None)
            row += 1
    _finish_sheet(sheet, headers)


def annual_report_xlsx(
    *, actor: Actor | None, region_code: str, year: int, progress: Progress | None = None
) -> bytes:
    """The annual report as an Excel workbook: the summary (every figure, the year before, the change),
    a sheet per table (child regions; for the province the counties of every city), the months with a
    bar chart. Numbers are numbers, "<5" and "—" are text, and nothing is a formula."""
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference

    report_progress = _Progress(progress)
    report = annual_report_data(
        actor=actor, region_code=region_code, year=year, progress=_Progress(report_progress, high=80)
    )
    report_progress(85, _("生成工作表"))
    workbook = Workbook()
    summary = workbook.active
    summary.title = _("汇总")
    headers = [
        _("类别"),
        _("指标"),
        _("%(year)s年") % {"year": report.year},
        _("%(year)s年") % {"year": report.previous_year},
        _("增减"),
        _("增减幅度"),
    ]
    row = 2
    for title, lines in report.summary:
        for line in lines:
            _put(summary, row, 1, title)
            _put(summary, row, 2, line.label)
            _put(summary, row, 3, line.current)
            _put(summary, row, 4, line.previous)
            _put(summary, row, 5, line.change.absolute)
            _put(summary, row, 6, line.change.share, number_format="+0.0%;-0.0%;0.0%")
            row += 1
    _put(summary, row, 1, figure_sections(["paired"])[0][0])
    _put(summary, row, 2, _("结对覆盖率"))
    _put(summary, row, 3, report.coverage.current, number_format="0.0%")
    _put(summary, row, 4, report.coverage.year_earlier, number_format="0.0%")
    _finish_sheet(summary, headers)
    # Where the report comes from, below the table (the header row stays the first, frozen).
    row += 2
    _put(summary, row, 1, _("地区"))
    _put(summary, row, 2, report.region_name)
    _put(summary, row + 1, 1, _("编制日期"))
    _put(summary, row + 1, 2, f"{report.compiled_on:%Y-%m-%d}")
    _put(summary, row + 2, 1, _("说明"))
    _put(summary, row + 2, 2, _("县级以下 1–4 的敏感计数显示为 <5；“—”为不公布或无往年数据。"))

    if report.subregions is not None:
        _area_sheet(workbook, report.subregions.title, [report.subregions], with_group=False)
    if report.counties:
        _area_sheet(workbook, _("各县（市、区）"), report.counties, with_group=True)

    months = workbook.create_sheet(title=_("各月走访与咨询"))
    for point in report.months:
        _put(months, point.month + 1, 1, _("%(month)s月") % {"month": point.month})
        _put(months, point.month + 1, 2, point.visits)
        _put(months, point.month + 1, 3, point.consultations)
    _finish_sheet(months, [_("月份"), _("走访次数"), _("网上咨询请求数")])
    chart = BarChart()
    chart.title = _("%(year)s年各月走访与网上咨询") % {"year": report.year}
    chart.y_axis.title = _("次数")
    chart.add_data(Reference(months, min_col=2, max_col=3, min_row=1, max_row=13), titles_from_data=True)
    chart.set_categories(Reference(months, min_col=1, min_row=2, max_row=13))
    chart.width, chart.height = 22, 10
    months.add_chart(chart, "E2")

    buffer = io.BytesIO()
    workbook.save(buffer)
    report_progress(100, _("完成"))
    return buffer.getvalue()
