"""The public pages of online help (/help/): asking for help without an account, the reference and
retrieval code shown once, and the requester's own pages — reading replies, writing back, booking,
rating. Phone-sized, 长辈模式 on by default like the volunteers' sign-up, the hotlines on every page.

Thin: parse, call `guanai.consultations.intake` or `conversation`, render. Whoever is signed in gets
nothing more here than anyone else: the requester's pages open with the reference and the code only.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanai.consultations import conversation
from guanai.consultations.codes import normalise_code
from guanai.consultations.forms import slot_label
from guanai.consultations.intake import (
    IntakeRateLimited,
    RequestNotFound,
    RetrievalRateLimited,
    booked_appointments,
    consultation_for_requester,
    consultation_submit,
    professional_title,
    requester_messages,
    requester_session_consultation,
    requester_session_grant,
    requester_session_revoke,
    state_in_words,
)
from guanai.consultations.models import Attachment, Consultation
from guanai.consultations.public_forms import (
    BookingForm,
    IntakeForm,
    MessageForm,
    RatingForm,
    RetrievalForm,
)
from guanai.consultations.vocabulary import Kind, Sender, State, hotlines
from guanai.core.access import public
from guanai.core.errors import DomainError, NotFoundError, ValidationFailed
from guanai.volunteers.signup import province_root, region_chooser
from guanai.web.forms import put_errors
from guanai.web.preferences import ELDER_MODE_SESSION_KEY

# The reference and the code of the request just made, kept in the session only until the done page
# has shown them once.
DONE_SESSION_KEY = "consultation_intake_done"
# The service's region field is the township chosen, else the county; its errors go on the county.
FIELD_ALIASES = {"region_code": "county"}


def _public_page(request: HttpRequest) -> dict[str, Any]:
    """For children and elders on phones: 长辈模式 is on unless the person switched it off (the switch in
    the page header remembers the choice in the session), and the hotlines are on every page."""
    return {
        "elder_mode": bool(request.session.get(ELDER_MODE_SESSION_KEY, True)),
        "hotlines": hotlines(),
    }


@require_GET
@public
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "consultations/public/home.html", _public_page(request))


# --- Asking for help -------------------------------------------------------------------------------


def _chooser(data: Any) -> Any:
    """County (grouped by city) → township, with the volunteers' sign-up chooser; a requester names no
    village: the county is enough to route the request, and less is asked of a child."""
    return region_chooser(
        root=province_root(), county=data.get("county", ""), township=data.get("township", "")
    )


@require_GET
@public
def regions(request: HttpRequest) -> HttpResponse:
    """The county and township selects, refilled when one of them changes (htmx)."""
    return render(
        request, "consultations/public/partials/_region_chooser.html", {"chooser": _chooser(request.GET)}
    )


@require_GET
@public
def topics(request: HttpRequest) -> HttpResponse:
    """The topic select for the kind just chosen (htmx)."""
    form = IntakeForm(kind=request.GET.get("kind", ""))
    return render(request, "consultations/public/partials/_topic_field.html", {"form": form})


@require_http_methods(["GET", "POST"])
@public
def ask(request: HttpRequest) -> HttpResponse:
    page = _public_page(request)
    kind = request.GET.get("kind", "")
    form = IntakeForm(request.POST or None, kind=kind if kind in Kind.values else "")
    show_errors = True
    limited: IntakeRateLimited | None = None
    status = 200
    if request.method == "POST":
        if request.POST.get("action") == "refresh":  # the kind or the region chooser without JavaScript
            show_errors = False
        elif form.is_valid():
            try:
                result = consultation_submit(request=request, data=form.to_input())
            except IntakeRateLimited as error:
                limited, status = error, 429
            except ValidationFailed as error:
                put_errors(form, error, aliases=FIELD_ALIASES)
            else:
                requester_session_grant(request, result.consultation)
                request.session[DONE_SESSION_KEY] = {
                    "reference": result.consultation.reference,
                    "code": result.retrieval_code,
                    "urgent": result.urgent,
                }
                return HttpResponseRedirect(reverse("consultations_public:done"))
    context = {
        **page,
        "form": form,
        "show_errors": show_errors,
        "limited": limited,
        "chooser": _chooser(request.POST),
        "kind": form["kind"].value() or "",
        "notice_version": settings.GUANAI_CONSULTATION_NOTICE_VERSION,
        # The promise is kept by consultations.retention (the daily consultations.purge_expired).
        "retention_years": settings.GUANAI_CONSULTATION_RETENTION_YEARS,
    }
    return render(request, "consultations/public/ask.html", context, status=status)


@never_cache
@require_GET
@public
def done(request: HttpRequest) -> HttpResponse:
    """The reference and the retrieval code, shown once: a reload shows them no more."""
    shown = request.session.pop(DONE_SESSION_KEY, None)
    context = {**_public_page(request), "shown": shown if isinstance(shown, dict) else None}
    return render(request, "consultations/public/done.html", context)


# --- The requester's pages -------------------------------------------------------------------------


def _to_retrieval(reference: str) -> HttpResponse:
    query = urlencode({"reference": normalise_code(reference)[:32]})
    return HttpResponseRedirect(f"{reverse('consultations_public:retrieve')}?{query}")


@never_cache
@require_http_methods(["GET", "POST"])
@public
def retrieve(request: HttpRequest) -> HttpResponse:
    """查看回复: the reference and the code; a wrong pair says so and nothing else."""
    form = RetrievalForm(request.POST or None, initial={"reference": request.GET.get("reference", "")[:32]})
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            consultation = consultation_for_requester(
                request=request, reference=form.cleaned_data["reference"], code=form.cleaned_data["code"]
            )
        except RetrievalRateLimited as error:
            form.add_error(None, error.message)
            status = 429
        except RequestNotFound as error:
            form.add_error(None, error.message)
        else:
            requester_session_grant(request, consultation)
            return HttpResponseRedirect(
                reverse("consultations_public:conversation", args=[consultation.reference])
            )
    context = {**_public_page(request), "form": form}
    return render(request, "consultations/public/retrieve.html", context, status=status)


def _granted(request: HttpRequest, reference: str) -> Consultation | None:
    return requester_session_consultation(request, normalise_code(reference))


def _conversation_context(
    request: HttpRequest,
    consultation: Consultation,
    *,
    message_form: MessageForm | None = None,
    booking_form: BookingForm | None = None,
    rating_form: RatingForm | None = None,
) -> dict[str, Any]:
    context: dict[str, Any] = {
        **_public_page(request),
        "consultation": consultation,
        "state_words": state_in_words(consultation),
        "professional_title": professional_title(consultation),
        # Not "messages": that is the page's flash messages.
        "thread_messages": requester_messages(consultation=consultation),
        "viewer": Sender.REQUESTER,
        "attachment_url_name": "consultations_public:attachment",
        "attachment_url_arg": consultation.reference,
        "appointments": booked_appointments(consultation=consultation),
        "is_open": consultation.state != State.CLOSED,
    }
    if consultation.state != State.CLOSED:
        context["message_form"] = message_form or MessageForm()
    if consultation.state == State.ACCEPTED:
        slots = conversation.free_slots(consultation=consultation, now=timezone.now())
        context["booking_form"] = booking_form or BookingForm(slots=slots)
        context["slots"] = [slot_label(slot) for slot in slots]
    if consultation.state == State.CLOSED and consultation.rating is None:
        context["rating_form"] = rating_form or RatingForm()
    return context


def _render_conversation(request: HttpRequest, consultation: Consultation, **forms: Any) -> HttpResponse:
    context = _conversation_context(request, consultation, **forms)
    return render(request, "consultations/public/conversation.html", context)


def _back(consultation: Consultation, anchor: str = "") -> HttpResponse:
    url = reverse("consultations_public:conversation", args=[consultation.reference])
    return HttpResponseRedirect(url + anchor)


@never_cache
@require_GET
@public
def conversation_page(request: HttpRequest, reference: str) -> HttpResponse:
    consultation = _granted(request, reference)
    if consultation is None:
        return _to_retrieval(reference)
    return _render_conversation(request, consultation)


@never_cache
@require_POST
@public
def message(request: HttpRequest, reference: str) -> HttpResponse:
    """Write back, with up to three attachments."""
    consultation = _granted(request, reference)
    if consultation is None:
        return _to_retrieval(reference)
    form = MessageForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            conversation.message_post(
                consultation=consultation,
                sender=Sender.REQUESTER,
                body=form.cleaned_data["body"],
                files=form.cleaned_data["attachments"],
                request=request,
            )
        except ValidationFailed as error:
            put_errors(form, error, aliases={"files": "attachments"})
        except DomainError as error:
            messages.error(request, error.message)
            return _back(consultation)
        else:
            messages.success(request, _("已发送。志愿者回复后，请用受理编号和查询码回来查看。"))
            return _back(consultation, "#thread")
    consultation.refresh_from_db()
    return _render_conversation(request, consultation, message_form=form)


@never_cache
@require_POST
@public
def book(request: HttpRequest, reference: str) -> HttpResponse:
    """预约 a conversation by phone, video or in person in one of the professional's free hours."""
    consultation = _granted(request, reference)
    if consultation is None:
        return _to_retrieval(reference)
    if consultation.state != State.ACCEPTED:
        messages.error(request, _("志愿者接手后才能预约。"))
        return _back(consultation)
    slots = conversation.free_slots(consultation=consultation, now=timezone.now())
    form = BookingForm(request.POST, slots=slots)
    if form.is_valid():
        try:
            conversation.appointment_book(
                consultation=consultation,
                starts_at=form.starts_at_value(),
                mode=form.cleaned_data["mode"],
                booked_by=Sender.REQUESTER,
                note=form.cleaned_data["note"],
                request=request,
            )
        except ValidationFailed as error:
            put_errors(form, error)
        except DomainError as error:
            messages.error(request, error.message)
            return _back(consultation, "#booking")
        else:
            messages.success(request, _("预约成功，请按时等待志愿者联系。"))
            return _back(consultation, "#appointments")
    return _render_conversation(request, consultation, booking_form=form)


@never_cache
@require_POST
@public
def cancel(request: HttpRequest, reference: str, appointment_id: int) -> HttpResponse:
    consultation = _granted(request, reference)
    if consultation is None:
        return _to_retrieval(reference)
    try:
        conversation.appointment_cancel(
            consultation=consultation, appointment_id=appointment_id, by=Sender.REQUESTER, request=request
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("已取消预约。"))
    return _back(consultation, "#appointments")


@never_cache
@require_POST
@public
def rate(request: HttpRequest, reference: str) -> HttpResponse:
    """满意度 1–5, once the request is closed."""
    consultation = _granted(request, reference)
    if consultation is None:
        return _to_retrieval(reference)
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            conversation.consultation_rate(
                consultation=consultation,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
                request=request,
            )
        except ValidationFailed as error:
            put_errors(form, error)
        except DomainError as error:
            messages.error(request, error.message)
            return _back(consultation)
        else:
            messages.success(request, _("谢谢你的评价！"))
            return _back(consultation, "#rating")
    if consultation.state != State.CLOSED or consultation.rating is not None:
        messages.error(request, _("求助结束后才能评价，每次求助只能评价一次。"))
        return _back(consultation)
    return _render_conversation(request, consultation, rating_form=form)


@require_POST
@public
def leave(request: HttpRequest, reference: str) -> HttpResponse:
    """退出: this browser forgets the request; opening it again needs the code."""
    requester_session_revoke(request, normalise_code(reference))
    messages.info(request, _("已退出。再次查看需要输入受理编号和查询码。"))
    return HttpResponseRedirect(reverse("consultations_public:home"))


@never_cache
@require_GET
@public
def attachment(request: HttpRequest, reference: str, attachment_id: int) -> HttpResponse:
    consultation = _granted(request, reference)
    if consultation is None:
        return _to_retrieval(reference)
    found = Attachment.objects.filter(pk=attachment_id, message__consultation=consultation).first()
    if found is None:
        raise NotFoundError()
    content, content_type = conversation.attachment_open(attachment=found)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, found.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    return response
