"""The security administrator's pages for the impact assessments and the personal-information incidents
(个人信息保护法 art. 55–57): lists with filters, forms to record them, and an incident's page with its
steps (report to the authority, notice to the people affected or the reason for not giving it, the
authority requiring it, contained, closed). The auditor reads them; only the security administrator
writes."""

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
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanai.compliance.forms import (
    AssessmentFilterForm,
    AssessmentForm,
    AuthorityNoticeForm,
    IncidentEditForm,
    IncidentFilterForm,
    IncidentForm,
    IndividualsNoticeForm,
    NoticeRequiredForm,
    NotNotifyForm,
)
from guanai.compliance.models import PrivacyIncident
from guanai.compliance.selectors import (
    assessment_get,
    assessment_list,
    incident_get,
    incident_list,
    incidents_overdue_count,
    record_region_choices,
)
from guanai.compliance.services import (
    INCIDENT_FACTS,
    AssessmentInput,
    IncidentInput,
    assessment_create,
    assessment_delete,
    incident_close,
    incident_contain,
    incident_decide_not_to_notify,
    incident_notify_authority,
    incident_notify_individuals,
    incident_report,
    incident_require_notice,
    incident_update,
)
from guanai.compliance.vocabulary import DataCategory, IndividualsDecision
from guanai.core.access import Actor, Permission, permission_required, request_actor
from guanai.core.errors import ConflictError, ValidationFailed
from guanai.web.forms import bit_list, put_errors, region_filter_choices
from guanai.web.views_support import filtered_list, form_submit

PAGE_SIZE = 50
CORRECTABLE = (ValidationFailed, ConflictError)


# --- Impact assessments -------------------------------------------------------------------------------


@require_GET
@permission_required(Permission.PRIVACY_VIEW)
def assessment_list_page(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    form = AssessmentFilterForm(request.GET or None, regions=region_filter_choices(actor))
    rows, error = filtered_list(assessment_list, actor=actor, filters=form.to_filters())
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "form": form,
        "error": error,
        "today": timezone.localdate(),
        "may_manage": actor.has(Permission.PRIVACY_MANAGE),
    }
    htmx = getattr(request, "htmx", False)
    template = "compliance/partials/_assessments.html" if htmx else "compliance/assessments.html"
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@permission_required(Permission.PRIVACY_MANAGE)
def assessment_create_page(request: HttpRequest) -> HttpResponse:
    """A new assessment; `?supersedes=<id>` makes it replace an earlier one (of the same region)."""
    actor = request_actor(request)
    earlier = None
    initial: dict[str, Any] = {"assessed_on": timezone.localdate()}
    supersedes = request.GET.get("supersedes", "")
    if supersedes.isdigit():
        earlier = assessment_get(actor=actor, assessment_id=int(supersedes))
        initial.update(
            supersedes_id=earlier.pk,
            region_code=earlier.region_id,
            title=earlier.title,
            processing_kind=earlier.processing_kind,
            processing_description=earlier.processing_description,
            purpose=earlier.purpose,
            legal_basis=earlier.legal_basis,
            data_categories=earlier.data_categories,
            involves_sensitive_data=earlier.involves_sensitive_data,
            involves_children_under_14=earlier.involves_children_under_14,
        )
    form = AssessmentForm(request.POST or None, initial=initial, regions=record_region_choices(actor=actor))
    return form_submit(
        request,
        form,
        lambda data: assessment_create(actor=actor, data=AssessmentInput(**data), request=request),
        success=_("影响评估已登记，保存期限为评估之日起三年。"),
        then=lambda assessment: reverse("compliance:assessment_detail", args=[assessment.pk]),
        refusals=CORRECTABLE,
    ) or render(request, "compliance/assessment_form.html", {"form": form, "earlier": earlier})


@require_GET
@permission_required(Permission.PRIVACY_VIEW)
def assessment_detail_page(request: HttpRequest, assessment_id: int) -> HttpResponse:
    actor = request_actor(request)
    assessment = assessment_get(actor=actor, assessment_id=assessment_id)
    today = timezone.localdate()
    successor = getattr(assessment, "superseded_by", None)
    context = {
        "assessment": assessment,
        "successor": successor,
        "is_kept": assessment.is_kept_on(today),
        "may_manage": actor.has(Permission.PRIVACY_MANAGE),
    }
    return render(request, "compliance/assessment_detail.html", context)


@require_POST
@permission_required(Permission.PRIVACY_MANAGE)
def assessment_delete_page(request: HttpRequest, assessment_id: int) -> HttpResponse:
    actor = request_actor(request)
    try:
        assessment_delete(actor=actor, assessment_id=assessment_id, request=request)
    except CORRECTABLE as error:
        messages.error(request, error.summary)
        return HttpResponseRedirect(reverse("compliance:assessment_detail", args=[assessment_id]))
    messages.success(request, _("保存期满的影响评估已删除。"))
    return HttpResponseRedirect(reverse("compliance:assessments"))


# --- Incidents ----------------------------------------------------------------------------------------


@require_GET
@permission_required(Permission.PRIVACY_VIEW)
def incident_list_page(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    form = IncidentFilterForm(request.GET or None, regions=region_filter_choices(actor))
    now = timezone.now()
    rows, error = filtered_list(incident_list, actor=actor, filters=form.to_filters())
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "rows": [(incident, incident.is_overdue(now)) for incident in page.object_list],
        "form": form,
        "error": error,
        "overdue_count": incidents_overdue_count(actor=actor, now=now),
        "may_manage": actor.has(Permission.PRIVACY_MANAGE),
    }
    htmx = getattr(request, "htmx", False)
    template = "compliance/partials/_incidents.html" if htmx else "compliance/incidents.html"
    return render(request, template, context)


def _incident_input(data: dict[str, Any], region_code: str) -> IncidentInput:
    return IncidentInput(region_code=region_code, **{name: data[name] for name in INCIDENT_FACTS})


@require_http_methods(["GET", "POST"])
@permission_required(Permission.PRIVACY_MANAGE)
def incident_create_page(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    form = IncidentForm(request.POST or None, regions=record_region_choices(actor=actor))
    return form_submit(
        request,
        form,
        lambda data: incident_report(
            actor=actor, data=_incident_input(data, data["region_code"]), request=request
        ),
        success=_("事件已登记。请尽快向主管部门报告，并决定是否通知个人或其监护人。"),
        then=lambda incident: reverse("compliance:incident_detail", args=[incident.pk]),
        refusals=CORRECTABLE,
    ) or render(request, "compliance/incident_form.html", {"form": form, "incident": None})


@require_http_methods(["GET", "POST"])
@permission_required(Permission.PRIVACY_MANAGE)
def incident_edit_page(request: HttpRequest, incident_id: int) -> HttpResponse:
    actor = request_actor(request)
    incident = incident_get(actor=actor, incident_id=incident_id)
    initial = {name: getattr(incident, name) for name in INCIDENT_FACTS}
    initial.update(
        data_categories=bit_list(incident.data_categories, DataCategory.choices),
        discovered_at=timezone.localtime(incident.discovered_at),
        version=incident.version,
    )
    form = IncidentEditForm(request.POST or None, initial=initial)
    return form_submit(
        request,
        form,
        lambda data: incident_update(
            actor=actor,
            incident_id=incident.pk,
            version=data["version"],
            data=_incident_input(data, incident.region_id),
            request=request,
        ),
        success=_("事件记录已保存。"),
        then=reverse("compliance:incident_detail", args=[incident.pk]),
        refusals=CORRECTABLE,
    ) or render(request, "compliance/incident_form.html", {"form": form, "incident": incident})


def _step_forms(bound: dict[str, forms.Form]) -> dict[str, forms.Form]:
    """The forms of the incident's steps, empty, but for the one just posted with its errors."""
    now = timezone.localtime().replace(second=0, microsecond=0)
    forms_by_name: dict[str, forms.Form] = {
        "authority_form": AuthorityNoticeForm(initial={"notified_at": now}, auto_id="authority-%s"),
        "individuals_form": IndividualsNoticeForm(initial={"notified_at": now}, auto_id="individuals-%s"),
        "not_notify_form": NotNotifyForm(auto_id="not-notify-%s"),
        "required_form": NoticeRequiredForm(initial={"required_at": now}, auto_id="required-%s"),
    }
    forms_by_name.update(bound)
    return forms_by_name


def _render_incident(
    request: HttpRequest, actor: Actor, incident: PrivacyIncident, bound: dict[str, forms.Form] | None = None
) -> HttpResponse:
    now = timezone.now()
    may_manage = actor.has(Permission.PRIVACY_MANAGE) and not incident.is_closed
    context = {
        "incident": incident,
        "is_overdue": incident.is_overdue(now),
        "may_manage": may_manage,
        "decision": IndividualsDecision,
        **(_step_forms(bound or {}) if may_manage else {}),
    }
    return render(request, "compliance/incident_detail.html", context)


@require_GET
@permission_required(Permission.PRIVACY_VIEW)
def incident_detail_page(request: HttpRequest, incident_id: int) -> HttpResponse:
    actor = request_actor(request)
    return _render_incident(request, actor, incident_get(actor=actor, incident_id=incident_id))


def _incident_step(
    request: HttpRequest,
    incident_id: int,
    *,
    form_name: str,
    form: forms.Form | None,
    save: Callable[[Actor, dict[str, Any]], PrivacyIncident],
    success: str,
) -> HttpResponse:
    """A step posted from the incident's page: done, and back to the page with a message; or the page
    again with the step's form and its errors."""
    actor = request_actor(request)
    incident = incident_get(actor=actor, incident_id=incident_id)
    if form is not None and not form.is_valid():
        return _render_incident(request, actor, incident, {form_name: form})
    data = form.cleaned_data if form is not None else {}
    try:
        save(actor, data)
    except CORRECTABLE as error:
        if form is None:
            messages.error(request, error.summary)
            return HttpResponseRedirect(reverse("compliance:incident_detail", args=[incident_id]))
        put_errors(form, error)
        return _render_incident(
            request, actor, incident_get(actor=actor, incident_id=incident_id), {form_name: form}
        )
    messages.success(request, success)
    return HttpResponseRedirect(reverse("compliance:incident_detail", args=[incident_id]))


@require_POST
@permission_required(Permission.PRIVACY_MANAGE)
def incident_authority_page(request: HttpRequest, incident_id: int) -> HttpResponse:
    return _incident_step(
        request,
        incident_id,
        form_name="authority_form",
        form=AuthorityNoticeForm(request.POST, auto_id="authority-%s"),
        save=lambda actor, data: incident_notify_authority(
            actor=actor, incident_id=incident_id, request=request, **data
        ),
        success=_("已记录向主管部门报告。"),
    )


@require_POST
@permission_required(Permission.PRIVACY_MANAGE)
def incident_individuals_page(request: HttpRequest, incident_id: int) -> HttpResponse:
    return _incident_step(
        request,
        incident_id,
        form_name="individuals_form",
        form=IndividualsNoticeForm(request.POST, auto_id="individuals-%s"),
        save=lambda actor, data: incident_notify_individuals(
            actor=actor, incident_id=incident_id, request=request, **data
        ),
        success=_("已记录通知个人或其监护人。"),
    )


@require_POST
@permission_required(Permission.PRIVACY_MANAGE)
def incident_not_notify_page(request: HttpRequest, incident_id: int) -> HttpResponse:
    return _incident_step(
        request,
        incident_id,
        form_name="not_notify_form",
        form=NotNotifyForm(request.POST, auto_id="not-notify-%s"),
        save=lambda actor, data: incident_decide_not_to_notify(
            actor=actor, incident_id=incident_id, request=request, **data
        ),
        success=_("已记录不通知个人的理由。主管部门要求通知时，请在此记录并通知。"),
    )


@require_POST
@permission_required(Permission.PRIVACY_MANAGE)
def incident_notice_required_page(request: HttpRequest, incident_id: int) -> HttpResponse:
    return _incident_step(
        request,
        incident_id,
        form_name="required_form",
        form=NoticeRequiredForm(request.POST, auto_id="required-%s"),
        save=lambda actor, data: incident_require_notice(
            actor=actor, incident_id=incident_id, request=request, **data
        ),
        success=_("已记录主管部门要求通知个人。通知后方可结案。"),
    )


@require_POST
@permission_required(Permission.PRIVACY_MANAGE)
def incident_contain_page(request: HttpRequest, incident_id: int) -> HttpResponse:
    return _incident_step(
        request,
        incident_id,
        form_name="",
        form=None,
        save=lambda actor, _data: incident_contain(actor=actor, incident_id=incident_id, request=request),
        success=_("事件已标记为已控制。"),
    )


@require_POST
@permission_required(Permission.PRIVACY_MANAGE)
def incident_close_page(request: HttpRequest, incident_id: int) -> HttpResponse:
    return _incident_step(
        request,
        incident_id,
        form_name="",
        form=None,
        save=lambda actor, _data: incident_close(actor=actor, incident_id=incident_id, request=request),
        success=_("事件已结案。记录将长期保存。"),
    )
