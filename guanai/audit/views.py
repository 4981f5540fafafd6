from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from guanai.audit.actions import ACTION_LABELS
from guanai.audit.forms import AuditEventFilterForm
from guanai.audit.selectors import AuditEventFilters, audit_event_list, region_names
from guanai.core.access import Permission, permission_required, request_actor
from guanai.core.errors import NotFoundError, ValidationFailed

PAGE_SIZE = 50


@require_GET
@permission_required(Permission.AUDIT_VIEW)
def audit_event_list_page(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    form = AuditEventFilterForm(request.GET)
    filters = AuditEventFilters()
    error = ""
    if form.is_valid():
        filters = form.filters()
    else:
        error = form.error_summary()
    try:
        events = audit_event_list(actor=actor, filters=filters)
    except (ValidationFailed, NotFoundError) as failure:
        error = failure.summary
        events = audit_event_list(actor=actor)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    names = region_names(event.region_code for event in page)
    context = {
        "page": page,
        "rows": [(event, names.get(event.region_code, "")) for event in page],
        "form": form,
        "known_actions": sorted((code, str(label)) for code, label in ACTION_LABELS.items()),
        "error": error,
    }
    template = "audit/partials/_table.html" if getattr(request, "htmx", False) else "audit/list.html"
    return render(request, template, context)
