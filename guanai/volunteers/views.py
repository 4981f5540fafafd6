"""The staff pages of the 五老 volunteers: finding them, a volunteer's record (masked, with audited
unmasking), registering and editing, status, background checks, service hours (recorded by the
organiser, claims confirmed or returned, corrections), training, honours, and the teams.

Thin: parse, call a selector or a service, render. A write's errors come back on the fields of its form,
with nothing stored; a page whose record the actor may not see answers 404 (the selectors' NotFoundError).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
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
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanai.audit.selectors import audit_trail_for
from guanai.committees.selectors import committee_list
from guanai.core.access import Actor, Permission, permission_required, request_actor
from guanai.core.cached import CachedCountPaginator
from guanai.core.errors import (
    ConflictError,
    NotFoundError,
    ValidationFailed,
)
from guanai.core.masking import mask_field, unmask_field
from guanai.minors.export_views import ExportPages
from guanai.minors.vocabulary import Gender
from guanai.volunteers.exports import VOLUNTEERS
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
    volunteer_rows,
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
from guanai.web.forms import bit_list, put_errors, region_filter_choices, village_choices
from guanai.web.views_support import form_submit

PAGE_SIZE = 50
# The newest records of service shown on a volunteer's page; the totals count every record.
HOURS_SHOWN = 100
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


def _posted(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else None


def _detail_url(volunteer_id: int) -> str:
    return reverse("volunteers:detail", args=[volunteer_id])


def _detail(volunteer_id: int) -> HttpResponseRedirect:
    return HttpResponseRedirect(_detail_url(volunteer_id))


def _team_url(team_id: int) -> str:
    return reverse("volunteers:team_detail", args=[team_id])


# --- Finding volunteers ---------------------------------------------------------------------------


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
        regions=region_filter_choices(actor),
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
    page = CachedCountPaginator(volunteers.values_list("pk", flat=True), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = _rows(volunteer_rows(list(page.object_list)))
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
        villages=village_choices(actor),
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
            put_errors(form, error)
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
    intro = _("当前状态：%(status)s") % {"status": volunteer.get_status_display()}
    if not statuses:
        intro += _("。该状态不能再变更。")
    return form_submit(
        request,
        form,
        lambda data: volunteer_set_status(actor=actor, volunteer_id=volunteer.pk, request=request, **data),
        success=_("状态已变更。"),
        then=_detail_url(volunteer.pk),
        refusals=(ValidationFailed, ConflictError),
    ) or _action_page(
        request,
        form=form,
        title=_("变更状态"),
        submit_label=_("确认变更"),
        back_url=_detail_url(volunteer.pk),
        volunteer=volunteer,
        intro=intro,
        closed=not statuses,
    )


@dataclass(frozen=True)
class RecordAddition:
    """A page that adds to a volunteer's record (a check, service, a training, an honour): its form, the
    service it calls (with the actor, the volunteer and the form's fields), and its words."""

    form: Callable[[Any], forms.Form]
    save: Callable[..., Any]
    title: str | Promise
    success: str | Promise
    intro: str | Promise = ""


def _record_addition_page(request: HttpRequest, volunteer_id: int, addition: RecordAddition) -> HttpResponse:
    actor = request_actor(request)
    volunteer = volunteer_get(actor=actor, volunteer_id=volunteer_id)
    form = addition.form(_posted(request))
    return form_submit(
        request,
        form,
        lambda data: addition.save(actor=actor, volunteer_id=volunteer.pk, request=request, **data),
        success=str(addition.success),
        then=_detail_url(volunteer.pk),
    ) or _action_page(
        request,
        form=form,
        title=str(addition.title),
        submit_label=_("保存"),
        back_url=_detail_url(volunteer.pk),
        volunteer=volunteer,
        intro=str(addition.intro),
    )


CHECK_ADDITION = RecordAddition(
    form=CheckForm,
    save=volunteer_record_check,
    title=gettext_lazy("记录背景审查"),
    success=gettext_lazy("已记录背景审查。"),
    intro=gettext_lazy(
        "与未成年人密切接触的志愿者，入职时及每年须查询性侵害、虐待、暴力伤害等违法犯罪记录；审查有效期一年。"
    ),
)
HOURS_ADDITION = RecordAddition(
    form=HoursForm,
    save=hours_record,
    title=gettext_lazy("记录服务时长"),
    success=gettext_lazy("已记录服务时长。"),
    intro=gettext_lazy("由组织服务的单位记录，保存后即为已确认。只记实际服务时间，不含路途时间。"),
)
TRAINING_ADDITION = RecordAddition(
    form=TrainingForm,
    save=training_add,
    title=gettext_lazy("记录培训"),
    success=gettext_lazy("已记录培训。"),
)
HONOUR_ADDITION = RecordAddition(
    form=HonourForm,
    save=honour_add,
    title=gettext_lazy("记录所获荣誉"),
    success=gettext_lazy("已记录荣誉。"),
)


@require_http_methods(["GET", "POST"])
@permission_required(Permission.VOLUNTEER_MANAGE)
def volunteer_check_page(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    """The entry or yearly background check (未成年人保护法第六十二条)."""
    return _record_addition_page(request, volunteer_id, CHECK_ADDITION)


@require_http_methods(["GET", "POST"])
@permission_required(Permission.VOLUNTEER_MANAGE)
def hours_record_page(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    """The organiser records service it organised: confirmed at once (谁组织谁记录)."""
    return _record_addition_page(request, volunteer_id, HOURS_ADDITION)


@require_http_methods(["GET", "POST"])
@permission_required(Permission.VOLUNTEER_MANAGE)
def training_add_page(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    return _record_addition_page(request, volunteer_id, TRAINING_ADDITION)


@require_http_methods(["GET", "POST"])
@permission_required(Permission.VOLUNTEER_MANAGE)
def honour_add_page(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    return _record_addition_page(request, volunteer_id, HONOUR_ADDITION)


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
            put_errors(form, error)
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
    return form_submit(
        request,
        form,
        lambda data: hours_correct(actor=actor, record_id=record.pk, request=request, **data),
        success=_("已更正服务时长。"),
        then=_detail_url(volunteer.pk),
        refusals=(ValidationFailed, ConflictError),
    ) or _action_page(
        request,
        form=form,
        title=_("更正服务时长"),
        submit_label=_("保存更正"),
        back_url=_detail_url(volunteer.pk),
        volunteer=volunteer,
        record=record,
        corrections=list(record.corrections.all()),
    )


# --- Teams ----------------------------------------------------------------------------------------


@require_GET
@permission_required(Permission.VOLUNTEER_VIEW)
def team_list_page(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    form = TeamFilterForm(request.GET or None, regions=region_filter_choices(actor))
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
    return form_submit(
        request,
        form,
        lambda data: team_create(actor=actor, request=request, **data),
        success=_("已新建队伍。"),
        then=lambda team: _team_url(team.pk),
    ) or _action_page(
        request,
        form=form,
        title=_("新建五老队伍"),
        submit_label=_("保存"),
        back_url=reverse("volunteers:teams"),
        template="volunteers/team_create.html",
        regions=region_filter_choices(actor),
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
    return form_submit(
        request,
        form,
        lambda data: team_member_add(actor=actor, team_id=team.pk, request=request, **data),
        success=_("已添加队员。"),
        then=_team_url(team.pk),
        refusals=(ValidationFailed, ConflictError),
    ) or _action_page(
        request,
        form=form,
        title=_("添加队员"),
        submit_label=_("添加"),
        back_url=_team_url(team.pk),
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
    return HttpResponseRedirect(_team_url(team_id))


@require_http_methods(["GET", "POST"])
@permission_required(Permission.VOLUNTEER_MANAGE)
def team_activity_page(request: HttpRequest, team_id: int) -> HttpResponse:
    """An activity of the team, and the service hours of each participant (recorded as confirmed)."""
    actor = request_actor(request)
    team = team_get(actor=actor, team_id=team_id)
    members = [(membership.volunteer_id, membership.volunteer.name) for membership in team.memberships.all()]
    form = TeamActivityForm(_posted(request), members=members)
    return form_submit(
        request,
        form,
        lambda data: team_activity_record(
            actor=actor,
            team_id=team.pk,
            request=request,
            **{**data, "children_reached": data["children_reached"] or 0},
        ),
        success=_("已记录活动及参加队员的服务时长。"),
        then=_team_url(team.pk),
    ) or _action_page(
        request,
        form=form,
        title=_("记录队伍活动"),
        submit_label=_("保存"),
        back_url=_team_url(team.pk),
        team=team,
        intro=_("勾选参加的队员，保存后为每人记录一条已确认的服务时长。"),
    )


# --- Exports (guanai.minors.export_views) -----------------------------------------------------------


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


def _export_form(request: HttpRequest, actor: Actor) -> VolunteerExportForm:
    teams = _filter_teams(actor, request.POST.get("team", ""))
    return VolunteerExportForm(request.POST, regions=region_filter_choices(actor), teams=teams)


EXPORT_PAGES: ExportPages[VolunteerFilters] = ExportPages(
    dataset=VOLUNTEERS,
    namespace="volunteers",
    title=gettext_lazy("志愿者名册导出申请"),
    intro=gettext_lazy(
        "超过 1000 行的导出须由上一级管理员批准；批准后可下载一次。"
        "导出文件中身份证号、电话均脱敏，并带有导出人和导出时间。"
    ),
    export_form=_export_form,
    describe_filters=describe_filters,
)


@require_POST
@permission_required(Permission.VOLUNTEER_EXPORT)
def export_page(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The filtered list as a file (masked, watermarked); above the threshold, the approval request
    filed instead."""
    return EXPORT_PAGES.export(request)


@require_GET
@permission_required(Permission.VOLUNTEER_EXPORT)
def exports_page(request: HttpRequest) -> HttpResponse:
    """The actor's requests to export the volunteers, and those waiting for the actor's approval."""
    return EXPORT_PAGES.requests(request)


@require_POST
@permission_required(Permission.VOLUNTEER_EXPORT)
def export_download_page(request: HttpRequest, approval_id: int) -> HttpResponse | StreamingHttpResponse:
    """An approved request, exported once."""
    return EXPORT_PAGES.download(request, approval_id)


@require_POST
@permission_required(Permission.EXPORT_APPROVE)
def export_decide_page(request: HttpRequest, approval_id: int, decision: str) -> HttpResponse:
    return EXPORT_PAGES.decide(request, approval_id, decision)
