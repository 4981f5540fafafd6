"""The visit pages. For the volunteer on a phone: 我的结对儿童 (`/visits/mine/`) and the visit form
(`/visits/new/<pairing>/`). For staff: the overdue follow-ups of a region (`/pairings/overdue/`) and the
mandatory reports (`/mandatory-reports/`), each closed with an outcome. A visit's photo is served only
here (`/visits/<id>/photo`), to those who may see the visit. Thin: parse, call a selector or a service,
render."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from guanai.core import region_codes
from guanai.core.access import Actor, Permission, permission_required, request_actor
from guanai.core.errors import ConflictError, ValidationFailed
from guanai.core.masking import mask_field, unmask_field
from guanai.core.region_codes import RegionLevel
from guanai.minors import display
from guanai.pairings.contact import days_overdue, overdue_counts, overdue_pairings
from guanai.pairings.models import MandatoryReport, Pairing, Visit
from guanai.pairings.visit_forms import OverdueFilterForm, ReportCloseForm, VisitForm, put_errors
from guanai.pairings.visits import (
    bits_of,
    concern_labels,
    own_pairings,
    pairing_for_visit,
    report_close,
    report_get,
    report_is_overdue,
    report_list,
    visit_list,
    visit_photo_path,
    visit_record,
)
from guanai.pairings.vocabulary import (
    VISIT_ACTIVITY_LABELS,
    PairingState,
    ReportState,
    VisitActivity,
)
from guanai.regions.models import Region

PAGE_SIZE = 50
RECENT_VISITS = 10


# --- The volunteer: my children and the visit form -------------------------------------------------------


@dataclass(frozen=True)
class ChildRow:
    """One paired child as the volunteer sees them."""

    pairing: Pairing
    name: str
    age: int
    days_overdue: int

    @property
    def is_overdue(self) -> bool:
        return self.days_overdue > 0


def _child_row(pairing: Pairing, actor: Actor) -> ChildRow:
    today = timezone.localdate()
    return ChildRow(
        pairing=pairing,
        name=display.shown_name(pairing.minor, actor),
        age=display.age(pairing.minor),
        days_overdue=days_overdue(pairing, today),
    )


@require_GET
@permission_required(Permission.VISIT_RECORD)
def my_children_page(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    rows = [_child_row(pairing, actor) for pairing in own_pairings(actor=actor)]
    visits = list(visit_list(actor=actor)[:RECENT_VISITS])
    context = {
        "rows": rows,
        "overdue_count": sum(1 for row in rows if row.is_overdue),
        "visits": [(visit, display.shown_name(visit.pairing.minor, actor)) for visit in visits],
    }
    return render(request, "pairings/visits/mine.html", context)


def _after_visit(actor: Actor) -> str:
    if actor.has(Permission.VISIT_RECORD):
        return reverse("visits:mine")
    return reverse("visits:overdue")


@require_http_methods(["GET", "POST"])
# Volunteers record the visits of their own pairings (VISIT_RECORD), staff those of their region
# (PAIRING_MANAGE): the selector and the service decide which, and refuse everyone else.
@permission_required(Permission.SIGNED_IN)
def visit_new_page(request: HttpRequest, pairing_id: int) -> HttpResponse:
    actor = request_actor(request)
    pairing = pairing_for_visit(actor=actor, pairing_id=pairing_id)
    status = 200
    if request.method == "POST":
        form = VisitForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                visit = visit_record(
                    actor=actor, pairing_id=pairing.pk, request=request, **form.service_arguments()
                )
            except ValidationFailed as error:
                put_errors(form, error)
            except ConflictError as error:
                put_errors(form, error)
                status = 409
            else:
                if visit.concerns:
                    messages.warning(
                        request,
                        _(
                            "走访已记录，并已启动强制报告：乡镇（街道）和县关工委已收到提醒，会尽快处置。"
                            "如孩子正面临危险，请立即拨打 110。"
                        ),
                    )
                else:
                    messages.success(request, _("走访已记录，时长已计入您的志愿服务时长。谢谢您！"))
                return HttpResponseRedirect(_after_visit(actor))
    else:
        form = VisitForm()
    context = {
        "form": form,
        "pairing": pairing,
        "child": _child_row(pairing, actor),
        "is_active": pairing.state == PairingState.ACTIVE,
        "back": _after_visit(actor),
    }
    return render(request, "pairings/visits/form.html", context, status=status)


@require_GET
# The volunteer who made the visit, or staff who may see the child: `visit_photo_path` decides.
@permission_required(Permission.SIGNED_IN)
def visit_photo(request: HttpRequest, visit_id: int) -> FileResponse:
    path = visit_photo_path(actor=request_actor(request), visit_id=visit_id, request=request)
    handle = open(path, "rb")  # noqa: SIM115 - FileResponse closes it
    response = FileResponse(handle, content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = f'inline; filename="visit-{int(visit_id)}.jpg"'
    return response


# --- Staff: overdue follow-ups ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OverdueRow:
    pairing: Pairing
    name: str
    days_overdue: int


@dataclass(frozen=True)
class RegionCount:
    code: str
    name: str
    count: int


def _child_regions(code: str) -> list[tuple[str, str]]:
    return list(Region.objects.filter(parent_id=code).order_by("code").values_list("code", "name"))


def region_counts(code: str, today: Any) -> list[RegionCount]:
    """Overdue pairings per region one level below `code` (the region itself when it is a village)."""
    counts = overdue_counts(code, today)
    names = dict(Region.objects.filter(code__in=list(counts)).values_list("code", "name"))
    return [RegionCount(code=key, name=names.get(key, key), count=value) for key, value in counts.items()]


@require_GET
@permission_required(Permission.PAIRING_VIEW)
def overdue_page(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    today = timezone.localdate()
    own_code = actor.region_code or ""
    form = OverdueFilterForm(request.GET or None, regions=_child_regions(own_code))
    region = form.cleaned_data.get("region") if form.is_valid() else ""
    pairings = overdue_pairings(actor=actor, today=today, region=region or None)
    page = Paginator(pairings, PAGE_SIZE).get_page(request.GET.get("page"))
    code = region or own_code
    context = {
        "form": form,
        "page": page,
        "rows": [
            OverdueRow(
                pairing=pairing,
                name=display.shown_name(pairing.minor, actor),
                days_overdue=days_overdue(pairing, today),
            )
            for pairing in page.object_list
        ],
        "region": Region.objects.filter(code=code).first(),
        "counts": region_counts(code, today),
        "per_village": region_codes.level_of(code) >= RegionLevel.TOWNSHIP,
        "total": page.paginator.count,
        "today": today,
    }
    return render(request, "pairings/visits/overdue.html", context)


# --- Staff: mandatory reports -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportRow:
    report: MandatoryReport
    name: str
    concerns: list[str]
    is_overdue: bool


def _report_row(report: MandatoryReport, actor: Actor, now: Any) -> ReportRow:
    return ReportRow(
        report=report,
        name=display.shown_name(report.minor, actor),
        concerns=concern_labels(report.concerns),
        is_overdue=report_is_overdue(report, now),
    )


REPORT_STATES = {"open": ReportState.OPEN, "closed": ReportState.CLOSED}


@require_GET
@permission_required(Permission.REPORT_MANAGE)
def reports_page(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    now = timezone.now()
    state = request.GET.get("state", "")
    reports = report_list(actor=actor, state=REPORT_STATES.get(state))
    page = Paginator(reports, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "rows": [_report_row(report, actor, now) for report in page.object_list],
        "state": state if state in REPORT_STATES else "",
        "overdue_count": report_list(actor=actor, overdue_only=True, now=now).count(),
    }
    return render(request, "pairings/visits/reports.html", context)


def _clear(actor: Actor, instance: Visit | MandatoryReport, field_name: str, request: HttpRequest) -> str:
    """A note in the clear for those who handle the case (an audited unmask), masked for anyone else."""
    if not getattr(instance, field_name):
        return ""
    if actor.has(Permission.MINOR_UNMASK):
        return unmask_field(actor=actor, instance=instance, field_name=field_name, request=request)
    return mask_field(instance, field_name)


@require_http_methods(["GET", "POST"])
@permission_required(Permission.REPORT_MANAGE)
def report_detail_page(request: HttpRequest, report_id: int) -> HttpResponse:
    actor = request_actor(request)
    report = report_get(actor=actor, report_id=report_id)
    status = 200
    if request.method == "POST":
        form = ReportCloseForm(request.POST)
        if form.is_valid():
            try:
                report_close(
                    actor=actor,
                    report_id=report.pk,
                    outcome=form.cleaned_data["outcome"],
                    note=form.cleaned_data["note"],
                    request=request,
                )
            except ValidationFailed as error:
                put_errors(form, error)
            except ConflictError as error:
                put_errors(form, error)
                status = 409
            else:
                messages.success(request, _("已办结，处置结果已登记。"))
                return HttpResponseRedirect(reverse("visits:report_detail", args=[report.pk]))
    else:
        form = ReportCloseForm()
    visit = report.visit
    context = {
        "row": _report_row(report, actor, timezone.now()),
        "report": report,
        "visit": visit,
        "activities": [str(VISIT_ACTIVITY_LABELS[flag]) for flag in bits_of(VisitActivity, visit.activities)]
        if visit
        else [],
        "note": _clear(actor, visit, "note", request) if visit else "",
        "outcome_note": _clear(actor, report, "outcome_note", request),
        "form": form,
    }
    return render(request, "pairings/visits/report_detail.html", context, status=status)
