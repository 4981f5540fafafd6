"""The dashboards' pages (/dashboards/): a region's indicators for a month with drill-down one level at a
time, charts (ECharts, drawn from the same figures as the table beside each) and the reports compiled in
the background. Thin: parse, call a selector or a service, render."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from guanai.core import region_codes
from guanai.core.access import Actor, Permission, permission_required, request_actor
from guanai.core.errors import NotFoundError, RateLimited, ValidationFailed
from guanai.core.region_codes import RegionLevel
from guanai.dashboards import jobs
from guanai.dashboards.indicators import (
    COUNTY_ONLY,
    AreaIndicators,
    Cell,
    Indicators,
    indicator_region,
    indicators_for,
)
from guanai.dashboards.labels import figure_label
from guanai.dashboards.models import ReportJob
from guanai.dashboards.reports import WITHHELD_TEXT as DASH
from guanai.dashboards.reports import cell_text, change_of, share_text
from guanai.dashboards.reports import change_text as printed_change
from guanai.dashboards.snapshots import indicator_trend
from guanai.minors.vocabulary import Category, Need, RiskLevel
from guanai.regions.models import Region
from guanai.volunteers.vocabulary import ElderCategory, Specialty
from guanai.web.forms import put_errors

CHILD_LEVEL_TITLES = {
    RegionLevel.CITY: gettext_lazy("各市"),
    RegionLevel.COUNTY: gettext_lazy("各县（市、区）"),
    RegionLevel.TOWNSHIP: gettext_lazy("各乡镇（街道）"),
    RegionLevel.VILLAGE: gettext_lazy("各村（社区）"),
}
# The columns of the table of child regions, each a figure key (coverage is computed).
REGION_COLUMNS = (
    "children",
    "eligible",
    "paired",
    "visits",
    "overdue",
    "open_reports",
    "volunteers",
    "teams",
)


def change_text(current: Cell | None, earlier: Cell | None) -> str:
    """The change on a year earlier as the annual report prints it, in one cell: "+3（+5.0%）"."""
    absolute, percent = printed_change(change_of(current, earlier))
    return absolute if percent == DASH else f"{absolute}（{percent}）"


def plotted(value: Cell | float | None) -> int | float | None:
    """A value for a chart: protected and withheld cells are not plotted (the table says "<5" or "—")."""
    return value if isinstance(value, int | float) else None


@dataclass
class Row:
    label: str
    cells: list[str]
    url: str = ""
    is_total: bool = False


@dataclass
class Panel:
    """A chart and the table beside it: the same figures, drawn and written."""

    key: str
    title: str
    columns: list[str]
    rows: list[Row]
    chart: dict[str, Any] = field(default_factory=dict)


def _figure_rows(area: AreaIndicators, keys: list[str]) -> list[Row]:
    rows = []
    for key in keys:
        figure = area.figures.get(key)
        if figure is None:
            continue
        rows.append(
            Row(
                label=figure_label(key),
                cells=[
                    cell_text(figure.current),
                    cell_text(figure.year_earlier),
                    change_text(figure.current, figure.year_earlier),
                ],
            )
        )
    return rows


def _breakdown_panel(key: str, title: str, area: AreaIndicators, keys: list[str], chart: str) -> Panel:
    rows = _figure_rows(area, keys)
    present = [item for item in keys if item in area.figures]
    categories = [figure_label(item) for item in present]
    series: list[dict[str, Any]]
    if chart == "pie":
        series = [
            {
                "name": title,
                "data": [
                    {"name": name, "value": plotted(area.figures[item].current)}
                    for name, item in zip(categories, present, strict=True)
                ],
            }
        ]
    else:
        series = [
            {"name": _("本期"), "data": [plotted(area.figures[item].current) for item in present]},
            {"name": _("上年同期"), "data": [plotted(area.figures[item].year_earlier) for item in present]},
        ]
    return Panel(
        key=key,
        title=title,
        columns=[_("指标"), _("本期"), _("上年同期"), _("增减")],
        rows=rows,
        chart={"type": chart, "categories": categories, "series": series},
    )


def _drill_url(code: str, period: str) -> str:
    return f"{reverse('dashboards:overview')}?{urlencode({'region': code, 'period': period})}"


def _regions_panel(result: Indicators) -> Panel:
    columns = [_("区域"), *(figure_label(key) for key in REGION_COLUMNS), _("结对覆盖率")]
    rows = [
        Row(
            label=item.name,
            cells=[cell_text(item.figures[key].current) for key in REGION_COLUMNS]
            + [share_text(item.coverage.current)],
            url="" if item.is_own_level else _drill_url(item.code, result.period),
        )
        for item in result.children
    ]
    total = result.total
    rows.append(
        Row(
            label=_("合计"),
            cells=[cell_text(total.figures[key].current) for key in REGION_COLUMNS]
            + [share_text(total.coverage.current)],
            is_total=True,
        )
    )
    names = [item.name for item in result.children]
    return Panel(
        key="regions",
        title=str(CHILD_LEVEL_TITLES.get(RegionLevel(min(result.level + 1, 5)), _("下级区域"))),
        columns=columns,
        rows=rows,
        chart={
            "type": "bar",
            "categories": names,
            "series": [
                {
                    "name": figure_label("children"),
                    "data": [plotted(i.figures["children"].current) for i in result.children],
                },
                {
                    "name": figure_label("paired"),
                    "data": [plotted(i.figures["paired"].current) for i in result.children],
                },
            ],
        },
    )


def _trend_panel(trend: list[tuple[str, dict[str, Cell | None]]]) -> Panel:
    keys = ["children", "paired", "visits"]
    consultation_keys = [
        key
        for key in (trend[0][1] if trend else {})
        if key.count(".") == 1 and key.startswith("consultations.")
    ]

    def consultations(cells: dict[str, Cell | None]) -> Cell | None:
        values = [cells.get(key) for key in consultation_keys]
        return (
            sum(value for value in values if isinstance(value, int))
            if all(isinstance(v, int) for v in values)
            else None
        )

    months = [period for period, _cells in trend]
    series = [
        {"name": figure_label(key), "data": [plotted(cells.get(key)) for _period, cells in trend]}
        for key in keys
    ]
    series.append(
        {"name": _("网上求助"), "data": [plotted(consultations(cells)) for _period, cells in trend]}
    )
    rows = [
        Row(
            label=period,
            cells=[cell_text(cells.get(key)) for key in keys] + [cell_text(consultations(cells))],
        )
        for period, cells in trend
    ]
    return Panel(
        key="trend",
        title=_("近 12 个月走势"),
        columns=[_("月份"), *(figure_label(key) for key in keys), _("网上求助")],
        rows=rows,
        chart={"type": "line", "categories": months, "series": series},
    )


def _service_rows(result: Indicators) -> list[Row]:
    rows = []
    for kind, service in result.total.service.items():
        figure = result.total.figures[f"consultations.{kind}"]
        rows.append(
            Row(
                label=figure_label(f"consultations.{kind}"),
                cells=[
                    cell_text(figure.current),
                    cell_text(figure.year_earlier),
                    share_text(service.reply_on_time_share),
                    DASH if service.average_rating is None else f"{service.average_rating:.2f}",
                ],
            )
        )
    return rows


@dataclass
class Card:
    key: str
    label: str
    current: str
    earlier: str
    change: str


def _cards(result: Indicators) -> list[Card]:
    total = result.total
    cards = []
    for key in ("children", "paired", "visits", "overdue", "open_reports", "volunteers", "teams"):
        figure = total.figures[key]
        cards.append(
            Card(
                key=key,
                label=figure_label(key),
                current=cell_text(figure.current),
                earlier=cell_text(figure.year_earlier),
                change=change_text(figure.current, figure.year_earlier),
            )
        )
    cards.insert(
        2,
        Card(
            key="coverage",
            label=_("结对覆盖率"),
            current=share_text(total.coverage.current),
            earlier=share_text(total.coverage.year_earlier),
            change=DASH,
        ),
    )
    for key in COUNTY_ONLY:
        if key in total.figures:
            figure = total.figures[key]
            cards.append(
                Card(
                    key=key,
                    label=figure_label(key),
                    current=cell_text(figure.current),
                    earlier=cell_text(figure.year_earlier),
                    change=change_text(figure.current, figure.year_earlier),
                )
            )
    return cards


def _breadcrumbs(actor: Actor, code: str, period: str) -> list[tuple[str, str]]:
    """The way from the actor's own region down to the one shown, each step a link."""
    own = actor.region_code or code
    chain = [item for item in [*region_codes.ancestor_codes(code), code] if region_codes.is_within(item, own)]
    names = dict(Region.objects.filter(code__in=chain).values_list("code", "name"))
    return [(names.get(item, item), _drill_url(item, period)) for item in chain]


def _current_month() -> str:
    return f"{timezone.localdate():%Y-%m}"


@require_GET
@permission_required(Permission.DASHBOARD_VIEW)
def overview_page(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    region = request.GET.get("region") or actor.region_code or ""
    period = request.GET.get("period") or _current_month()
    error = ""
    try:
        result = indicators_for(actor=actor, region_code=region, period=period)
        if len(result.period) != len("YYYY-MM"):
            raise ValidationFailed(fields={"period": [_("请选择月份（YYYY-MM）")]})
    except ValidationFailed as failure:
        error = failure.summary
        period = _current_month()
        result = indicators_for(actor=actor, region_code=actor.region_code or "", period=period)
    trend = indicator_trend(actor=actor, region_code=result.region_code, period=result.period)
    total = result.total
    panels = [_trend_panel(trend)]
    if result.children:
        panels.insert(0, _regions_panel(result))
    panels += [
        _breakdown_panel(
            "categories", _("困难青少年类别"), total, [f"children.category.{int(f)}" for f in Category], "bar"
        ),
        _breakdown_panel("needs", _("帮扶需求"), total, [f"children.need.{int(f)}" for f in Need], "bar"),
        _breakdown_panel(
            "risks", _("风险等级"), total, [f"children.risk.{level}" for level in RiskLevel.values], "pie"
        ),
        _breakdown_panel(
            "elders",
            _("五老志愿者类别"),
            total,
            [f"volunteers.category.{int(f)}" for f in ElderCategory],
            "bar",
        ),
        _breakdown_panel(
            "specialties",
            _("志愿者专长"),
            total,
            [f"volunteers.specialty.{int(f)}" for f in Specialty],
            "bar",
        ),
        _breakdown_panel(
            "stars", _("志愿者星级"), total, [f"volunteers.star.{stars}" for stars in range(6)], "bar"
        ),
    ]
    context = {
        "result": result,
        "error": error,
        "period": result.period,
        "cards": _cards(result),
        "panels": panels,
        "charts": {panel.key: panel.chart for panel in panels},
        "service_rows": _service_rows(result),
        "breadcrumbs": _breadcrumbs(actor, result.region_code, result.period),
        "is_below_county": result.level > RegionLevel.COUNTY,
        "can_export": actor.has(Permission.DASHBOARD_EXPORT),
    }
    return render(request, "dashboards/overview.html", context)


# --- Reports --------------------------------------------------------------------------------------------


class ReportForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("报表"),
        choices=ReportJob.Kind.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    period = forms.CharField(
        label=gettext_lazy("统计期"),
        max_length=7,
        help_text=gettext_lazy("年度工作统计填年份，如 2025；统计报表可填月份（2026-05）或年份"),
        widget=forms.TextInput(attrs={"class": "form-control", "inputmode": "numeric"}),
    )
    region = forms.CharField(widget=forms.HiddenInput)


def _jobs_context(actor: Actor) -> dict[str, Any]:
    """The actor's recent reports, and whether the list should poll (one still waiting or running)."""
    job_list = list(jobs.report_jobs_of(actor=actor))
    unfinished = (ReportJob.Status.PENDING, ReportJob.Status.RUNNING)
    return {"jobs": job_list, "is_polling": any(job.status in unfinished for job in job_list)}


def _report_region(actor: Actor, code: str | None) -> Region:
    try:
        chosen = indicator_region(actor=actor, region_code=code or actor.region_code or "")
    except ValidationFailed:
        chosen = actor.region_code or ""
    region = Region.objects.filter(code=chosen).first()
    if region is None:
        raise NotFoundError()
    return region


@require_http_methods(["GET", "POST"])
@permission_required(Permission.DASHBOARD_EXPORT)
def reports_page(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    region = _report_region(actor, request.POST.get("region") or request.GET.get("region"))
    initial = {
        "region": region.code,
        "period": str(timezone.localdate().year - 1),
        "kind": ReportJob.Kind.ANNUAL_PDF,
    }
    form = ReportForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            jobs.report_job_request(
                actor=actor,
                kind=form.cleaned_data["kind"],
                region_code=region.code,
                period=form.cleaned_data["period"].strip(),
            )
        except (ValidationFailed, RateLimited) as failure:
            put_errors(form, failure)
        else:
            messages.success(request, _("已开始生成，完成后可在下方下载。"))
            return redirect(f"{reverse('dashboards:reports')}?{urlencode({'region': region.code})}")
    status = 422 if request.method == "POST" else 200
    context = {"form": form, "region": region, **_jobs_context(actor)}
    return render(request, "dashboards/reports.html", context, status=status)


@require_GET
@permission_required(Permission.DASHBOARD_EXPORT)
def report_jobs_partial(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboards/partials/_jobs.html", _jobs_context(request_actor(request)))


@require_GET
@permission_required(Permission.DASHBOARD_EXPORT)
def report_download(request: HttpRequest, job_id: int) -> FileResponse:
    return jobs.report_job_file(actor=request_actor(request), job_id=job_id).response()
