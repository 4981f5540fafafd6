"""The mentoring pages: one's cases, a case (plan, reviews, mentors, community correction, closing), opening
a case from a sealed record, changing a case's officer, and break-the-glass.

Pages about one case declare SIGNED_IN: the case's own rule (`MentoringCase.objects.visible_to`) decides,
and a case the actor may not see answers 404 before anything else is read or written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanai.core import region_codes
from guanai.core.access import Actor, Permission, permission_required, request_actor
from guanai.core.errors import ConflictError, DomainError, ValidationFailed
from guanai.core.region_codes import RegionLevel
from guanai.mentoring import display
from guanai.mentoring.forms import (
    GRANT_HOURS,
    BreakGlassForm,
    CaseOpenForm,
    CloseForm,
    CorrectionForm,
    GoalForm,
    GoalStatusForm,
    MentorForm,
    OfficerChangeForm,
    ReviewForm,
)
from guanai.mentoring.models import MentoringCase
from guanai.mentoring.selectors import (
    AccessBasis,
    access_basis,
    active_grant,
    case_get,
    case_grants,
    case_list,
    case_view,
    mentor_candidates,
    officer_choices,
)
from guanai.mentoring.services import (
    access_grant_request,
    access_grant_revoke,
    case_close,
    case_officer_change,
    case_open,
    correction_update,
    goal_add,
    goal_update,
    mentor_assign,
    mentor_unassign,
    review_record,
)
from guanai.web.views_support import form_submit

PAGE_SIZE = 50
# Mistakes a person can correct on the case's page: shown as a message above the case. A refusal (not the
# officer) is the 403 page; a case one may not see, the 404 page.
CORRECTABLE = (ValidationFailed, ConflictError)


def _detail_url(case_id: int) -> str:
    return reverse("mentoring:detail", args=[case_id])


def _form_errors(form: Any) -> str:
    return "；".join(str(error) for errors in form.errors.values() for error in errors)


# --- One's cases --------------------------------------------------------------------------------------


@require_GET
@permission_required(Permission.SIGNED_IN)
def my_cases_page(request: HttpRequest) -> HttpResponse:
    """The cases the actor may see — as officer, as mentor, or under a running access grant — with the
    youth's name masked. Nobody else's cases, and no count of them."""
    actor = request_actor(request)
    cases = case_list(actor=actor)
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    user_id = actor.user.pk if actor.user is not None else None
    rows = [
        {
            "case": case,
            "youth_name": display.masked_youth_name(case),
            "is_officer": case.officer_id == user_id,
        }
        for case in page.object_list
    ]
    context = {
        "page": page,
        "rows": rows,
        "may_manage": actor.has(Permission.MENTORING_MANAGE),
        "may_break_glass": actor.has(Permission.MENTORING_BREAK_GLASS),
    }
    return render(request, "mentoring/mine.html", context)


# --- Opening a case, changing its officer, break-the-glass ------------------------------------------


@require_http_methods(["GET", "POST"])
@permission_required(Permission.MENTORING_MANAGE)
def case_open_page(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    # A county offers its few mentoring-team members to tick; above the county there would be thousands,
    # and the case's officer assigns the mentors once the case is open.
    at_county = (
        actor.region_code is not None and region_codes.level_of(actor.region_code) == RegionLevel.COUNTY
    )
    form = CaseOpenForm(
        request.POST or None,
        officers=officer_choices(actor=actor),
        mentors=mentor_candidates(county_code=actor.region_code) if at_county and actor.region_code else [],
    )
    return form_submit(
        request,
        form,
        lambda data: case_open(actor=actor, request=request, **data),
        success=lambda case: _opened_message(actor, case),
        then=lambda case: _detail_url(case.pk) if _is_officer(actor, case) else reverse("mentoring:mine"),
        refusals=(DomainError,),
    ) or render(request, "mentoring/open.html", {"form": form})


def _is_officer(actor: Actor, case: MentoringCase) -> bool:
    return actor.user is not None and case.officer_id == actor.user.pk


def _opened_message(actor: Actor, case: MentoringCase) -> str:
    """The officer who opened their own case goes on to it; anyone else does not see it, and is told so."""
    if _is_officer(actor, case):
        return _("已立案，案件编号 %(reference)s。") % {"reference": case.reference}
    return _(
        "已立案，案件编号 %(reference)s，已通知承办人。案件依法封存，仅承办人和帮教人可以查看；"
        "请将编号告知承办人。"
    ) % {"reference": case.reference}


@require_http_methods(["GET", "POST"])
@permission_required(Permission.MENTORING_MANAGE)
def case_officer_page(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    form = OfficerChangeForm(request.POST or None, officers=officer_choices(actor=actor))
    return form_submit(
        request,
        form,
        lambda data: case_officer_change(actor=actor, request=request, **data),
        success=lambda case: (
            _("案件 %(reference)s 的承办人已变更为 %(officer)s，已通知新旧承办人。")
            % {"reference": case.reference, "officer": case.officer}
        ),
        then=reverse("mentoring:mine"),
        refusals=(DomainError,),
    ) or render(request, "mentoring/officer.html", {"form": form})


@require_http_methods(["GET", "POST"])
@permission_required(Permission.MENTORING_BREAK_GLASS)
def break_glass_page(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    form = BreakGlassForm(request.POST or None)
    return form_submit(
        request,
        form,
        # Everything but the "confirmed" tick, which only the form checks.
        lambda data: access_grant_request(
            actor=actor,
            reference=data["reference"],
            reason_code=data["reason_code"],
            reason_text=data["reason_text"],
            request=request,
        ),
        success=lambda grant: (
            _("已获得查阅授权，至 %(until)s 结束；本次查阅已通知案件承办人并记入审计日志。")
            % {"until": date_format(timezone.localtime(grant.expires_at), "Y年n月j日 H:i")}
        ),
        then=lambda grant: _detail_url(grant.case_id),
        refusals=(DomainError,),
    ) or render(request, "mentoring/break_glass.html", {"form": form, "hours": GRANT_HOURS})


@require_POST
@permission_required(Permission.SIGNED_IN)
def grant_revoke_page(request: HttpRequest, grant_id: int) -> HttpResponse:
    actor = request_actor(request)
    grant = access_grant_revoke(actor=actor, grant_id=grant_id, request=request)
    messages.success(request, _("查阅授权已撤销。"))
    if actor.user is not None and grant.user_id == actor.user.pk:
        return HttpResponseRedirect(reverse("mentoring:mine"))
    return HttpResponseRedirect(_detail_url(grant.case_id))


# --- One case -----------------------------------------------------------------------------------------


@require_GET
@permission_required(Permission.SIGNED_IN)
def case_detail_page(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = request_actor(request)
    case = case_view(actor=actor, case_id=case_id, request=request)
    basis = access_basis(actor=actor, case=case)
    is_officer = basis == AccessBasis.OFFICER
    mentors = list(case.mentors.all())
    current_ids = {mentor.volunteer_id for mentor in mentors if mentor.is_current}
    this_month = timezone.localdate().replace(day=1)
    context: dict[str, Any] = {
        "case": case,
        "youth": display.youth_on_case(case),
        "basis": basis.value,
        "is_officer": is_officer,
        "grant": active_grant(actor=actor, case=case) if basis == AccessBasis.BREAK_GLASS else None,
        "goals": [
            (goal, GoalStatusForm(initial={"status": goal.status}, prefix=f"goal-{goal.pk}"))
            for goal in case.goals.all()
        ],
        "reviews": list(case.reviews.all()),
        "reviewed_this_month": any(review.month == this_month for review in case.reviews.all()),
        "current_mentors": [mentor for mentor in mentors if mentor.is_current],
        "past_mentors": [mentor for mentor in mentors if not mentor.is_current],
        "may_review": case.is_open and basis in (AccessBasis.OFFICER, AccessBasis.MENTOR),
        "review_form": ReviewForm(initial={"month": this_month}),
    }
    if is_officer:
        context.update(grants=list(case_grants(case=case)), now=timezone.now())
    if is_officer and case.is_open:
        candidates = [
            volunteer
            for volunteer in mentor_candidates(county_code=case.region_id)
            if volunteer.pk not in current_ids
        ]
        context.update(
            goal_form=GoalForm(),
            mentor_form=MentorForm(candidates=candidates) if candidates else None,
            correction_form=CorrectionForm(
                initial={
                    "version": case.version,
                    "agency": case.correction_agency,
                    "officer_name": case.correction_officer_name,
                    "starts_on": case.correction_starts_on,
                    "ends_on": case.correction_ends_on,
                }
            ),
            close_form=CloseForm(initial={"version": case.version}),
        )
    return render(request, "mentoring/detail.html", context)


def _case_post(
    request: HttpRequest,
    case_id: int,
    form: forms.Form | _NoFields,
    write: Callable[[Actor, dict[str, Any]], object],
    success: str,
) -> HttpResponse:
    """A form posted from the case's page: 404 first when the case is not the actor's to see, then the
    form, then the service (`write`, given the actor and the form's data, named like the service's
    arguments); back to the case with what happened."""
    actor = request_actor(request)
    case_get(actor=actor, case_id=case_id)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return HttpResponseRedirect(_detail_url(case_id))
    try:
        write(actor, form.cleaned_data)
    except CORRECTABLE as failure:
        messages.error(request, failure.summary)
    else:
        messages.success(request, success)
    return HttpResponseRedirect(_detail_url(case_id))


@require_POST
@permission_required(Permission.SIGNED_IN)
def review_add_page(request: HttpRequest, case_id: int) -> HttpResponse:
    return _case_post(
        request,
        case_id,
        ReviewForm(request.POST),
        lambda actor, data: review_record(actor=actor, case_id=case_id, request=request, **data),
        _("已记录月度评估。"),
    )


@require_POST
@permission_required(Permission.SIGNED_IN)
def goal_add_page(request: HttpRequest, case_id: int) -> HttpResponse:
    return _case_post(
        request,
        case_id,
        GoalForm(request.POST),
        lambda actor, data: goal_add(actor=actor, case_id=case_id, request=request, **data),
        _("已添加帮教目标。"),
    )


@require_POST
@permission_required(Permission.SIGNED_IN)
def goal_update_page(request: HttpRequest, case_id: int, goal_id: int) -> HttpResponse:
    return _case_post(
        request,
        case_id,
        GoalStatusForm(request.POST, prefix=f"goal-{goal_id}"),
        lambda actor, data: goal_update(
            actor=actor, case_id=case_id, goal_id=goal_id, request=request, **data
        ),
        _("已更新目标进展。"),
    )


@require_POST
@permission_required(Permission.SIGNED_IN)
def mentor_add_page(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = request_actor(request)
    case = case_get(actor=actor, case_id=case_id)
    return _case_post(
        request,
        case_id,
        MentorForm(request.POST, candidates=mentor_candidates(county_code=case.region_id)),
        lambda actor, data: mentor_assign(actor=actor, case_id=case_id, request=request, **data),
        _("已指派帮教人，并已通知本人。"),
    )


@require_POST
@permission_required(Permission.SIGNED_IN)
def mentor_end_page(request: HttpRequest, case_id: int, mentor_id: int) -> HttpResponse:
    return _case_post(
        request,
        case_id,
        _NoFields(),
        lambda actor, data: mentor_unassign(
            actor=actor, case_id=case_id, mentor_id=mentor_id, request=request
        ),
        _("已解除该帮教人，其不能再查看本案。"),
    )


@require_POST
@permission_required(Permission.SIGNED_IN)
def correction_page(request: HttpRequest, case_id: int) -> HttpResponse:
    return _case_post(
        request,
        case_id,
        CorrectionForm(request.POST),
        lambda actor, data: correction_update(actor=actor, case_id=case_id, request=request, **data),
        _("已保存社区矫正信息。"),
    )


@require_POST
@permission_required(Permission.SIGNED_IN)
def close_page(request: HttpRequest, case_id: int) -> HttpResponse:
    return _case_post(
        request,
        case_id,
        CloseForm(request.POST),
        lambda actor, data: case_close(actor=actor, case_id=case_id, request=request, **data),
        _("已结案，帮教人的指派随之解除。"),
    )


class _NoFields:
    """A post that carries nothing but the CSRF token."""

    cleaned_data: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}

    def is_valid(self) -> bool:
        return True
