"""The pages of 网吧义务监督: the cafés of a region for staff (list, record, registering, editing, closing),
the inspection form on a volunteer's phone, the inspection with its photos, and the findings the county
follows up and closes. Thin: parse, call a selector or a service, render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanai.audit.selectors import audit_trail_for
from guanai.cafes import selectors, services
from guanai.cafes.forms import (
    CafeCloseForm,
    CafeFilterForm,
    CafeForm,
    FindingCloseForm,
    FindingFilterForm,
    FollowUpForm,
    InspectionForm,
)
from guanai.cafes.models import CafeFinding, CafeInspection, InternetCafe
from guanai.cafes.photos import photo_file
from guanai.cafes.vocabulary import FindingState, problem_labels
from guanai.core import access
from guanai.core.access import Actor, Permission, permission_required, request_actor
from guanai.core.errors import ConflictError, NotFoundError, ValidationFailed
from guanai.core.masking import mask_field, unmask_field
from guanai.core.region_codes import RegionLevel
from guanai.core.region_codes import level_of as region_level
from guanai.volunteers.models import Volunteer
from guanai.web.forms import region_filter_choices
from guanai.web.views_support import filtered_list, form_submit

PAGE_SIZE = 50


def _posted(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else None


def _filter_regions(actor: Actor) -> list[tuple[str, str]]:
    """The regions to narrow a list to: one level below the actor's, down to the townships (cafés belong
    to a township; a township's staff have nothing below to narrow to)."""
    if actor.region_code is None or region_level(actor.region_code) >= RegionLevel.TOWNSHIP:
        return []
    return region_filter_choices(actor)


def _cafe_url(cafe: InternetCafe) -> str:
    return reverse("cafes:detail", args=[cafe.pk])


# --- Cafés ------------------------------------------------------------------------------------------


@require_GET
@permission_required(Permission.CAFE_VIEW)
def cafe_list_page(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    form = CafeFilterForm(request.GET or None, regions=_filter_regions(actor))
    filters = selectors.CafeFilters()
    if form.is_bound and form.is_valid():
        filters = selectors.CafeFilters(
            region=form.cleaned_data["region"] or None,
            is_open=form.is_open(),
            q=form.cleaned_data["q"] or None,
            has_open_findings=form.cleaned_data["has_open_findings"],
            inspection_due=form.cleaned_data["inspection_due"],
        )
    cafes, error = filtered_list(selectors.cafe_list, actor=actor, filters=filters)
    page = Paginator(cafes, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "error": error,
        "may_manage": actor.has(Permission.CAFE_MANAGE),
    }
    return render(request, "cafes/list.html", context)


@require_http_methods(["GET", "POST"])
@permission_required(Permission.CAFE_MANAGE)
def cafe_create_page(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    form = CafeForm(_posted(request), townships=selectors.township_choices(actor=actor))
    return form_submit(
        request,
        form,
        lambda _data: services.cafe_register(actor=actor, data=form.to_input(), request=request),
        success=_("已登记网吧。"),
        then=_cafe_url,
    ) or render(
        request,
        "cafes/form.html",
        {"form": form, "title": _("登记网吧"), "back_url": reverse("cafes:list"), "cafe": None},
    )


@require_GET
@permission_required(Permission.CAFE_VIEW)
def cafe_detail_page(request: HttpRequest, cafe_id: int) -> HttpResponse:
    actor = request_actor(request)
    cafe = selectors.cafe_get(actor=actor, cafe_id=cafe_id)
    inspections = selectors.cafe_inspections(actor=actor, cafe_id=cafe_id)
    trail = audit_trail_for(actor=actor, target=cafe) if actor.has(Permission.RECORD_HISTORY_VIEW) else None
    context = {
        "cafe": cafe,
        "phone": mask_field(cafe, "phone"),
        "inspections": [(inspection, _finding_of(inspection)) for inspection in inspections],
        "trail": trail,
        "may_manage": actor.has(Permission.CAFE_MANAGE),
    }
    return render(request, "cafes/detail.html", context)


def _finding_of(inspection: CafeInspection) -> CafeFinding | None:
    try:
        return inspection.finding
    except CafeFinding.DoesNotExist:
        return None


@require_http_methods(["GET", "POST"])
@permission_required(Permission.CAFE_MANAGE)
def cafe_edit_page(request: HttpRequest, cafe_id: int) -> HttpResponse:
    actor = request_actor(request)
    cafe = selectors.cafe_get(actor=actor, cafe_id=cafe_id)
    initial = {
        "region_code": cafe.region_id,
        "name": cafe.name,
        "address": cafe.address,
        "licence_number": cafe.licence_number,
        "operator": cafe.operator,
        "phone": cafe.phone,
        "notes": cafe.notes,
        "version": cafe.version,
    }
    form = CafeForm(_posted(request), initial=initial, townships=selectors.township_choices(actor=actor))
    return form_submit(
        request,
        form,
        lambda data: services.cafe_update(
            actor=actor, cafe_id=cafe.pk, version=data["version"] or 0, data=form.to_input(), request=request
        ),
        success=_("已保存。"),
        then=_cafe_url,
        refusals=(ValidationFailed, ConflictError),
    ) or render(
        request,
        "cafes/form.html",
        {"form": form, "title": _("修改网吧信息"), "back_url": _cafe_url(cafe), "cafe": cafe},
    )


@require_http_methods(["GET", "POST"])
@permission_required(Permission.CAFE_MANAGE)
def cafe_close_page(request: HttpRequest, cafe_id: int) -> HttpResponse:
    actor = request_actor(request)
    cafe = selectors.cafe_get(actor=actor, cafe_id=cafe_id)
    form = CafeCloseForm(_posted(request))
    return form_submit(
        request,
        form,
        lambda data: services.cafe_close(actor=actor, cafe_id=cafe.pk, request=request, **data),
        success=_("已登记停业。"),
        then=_cafe_url,
        refusals=(ValidationFailed, ConflictError),
    ) or render(request, "cafes/close.html", {"form": form, "cafe": cafe})


@require_POST
@permission_required(Permission.CAFE_MANAGE)
def cafe_phone_unmask(request: HttpRequest, cafe_id: int) -> HttpResponse:
    """The operator's phone in the clear, for the htmx button; an audit event each time."""
    actor = request_actor(request)
    cafe = selectors.cafe_get(actor=actor, cafe_id=cafe_id)
    value = unmask_field(actor=actor, instance=cafe, field_name="phone", request=request)
    return render(request, "cafes/partials/_unmasked.html", {"value": value})


# --- Recording an inspection ------------------------------------------------------------------------


def _inspection_form_page(
    request: HttpRequest,
    actor: Actor,
    cafe: InternetCafe,
    *,
    as_inspector: bool,
    done_url: str,
    back_url: str,
) -> HttpResponse:
    """The inspection form, for an inspector on their phone (they count themselves; the others who went
    along are ticked) or for staff who record a team's inspection (every inspector is ticked)."""
    teams = selectors.inspection_teams(actor=actor, cafe=cafe)
    members = selectors.team_inspectors(team_ids=[team.pk for team in teams])
    own: int | None = None
    if as_inspector:
        own = Volunteer.objects.filter(user=actor.user).values_list("pk", flat=True).first()
    choices: list[tuple[int, str]] = []
    for team in teams:
        for volunteer in members[team.pk]:
            if volunteer.pk == own or any(pk == volunteer.pk for pk, _label in choices):
                continue
            label = volunteer.name if len(teams) == 1 else f"{volunteer.name}（{team.name}）"
            choices.append((volunteer.pk, label))
    form = InspectionForm(
        _posted(request),
        request.FILES if request.method == "POST" else None,
        teams=[(team.pk, team.name) for team in teams],
        members=choices,
        inspectors_label=_("一同巡查的队员（您本人已计入）") if as_inspector else _("参加巡查的队员"),
    )

    def save(data: dict[str, Any]) -> CafeInspection:
        return services.inspection_record(
            actor=actor, cafe_id=cafe.pk, data=form.to_input(), photos=data["photos"], request=request
        )

    def success(inspection: CafeInspection) -> str:
        text = _("已记录巡查，每位巡查员计入服务时长 %(hours)s 小时。") % {
            "hours": services.inspection_hours(inspection.duration_minutes)
        }
        if inspection.has_finding:
            text += _("发现的问题已报县关工委跟进。")
        return text

    return form_submit(request, form, save, success=success, then=done_url) or render(
        request,
        "cafes/inspection_form.html",
        {
            "form": form,
            "cafe": cafe,
            "teams": teams,
            "as_inspector": as_inspector,
            "back_url": back_url,
        },
    )


@require_http_methods(["GET", "POST"])
@permission_required(Permission.CAFE_INSPECT)
def inspect_page(request: HttpRequest, cafe_id: int) -> HttpResponse:
    """An inspector records their inspection, on a phone."""
    actor = request_actor(request)
    cafe = selectors.inspector_cafe_get(actor=actor, cafe_id=cafe_id)
    home = reverse("cafes:inspector_home")
    return _inspection_form_page(request, actor, cafe, as_inspector=True, done_url=home, back_url=home)


@require_http_methods(["GET", "POST"])
@permission_required(Permission.CAFE_MANAGE)
def inspection_record_page(request: HttpRequest, cafe_id: int) -> HttpResponse:
    """Staff record a team's inspection (from its paper form, for example)."""
    actor = request_actor(request)
    cafe = selectors.cafe_get(actor=actor, cafe_id=cafe_id)
    url = _cafe_url(cafe)
    return _inspection_form_page(request, actor, cafe, as_inspector=False, done_url=url, back_url=url)


@require_GET
@permission_required(Permission.CAFE_INSPECT)
def inspector_home_page(request: HttpRequest) -> HttpResponse:
    """网吧巡查 for an inspector: the cafés their teams cover, the least recently inspected first, and
    their own latest inspections."""
    actor = request_actor(request)
    teams = list(access.cafe_supervision_teams(actor).order_by("name"))
    context = {
        "teams": teams,
        "cafes": selectors.inspector_cafes(actor=actor) if teams else [],
        "recent": selectors.inspector_recent_inspections(actor=actor) if teams else [],
    }
    return render(request, "cafes/inspector_home.html", context)


# --- An inspection and its photos -------------------------------------------------------------------


@require_GET
@permission_required(Permission.CAFE_VIEW)
def inspection_detail_page(request: HttpRequest, inspection_id: int) -> HttpResponse:
    actor = request_actor(request)
    inspection = selectors.inspection_get(actor=actor, inspection_id=inspection_id)
    context = {
        "inspection": inspection,
        "cafe": inspection.cafe,
        "finding": _finding_of(inspection),
        "problems": problem_labels(inspection.problems),
    }
    return render(request, "cafes/inspection_detail.html", context)


@require_GET
@permission_required(Permission.CAFE_VIEW)
def photo_file_page(request: HttpRequest, inspection_id: int, photo_id: int) -> FileResponse:
    """A photo, to staff of the café's region only; never cached by the browser or a proxy."""
    actor = request_actor(request)
    photo = selectors.photo_get(actor=actor, inspection_id=inspection_id, photo_id=photo_id)
    path = photo_file(photo.path)
    if not path.is_file():
        raise NotFoundError()
    services.photo_view_record(actor=actor, photo=photo, request=request)
    response = FileResponse(path.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = "inline"
    return response


# --- Findings ---------------------------------------------------------------------------------------


@require_GET
@permission_required(Permission.CAFE_VIEW)
def finding_list_page(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    form = FindingFilterForm(request.GET or None, regions=_filter_regions(actor))
    filters = selectors.FindingFilters()
    if form.is_bound and form.is_valid():
        filters = selectors.FindingFilters(
            state=form.state_value(),
            overdue=form.cleaned_data["overdue"],
            region=form.cleaned_data["region"] or None,
        )
    findings, error = filtered_list(selectors.finding_list, actor=actor, filters=filters)
    page = Paginator(findings, PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    context = {
        "form": form,
        "page": page,
        "rows": [
            (finding, problem_labels(finding.problems), _is_overdue(finding, today))
            for finding in page.object_list
        ],
        "counties": selectors.findings_by_county(actor=actor),
        "error": error,
    }
    return render(request, "cafes/findings.html", context)


def _is_overdue(finding: CafeFinding, today: Any) -> bool:
    return finding.state == FindingState.OPEN and finding.deadline < today


def _finding_page(
    request: HttpRequest, actor: Actor, finding: CafeFinding, *, posted: forms.Form | None = None
) -> HttpResponse:
    """A finding with its two forms; the one `posted` (refused) is shown again with its errors."""
    context = {
        "finding": finding,
        "inspection": finding.inspection,
        "cafe": finding.cafe,
        "problems": problem_labels(finding.problems),
        "is_overdue": _is_overdue(finding, timezone.localdate()),
        "may_manage": actor.has(Permission.CAFE_MANAGE),
        "follow_up_form": posted if isinstance(posted, FollowUpForm) else FollowUpForm(),
        "close_form": posted if isinstance(posted, FindingCloseForm) else FindingCloseForm(),
    }
    return render(request, "cafes/finding_detail.html", context)


@require_GET
@permission_required(Permission.CAFE_VIEW)
def finding_detail_page(request: HttpRequest, finding_id: int) -> HttpResponse:
    actor = request_actor(request)
    return _finding_page(request, actor, selectors.finding_get(actor=actor, finding_id=finding_id))


def _finding_url(finding: CafeFinding) -> str:
    return reverse("cafes:finding_detail", args=[finding.pk])


def _finding_post(
    request: HttpRequest,
    finding_id: int,
    form: forms.Form,
    service: Callable[..., CafeFinding],
    *,
    success: str,
) -> HttpResponse:
    """A form posted from a finding's page, saved by `service` (given the form's data: its fields are
    named like the service's arguments); back to the finding, or its page again with the refusal."""
    actor = request_actor(request)
    finding = selectors.finding_get(actor=actor, finding_id=finding_id)
    return form_submit(
        request,
        form,
        lambda data: service(actor=actor, finding_id=finding.pk, request=request, **data),
        success=success,
        then=_finding_url,
        refusals=(ValidationFailed, ConflictError),
    ) or _finding_page(request, actor, finding, posted=form)


@require_POST
@permission_required(Permission.CAFE_MANAGE)
def finding_follow_up_page(request: HttpRequest, finding_id: int) -> HttpResponse:
    return _finding_post(
        request,
        finding_id,
        FollowUpForm(request.POST),
        services.finding_follow_up,
        success=_("已记录跟进情况。"),
    )


@require_POST
@permission_required(Permission.CAFE_MANAGE)
def finding_close_page(request: HttpRequest, finding_id: int) -> HttpResponse:
    return _finding_post(
        request, finding_id, FindingCloseForm(request.POST), services.finding_close, success=_("已办结。")
    )
