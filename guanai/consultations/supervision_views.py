"""The supervisors' pages of online help (/consultations/supervision/): the overview of a region over a period
— volumes, response times, service levels, satisfaction, by region one level down and by topic — and the
metadata list of requests, each open one linked to its reassignment page. Thin: parse, call a selector
(`guanai.consultations.statistics`), render. Metadata only: no page here shows the requester's words, name
or contact."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from guanai.consultations.models import Consultation
from guanai.consultations.statistics import (
    OVERFLOW_MINUTES,
    Figures,
    OpenNow,
    Period,
    SupervisionFilters,
    consultation_statistics,
    is_overdue,
    month_of,
    supervision_region_choices,
    supervision_region_code,
    supervision_requests,
    supervision_rows,
)
from guanai.consultations.vocabulary import Kind, State
from guanai.core.access import Actor, Permission, permission_required, request_actor
from guanai.core.errors import ValidationFailed
from guanai.core.region_codes import RegionLevel

PAGE_SIZE = 50
DATE_INPUT = forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d")
SELECT = forms.Select(attrs={"class": "form-select"})
YES_NO = [("", gettext_lazy("全部")), ("1", gettext_lazy("是")), ("0", gettext_lazy("否"))]
CHILD_LEVEL_TITLES = {
    RegionLevel.CITY: gettext_lazy("各市"),
    RegionLevel.COUNTY: gettext_lazy("各县（市、区）"),
    RegionLevel.TOWNSHIP: gettext_lazy("各乡镇（街道）"),
    RegionLevel.VILLAGE: gettext_lazy("各村（社区）"),
}


# --- Forms ------------------------------------------------------------------------------------------------


class PeriodForm(forms.Form):
    region = forms.ChoiceField(label=gettext_lazy("区域"), required=False, widget=SELECT)
    date_from = forms.DateField(label=gettext_lazy("开始日期"), required=False, widget=DATE_INPUT)
    date_to = forms.DateField(label=gettext_lazy("结束日期"), required=False, widget=DATE_INPUT)

    def __init__(self, *args: Any, regions: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = regions  # type: ignore[attr-defined]


class RequestFilterForm(PeriodForm):
    state = forms.ChoiceField(
        label=gettext_lazy("状态"), required=False, widget=SELECT, choices=[("", gettext_lazy("全部"))]
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("类别"), required=False, widget=SELECT, choices=[("", gettext_lazy("全部"))]
    )
    urgent = forms.ChoiceField(label=gettext_lazy("紧急"), required=False, widget=SELECT, choices=YES_NO)
    breached = forms.ChoiceField(label=gettext_lazy("曾超时"), required=False, widget=SELECT, choices=YES_NO)
    overdue = forms.ChoiceField(label=gettext_lazy("当前超时"), required=False, widget=SELECT, choices=YES_NO)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", _("全部")), *State.choices]  # type: ignore[attr-defined]
        self.fields["kind"].choices = [("", _("全部")), *Kind.choices]  # type: ignore[attr-defined]

    def filters(self, code: str) -> SupervisionFilters:
        self.is_valid()  # a field with an error is left out of the filters and shown beside the field
        data = self.cleaned_data

        def yes_no(name: str) -> bool | None:
            value = data.get(name) or ""
            return None if value == "" else value == "1"

        return SupervisionFilters(
            region=code,
            state=data.get("state") or None,
            kind=data.get("kind") or None,
            urgent=yes_no("urgent"),
            breached=yes_no("breached"),
            overdue=yes_no("overdue"),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )


def _region_and_form(
    request: HttpRequest, actor: Actor, form_class: type[PeriodForm], *, period: Period | None = None
) -> tuple[str, PeriodForm]:
    """The region asked for (404 outside the actor's) and the bound form offering the regions around it;
    the dates of `period` when no date was given, so that the form shows the period the figures are of."""
    code = supervision_region_code(actor=actor, region=request.GET.get("region") or None)
    regions = supervision_region_choices(actor=actor, code=code)
    data = request.GET.copy()
    data["region"] = code
    if period is not None and not data.get("date_from") and not data.get("date_to"):
        data["date_from"], data["date_to"] = period.date_from.isoformat(), period.date_to.isoformat()
    return code, form_class(data, regions=regions)


# --- Showing figures --------------------------------------------------------------------------------------


def minutes_text(value: float | None) -> str:
    """A time in minutes as people say it: 7 分钟, 2 小时 15 分钟, 3 天 4 小时."""
    if value is None:
        return "—"
    if value >= OVERFLOW_MINUTES:
        return _("7 天以上")
    if value < 60:
        shown = f"{value:.1f}".removesuffix(".0")
        return _("%(minutes)s 分钟") % {"minutes": shown}
    minutes = round(value)
    if minutes < 24 * 60:
        hours, rest = divmod(minutes, 60)
        return _("%(hours)d 小时 %(minutes)d 分钟") % {"hours": hours, "minutes": rest}
    days, rest = divmod(minutes, 24 * 60)
    return _("%(days)d 天 %(hours)d 小时") % {"days": days, "hours": rest // 60}


def share_text(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def rating_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


@dataclass(frozen=True)
class ShownFigures:
    """One row of figures as the tables show them."""

    label: str
    figures: Figures
    code: str = ""
    drill: bool = False  # a region one may look into
    open_now: OpenNow | None = None

    @property
    def accept_median(self) -> str:
        return minutes_text(self.figures.accept_minutes.median)

    @property
    def accept_p90(self) -> str:
        return minutes_text(self.figures.accept_minutes.p90)

    @property
    def urgent_accept_median(self) -> str:
        return minutes_text(self.figures.urgent_accept_minutes.median)

    @property
    def urgent_accept_p90(self) -> str:
        return minutes_text(self.figures.urgent_accept_minutes.p90)

    @property
    def reply_median(self) -> str:
        return minutes_text(self.figures.first_reply_minutes.median)

    @property
    def reply_p90(self) -> str:
        return minutes_text(self.figures.first_reply_minutes.p90)

    @property
    def crisis_compliance(self) -> str:
        return share_text(self.figures.crisis_compliance)

    @property
    def reply_compliance(self) -> str:
        return share_text(self.figures.reply_compliance)

    @property
    def average_rating(self) -> str:
        return rating_text(self.figures.average_rating)

    @property
    def satisfied_share(self) -> str:
        return share_text(self.figures.satisfied_share)


def _region_title(child_level: RegionLevel | None) -> str:
    if child_level is None:
        return _("本村（社区）")
    return str(CHILD_LEVEL_TITLES[child_level])


# --- The overview -----------------------------------------------------------------------------------------


@require_GET
@permission_required(Permission.CONSULTATION_SUPERVISE)
def overview_page(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    code, form = _region_and_form(request, actor, PeriodForm, period=month_of(timezone.localdate()))
    error = ""
    if not form.is_valid():
        error = _("日期格式不正确，请重新选择。")
    # A field with an error is left out: its end of the period falls back to the month's.
    date_from: datetime.date | None = form.cleaned_data.get("date_from")
    date_to: datetime.date | None = form.cleaned_data.get("date_to")
    try:
        statistics = consultation_statistics(actor=actor, region=code, date_from=date_from, date_to=date_to)
    except ValidationFailed as failure:
        error = failure.summary
        statistics = consultation_statistics(actor=actor, region=code)
    period = statistics.period
    context = {
        "form": form,
        "error": error,
        "statistics": statistics,
        "overall": ShownFigures(label=statistics.region.name, figures=statistics.overall),
        "kinds": [
            ShownFigures(label=row.label, figures=row.figures, code=row.kind) for row in statistics.by_kind
        ],
        "topics": [
            ShownFigures(label=row.label, figures=row.figures, code=row.topic) for row in statistics.by_topic
        ],
        "regions": [
            ShownFigures(
                label=row.name,
                figures=row.figures,
                code=row.code,
                drill=not row.is_own_level and statistics.child_level is not None,
                open_now=row.open_now,
            )
            for row in statistics.by_region
        ],
        "regions_title": _region_title(statistics.child_level),
        "period_query": f"date_from={period.date_from:%Y-%m-%d}&date_to={period.date_to:%Y-%m-%d}",
    }
    return render(request, "consultations/supervision/overview.html", context)


# --- The metadata list ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestRow:
    consultation: Consultation
    is_overdue: bool

    @property
    def is_open(self) -> bool:
        return self.consultation.state in (State.WAITING, State.ACCEPTED)


@require_GET
@permission_required(Permission.CONSULTATION_SUPERVISE)
def requests_page(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    now = timezone.now()
    code, form = _region_and_form(request, actor, RequestFilterForm)
    assert isinstance(form, RequestFilterForm)
    error = ""
    try:
        listed = supervision_requests(actor=actor, filters=form.filters(code), now=now)
    except ValidationFailed as failure:
        error = failure.summary
        listed = supervision_requests(actor=actor, filters=SupervisionFilters(region=code), now=now)
    # Ids first: the page of ids from the index, then the page's rows (metadata columns only).
    page = Paginator(listed.values_list("pk", flat=True), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "error": error,
        "page": page,
        "rows": [
            RequestRow(item, is_overdue(item, now)) for item in supervision_rows(list(page.object_list))
        ],
    }
    template = (
        "consultations/supervision/partials/_requests_table.html"
        if getattr(request, "htmx", False)
        else "consultations/supervision/requests.html"
    )
    return render(request, template, context)
