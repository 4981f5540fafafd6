"""The queue, reassignment and duty roster pages (/consultations/).

For the professional (CONSULTATION_ANSWER), under the tab strip of their 咨询服务台: 待受理
(`/consultations/queue/`, the list refreshed every 30 seconds, accept with the declaration of no conflict of
interest, or decline with a reason) and 我的值班 (`/consultations/duty/mine/`). For supervisors
(CONSULTATION_SUPERVISE): the rosters of the professionals of their region (`/consultations/duty/`), one
professional's weekly grid (`/consultations/duty/<id>/`) and the reassignment of a request
(`/consultations/<id>/reassign/`, metadata only: never the requester's words, name or phone).

Thin: parse, call a selector or a service, render.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanai.consultations import duty, routing
from guanai.consultations.duty_forms import (
    AcceptForm,
    DeclineForm,
    DutyGridForm,
    ReassignForm,
    RosterFilterForm,
)
from guanai.consultations.models import Consultation
from guanai.consultations.vocabulary import Kind
from guanai.core.access import Permission, permission_required, request_actor
from guanai.core.errors import ConflictError, NotFoundError, ValidationFailed
from guanai.volunteers.models import Volunteer
from guanai.web.forms import put_errors

PAGE_SIZE = 50
QUEUE_REFRESH_SECONDS = 30


# --- The professional: the queue --------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    """A request in the queue: metadata only (the words, name and phone after accepting)."""

    consultation: Consultation
    waiting_minutes: int
    is_assigned: bool


def queue_rows(volunteer: Volunteer) -> list[QueueRow]:
    now = timezone.now()
    return [
        QueueRow(
            consultation=consultation,
            waiting_minutes=max(int((now - consultation.created_at).total_seconds() // 60), 0),
            is_assigned=consultation.assigned_to_id == volunteer.pk,
        )
        for consultation in routing.professional_queue(volunteer=volunteer, now=now)
    ]


def _queue_context(request: HttpRequest) -> dict[str, object]:
    volunteer = routing.professional_for(request_actor(request))
    rows = queue_rows(volunteer) if volunteer is not None else []
    return {
        "volunteer": volunteer,
        "rows": rows,
        "urgent_count": sum(1 for row in rows if row.consultation.is_urgent),
        "accept_form": AcceptForm(auto_id="accept-%s"),
        "decline_form": DeclineForm(auto_id="decline-%s"),
        "refresh_seconds": QUEUE_REFRESH_SECONDS,
        "active": "queue",
    }


@require_GET
@permission_required(Permission.CONSULTATION_ANSWER)
def queue_page(request: HttpRequest) -> HttpResponse:
    """待受理; the list alone for htmx's refresh."""
    context = _queue_context(request)
    if getattr(request, "htmx", False):
        return render(request, "consultations/partials/_queue_list.html", context)
    return render(request, "consultations/queue.html", context)


@require_POST
@permission_required(Permission.CONSULTATION_ANSWER)
def accept(request: HttpRequest, consultation_id: int) -> HttpResponse:
    actor = request_actor(request)
    form = AcceptForm(request.POST)
    form.is_valid()
    try:
        routing.consultation_accept(
            actor=actor,
            consultation_id=consultation_id,
            declares_no_conflict=bool(form.cleaned_data.get("declares_no_conflict")),
            request=request,
        )
    except ValidationFailed as error:
        return _queue_refusal(request, consultation_id, error.summary, status=422)
    except ConflictError as error:
        return _queue_refusal(request, consultation_id, error.message, status=409)
    messages.success(request, _("已受理。请尽快回复求助人。"))
    return HttpResponseRedirect(reverse("consultations:detail", args=[consultation_id]))


@require_POST
@permission_required(Permission.CONSULTATION_ANSWER)
def decline(request: HttpRequest, consultation_id: int) -> HttpResponse:
    actor = request_actor(request)
    form = DeclineForm(request.POST)
    if not form.is_valid():
        return _queue_refusal(request, consultation_id, _("请选择退回原因"), status=422)
    try:
        routing.consultation_decline(
            actor=actor, consultation_id=consultation_id, reason=form.cleaned_data["reason"], request=request
        )
    except ValidationFailed as error:
        return _queue_refusal(request, consultation_id, error.summary, status=422)
    messages.success(request, _("已退回，这件求助将转给其他志愿者。"))
    return HttpResponseRedirect(reverse("consultations_duty:queue"))


def _queue_refusal(request: HttpRequest, consultation_id: int, message: str, *, status: int) -> HttpResponse:
    """The queue again, with why the action on one request was refused above the list."""
    context = _queue_context(request)
    context["refusal"] = message
    context["refused_id"] = consultation_id
    return render(request, "consultations/queue.html", context, status=status)


# --- The professional: my duty slots ------------------------------------------------------------------------


@require_GET
@permission_required(Permission.CONSULTATION_ANSWER)
def my_duty_page(request: HttpRequest) -> HttpResponse:
    volunteer = routing.professional_for(request_actor(request))
    grids = []
    on_duty = []
    if volunteer is not None:
        slots = list(duty.own_slots(volunteer=volunteer))
        for kind, label in Kind.choices:
            of_kind = [slot for slot in slots if slot.kind == kind]
            if of_kind:
                regions = sorted({slot.region.name for slot in of_kind})
                grids.append(
                    {"kind": kind, "label": label, "grid": duty.Grid.of(of_kind), "regions": regions}
                )
        on_duty = duty.on_duty_slots_of(volunteer=volunteer, now=timezone.now())
    context = {
        "volunteer": volunteer,
        "grids": grids,
        "on_duty": on_duty,
        "parts": duty.part_labels(),
        "active": "duty",
    }
    return render(request, "consultations/duty/mine.html", context)


# --- Supervisors: rosters -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RosterRow:
    volunteer: Volunteer
    kinds: list[tuple[str, str, str, str]]  # kind, label, summary of slots, coverage regions


def _roster_row(volunteer: Volunteer, kind: str) -> RosterRow:
    slots = getattr(volunteer, "roster_slots", [])
    qualified = routing.volunteer_kinds(volunteer)
    kinds = []
    for each, label in Kind.choices:
        if (kind and each != kind) or each not in qualified:
            continue
        of_kind = [slot for slot in slots if slot.kind == each]
        regions = "、".join(sorted({slot.region.name for slot in of_kind}))
        kinds.append((each, str(label), duty.slot_summary(of_kind), regions))
    return RosterRow(volunteer=volunteer, kinds=kinds)


@require_GET
@permission_required(Permission.CONSULTATION_SUPERVISE)
def roster_page(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    form = RosterFilterForm(request.GET or None)
    kind = form.cleaned_data.get("kind", "") if form.is_valid() else ""
    page = Paginator(duty.roster_professionals(actor=actor, kind=kind or None), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "form": form,
        "kind": kind,
        "page": page,
        "rows": [_roster_row(volunteer, kind) for volunteer in page.object_list],
    }
    return render(request, "consultations/duty/roster.html", context)


@require_http_methods(["GET", "POST"])
@permission_required(Permission.CONSULTATION_SUPERVISE)
def roster_edit_page(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    actor = request_actor(request)
    volunteer = duty.roster_volunteer(actor=actor, volunteer_id=volunteer_id)
    qualified = [kind for kind in Kind.values if kind in routing.volunteer_kinds(volunteer)]
    if not qualified:
        raise NotFoundError()
    kind = request.POST.get("kind") or request.GET.get("kind") or qualified[0]
    if kind not in qualified:
        kind = qualified[0]
    slots = [slot for slot in getattr(volunteer, "roster_slots", []) if slot.kind == kind]
    grid = duty.Grid.of(slots)
    regions = [(region.code, region.name) for region in duty.coverage_regions(actor=actor)]
    region_now = slots[0].region_id if slots else (actor.region_code or "")
    if region_now not in {code for code, _name in regions} and slots:
        regions.append((region_now, slots[0].region.name))
    may_name_leads = duty.is_province_supervisor(actor)
    status = 200
    if request.method == "POST":
        form = DutyGridForm(request.POST, regions=regions, may_name_leads=may_name_leads)
        if form.is_valid():
            try:
                duty.duty_slots_replace(
                    actor=actor,
                    volunteer_id=volunteer.pk,
                    kind=form.cleaned_data["kind"],
                    region_code=form.cleaned_data["region"],
                    cells=form.service_cells(),
                    request=request,
                )
            except ValidationFailed as error:
                put_errors(form, error, aliases={"slots": "cells"})
                status = 422
            except ConflictError as error:
                put_errors(form, error)
                status = 409
            else:
                messages.success(request, _("值班表已保存。"))
                url = reverse("consultations_duty:roster_edit", args=[volunteer.pk])
                return HttpResponseRedirect(f"{url}?kind={kind}")
        else:
            status = 422
    else:
        form = DutyGridForm(
            initial={
                "kind": kind,
                "region": region_now,
                "cells": grid.keys(),
                "is_lead": any(slot.is_lead for slot in slots),
            },
            regions=regions,
            may_name_leads=may_name_leads,
        )
    chosen = set(form["cells"].value() or [])
    context = {
        "volunteer": volunteer,
        "kind": kind,
        "kinds": [(each, label) for each, label in Kind.choices if each in qualified],
        "form": form,
        "grid": grid,
        "chosen": chosen,
        "parts": duty.part_labels(),
    }
    return render(request, "consultations/duty/edit.html", context, status=status)


# --- Supervisors: reassigning a request ---------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@permission_required(Permission.CONSULTATION_SUPERVISE)
def reassign_page(request: HttpRequest, consultation_id: int) -> HttpResponse:
    actor = request_actor(request)
    consultation = duty.consultation_for_reassign(actor=actor, consultation_id=consultation_id)
    now = timezone.now()
    candidates = list(routing.reassign_candidates(consultation=consultation, now=now)[:PAGE_SIZE])
    choices = [
        (
            volunteer.pk,
            _("%(name)s（%(place)s，在办 %(load)d 件）")
            % {"name": volunteer.name, "place": volunteer.region.name, "load": volunteer.open_load},  # type: ignore[attr-defined]
        )
        for volunteer in candidates
    ]
    status = 200
    form = ReassignForm(request.POST or None, candidates=choices)
    if request.method == "POST":
        if form.is_valid():
            try:
                routing.consultation_reassign(
                    actor=actor,
                    consultation_id=consultation.pk,
                    volunteer_id=form.cleaned_data["volunteer_id"],
                    reason=form.cleaned_data["reason"],
                    request=request,
                )
            except ValidationFailed as error:
                put_errors(form, error)
                status = 422
            except ConflictError as error:
                put_errors(form, error)
                status = 409
            else:
                messages.success(request, _("已转交，新的承办志愿者会收到通知。"))
                return HttpResponseRedirect(reverse("consultations_duty:reassign", args=[consultation.pk]))
        else:
            status = 422
    context = {
        "consultation": consultation,
        "form": form,
        "is_open": consultation.state in routing.OPEN_STATES,
        "waiting_minutes": max(int((now - consultation.created_at).total_seconds() // 60), 0),
    }
    return render(request, "consultations/duty/reassign.html", context, status=status)
