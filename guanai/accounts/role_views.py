"""Pages of staff access: the roles in the actor's region, requests for a role with their approval one
level up, ending a role at once, and the periodic review (the rules: `guanai.accounts.services`)."""

from __future__ import annotations

import contextlib

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanai.accounts.forms import RoleDecisionForm, RoleEndForm, RoleFilterForm, RoleGrantRequestForm
from guanai.accounts.models import RoleGrantRequest
from guanai.accounts.selectors import (
    role_assignment_get,
    role_assignments,
    role_grant_request_get,
    role_grant_requests,
)
from guanai.accounts.services import (
    may_decide_grant,
    role_end,
    role_grant_request_create,
    role_grant_request_decide,
    role_grant_request_withdraw,
    role_review,
)
from guanai.committees.models import Committee
from guanai.core.access import Permission, permission_required, request_actor
from guanai.core.errors import ConflictError, ValidationFailed
from guanai.web.forms import put_errors, region_filter_choices

PAGE_SIZE = 50


def _roles_page(request: HttpRequest, *, review: bool) -> HttpResponse:
    actor = request_actor(request)
    form = RoleFilterForm(request.GET or None, regions=region_filter_choices(actor))
    filters = form.cleaned_data if form.is_valid() else {}
    assignments = role_assignments(
        actor=actor,
        search=filters.get("q", ""),
        role=filters.get("role", ""),
        region_code=filters.get("region", ""),
        due_only=review or bool(filters.get("due")),
    )
    page = Paginator(assignments, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "review": review,
        "review_days": settings.GUANAI_ROLE_REVIEW_DAYS,
    }
    return render(request, "accounts/roles.html", context)


@require_GET
@permission_required(Permission.ACCOUNT_MANAGE)
def roles(request: HttpRequest) -> HttpResponse:
    """Who holds which role in the actor's region, with filters."""
    return _roles_page(request, review=False)


@require_GET
@permission_required(Permission.ACCOUNT_MANAGE)
def role_review_due(request: HttpRequest) -> HttpResponse:
    """The assignments due for their periodic review: confirm each, or end it."""
    return _roles_page(request, review=True)


@require_http_methods(["GET", "POST"])
@permission_required(Permission.ACCOUNT_MANAGE)
def role_end_page(request: HttpRequest, assignment_id: int) -> HttpResponse:
    actor = request_actor(request)
    assignment = role_assignment_get(actor=actor, assignment_id=assignment_id)
    form = RoleEndForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            role_end(
                actor=actor, assignment_id=assignment.pk, reason=form.cleaned_data["reason"], request=request
            )
        except ValidationFailed as error:
            put_errors(form, error)
        except ConflictError as error:
            form.add_error(None, error.message)
        else:
            return HttpResponseRedirect(reverse("accounts:roles"))
    return render(request, "accounts/role_end.html", {"assignment": assignment, "form": form})


@require_http_methods(["GET", "POST"])
@permission_required(Permission.ACCOUNT_MANAGE)
def role_review_page(request: HttpRequest, assignment_id: int) -> HttpResponse:
    actor = request_actor(request)
    assignment = role_assignment_get(actor=actor, assignment_id=assignment_id)
    error_message = ""
    if request.method == "POST":
        try:
            role_review(actor=actor, assignment_id=assignment.pk, request=request)
        except ConflictError as error:
            error_message = error.message
        else:
            return HttpResponseRedirect(reverse("accounts:role_review_due"))
    # `is_review_due` is annotated by the selector (`role_assignments`).
    due = bool(getattr(assignment, "is_review_due", False))
    context = {"assignment": assignment, "due": due, "error": error_message}
    return render(request, "accounts/role_review.html", context)


@require_GET
@permission_required(Permission.ACCOUNT_MANAGE)
def role_requests(request: HttpRequest) -> HttpResponse:
    """The pending requests in the actor's region; the buttons only for those who may decide."""
    actor = request_actor(request)
    page = Paginator(role_grant_requests(actor=actor), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(grant, may_decide_grant(actor, grant)) for grant in page]
    return render(request, "accounts/role_requests.html", {"rows": rows, "page": page})


@require_http_methods(["GET", "POST"])
@permission_required(Permission.ACCOUNT_MANAGE)
def role_request_new(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    committees = Committee.objects.visible_to(actor).order_by("region_id", "name")
    form = RoleGrantRequestForm(request.POST or None, committees=committees)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            grant = role_grant_request_create(
                actor=actor,
                username=data["username"],
                role=data["role"],
                region_code=data["region"],
                committee_id=data["committee"].pk if data["committee"] else None,
                valid_from=data["valid_from"],
                valid_to=data["valid_to"],
                reason=data["reason"],
                request=request,
            )
        except ValidationFailed as error:
            put_errors(form, error)
        except ConflictError as error:
            form.add_error(None, error.message)
        else:
            return HttpResponseRedirect(reverse("accounts:role_request", args=[grant.pk]))
    return render(request, "accounts/role_request_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
@permission_required(Permission.ACCOUNT_MANAGE)
def role_request(request: HttpRequest, grant_request_id: int) -> HttpResponse:
    """One request with its reason; approve or decline it (POST), for those who may."""
    actor = request_actor(request)
    grant = role_grant_request_get(actor=actor, grant_request_id=grant_request_id)
    form = RoleDecisionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                role_grant_request_decide(
                    actor=actor,
                    grant_request_id=grant.pk,
                    approve=form.cleaned_data["decision"] == "approve",
                    note=form.cleaned_data["note"],
                    request=request,
                )
            except ValidationFailed as error:
                put_errors(form, error)
            except ConflictError as error:
                form.add_error(None, error.message)
            else:
                return HttpResponseRedirect(reverse("accounts:role_requests"))
        status = 400
    context = {
        "grant": grant,
        "form": form,
        "may_decide": grant.state == RoleGrantRequest.State.PENDING and may_decide_grant(actor, grant),
        "may_withdraw": grant.state == RoleGrantRequest.State.PENDING
        and actor.user is not None
        and grant.requested_by_id == actor.user.pk,
    }
    return render(request, "accounts/role_request.html", context, status=status)


@require_POST
@permission_required(Permission.ACCOUNT_MANAGE)
def role_request_withdraw(request: HttpRequest, grant_request_id: int) -> HttpResponse:
    with contextlib.suppress(ConflictError):  # decided meanwhile: the request's page shows its state
        role_grant_request_withdraw(
            actor=request_actor(request), grant_request_id=grant_request_id, request=request
        )
    return HttpResponseRedirect(reverse("accounts:role_request", args=[grant_request_id]))
