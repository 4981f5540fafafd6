"""The pairing pages (结对关爱): the list, proposals for a region with their preview and acceptance, a
pairing with its child's history, starting and closing it (with rematch suggestions), and pairing a
child by hand from the suggestions (推荐). Thin: parse, call a selector or a service, render."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanai.core.access import Actor, Permission, permission_required, request_actor
from guanai.core.errors import ConflictError, NotFoundError, ValidationFailed
from guanai.minors import display
from guanai.minors.models import Minor
from guanai.pairings.forms import (
    AcceptForm,
    CloseForm,
    ConflictForm,
    PairingCreateForm,
    PairingFilterForm,
    ProposeForm,
    proposal_region_choices,
)
from guanai.pairings.models import Pairing
from guanai.pairings.selectors import (
    PairingFilters,
    minor_pairings,
    pairing_get,
    pairing_list,
    proposal_run_get,
    proposal_run_pairs,
    proposal_run_unassigned,
    proposal_runs_recent,
    visible_minor,
    volunteer_choices,
)
from guanai.pairings.services import (
    PairingRefused,
    conflict_declare,
    pairing_activate,
    pairing_close,
    pairing_create,
    proposal_accept,
    proposal_run_create,
    rematch_suggestions,
    suggestions_for_minor,
)
from guanai.pairings.vocabulary import REMATCH_REASONS, PairingState
from guanai.web.forms import put_errors, region_filter_choices

PAGE_SIZE = 50


@dataclass(frozen=True)
class PairingRow:
    pairing: Pairing
    child_name: str


def _rows(pairings: Any, actor: Actor) -> list[PairingRow]:
    return [PairingRow(pairing, display.shown_name(pairing.minor, actor)) for pairing in pairings]


# --- The list ---------------------------------------------------------------------------------------


@require_GET
@permission_required(Permission.PAIRING_VIEW)
def pairing_list_page(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    form = PairingFilterForm(request.GET or None, regions=region_filter_choices(actor))
    filters = PairingFilters()
    if form.is_bound:
        form.is_valid()  # a field with an error is left out of the filters
        filters = form.to_filters()
    error = ""
    try:
        pairings = pairing_list(actor=actor, filters=filters)
    except (ValidationFailed, NotFoundError) as failure:
        error = failure.summary
        pairings = pairing_list(actor=actor)
    page = Paginator(pairings, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "rows": _rows(page.object_list, actor),
        "error": error,
        "may_manage": actor.has(Permission.PAIRING_MANAGE),
    }
    template = "pairings/partials/_table.html" if getattr(request, "htmx", False) else "pairings/list.html"
    return render(request, template, context)


# --- Proposals ------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@permission_required(Permission.PAIRING_MANAGE)
def propose_page(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    form = ProposeForm(request.POST or None, regions=proposal_region_choices(actor))
    if request.method == "POST" and form.is_valid():
        try:
            run = proposal_run_create(actor=actor, region_code=form.cleaned_data["region"], request=request)
        except ValidationFailed as failure:
            put_errors(form, failure)
        else:
            return HttpResponseRedirect(reverse("pairings:proposals", args=[run.pk]))
    return render(request, "pairings/propose.html", {"form": form, "runs": proposal_runs_recent(actor=actor)})


@require_GET
@permission_required(Permission.PAIRING_VIEW)
def proposal_run_page(request: HttpRequest, run_id: int) -> HttpResponse:
    actor = request_actor(request)
    run = proposal_run_get(actor=actor, run_id=run_id)
    pairs = proposal_run_pairs(actor=actor, run=run)
    context = {
        "run": run,
        "rows": [(pair, display.shown_name(pair.minor, actor)) for pair in pairs],
        "unassigned": [
            (child, display.shown_name(child.minor, actor))
            for child in proposal_run_unassigned(actor=actor, run=run)
        ],
        "pending": sum(1 for pair in pairs if pair.accepted_at is None),
        "form": AcceptForm(pair_ids=[pair.pk for pair in pairs]),
        "may_manage": actor.has(Permission.PAIRING_MANAGE),
    }
    return render(request, "pairings/run.html", context)


@require_POST
@permission_required(Permission.PAIRING_MANAGE)
def proposal_accept_page(request: HttpRequest, run_id: int) -> HttpResponse:
    actor = request_actor(request)
    run = proposal_run_get(actor=actor, run_id=run_id)
    pairs = proposal_run_pairs(actor=actor, run=run)
    form = AcceptForm(request.POST, pair_ids=[pair.pk for pair in pairs])
    back = HttpResponseRedirect(reverse("pairings:proposals", args=[run.pk]))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return back
    data = form.cleaned_data
    acceptance = proposal_accept(
        actor=actor,
        run_id=run.pk,
        pair_ids=None if data["scope"] == AcceptForm.ALL else data["pair_ids"],
        activate=data["activate"],
        request=request,
    )
    messages.success(request, _("已建立 %(count)d 对结对。") % {"count": len(acceptance.accepted)})
    names = {pair.pk: display.shown_name(pair.minor, actor) for pair in pairs}
    for refusal in acceptance.refused:
        messages.error(
            request,
            _("%(child)s 与 %(volunteer)s 未结对：%(reasons)s")
            % {
                "child": names.get(refusal.proposed_pair.pk, "—"),
                "volunteer": refusal.proposed_pair.volunteer.name,
                "reasons": "；".join(refusal.reasons),
            },
        )
    return back


# --- One pairing ---------------------------------------------------------------------------------------


@require_GET
@permission_required(Permission.PAIRING_VIEW)
def pairing_detail_page(request: HttpRequest, pairing_id: int) -> HttpResponse:
    actor = request_actor(request)
    pairing = pairing_get(actor=actor, pairing_id=pairing_id)
    may_manage = actor.has(Permission.PAIRING_MANAGE)
    rematch = (
        rematch_suggestions(actor=actor, pairing=pairing)
        if may_manage and pairing.state == PairingState.CLOSED and pairing.close_reason in REMATCH_REASONS
        else []
    )
    context = {
        "pairing": pairing,
        "child_name": display.shown_name(pairing.minor, actor),
        "history": minor_pairings(actor=actor, minor_id=pairing.minor_id),
        "close_form": CloseForm(),
        "rematch": rematch,
        "may_manage": may_manage,
    }
    return render(request, "pairings/detail.html", context)


@require_POST
@permission_required(Permission.PAIRING_MANAGE)
def pairing_activate_page(request: HttpRequest, pairing_id: int) -> HttpResponse:
    actor = request_actor(request)
    try:
        pairing_activate(actor=actor, pairing_id=pairing_id, request=request)
    except (PairingRefused, ConflictError) as failure:
        messages.error(request, failure.message)
    else:
        messages.success(request, _("已开始结对。"))
    return HttpResponseRedirect(reverse("pairings:detail", args=[pairing_id]))


@require_POST
@permission_required(Permission.PAIRING_MANAGE)
def pairing_close_page(request: HttpRequest, pairing_id: int) -> HttpResponse:
    """Closed with a reason that calls for it, the pairing's page lists the rematch suggestions."""
    actor = request_actor(request)
    form = CloseForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        closure = pairing_close(actor=actor, pairing_id=pairing_id, reason=reason, note=note, request=request)
    except (ValidationFailed, ConflictError) as failure:
        messages.error(request, failure.summary)
    else:
        messages.success(request, _("已解除结对。"))
        if closure.rematch:
            messages.info(request, _("以下为该儿童的重新匹配建议，可一键结对。"))
    return HttpResponseRedirect(reverse("pairings:detail", args=[pairing_id]))


# --- Pairing a child by hand (推荐) ------------------------------------------------------------------------


def _create_context(
    actor: Actor, minor: Minor, form: PairingCreateForm, conflict_form: ConflictForm
) -> dict[str, Any]:
    found = suggestions_for_minor(actor=actor, minor_id=minor.pk)
    return {
        "minor": minor,
        "child_name": display.shown_name(minor, actor),
        "age": display.age(minor),
        "needs": display.need_labels(minor.needs),
        "has_pairing_consent": found.has_pairing_consent,
        "open_pairing": found.open_pairing,
        "suggestions": found.suggestions,
        "history": minor_pairings(actor=actor, minor_id=minor.pk),
        "form": form,
        "conflict_form": conflict_form,
    }


@require_http_methods(["GET", "POST"])
@permission_required(Permission.PAIRING_MANAGE)
def pairing_create_page(request: HttpRequest, minor_id: int) -> HttpResponse:
    actor = request_actor(request)
    minor = visible_minor(actor=actor, minor_id=minor_id)
    volunteers = volunteer_choices(actor=actor, minor=minor)
    form = PairingCreateForm(request.POST or None, volunteers=volunteers)
    if request.method == "POST" and form.is_valid():
        try:
            pairing = pairing_create(
                actor=actor,
                minor_id=minor.pk,
                volunteer_id=form.cleaned_data["volunteer"],
                activate=form.cleaned_data["activate"],
                request=request,
            )
        except (PairingRefused, ValidationFailed) as failure:
            put_errors(form, failure, aliases={"__all__": "volunteer"})
        else:
            messages.success(request, _("已建立结对。"))
            return HttpResponseRedirect(reverse("pairings:detail", args=[pairing.pk]))
    context = _create_context(actor, minor, form, ConflictForm(volunteers=volunteers))
    return render(request, "pairings/create.html", context, status=422 if form.errors else 200)


@require_POST
@permission_required(Permission.PAIRING_MANAGE)
def conflict_declare_page(request: HttpRequest, minor_id: int) -> HttpResponse:
    actor = request_actor(request)
    minor = visible_minor(actor=actor, minor_id=minor_id)
    volunteers = volunteer_choices(actor=actor, minor=minor)
    conflict_form = ConflictForm(request.POST, volunteers=volunteers)
    if conflict_form.is_valid():
        try:
            conflict_declare(
                actor=actor,
                minor_id=minor.pk,
                volunteer_id=conflict_form.cleaned_data["volunteer"],
                reason=conflict_form.cleaned_data["reason"],
                request=request,
            )
        except (ValidationFailed, ConflictError) as failure:
            put_errors(conflict_form, failure)
        else:
            messages.success(request, _("已记录利益冲突申报。"))
            return HttpResponseRedirect(reverse("pairings:create", args=[minor.pk]))
    form = PairingCreateForm(volunteers=volunteers)
    return render(
        request, "pairings/create.html", _create_context(actor, minor, form, conflict_form), status=422
    )
