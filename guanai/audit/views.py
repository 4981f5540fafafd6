from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from guanai.audit.actions import ACTION_LABELS
from guanai.audit.forms import AuditEventFilterForm, AuditReportForm
from guanai.audit.reports import ComplianceReport, audit_compliance_report, report_csv, report_filename
from guanai.audit.selectors import AuditEventFilters, audit_event_list, region_names
from guanai.audit.services import audit_report_record
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


@require_GET
@permission_required(Permission.AUDIT_VIEW)
def audit_report_page(request: HttpRequest) -> HttpResponse:
    """The yearly compliance audit report of the auditor's region or one below it; `format=csv` downloads
    it. A region outside the auditor's answers 404 (the selector's NotFoundError)."""
    actor = request_actor(request)
    form = AuditReportForm(request.GET)
    report: ComplianceReport | None = None
    error = ""
    if form.is_valid():
        try:
            report = audit_compliance_report(
                actor=actor, year=form.year_or_this_year(), region=form.region_code()
            )
        except ValidationFailed as failure:
            error = failure.summary
    else:
        error = form.error_summary()
    if report is not None:
        file_format = "csv" if request.GET.get("format") == "csv" else "html"
        audit_report_record(
            actor=actor,
            year=report.year,
            region_code=report.region_code,
            file_format=file_format,
            request=request,
        )
        if file_format == "csv":
            response = HttpResponse(report_csv(report), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{report_filename(report, "csv")}"'
            return response
    return render(request, "audit/report.html", {"form": form, "report": report, "error": error})
