"""The professional's pages (咨询服务台): 我的咨询 (`/consultations/conversations/`), one request with its
conversation (`/consultations/<id>/`), its attachments, 我的预约 (`/consultations/appointments/`), and the
POST endpoints of the request's page (reply, notes, booking, cancelling, closing, referral, the phone).

Only the professional a request is assigned to, once they accepted it, reaches any of these for it;
anyone else gets 404 (`guanai.consultations.selectors`). Opening the page, showing the phone and
downloading a file are audit events. Thin: parse, call a selector or a service, render.
"""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import quote

from django import forms
from django.contrib import messages as flash
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guanai.consultations import selectors
from guanai.consultations.conversation import (
    appointment_book,
    appointment_cancel,
    appointment_done,
    attachment_open,
    consultation_close,
    consultation_notes_save,
    free_slots,
    legal_aid_refer,
    message_post,
)
from guanai.consultations.models import Consultation
from guanai.consultations.professional_forms import (
    BookingForm,
    CloseForm,
    ConversationFilterForm,
    NotesForm,
    ReferralForm,
    ReplyForm,
    put_errors,
)
from guanai.consultations.vocabulary import Kind, Outcome, Sender, State
from guanai.core.access import Actor, Permission, permission_required, request_actor
from guanai.core.errors import ConflictError, DomainError, ValidationFailed

PAGE_SIZE = 50
THREAD_TEMPLATE = "consultations/professional/_conversation.html"


# --- 我的咨询 ---------------------------------------------------------------------------------------------


@require_GET
@permission_required(Permission.CONSULTATION_ANSWER)
def conversations_page(request: HttpRequest) -> HttpResponse:
    """My requests in progress and recently closed: metadata only (reference, kind, topic, clocks); the
    requester's name and words are on the request's own page, whose opening is recorded."""
    actor = request_actor(request)
    form = ConversationFilterForm(request.GET or None)
    state = kind = ""
    if form.is_valid():
        state, kind = form.cleaned_data["state"], form.cleaned_data["kind"]
    rows = selectors.professional_conversations(actor=actor, state=state, kind=kind)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "now": timezone.now(), "active": "conversations"}
    return render(request, "consultations/professional/conversations.html", context)


# --- One request ------------------------------------------------------------------------------------------


def _slots(consultation: Consultation) -> list[datetime.datetime]:
    return free_slots(consultation=consultation, now=timezone.now())


def _detail_context(
    request: HttpRequest,
    actor: Actor,
    consultation: Consultation,
    **forms_given: forms.Form,
) -> dict[str, Any]:
    """Everything the request's page shows; forms given (bound, with errors) replace the blank ones."""
    is_open = consultation.state == State.ACCEPTED
    slots = _slots(consultation) if is_open else []
    referral = selectors.referral_of(consultation)
    close_initial: dict[str, Any] = {"version": consultation.version}
    if referral is not None:
        # A request converted into a legal-aid referral is closed as such.
        close_initial["outcome"] = Outcome.LEGAL_AID
    context: dict[str, Any] = {
        "consultation": consultation,
        "is_open": is_open,
        "thread_messages": selectors.thread_messages(consultation=consultation),
        "phone": selectors.masked_phone(consultation),
        "may_show_phone": selectors.phone_may_be_shown(consultation),
        "appointments": selectors.consultation_appointments(consultation=consultation),
        "referral": referral,
        "may_refer": consultation.kind == Kind.LEGAL and referral is None,
        "reply_form": ReplyForm(),
        "notes_form": NotesForm(initial={"notes": consultation.notes}),
        "booking_form": BookingForm(slots=slots),
        "close_form": CloseForm(initial=close_initial),
        "referral_form": ReferralForm(),
        "slots": slots,
        "active": "conversations",
        "now": timezone.now(),
    }
    context.update(forms_given)
    return context


def _render_detail(
    request: HttpRequest, actor: Actor, consultation_id: int, *, status: int = 200, **forms_given: forms.Form
) -> HttpResponse:
    consultation = selectors.conversation_view(actor=actor, consultation_id=consultation_id, request=request)
    context = _detail_context(request, actor, consultation, **forms_given)
    return render(request, "consultations/professional/detail.html", context, status=status)


def _failure_status(error: DomainError) -> int:
    return 409 if isinstance(error, ConflictError) else 200


def _to_detail(consultation_id: int, anchor: str = "") -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("consultations:detail", args=[consultation_id]) + anchor)


@require_GET
@permission_required(Permission.CONSULTATION_ANSWER)
def detail_page(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, request_actor(request), pk)


@require_POST
@permission_required(Permission.CONSULTATION_ANSWER)
def reply(request: HttpRequest, pk: int) -> HttpResponse:
    """A reply with attachments. From htmx the conversation is swapped in place (the thread and a fresh
    form, or the form with its errors); without JavaScript the page is shown again."""
    actor = request_actor(request)
    consultation = selectors.conversation_get(actor=actor, consultation_id=pk)
    form = ReplyForm(request.POST, request.FILES)
    status = 200
    if form.is_valid():
        try:
            message_post(
                consultation=consultation,
                sender=Sender.PROFESSIONAL,
                body=form.cleaned_data["body"],
                author=actor.user,
                files=form.cleaned_data["files"],
                request=request,
            )
        except (ValidationFailed, ConflictError) as error:
            put_errors(form, error)
            status = _failure_status(error)
        else:
            if not getattr(request, "htmx", False):
                flash.success(request, _("回复已发送。"))
                return _to_detail(pk, "#conversation")
            form = ReplyForm()
    if getattr(request, "htmx", False):
        # htmx swaps 2xx answers only: the form's errors come back with 200.
        consultation = selectors.conversation_view(
            actor=actor, consultation_id=pk, part="thread", request=request
        )
        context = {
            "consultation": consultation,
            "is_open": consultation.state == State.ACCEPTED,
            "thread_messages": selectors.thread_messages(consultation=consultation),
            "reply_form": form,
        }
        return render(request, THREAD_TEMPLATE, context)
    return _render_detail(request, actor, pk, status=status, reply_form=form)


@require_GET
@permission_required(Permission.CONSULTATION_ANSWER)
def attachment_download(request: HttpRequest, pk: int, attachment_id: int) -> HttpResponse:
    actor = request_actor(request)
    attachment = selectors.attachment_for_professional(
        actor=actor, consultation_id=pk, attachment_id=attachment_id, request=request
    )
    data, content_type = attachment_open(attachment=attachment)
    response = HttpResponse(data, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(attachment.original_name)}"
    return response


@require_POST
@permission_required(Permission.CONSULTATION_ANSWER)
def notes_save(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request_actor(request)
    form = NotesForm(request.POST)
    if form.is_valid():
        try:
            consultation_notes_save(
                actor=actor, consultation_id=pk, notes=form.cleaned_data["notes"], request=request
            )
        except (ValidationFailed, ConflictError) as error:
            put_errors(form, error)
            return _render_detail(request, actor, pk, status=_failure_status(error), notes_form=form)
        flash.success(request, _("咨询记录已保存。"))
        return _to_detail(pk, "#notes")
    selectors.conversation_get(actor=actor, consultation_id=pk)
    return _render_detail(request, actor, pk, notes_form=form)


@require_POST
@permission_required(Permission.CONSULTATION_ANSWER)
def book(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request_actor(request)
    consultation = selectors.conversation_get(actor=actor, consultation_id=pk)
    form = BookingForm(request.POST, slots=_slots(consultation))
    status = 200
    if form.is_valid():
        try:
            appointment_book(
                consultation=consultation,
                starts_at=form.starts_at_value(),
                mode=form.cleaned_data["mode"],
                booked_by=Sender.PROFESSIONAL,
                note=form.cleaned_data["note"],
                actor=actor,
                request=request,
            )
        except (ValidationFailed, ConflictError) as error:
            put_errors(form, error)
            status = _failure_status(error)
        else:
            flash.success(request, _("已预约，求助人会在对话中看到预约时间。"))
            return _to_detail(pk, "#appointments")
    return _render_detail(request, actor, pk, status=status, booking_form=form)


@require_POST
@permission_required(Permission.CONSULTATION_ANSWER)
def appointment_cancel_view(request: HttpRequest, pk: int, appointment_id: int) -> HttpResponse:
    actor = request_actor(request)
    consultation = selectors.conversation_get(actor=actor, consultation_id=pk)
    try:
        appointment_cancel(
            consultation=consultation,
            appointment_id=appointment_id,
            by=Sender.PROFESSIONAL,
            actor=actor,
            request=request,
        )
    except ConflictError as error:
        flash.error(request, error.message)
    else:
        flash.success(request, _("预约已取消。"))
    return _to_detail(pk, "#appointments")


@require_POST
@permission_required(Permission.CONSULTATION_ANSWER)
def appointment_done_view(request: HttpRequest, pk: int, appointment_id: int) -> HttpResponse:
    actor = request_actor(request)
    try:
        appointment_done(actor=actor, consultation_id=pk, appointment_id=appointment_id, request=request)
    except ConflictError as error:
        flash.error(request, error.message)
    else:
        flash.success(request, _("已标记为完成。"))
    return _to_detail(pk, "#appointments")


@require_POST
@permission_required(Permission.CONSULTATION_ANSWER)
def close(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request_actor(request)
    form = CloseForm(request.POST)
    status = 200
    if form.is_valid():
        try:
            consultation_close(
                actor=actor,
                consultation_id=pk,
                outcome=form.cleaned_data["outcome"],
                summary=form.cleaned_data["summary"],
                service_hours=form.cleaned_data["service_hours"],
                version=form.cleaned_data["version"],
                request=request,
            )
        except (ValidationFailed, ConflictError) as error:
            put_errors(form, error)
            status = _failure_status(error)
        else:
            flash.success(request, _("咨询已结束，服务时长已计入您的志愿服务记录。"))
            return _to_detail(pk)
    else:
        selectors.conversation_get(actor=actor, consultation_id=pk)
    return _render_detail(request, actor, pk, status=status, close_form=form)


@require_POST
@permission_required(Permission.CONSULTATION_ANSWER)
def refer(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request_actor(request)
    form = ReferralForm(request.POST)
    status = 200
    if form.is_valid():
        try:
            legal_aid_refer(
                actor=actor,
                consultation_id=pk,
                referred_to=form.cleaned_data["referred_to"],
                facts=form.cleaned_data["facts"],
                requester_is_minor_without_income=form.cleaned_data["requester_is_minor_without_income"],
                request=request,
            )
        except (ValidationFailed, ConflictError) as error:
            put_errors(form, error)
            status = _failure_status(error)
        else:
            flash.success(request, _("已转介法律援助。如咨询已处理完毕，请以“转介法律援助”结束本次咨询。"))
            return _to_detail(pk, "#close")
    else:
        selectors.conversation_get(actor=actor, consultation_id=pk)
    return _render_detail(request, actor, pk, status=status, referral_form=form)


@require_POST
@permission_required(Permission.CONSULTATION_ANSWER)
def unmask_phone(request: HttpRequest, pk: int) -> HttpResponse:
    """The requester's phone in the clear, for the htmx button "显示号码"; an audit event each time."""
    actor = request_actor(request)
    try:
        phone = selectors.contact_phone_unmask(actor=actor, consultation_id=pk, request=request)
    except ConflictError as error:
        return render(
            request, "consultations/professional/_phone.html", {"message": error.message}, status=409
        )
    return render(request, "consultations/professional/_phone.html", {"phone": phone})


# --- 我的预约 ---------------------------------------------------------------------------------------------


@require_GET
@permission_required(Permission.CONSULTATION_ANSWER)
def appointments_page(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    now = timezone.now()
    appointments = list(selectors.professional_appointments(actor=actor, now=now))
    context = {"appointments": appointments, "now": now, "active": "appointments"}
    return render(request, "consultations/professional/appointments.html", context)
