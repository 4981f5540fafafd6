"""The staff pages of the 五老 volunteers: finding them, a volunteer's record (masked, with audited
unmasking), registering and editing, status, background checks, service hours (recorded by the
organiser, claims confirmed or returned, corrections), training, honours, and the teams.

Thin: parse, call a selector or a service, render. A write's errors come back on the fields of its form,
with nothing stored; a page whose record the actor may not see answers 404 (the selectors' NotFoundError).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanai.audit.selectors import audit_trail_for
from guanai.committees.selectors import committee_list
from guanai.core.access import Actor, Permission, permission_required, request_actor
from guanai.core.errors import (
    ConflictError,
    DomainError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailed,
)
from guanai.core.masking import mask_field, unmask_field
from guanai.core.region_codes import RegionLevel
from guanai.minors.exports import (
    ExportFile,
    export_approval_decide,
    export_approvals_mine,
    export_approvals_to_decide,
)
from guanai.minors.models import ExportApproval
from guanai.minors.vocabulary import Gender
from guanai.regions.models import Region
from guanai.volunteers.exports import DATASET, filters_from_json, volunteers_export
from guanai.volunteers.forms import (
    AVAILABILITY_CHOICES,
    CATEGORY_CHOICES,
    SPECIALTY_CHOICES,
    CheckForm,
    HonourForm,
    HoursCorrectForm,
    HoursForm,
    HoursReturnForm,
    StatusForm,
    TeamActivityForm,
    TeamFilterForm,
    TeamForm,
    TeamMemberForm,
    TrainingForm,
    VolunteerExportForm,
    VolunteerFilterForm,
    VolunteerForm,
    bit_list,
)
from guanai.volunteers.models import ServiceHours, Team, Volunteer
from guanai.volunteers.selectors import (
    VolunteerFilters,
    hours_of,
    hours_to_confirm,
    hours_totals,
    team_get,
    team_list,
    volunteer_get,
    volunteer_list,
    volunteer_page,
)
from guanai.volunteers.services import (
    AlreadyRegistered,
    honour_add,
    hours_confirm,
    hours_correct,
    hours_record,
    hours_return,
    pairing_refusals,
    team_activity_record,
    team_create,
    team_member_add,
    team_member_remove,
    training_add,
    volunteer_record_check,
    volunteer_register,
    volunteer_set_status,
    volunteer_update,
)
from guanai.volunteers.vocabulary import (
    CHECK_REMINDER_DAYS,
    STAR_LABELS,
    STATUS_CHANGES,
    CheckResult,
    Status,
    TeamRole,
    check_expires_on,
    star_level,
    star_thresholds,
)

PAGE_SIZE = 50
# The newest records of service shown on a volunteer's page; the totals count every record.
HOURS_SHOWN = 100
# Above this many villages in the actor's scope the form asks for the village code instead of a list.
VILLAGE_SELECT_LIMIT = 1500
TEAM_SELECT_LIMIT = 300
COMMITTEE_SELECT_LIMIT = 1000
CANDIDATE_LIMIT = 300
UNMASKABLE_FIELDS = ("id_number", "phone")


# --- How a volunteer is shown ---------------------------------------------------------------------


@dataclass(frozen=True)
class CheckState:
    """The background check in words: colour is never the only cue, so every state has its text."""

    code: str  # valid, expiring, expired, flagged, missing, future
    text: str
    expires_on: datetime.date | None

    @property
    def needs_attention(self) -> bool:
        return self.code in {"expired", "flagged", "missing", "future"}


def check_state(volunteer: Volunteer, today: datetime.date) -> CheckState:
    if volunteer.check_date is None or not volunteer.check_result:
        return CheckState("missing", _("未审查"), None)
    expires_on = check_expires_on(volunteer.check_date)
    if volunteer.check_result != CheckResult.CLEAR:
        return CheckState("flagged", _("有不良记录"), expires_on)
    if volunteer.check_date > today:
        # A mistyped date, not a valid check: it does not count (pairing_refusals says the same).
        return CheckState("future", _("审查日期晚于今天，请核实"), None)
    if not volunteer.check_valid_on(today):
        return CheckState("expired", _("已过期"), expires_on)
    if expires_on <= today + datetime.timedelta(days=CHECK_REMINDER_DAYS):
        return CheckState("expiring", _("即将到期"), expires_on)
    return CheckState("valid", _("有效"), expires_on)


def labels(value: int, choices: list[tuple[int, Any]]) -> list[str]:
    return [str(label) for bit, label in choices if value & bit]


def masked(volunteer: Volunteer, field_name: str) -> str:
    return mask_field(volunteer, field_name) if getattr(volunteer, field_name) else ""


@dataclass(frozen=True)
class VolunteerRow:
    """One line of the list, as staff may see it: the phone and ID number masked."""

    volunteer: Volunteer
    phone: str
    id_number: str
    categories: list[str]
    star: int
    check: CheckState


def _rows(volunteers: list[Volunteer]) -> list[VolunteerRow]:
    today = timezone.localdate()
    thresholds = star_thresholds()
    return [
        VolunteerRow(
            volunteer=volunteer,
            phone=masked(volunteer, "phone"),
            id_number=masked(volunteer, "id_number"),
            categories=labels(volunteer.categories, CATEGORY_CHOICES),
            star=star_level(volunteer.hours_total, thresholds),
            check=check_state(volunteer, today),
        )
        for volunteer in volunteers
    ]


def _put_errors(form: forms.Form, error: DomainError) -> None:
    """A service's field errors onto the form's fields (named like the service's arguments); an error
    of no field of the form on top of the form."""
    if not error.fields:
        form.add_error(None, error.message)
    for key, texts in error.fields.items():
        for text in texts:
            form.add_error(key if key in form.fields else None, text)


def _posted(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else None


def _detail(volunteer_id: int) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("volunteers:detail", args=[volunteer_id]))


# --- Finding volunteers ---------------------------------------------------------------------------


def _filter_regions(actor: Actor) -> list[tuple[str, str]]:
    """The regions one level below the actor's, to narrow a list to one of them."""
    if actor.region_code is None:
        return []
    return list(
        Region.objects.filter(parent_id=actor.region_code).order_by("code").values_list("code", "name")
    )


def _filter_teams(actor: Actor, asked: str) -> list[tuple[int, str]]:
    """The teams to narrow the list to; the team asked for (from a team's page, or an export of the
    list narrowed to it) is offered even when it is not among the first ones."""
    teams = team_list(actor=actor)
    choices = list(teams.values_list("pk", "name")[:TEAM_SELECT_LIMIT])
    if asked.isdigit() and int(asked) not in {pk for pk, _name in choices}:
        choices += list(teams.filter(pk=int(asked)).values_list("pk", "name"))
    return choices


@require_GET
@permission_required(Permission.VOLUNTEER_VIEW)
def volunteer_list_page(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    form = VolunteerFilterForm(
        request.GET or None,
        regions=_filter_regions(actor),
        teams=_filter_teams(actor, request.GET.get("team", "")),
    )
    filters = VolunteerFilters()
    if form.is_bound:
        form.is_valid()  # a field with an error is left out of the filters and shown beside the field
        filters = form.to_filters()
    error = ""
    try:
        volunteers = volunteer_list(actor=actor, filters=filters)
    except (ValidationFailed, NotFoundError) as failure:
        error = failure.summary
        volunteers = volunteer_list(actor=actor)
    page = Paginator(volunteers.values_list("pk", flat=True), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = _rows(volunteer_page(volunteers, offset=(page.number - 1) * PAGE_SIZE, limit=PAGE_SIZE))
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "error": error,
        "export_params": [
            (key, values) for key, values in request.GET.lists() if key not in {"page", "format"}
        ],
        "may_manage": actor.has(Permission.VOLUNTEER_MANAGE),
        "may_export": actor.has(Permission.VOLUNTEER_EXPORT),
    }
    template = (
        "volunteers/partials/_table.html" if getattr(request, "htmx", False) else "volunteers/list.html"
    )
    return render(request, template, context)


# --- One volunteer --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StarProgress:
    level: int
    label: str
    next_label: str
    hours_to_next: Decimal | None  # None at five stars


def _star_progress(hours: Decimal) -> StarProgress:
    thresholds = star_thresholds()
    level = star_level(hours, thresholds)
    if level >= len(thresholds):
        return StarProgress(level, str(STAR_LABELS[level]), "", None)
    return StarProgress(
        level, str(STAR_LABELS[level]), str(STAR_LABELS[level + 1]), thresholds[level] - hours
    )


@require_GET
@permission_required(Permission.VOLUNTEER_VIEW)
def volunteer_detail_page(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    actor = request_actor(request)
    volunteer = volunteer_get(actor=actor, volunteer_id=volunteer_id)
    totals = hours_totals(volunteer=volunteer)
    memberships = list(volunteer.memberships.all())
    context = {
        "volunteer": volunteer,
        "id_number": masked(volunteer, "id_number"),
        "phone": masked(volunteer, "phone"),
        "categories": labels(volunteer.categories, CATEGORY_CHOICES),
        "specialties": labels(volunteer.specialties, SPECIALTY_CHOICES),
        "availability": labels(volunteer.availability, AVAILABILITY_CHOICES),
        "check": check_state(volunteer, timezone.localdate()),
        "refusals": pairing_refusals(volunteer),
        "memberships": memberships,
        "trainings": list(volunteer.trainings.all()),
        "honours": list(volunteer.honours.all()),
        "records": list(hours_of(volunteer=volunteer)[:HOURS_SHOWN]),
        "records_shown": HOURS_SHOWN,
        "totals": totals,
        "star": _star_progress(totals.total),
        "trail": (
            audit_trail_for(actor=actor, target=volunteer)
            if actor.has(Permission.RECORD_HISTORY_VIEW)
            else None
        ),
        "may_manage": actor.has(Permission.VOLUNTEER_MANAGE),
        "may_unmask": actor.has(Permission.VOLUNTEER_UNMASK),
        "may_change_status": bool(STATUS_CHANGES.get(volunteer.status)),
    }
    return render(request, "volunteers/detail.html", context)


@require_POST
@permission_required(Permission.VOLUNTEER_UNMASK)
def volunteer_unmask(request: HttpRequest, volunteer_id: int, field: str) -> HttpResponse:
    """One field in the clear, for the htmx button; an audit event each time."""
    if field not in UNMASKABLE_FIELDS:
        raise NotFoundError()
    actor = request_actor(request)
    volunteer = volunteer_get(actor=actor, volunteer_id=volunteer_id)
    value = unmask_field(actor=actor, instance=volunteer, field_name=field, request=request)
    return render(request, "volunteers/partials/_unmasked.html", {"value": value})


# --- Registering and editing ----------------------------------------------------------------------


def _villages(actor: Actor) -> list[Any] | None:
    """The villages in the actor's scope for a select, grouped by township; None when there are too
    many to choose from a list (the form then asks for the code)."""
    if actor.region_code is None:
        return []
    rows = list(
        Region.objects.within(actor.region_code)
        .filter(level__in=[RegionLevel.TOWNSHIP, RegionLevel.VILLAGE])
        .order_by("code")
        .values_list("code", "name", "level", "parent_id")[: VILLAGE_SELECT_LIMIT + 200]
    )
    villages = [(code, name, parent) for code, name, level, parent in rows if level == RegionLevel.VILLAGE]
    if len(villages) > VILLAGE_SELECT_LIMIT or len(rows) > VILLAGE_SELECT_LIMIT + 199:
        return None
    townships = {code: name for code, name, level, _parent in rows if level == RegionLevel.TOWNSHIP}
    groups: dict[str, list[tuple[str, str]]] = {}
    for code, name, parent in villages:
        groups.setdefault(parent, []).append((code, name))
    if len(groups) <= 1:
        return [(code, name) for code, name, _parent in villages]
    return [(townships.get(parent, parent), choices) for parent, choices in groups.items()]


def _initial(volunteer: Volunteer) -> dict[str, Any]:
    """The form's values from the record; the ID number and phone stay blank (never sent to the page)."""
    return {
        "version": volunteer.version,
        "name": volunteer.name,
        "birth_date": volunteer.birth_date,
        "gender": volunteer.gender,
        "region_code": volunteer.region_id,
        "categories": bit_list(volunteer.categories, CATEGORY_CHOICES),
        "former_unit": volunteer.former_unit,
        "former_title": volunteer.former_title,
        "specialties": bit_list(volunteer.specialties, SPECIALTY_CHOICES),
        "law_licence_number": volunteer.law_licence_number,
        "psychology_certificate": volunteer.psychology_certificate,
        "teaching_subjects": volunteer.teaching_subjects,
        "specialty_note": volunteer.specialty_note,
        "availability": bit_list(volunteer.availability, AVAILABILITY_CHOICES),
        "max_children": volunteer.max_children,
        "health_note": volunteer.health_note,
        "dialects": volunteer.dialects,
        "latitude": volunteer.latitude,
        "longitude": volunteer.longitude,
        "check_date": volunteer.check_date,
        "check_result": volunteer.check_result,
        "check_by": volunteer.check_by,
        "shows_on_honour_roll": volunteer.shows_on_honour_roll,
    }


# The fields compared to tell an editor what someone else changed meanwhile (never a masked value).
CONFLICT_FIELDS = (
    "name", "region_code", "categories", "former_unit", "former_title", "specialties",
    "law_licence_number", "psychology_certificate", "teaching_subjects", "specialty_note", "availability",
    "max_children", "health_note", "dialects", "check_date", "check_result", "check_by",
    "shows_on_honour_roll",
)  # fmt: skip
BIT_FIELDS = ("categories", "specialties", "availability")


def _conflicting_fields(form: VolunteerForm, current: Volunteer) -> list[str]:
    saved = _initial(current)
    tried = {name: form.cleaned_data.get(name) for name in CONFLICT_FIELDS}
    for name in BIT_FIELDS:
        saved[name], tried[name] = sum(saved[name]), sum(tried[name] or [])
    return [str(form.fields[name].label) for name in CONFLICT_FIELDS if tried[name] != saved[name]]


def _volunteer_form_page(request: HttpRequest, actor: Actor, volunteer: Volunteer | None) -> HttpResponse:
    form = VolunteerForm(
        _posted(request),
        initial=_initial(volunteer) if volunteer else {},
        villages=_villages(actor),
        masked_id_number=masked(volunteer, "id_number") if volunteer else "",
        masked_phone=masked(volunteer, "phone") if volunteer else "",
        is_new=volunteer is None,
    )
    conflict: dict[str, Any] | None = None
    if request.method == "POST" and form.is_valid():
        try:
            if volunteer is None:
                created = volunteer_register(
                    actor=actor, data=form.to_input(), status=form.cleaned_data["status"], request=request
                )
                messages.success(request, _("已登记。"))
                return _detail(created.pk)
            volunteer_update(
                actor=actor,
                volunteer_id=volunteer.pk,
                version=form.cleaned_data["version"],
                data=form.to_input(id_number=volunteer.id_number or "", phone=volunteer.phone),
                request=request,
            )
            messages.success(request, _("已保存。"))
            return _detail(volunteer.pk)
        except (ValidationFailed, AlreadyRegistered) as error:
            _put_errors(form, error)
        except ConflictError as error:
            assert volunteer is not None
            current = volunteer_get(actor=actor, volunteer_id=volunteer.pk)
            conflict = {
                "message": error.message,
                "fields": _conflicting_fields(form, current),
                "version": current.version,
            }
    context = {"volunteer": volunteer, "form": form, "conflict": conflict}
    return render(request, "volunteers/form.html", context, status=409 if conflict else 200)


@require_http_methods(["GET", "POST"])
@permission_required(Permission.VOLUNTEER_MANAGE)
def volunteer_create_page(request: HttpRequest) -> HttpResponse:
    return _volunteer_form_page(request, request_actor(request), None)


@require_http_methods(["GET", "POST"])
@permission_required(Permission.VOLUNTEER_MANAGE)
def volunteer_edit_page(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    actor = request_actor(request)
    return _volunteer_form_page(request, actor, volunteer_get(actor=actor, volunteer_id=volunteer_id))


# --- Status, background check, hours, training, honours: one small form each ----------------------


def _action_page(
    request: HttpRequest,
    *,
    form: forms.Form,
    title: str,
    submit_label: str,
    back_url: str,
    volunteer: Volunteer | None = None,
    team: Team | None = None,
    intro: str = "",
    template: str = "volunteers/action.html",
    **extra: Any,
) -> HttpResponse:
    context = {
        "form": form,
        "title": title,
        "submit_label": submit_label,
        "back_url": back_url,
        "volunteer": volunteer,
        "team": team,
        "intro": intro,
        **extra,
    }
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@permission_required(Permission.VOLUNTEER_MANAGE)
def volunteer_status_page(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    """申请中 → 在岗; 在岗 ⇄ 暂停; → 退出 / 已故, with a reason for leaving 在岗."""
    actor = request_actor(request)
    volunteer = volunteer_get(actor=actor, volunteer_id=volunteer_id)
    statuses = [status for status in Status.values if status in STATUS_CHANGES.get(volunteer.status, ())]
    form = StatusForm(_posted(request), statuses=statuses)
    if request.method == "POST" and form.is_valid():
        try:
            volunteer_set_status(
                actor=actor,
                volunteer_id=volunteer.pk,
                status=form.cleaned_data["status"],
                reason=form.cleaned_data["reason"],
                on=form.cleaned_data["on"],
                request=request,
            )
        except (ValidationFailed, ConflictError) as error:
            _put_errors(form, error)
        else:
            messages.success(request, _("状态已变更。"))
            return _detail(volunteer.pk)
    intro = _("当前状态：%(status)s") % {"status": volunteer.get_status_display()}
    if not statuses:
        intro += _("。该状态不能再变更。")
    return _action_page(
        request,
        form=form,
        title=_("变更状态"),
        submit_label=_("确认变更"),
        back_url=reverse("volunteers:detail", args=[volunteer.pk]),
        volunteer=volunteer,
        intro=intro,
        closed=not statuses,
    )


@require_http_methods(["GET", "POST"])
@permission_required(Permission.VOLUNTEER_MANAGE)
def volunteer_check_page(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    """The entry or yearly background check (未成年人保护法第六十二条)."""
    actor = request_actor(request)
    volunteer = volunteer_get(actor=actor, volunteer_id=volunteer_id)
    form = CheckForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            volunteer_record_check(
                actor=actor,
                volunteer_id=volunteer.pk,
                checked_on=form.cleaned_data["checked_on"],
                result=form.cleaned_data["result"],
                checked_by=form.cleaned_data["checked_by"],
                request=request,
            )
        except ValidationFailed as error:
            _put_errors(form, error)
        else:
            messages.success(request, _("已记录背景审查。"))
            return _detail(volunteer.pk)
    return _action_page(
        request,
        form=form,
        title=_("记录背景审查"),
        submit_label=_("保存"),
        back_url=reverse("volunteers:detail", args=[volunteer.pk]),
        volunteer=volunteer,
        intro=_(
            "与未成年人密切接触的志愿者，入职时及每年须查询性侵害、虐待、暴力伤害等违法犯罪记录；审查有效期一年。"
        ),
    )


@require_http_methods(["GET", "POST"])
@permission_required(Permission.VOLUNTEER_MANAGE)
def hours_record_page(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    """The organiser records service it organised: confirmed at once (谁组织谁记录)."""
    actor = request_actor(request)
    volunteer = volunteer_get(actor=actor, volunteer_id=volunteer_id)
    form = HoursForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            hours_record(actor=actor, volunteer_id=volunteer.pk, request=request, **form.cleaned_data)
        except ValidationFailed as error:
            _put_errors(form, error)
        else:
            messages.success(request, _("已记录服务时长。"))
            return _detail(volunteer.pk)
    return _action_page(
        request,
        form=form,
        title=_("记录服务时长"),
        submit_label=_("保存"),
        back_url=reverse("volunteers:detail", args=[volunteer.pk]),
        volunteer=volunteer,
        intro=_("由组织服务的单位记录，保存后即为已确认。只记实际服务时间，不含路途时间。"),
    )


@require_http_methods(["GET", "POST"])
@permission_required(Permission.VOLUNTEER_MANAGE)
def training_add_page(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    actor = request_actor(request)
    volunteer = volunteer_get(actor=actor, volunteer_id=volunteer_id)
    form = TrainingForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            training_add(actor=actor, volunteer_id=volunteer.pk, request=request, **form.cleaned_data)
        except ValidationFailed as error:
            _put_errors(form, error)
        else:
            messages.success(request, _("已记录培训。"))
            return _detail(volunteer.pk)
    return _action_page(
        request,
        form=form,
        title=_("记录培训"),
        submit_label=_("保存"),
        back_url=reverse("volunteers:detail", args=[volunteer.pk]),
        volunteer=volunteer,
    )


@require_http_methods(["GET", "POST"])
@permission_required(Permission.VOLUNTEER_MANAGE)
def honour_add_page(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    actor = request_actor(request)
    volunteer = volunteer_get(actor=actor, volunteer_id=volunteer_id)
    form = HonourForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            honour_add(actor=actor, volunteer_id=volunteer.pk, request=request, **form.cleaned_data)
        except ValidationFailed as error:
            _put_errors(form, error)
        else:
            messages.success(request, _("已记录荣誉。"))
            return _detail(volunteer.pk)
    return _action_page(
        request,
        form=form,
        title=_("记录所获荣誉"),
        submit_label=_("保存"),
        back_url=reverse("volunteers:detail", args=[volunteer.pk]),
        volunteer=volunteer,
    )


# --- Claims of service hours: confirm, return, correct ---------------------------------------------


@require_GET
@permission_required(Permission.VOLUNTEER_MANAGE)
def hours_pending_page(request: HttpRequest) -> HttpResponse:
    """The claims volunteers made, waiting for the organiser: confirm, or return with a reason."""
    actor = request_actor(request)
    page = Paginator(hours_to_confirm(actor=actor), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "volunteers/hours_pending.html", {"page": page})


@require_POST
@permission_required(Permission.VOLUNTEER_MANAGE)
def hours_confirm_page(request: HttpRequest, record_id: int) -> HttpResponse:
    actor = request_actor(request)
    try:
        record = hours_confirm(actor=actor, record_id=record_id, request=request)
    except ConflictError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("已确认 %(name)s 的 %(hours)s 小时。") % {"name": record.volunteer.name, "hours": record.hours},
        )
    return HttpResponseRedirect(reverse("volunteers:hours_pending"))


def _pending_claim(actor: Actor, record_id: int) -> ServiceHours:
    record = hours_to_confirm(actor=actor).filter(pk=record_id).first()
    if record is None:
        raise NotFoundError()
    return record


@require_http_methods(["GET", "POST"])
@permission_required(Permission.VOLUNTEER_MANAGE)
def hours_return_page(request: HttpRequest, record_id: int) -> HttpResponse:
    """Send a claim back with a reason the volunteer sees."""
    actor = request_actor(request)
    form = HoursReturnForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            hours_return(
                actor=actor, record_id=record_id, reason=form.cleaned_data["reason"], request=request
            )
        except ConflictError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(reverse("volunteers:hours_pending"))
        except ValidationFailed as error:
            _put_errors(form, error)
        else:
            messages.success(request, _("已退回。"))
            return HttpResponseRedirect(reverse("volunteers:hours_pending"))
    record = _pending_claim(actor, record_id)
    return _action_page(
        request,
        form=form,
        title=_("退回服务时长申报"),
        submit_label=_("退回"),
        back_url=reverse("volunteers:hours_pending"),
        volunteer=record.volunteer,
        record=record,
    )


@require_http_methods(["GET", "POST"])
@permission_required(Permission.VOLUNTEER_MANAGE)
def hours_correct_page(request: HttpRequest, volunteer_id: int, record_id: int) -> HttpResponse:
    """Correct a confirmed record, with a reason; the record keeps what it was."""
    actor = request_actor(request)
    volunteer = volunteer_get(actor=actor, volunteer_id=volunteer_id)
    record = hours_of(volunteer=volunteer).filter(pk=record_id).first()
    if record is None:
        raise NotFoundError()
    form = HoursCorrectForm(_posted(request), initial={"hours": record.hours, "served_on": record.served_on})
    if request.method == "POST" and form.is_valid():
        try:
            hours_correct(actor=actor, record_id=record.pk, request=request, **form.cleaned_data)
        except (ValidationFailed, ConflictError) as error:
            _put_errors(form, error)
        else:
            messages.success(request, _("已更正服务时长。"))
            return _detail(volunteer.pk)
    return _action_page(
        request,
        form=form,
        title=_("更正服务时长"),
        submit_label=_("保存更正"),
        back_url=reverse("volunteers:detail", args=[volunteer.pk]),
        volunteer=volunteer,
        record=record,
        corrections=list(record.corrections.all()),
    )


# --- Teams ----------------------------------------------------------------------------------------


@require_GET
@permission_required(Permission.VOLUNTEER_VIEW)
def team_list_page(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    form = TeamFilterForm(request.GET or None, regions=_filter_regions(actor))
    data = form.cleaned_data if form.is_valid() else {}
    teams = team_list(actor=actor, kind=data.get("kind") or None, region=data.get("region") or None)
    page = Paginator(teams, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "may_manage": actor.has(Permission.VOLUNTEER_MANAGE)}
    return render(request, "volunteers/teams.html", context)


@require_http_methods(["GET", "POST"])
@permission_required(Permission.VOLUNTEER_MANAGE)
def team_create_page(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    region = request.GET.get("region", "")
    try:
        committees = committee_list(actor=actor, region_code=region or None)
    except (ValidationFailed, NotFoundError):
        region, committees = "", committee_list(actor=actor)
    # A province has tens of thousands of committees: the page narrows them to a region first.
    choices = list(committees.values_list("pk", "name")[: COMMITTEE_SELECT_LIMIT + 1])
    form = TeamForm(_posted(request), committees=choices[:COMMITTEE_SELECT_LIMIT])
    if request.method == "POST" and form.is_valid():
        try:
            team = team_create(actor=actor, request=request, **form.cleaned_data)
        except ValidationFailed as error:
            _put_errors(form, error)
        else:
            messages.success(request, _("已新建队伍。"))
            return HttpResponseRedirect(reverse("volunteers:team_detail", args=[team.pk]))
    return _action_page(
        request,
        form=form,
        title=_("新建五老队伍"),
        submit_label=_("保存"),
        back_url=reverse("volunteers:teams"),
        template="volunteers/team_create.html",
        regions=_filter_regions(actor),
        region=region,
        committees_capped=len(choices) > COMMITTEE_SELECT_LIMIT,
    )


@require_GET
@permission_required(Permission.VOLUNTEER_VIEW)
def team_detail_page(request: HttpRequest, team_id: int) -> HttpResponse:
    actor = request_actor(request)
    team = team_get(actor=actor, team_id=team_id)
    memberships = list(team.memberships.all())
    context = {
        "team": team,
        "leaders": [m for m in memberships if m.role == TeamRole.LEADER],
        "members": [m for m in memberships if m.role != TeamRole.LEADER],
        # The newest 50, prefetched by `team_get` into an attribute the model does not declare.
        "activities": getattr(team, "recent_activities", []),
        "may_manage": actor.has(Permission.VOLUNTEER_MANAGE),
    }
    return render(request, "volunteers/team_detail.html", context)


def _member_candidates(actor: Actor, team: Team, search: str) -> list[tuple[int, str]]:
    """Volunteers of the team's region who may join (在岗) and are not in it yet."""
    current = [membership.volunteer_id for membership in team.memberships.all()]
    volunteers = (
        volunteer_list(
            actor=actor, filters=VolunteerFilters(region=team.region_id, status=None, q=search or None)
        )
        .filter(status=Status.ACTIVE)
        .exclude(pk__in=current)
    )
    return [
        (volunteer.pk, f"{volunteer.name}（{volunteer.region.name}）")
        for volunteer in volunteers[:CANDIDATE_LIMIT]
    ]


@require_http_methods(["GET", "POST"])
@permission_required(Permission.VOLUNTEER_MANAGE)
def team_member_add_page(request: HttpRequest, team_id: int) -> HttpResponse:
    actor = request_actor(request)
    team = team_get(actor=actor, team_id=team_id)
    search = request.GET.get("q", "").strip()[:50]
    candidates = _member_candidates(actor, team, search)
    form = TeamMemberForm(_posted(request), candidates=candidates)
    if request.method == "POST" and form.is_valid():
        try:
            team_member_add(actor=actor, team_id=team.pk, request=request, **form.cleaned_data)
        except (ValidationFailed, ConflictError) as error:
            _put_errors(form, error)
        else:
            messages.success(request, _("已添加队员。"))
            return HttpResponseRedirect(reverse("volunteers:team_detail", args=[team.pk]))
    return _action_page(
        request,
        form=form,
        title=_("添加队员"),
        submit_label=_("添加"),
        back_url=reverse("volunteers:team_detail", args=[team.pk]),
        team=team,
        template="volunteers/team_member_add.html",
        search=search,
        candidates_capped=len(candidates) >= CANDIDATE_LIMIT,
    )


@require_POST
@permission_required(Permission.VOLUNTEER_MANAGE)
def team_member_remove_page(request: HttpRequest, team_id: int, volunteer_id: int) -> HttpResponse:
    actor = request_actor(request)
    team_member_remove(actor=actor, team_id=team_id, volunteer_id=volunteer_id, request=request)
    messages.success(request, _("已移出队伍。"))
    return HttpResponseRedirect(reverse("volunteers:team_detail", args=[team_id]))


@require_http_methods(["GET", "POST"])
@permission_required(Permission.VOLUNTEER_MANAGE)
def team_activity_page(request: HttpRequest, team_id: int) -> HttpResponse:
    """An activity of the team, and the service hours of each participant (recorded as confirmed)."""
    actor = request_actor(request)
    team = team_get(actor=actor, team_id=team_id)
    members = [(membership.volunteer_id, membership.volunteer.name) for membership in team.memberships.all()]
    form = TeamActivityForm(_posted(request), members=members)
    if request.method == "POST" and form.is_valid():
        data = {**form.cleaned_data, "children_reached": form.cleaned_data["children_reached"] or 0}
        try:
            team_activity_record(actor=actor, team_id=team.pk, request=request, **data)
        except ValidationFailed as error:
            _put_errors(form, error)
        else:
            messages.success(request, _("已记录活动及参加队员的服务时长。"))
            return HttpResponseRedirect(reverse("volunteers:team_detail", args=[team.pk]))
    return _action_page(
        request,
        form=form,
        title=_("记录队伍活动"),
        submit_label=_("保存"),
        back_url=reverse("volunteers:team_detail", args=[team.pk]),
        team=team,
        intro=_("勾选参加的队员，保存后为每人记录一条已确认的服务时长。"),
    )


# --- Exports --------------------------------------------------------------------------------------


def _file_response(export: ExportFile) -> StreamingHttpResponse:
    response = StreamingHttpResponse(export.chunks, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@permission_required(Permission.VOLUNTEER_EXPORT)
def export_page(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The filtered list as a file (masked, watermarked); above the threshold, the approval request
    filed instead."""
    actor = request_actor(request)
    form = VolunteerExportForm(
        request.POST, regions=_filter_regions(actor), teams=_filter_teams(actor, request.POST.get("team", ""))
    )
    if not form.is_valid():
        # Never export another set than the one asked for: a filter that does not hold is refused.
        messages.error(
            request,
            _("筛选条件有误，未导出：")
            + "；".join(str(error) for errors in form.errors.values() for error in errors),
        )
        return HttpResponseRedirect(reverse("volunteers:list"))
    try:
        result = volunteers_export(
            actor=actor, filters=form.to_filters(), file_format=form.cleaned_data["format"], request=request
        )
    except ValidationFailed as failure:
        messages.error(request, _("未导出：") + failure.summary)
        return HttpResponseRedirect(reverse("volunteers:list"))
    if isinstance(result, ExportFile):
        return _file_response(result)
    return render(request, "volunteers/export_pending.html", {"approval": result}, status=202)


def describe_filters(filters: VolunteerFilters) -> str:
    """An approval's filters in words, for the approver to judge the request."""
    parts: list[str] = []
    if filters.region:
        parts.append(_("区域 %(code)s") % {"code": filters.region})
    if filters.categories:
        parts.append("、".join(labels(filters.categories, CATEGORY_CHOICES)))
    if filters.specialties:
        parts.append(
            _("专长：%(names)s") % {"names": "、".join(labels(filters.specialties, SPECIALTY_CHOICES))}
        )
    if filters.availability:
        parts.append(
            _("可服务：%(slots)s") % {"slots": "、".join(labels(filters.availability, AVAILABILITY_CHOICES))}
        )
    if filters.has_capacity:
        parts.append(_("尚可结对"))
    if filters.check_due:
        parts.append(_("背景审查待办"))
    if filters.star is not None and 0 <= filters.star < len(STAR_LABELS):
        parts.append(str(STAR_LABELS[filters.star]))
    if filters.gender in Gender.values:
        parts.append(str(Gender(filters.gender).label))
    if filters.status in Status.values:
        parts.append(str(Status(filters.status).label))
    if filters.team is not None:
        parts.append(_("队伍 #%(team)s") % {"team": filters.team})
    if filters.q:
        parts.append(_("含搜索条件"))
    return "；".join(parts) or _("全部")


def _described(approvals: list[ExportApproval]) -> list[tuple[ExportApproval, str]]:
    return [(approval, describe_filters(filters_from_json(approval.filters))) for approval in approvals]


@require_GET
@permission_required(Permission.VOLUNTEER_EXPORT)
def exports_page(request: HttpRequest) -> HttpResponse:
    """The actor's requests to export the volunteers, and those waiting for the actor's approval."""
    actor = request_actor(request)
    mine = list(
        export_approvals_mine(actor=actor, dataset=DATASET).order_by("-created_at", "-id")[:PAGE_SIZE]
    )
    to_decide = (
        list(export_approvals_to_decide(actor=actor, dataset=DATASET)[:PAGE_SIZE])
        if actor.has(Permission.EXPORT_APPROVE)
        else None
    )
    context = {
        "mine": _described(mine),
        "to_decide": _described(to_decide) if to_decide is not None else None,
    }
    return render(request, "volunteers/exports.html", context)


@require_POST
@permission_required(Permission.VOLUNTEER_EXPORT)
def export_download_page(request: HttpRequest, approval_id: int) -> HttpResponse | StreamingHttpResponse:
    """An approved request, exported once."""
    actor = request_actor(request)
    try:
        result = volunteers_export(
            actor=actor, filters=VolunteerFilters(), file_format="", approval_id=approval_id, request=request
        )
    except ConflictError as failure:
        messages.error(request, failure.message)
        return HttpResponseRedirect(reverse("volunteers:exports"))
    assert isinstance(result, ExportFile)
    return _file_response(result)


@require_POST
@permission_required(Permission.EXPORT_APPROVE)
def export_decide_page(request: HttpRequest, approval_id: int, decision: str) -> HttpResponse:
    if decision not in {"approve", "decline"}:
        raise NotFoundError()
    actor = request_actor(request)
    try:
        export_approval_decide(
            actor=actor,
            approval_id=approval_id,
            approve=decision == "approve",
            request=request,
            dataset=DATASET,
        )
    except (ConflictError, PermissionDeniedError) as failure:
        messages.error(request, failure.message)
    else:
        messages.success(request, _("已批准。") if decision == "approve" else _("已拒绝。"))
    return HttpResponseRedirect(reverse("volunteers:exports"))
