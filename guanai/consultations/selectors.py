"""Reads of the professional's own conversations: the requests they accepted (open and closed), one
request with its thread, appointments and attachments, and the requester's phone.

Confidentiality (issue 7 §5, DOMAIN.md §4): what identifies the requester — name, phone, the
description, the messages, the attachments — and the professional's notes are read here and only by the
professional the request is assigned to, once they have accepted it. A request only offered to them
shows metadata in the queue (guanai.consultations.routing), nowhere else; a supervisor reads metadata
through their own pages; everyone else gets 404, exactly as for a request that does not exist. Every
opening of a request, every unmask of the phone and every download is an audit event.
"""

from __future__ import annotations

import datetime

from django.db.models import Case, F, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy

from guanai import audit
from guanai.audit.services import Outcome
from guanai.consultations.models import Appointment, Attachment, Consultation, LegalAidReferral, Message
from guanai.consultations.vocabulary import AppointmentState, ContactPreference, Kind, State
from guanai.core.access import Actor, Permission
from guanai.core.errors import ConflictError, NotFoundError
from guanai.core.masking import mask

VIEW_ACTION = "consultation.view"
ATTACHMENT_ACTION = "consultation.attachment_view"
UNMASK_ACTION = "personal_data.unmask"
# The list of "my conversations" shows the open ones and those closed in the last RECENT_CLOSED_DAYS;
# older ones are reached with the "已结束" filter.
RECENT_CLOSED_DAYS = 90
STATE_FILTERS = (State.ACCEPTED, State.CLOSED)


def _mine(actor: Actor) -> QuerySet[Consultation]:
    """Requests assigned to the actor that they accepted (in progress or closed). A request offered to
    them and not yet accepted is not here: until they accept, they see its metadata in the queue only."""
    if actor.user is None or not actor.has(Permission.CONSULTATION_ANSWER):
        return Consultation.objects.none()
    return Consultation.objects.assigned_to_actor(actor).filter(state__in=STATE_FILTERS)


def professional_conversations(
    *, actor: Actor, state: str = "", kind: str = "", now: datetime.datetime | None = None
) -> QuerySet[Consultation]:
    """我的咨询: the actor's requests in progress (the earliest reply due first, urgent ones first among
    equals) and then the closed ones (the latest first). `state` "accepted" or "closed" narrows; without
    it the closed ones are those of the last RECENT_CLOSED_DAYS."""
    rows = _mine(actor)
    if state in STATE_FILTERS:
        rows = rows.filter(state=state)
    else:
        since = (now or timezone.now()) - datetime.timedelta(days=RECENT_CLOSED_DAYS)
        rows = rows.filter(Q(state=State.ACCEPTED) | Q(closed_at__gte=since))
    if kind in Kind.values:
        rows = rows.filter(kind=kind)
    return (
        rows.select_related("region")
        .annotate(
            open_first=Case(
                When(state=State.ACCEPTED, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by(
            "open_first",
            F("reply_due_at").asc(nulls_last=True),
            "-is_urgent",
            F("last_message_at").desc(nulls_last=True),
            "-closed_at",
            "-id",
        )
    )


def conversation_get(*, actor: Actor, consultation_id: int) -> Consultation:
    """One of the actor's accepted requests (in progress or closed); NotFoundError otherwise. Reads no
    audit: `conversation_view` is the read of a person."""
    consultation = _mine(actor).select_related("region", "assigned_to").filter(pk=consultation_id).first()
    if consultation is None:
        raise NotFoundError()
    return consultation


def conversation_view(
    *, actor: Actor, consultation_id: int, part: str = "detail", request: HttpRequest | None = None
) -> Consultation:
    """A request opened by its professional (the page, the API's detail, its messages): `conversation_get`
    and one audit event naming the part read."""
    consultation = conversation_get(actor=actor, consultation_id=consultation_id)
    audit.record(actor=actor, action=VIEW_ACTION, target=consultation, detail={"part": part}, request=request)
    return consultation


def thread_messages(*, consultation: Consultation) -> list[Message]:
    """The conversation, oldest first, each message with its attachments (for partials/_thread.html)."""
    return list(
        consultation.messages.prefetch_related(
            Prefetch("attachments", queryset=Attachment.objects.order_by("id"))
        )
        .order_by("created_at", "id")
        .all()
    )


def consultation_appointments(*, consultation: Consultation) -> list[Appointment]:
    """Every appointment of a request, the soonest first."""
    return list(Appointment.objects.filter(consultation=consultation).order_by("starts_at", "id"))


def referral_of(consultation: Consultation) -> LegalAidReferral | None:
    return LegalAidReferral.objects.filter(consultation=consultation).first()


def professional_appointments(*, actor: Actor, now: datetime.datetime) -> QuerySet[Appointment]:
    """我的预约: booked appointments of the actor's requests in progress, from the current hour on, the
    soonest first."""
    return (
        Appointment.objects.filter(
            consultation__in=_mine(actor).filter(state=State.ACCEPTED).values("pk"),
            state=AppointmentState.BOOKED,
            ends_at__gt=now,
        )
        .select_related("consultation")
        .order_by("starts_at", "id")
    )


def attachment_for_professional(
    *, actor: Actor, consultation_id: int, attachment_id: int, request: HttpRequest | None = None
) -> Attachment:
    """An attachment of one of the actor's requests, for a download; each download is an audit event."""
    consultation = conversation_get(actor=actor, consultation_id=consultation_id)
    attachment = (
        Attachment.objects.filter(pk=attachment_id, message__consultation=consultation)
        .select_related("message")
        .first()
    )
    if attachment is None:
        raise NotFoundError()
    audit.record(
        actor=actor,
        action=ATTACHMENT_ACTION,
        target=consultation,
        detail={"attachment": attachment.pk},
        request=request,
    )
    return attachment


def masked_phone(consultation: Consultation) -> str:
    return mask("phone", consultation.contact_phone)


def phone_may_be_shown(consultation: Consultation) -> bool:
    """Whether the professional may ask for the phone in the clear ("显示号码"): when the requester asked
    for a call, or the request is urgent (a crisis may need a call). A requester who asked for online
    replies left a number they did not ask to be called on; it stays masked."""
    return bool(consultation.contact_phone) and (
        consultation.contact_preference == ContactPreference.PHONE or consultation.is_urgent
    )


class PhoneNotRequested(ConflictError):
    code = "phone_not_requested"
    default_message = gettext_lazy("求助人选择了在线回复，没有要求电话联系，号码不予显示")


def contact_phone_unmask(*, actor: Actor, consultation_id: int, request: HttpRequest | None = None) -> str:
    """The requester's phone in the clear, for the professional about to call them (`phone_may_be_shown`):
    an audit event (`personal_data.unmask` of `contact_phone`), the refusals too."""
    consultation = conversation_get(actor=actor, consultation_id=consultation_id)
    if not phone_may_be_shown(consultation):
        audit.record(
            actor=actor,
            action=UNMASK_ACTION,
            target=consultation,
            changes=["contact_phone"],
            outcome=Outcome.DENIED,
            request=request,
        )
        raise PhoneNotRequested()
    audit.record(
        actor=actor, action=UNMASK_ACTION, target=consultation, changes=["contact_phone"], request=request
    )
    return consultation.contact_phone
