"""The pages of data-subject requests: the list with its deadline clock, registering a request from a
child's record, a request with its actions (copy, complete, refuse, erase), and the printable reply
letter. Thin: parse, call a selector or a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.forms import Form
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanai import audit
from guanai.core.access import Permission, may_answer_subject_request, permission_required, request_actor
from guanai.core.errors import ConflictError, ValidationFailed
from guanai.core.masking import mask, mask_field, unmask_field
from guanai.minors import display
from guanai.minors.selectors import minor_get
from guanai.regions.models import Region
from guanai.rights.forms import (
    CompleteForm,
    EraseForm,
    RefuseForm,
    SubjectRequestFilterForm,
    SubjectRequestForm,
)
from guanai.rights.models import DataSubjectRequest
from guanai.rights.selectors import subject_request_get, subject_request_list, subject_requests_due
from guanai.rights.services import (
    erasure_obstacles,
    subject_request_complete,
    subject_request_copy,
    subject_request_erase,
    subject_request_refuse,
    subject_request_register,
)
from guanai.rights.vocabulary import COPY_KINDS, Kind, Status

PAGE_SIZE = 50


def _requester_name(subject_request: DataSubjectRequest, may_unmask: bool) -> str:
    return subject_request.requester_name if may_unmask else mask("name", subject_request.requester_name)


def _shown_text(subject_request: DataSubjectRequest, field_name: str, may_unmask: bool) -> str:
    """A text of the request (what was asked, how it was handled, why it was refused) as the actor may
    see it: in the clear with MINOR_UNMASK, otherwise masked as the field declares."""
    if may_unmask:
        return str(getattr(subject_request, field_name))
    return mask_field(subject_request, field_name)


@require_GET
@permission_required(Permission.MINOR_MANAGE)
def subject_request_list_page(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    form = SubjectRequestFilterForm(request.GET or None)
    today = timezone.localdate()
    requests = subject_request_list(actor=actor, filters=form.to_filters(), today=today)
    page = Paginator(requests, PAGE_SIZE).get_page(request.GET.get("page"))
    may_unmask = actor.has(Permission.MINOR_UNMASK)
    context = {
        "form": form,
        "page": page,
        "rows": [
            (
                row,
                _requester_name(row, may_unmask),
                display.shown_name(row.minor, actor),
                row.is_overdue_on(today),
            )
            for row in page.object_list
        ],
        "clock": subject_requests_due(actor=actor, today=today),
        "today": today,
    }
    return render(request, "rights/list.html", context)


@require_http_methods(["GET", "POST"])
@permission_required(Permission.MINOR_MANAGE)
def subject_request_create_page(request: HttpRequest, minor_id: int) -> HttpResponse:
    actor = request_actor(request)
    minor = minor_get(actor=actor, minor_id=minor_id)
    form = SubjectRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            subject_request = subject_request_register(
                actor=actor, minor_id=minor.pk, data=form.to_input(), request=request
            )
        except ValidationFailed as failure:
            for field, errors in failure.fields.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(
                request,
                _("已登记，答复期限为%(due)s。") % {"due": date_format(subject_request.due_on, "Y年n月j日")},
            )
            return HttpResponseRedirect(reverse("rights:detail", args=[subject_request.pk]))
    context = {"form": form, "minor": minor, "name": display.shown_name(minor, actor)}
    return render(request, "rights/form.html", context)


@require_GET
@permission_required(Permission.MINOR_MANAGE)
def subject_request_detail_page(request: HttpRequest, subject_request_id: int) -> HttpResponse:
    actor = request_actor(request)
    subject_request = subject_request_get(actor=actor, request_id=subject_request_id)
    audit.record(actor=actor, action="subject_request.view", target=subject_request, request=request)
    may_unmask = actor.has(Permission.MINOR_UNMASK)
    is_deletion = subject_request.kind == Kind.DELETION
    context = {
        "subject_request": subject_request,
        "requester_name": _requester_name(subject_request, may_unmask),
        "requester_contact": mask_field(subject_request, "requester_contact"),
        "description": _shown_text(subject_request, "description", may_unmask),
        "outcome_note": _shown_text(subject_request, "outcome_note", may_unmask),
        "refusal_reasons": _shown_text(subject_request, "refusal_reasons", may_unmask),
        "child_name": display.shown_name(subject_request.minor, actor),
        "is_overdue": subject_request.is_overdue_on(timezone.localdate()),
        "may_unmask": may_unmask,
        "may_answer": may_answer_subject_request(actor, subject_request.kind),
        "is_copy_kind": subject_request.kind in COPY_KINDS,
        "is_correction": subject_request.kind == Kind.CORRECTION,
        "is_deletion": is_deletion,
        "obstacles": erasure_obstacles(subject_request.minor)
        if is_deletion and subject_request.is_open
        else [],
        # Ids of their own: the complete and refuse forms both have a `confirmed` box, and with one id
        # the refuse form's label would tick the complete form's box.
        "complete_form": CompleteForm(auto_id="complete-%s"),
        "refuse_form": RefuseForm(auto_id="refuse-%s"),
        "erase_form": EraseForm(auto_id="erase-%s"),
    }
    return render(request, "rights/detail.html", context)


@require_POST
@permission_required(Permission.MINOR_UNMASK)
def subject_request_unmask_contact(request: HttpRequest, subject_request_id: int) -> HttpResponse:
    """The requester's contact in the clear, for the htmx button; an audit event each time."""
    actor = request_actor(request)
    subject_request = subject_request_get(actor=actor, request_id=subject_request_id)
    value = unmask_field(
        actor=actor, instance=subject_request, field_name="requester_contact", request=request
    )
    return render(request, "minors/partials/_unmasked.html", {"value": value})


def _form_errors(form: Form) -> str:
    return "；".join(str(error) for errors in form.errors.values() for error in errors)


def _back(subject_request_id: int) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("rights:detail", args=[subject_request_id]))


@require_POST
@permission_required(Permission.MINOR_UNMASK)
def subject_request_copy_page(request: HttpRequest, subject_request_id: int) -> HttpResponse:
    actor = request_actor(request)
    subject_request_get(actor=actor, request_id=subject_request_id)  # another county's: 404, first
    try:
        copy = subject_request_copy(actor=actor, request_id=subject_request_id, request=request)
    except ConflictError as failure:
        messages.error(request, failure.summary)
        return _back(subject_request_id)
    response = HttpResponse(copy.content, content_type=copy.content_type)
    response["Content-Disposition"] = f'attachment; filename="{copy.filename}"'
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@permission_required(Permission.MINOR_MANAGE)
def subject_request_complete_page(request: HttpRequest, subject_request_id: int) -> HttpResponse:
    actor = request_actor(request)
    subject_request_get(actor=actor, request_id=subject_request_id)  # another county's: 404, first
    form = CompleteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return _back(subject_request_id)
    try:
        subject_request_complete(
            actor=actor, request_id=subject_request_id, note=form.cleaned_data["note"], request=request
        )
    except (ValidationFailed, ConflictError) as failure:
        messages.error(request, failure.summary)
    else:
        messages.success(request, _("已办结，可打印答复函交申请人。"))
    return _back(subject_request_id)


@require_POST
@permission_required(Permission.MINOR_MANAGE)
def subject_request_refuse_page(request: HttpRequest, subject_request_id: int) -> HttpResponse:
    actor = request_actor(request)
    subject_request_get(actor=actor, request_id=subject_request_id)  # another county's: 404, first
    form = RefuseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return _back(subject_request_id)
    try:
        subject_request_refuse(
            actor=actor, request_id=subject_request_id, reasons=form.cleaned_data["reasons"], request=request
        )
    except (ValidationFailed, ConflictError) as failure:
        messages.error(request, failure.summary)
    else:
        messages.success(request, _("已决定不予办理，请打印答复函告知申请人理由。"))
    return _back(subject_request_id)


@require_POST
@permission_required(Permission.MINOR_UNMASK)
def subject_request_erase_page(request: HttpRequest, subject_request_id: int) -> HttpResponse:
    actor = request_actor(request)
    subject_request_get(actor=actor, request_id=subject_request_id)  # another county's: 404, first
    form = EraseForm(request.POST)
    form.is_valid()
    try:
        subject_request_erase(
            actor=actor,
            request_id=subject_request_id,
            confirmation=form.cleaned_data.get("confirmation", ""),
            note=form.cleaned_data.get("note", ""),
            request=request,
        )
    except (ValidationFailed, ConflictError) as failure:
        messages.error(request, failure.summary)
    else:
        messages.success(request, _("已删除该儿童的个人信息，记录已结案。"))
    return _back(subject_request_id)


@require_GET
@permission_required(Permission.MINOR_UNMASK)
def subject_request_letter_page(request: HttpRequest, subject_request_id: int) -> HttpResponse:
    """The reply letter (答复函) of a handled request, to print and hand or send to the requester. It
    names the requester, not the child."""
    actor = request_actor(request)
    subject_request = subject_request_get(actor=actor, request_id=subject_request_id)
    if subject_request.is_open:
        messages.error(request, _("请求办结或决定不予办理后，才能打印答复函。"))
        return _back(subject_request_id)
    # The letter shows the requester's name and the reasons in the clear: each view is recorded.
    audit.record(actor=actor, action="subject_request.letter", target=subject_request, request=request)
    county = Region.objects.filter(code=subject_request.minor.region_id[:6].ljust(12, "0")).first()
    context = {
        "subject_request": subject_request,
        "requester_name": subject_request.requester_name,
        "county": county.name if county else "",
        "is_refused": subject_request.status == Status.REFUSED,
        "is_copy_kind": subject_request.kind in COPY_KINDS,
        "is_correction": subject_request.kind == Kind.CORRECTION,
        "is_deletion": subject_request.kind == Kind.DELETION,
    }
    return render(request, "rights/letter.html", context)
