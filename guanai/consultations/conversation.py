"""The conversation of a request (issue 7 §4): messages and their attachments, appointments in the
professional's free hours, counselling notes, closing with an outcome and the hours credit, the
requester's rating, and the conversion of a legal request into a legal-aid referral.

Who may act is checked here as well as by the pages: a professional's message, a close, notes and a
referral come only from the assigned professional of an accepted request (others get 404, like a request
that does not exist); the requester's own writes (a message, a booking, a rating) arrive through the
intake helper's pages, which have proved the retrieval code, so they carry no actor.

The clocks (DOMAIN.md §8, 12348 practice): a requester's message starts the reply clock
(settings.GUANAI_CONSULTATION_REPLY_HOURS) unless one is already running, and is read by the crisis
triage — a message that signals danger makes the request urgent (`routing.consultation_mark_urgent`); a
professional's message stops the clock.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override

from guanai import audit
from guanai.consultations import attachments as attachment_store
from guanai.consultations.models import (
    Appointment,
    Attachment,
    Consultation,
    DutySlot,
    LegalAidReferral,
    Message,
)
from guanai.consultations.vocabulary import (
    DUTY_PART_HOURS,
    AppointmentMode,
    AppointmentState,
    DutyPart,
    Kind,
    Outcome,
    Sender,
    State,
)
from guanai.core.access import Actor, Permission
from guanai.core.errors import ConflictError, NotFoundError, ValidationFailed

__all__ = [
    "BODY_MAX_LENGTH",
    "AlreadyRated",
    "AlreadyReferred",
    "ConsultationClosed",
    "ConsultationNotAccepted",
    "ConsultationNotClosed",
    "NotLegalKind",
    "SlotTaken",
    "StaleVersion",
    "appointment_book",
    "appointment_cancel",
    "appointment_done",
    "attachment_open",
    "consultation_close",
    "consultation_notes_save",
    "consultation_rate",
    "free_slots",
    "legal_aid_refer",
    "message_post",
    "system_message_post",
]

BODY_MAX_LENGTH = 2000
NOTES_MAX_LENGTH = 10000
SUMMARY_MAX_LENGTH = 2000
FACTS_MAX_LENGTH = 2000
REFERRED_TO_MAX_LENGTH = 100
APPOINTMENT_NOTE_MAX_LENGTH = 200
RATING_COMMENT_MAX_LENGTH = 200
# An appointment is booked at least this long ahead, so the professional can see it in time.
BOOKING_LEAD = datetime.timedelta(hours=2)
APPOINTMENT_LENGTH = datetime.timedelta(hours=1)
# Hours are offered (and may be booked) this many days ahead; a caller may ask for up to SLOT_DAYS_MAX.
BOOKING_DAYS = 14
SLOT_DAYS_MAX = 31
HOURS_STEP = Decimal("0.5")
HOURS_MIN = Decimal("0.5")
HOURS_MAX = Decimal("8")
# 法律援助法 art.42: a minor without a fixed source of living needs no means test.
MINOR_EXEMPTION_GROUND = "法律援助法第四十二条：无固定生活来源的未成年人"


class ConsultationClosed(ConflictError):
    code = "consultation_closed"
    default_message = gettext_lazy("本次咨询已经结束，不能再留言或预约。如有新的问题，请重新提交求助。")


class ConsultationNotAccepted(ConflictError):
    code = "consultation_not_accepted"
    default_message = gettext_lazy("该求助尚未受理，受理后才能进行此操作")


class ConsultationNotClosed(ConflictError):
    code = "consultation_not_closed"
    default_message = gettext_lazy("咨询结束后才能评价")


class AlreadyRated(ConflictError):
    code = "already_rated"
    default_message = gettext_lazy("您已经评价过本次咨询，谢谢！")


class StaleVersion(ConflictError):
    code = "stale_version"
    default_message = gettext_lazy("该咨询已有更新（例如求助人刚刚留言），请刷新页面后再结束")


class SlotTaken(ConflictError):
    code = "slot_taken"
    default_message = gettext_lazy("该时段已被预约")


class NotLegalKind(ConflictError):
    code = "not_legal_kind"
    default_message = gettext_lazy("只有法律咨询可以转介法律援助")


class AlreadyReferred(ConflictError):
    code = "already_referred"
    default_message = gettext_lazy("该咨询已经转介过法律援助")


def _now() -> datetime.datetime:
    return timezone.now()


def _assignee_user_id(consultation: Consultation) -> int | None:
    if consultation.assigned_to_id is None:
        return None
    volunteer = consultation.assigned_to
    return volunteer.user_id if volunteer is not None else None


def _locked(consultation_id: int) -> Consultation:
    consultation = (
        Consultation.objects.select_for_update(of=("self",))
        .select_related("assigned_to")
        .filter(pk=consultation_id)
        .first()
    )
    if consultation is None:
        raise NotFoundError()
    return consultation


def _locked_for_assignee(actor: Actor, consultation_id: int) -> Consultation:
    """The request, locked, when the actor is its assigned professional; 404 for anyone else (a
    supervisor, another professional, a professional it was only offered to is decided by the caller's
    state check)."""
    if actor.user is None or not actor.has(Permission.CONSULTATION_ANSWER):
        raise NotFoundError()
    consultation = (
        Consultation.objects.assigned_to_actor(actor)
        .select_for_update(of=("self",))
        .select_related("assigned_to")
        .filter(pk=consultation_id)
        .first()
    )
    if consultation is None:
        raise NotFoundError()
    if consultation.state == State.WAITING:
        # Offered, not accepted: the professional sees metadata only, in the queue, and acts nowhere else.
        raise NotFoundError()
    return consultation


def _bump(consultation: Consultation, fields: list[str]) -> None:
    """Save `fields` and move the version on: a close started before this change is then stale."""
    consultation.version += 1
    consultation.save(update_fields=[*fields, "version", "updated_at"])


def _detail_link(consultation: Consultation) -> str:
    return reverse("consultations:detail", args=[consultation.pk])


def _local_label(moment: datetime.datetime) -> str:
    local = timezone.localtime(moment)
    end = timezone.localtime(moment + APPOINTMENT_LENGTH)
    return f"{local.month}月{local.day}日 {local:%H:%M}–{end:%H:%M}"


# --- Messages ------------------------------------------------------------------------------------------


def _clean_body(body: str) -> str:
    text = (body or "").strip()
    if not text:
        raise ValidationFailed(fields={"body": [_("请填写留言内容")]})
    if len(text) > BODY_MAX_LENGTH:
        raise ValidationFailed(fields={"body": [_("留言不能超过 %(count)d 字") % {"count": BODY_MAX_LENGTH}]})
    return text


def system_message_post(*, consultation: Consultation, body: str) -> Message:
    """A note of the system's in the thread ("已预约…", "本次咨询已结束…"), in Chinese, seen by both sides.
    Moves no clock."""
    message = Message.objects.create(consultation=consultation, sender=Sender.SYSTEM, body=body)
    Consultation.objects.filter(pk=consultation.pk).update(last_message_at=message.created_at)
    consultation.last_message_at = message.created_at
    return message


@transaction.atomic
def message_post(
    *,
    consultation: Consultation,
    sender: str,
    body: str,
    author: Any = None,
    files: Sequence[Any] = (),
    request: HttpRequest | None = None,
) -> Message:
    """Post a message of the requester (`Sender.REQUESTER`, no author) or of the professional
    (`Sender.PROFESSIONAL`, `author` = the assigned professional's user) with up to three files.

    The body is 1–2,000 characters; nothing can be posted on a closed request (`ConsultationClosed`);
    a professional posts only on an accepted request assigned to them (else 404 or
    `ConsultationNotAccepted`). A requester's message starts the reply clock when none is running and
    goes through the crisis triage; a professional's message stops the clock and, the first time, is the
    first reply. The assignee is notified of a requester's message (inbox, no SMS: the words stay here).
    Every file is checked before anything is written, and the written files are deleted if the
    transaction fails.
    """
    if sender not in (Sender.REQUESTER, Sender.PROFESSIONAL):
        raise ValueError(f"message_post posts for the requester or the professional, not {sender!r}")
    text = _clean_body(body)
    locked = _locked(consultation.pk)
    if locked.state == State.CLOSED:
        raise ConsultationClosed()
    if sender == Sender.PROFESSIONAL:
        if author is None or _assignee_user_id(locked) != author.pk:
            raise NotFoundError()
        if locked.state != State.ACCEPTED:
            raise ConsultationNotAccepted()
    elif author is not None:
        raise ValueError("a requester's message has no author: the requester has no account")
    cleaned = attachment_store.attachments_clean(files)
    stored: list[str] = []
    try:
        message = Message.objects.create(
            consultation=locked,
            sender=sender,
            author=author if sender == Sender.PROFESSIONAL else None,
            body=text,
        )
        for clean in cleaned:
            name = attachment_store.attachment_write(clean)
            stored.append(name)
            Attachment.objects.create(
                message=message,
                stored_name=name,
                original_name=clean.original_name,
                content_type=clean.content_type,
                size=clean.size,
            )
        now = message.created_at
        fields = ["last_message_at"]
        locked.last_message_at = now
        signals: list[str] = []
        if sender == Sender.PROFESSIONAL:
            if locked.first_reply_at is None:
                locked.first_reply_at = now
                fields.append("first_reply_at")
            locked.reply_due_at = None
            fields.append("reply_due_at")
        else:
            if locked.reply_due_at is None:
                # An earlier message's clock keeps running: the answer is due from the first unanswered one.
                locked.reply_due_at = now + datetime.timedelta(hours=settings.GUANAI_CONSULTATION_REPLY_HOURS)
                fields.append("reply_due_at")
        if sender == Sender.REQUESTER:
            # A close started before the requester wrote again is stale: they may have asked more.
            _bump(locked, fields)
        else:
            locked.save(update_fields=[*fields, "updated_at"])
        if sender == Sender.REQUESTER:
            # Imported here: routing and triage are services of their own that may come to use this one.
            from guanai.consultations.routing import consultation_mark_urgent
            from guanai.consultations.triage import crisis_signals

            signals = crisis_signals(text)
            if signals:
                consultation_mark_urgent(consultation=locked, signals=signals)
            _notify_assignee_of_message(locked, message)
        audit.record(
            actor=_actor_of(author, request),
            action="consultation.message",
            target=locked,
            changes=["body", *(["attachments"] if cleaned else [])],
            detail={
                "message": message.pk,
                "sender": sender,
                "attachments": len(cleaned),
                "crisis_signals": len(signals),
            },
            request=request,
        )
    except BaseException:
        attachment_store.attachments_delete(stored)
        raise
    _copy_clock_fields(consultation, locked)
    return message


def _copy_clock_fields(target: Consultation, source: Consultation) -> None:
    """The caller's instance sees what the service changed (it was given an unlocked copy)."""
    if target is source:
        return
    for name in (
        "last_message_at",
        "first_reply_at",
        "reply_due_at",
        "version",
        "is_urgent",
        "crisis_signals",
        "updated_at",
    ):
        setattr(target, name, getattr(source, name))


def _actor_of(user: Any, request: HttpRequest | None) -> Actor | None:
    """The actor of the request when there is one (the page's or the API's), else None: a requester
    without an account."""
    if user is None:
        return None
    if request is not None:
        from guanai.core.access import request_actor

        actor = request_actor(request)
        if actor.user is not None and actor.user.pk == user.pk:
            return actor
    return Actor(user=user)


def _notify_assignee_of_message(consultation: Consultation, message: Message) -> None:
    from guanai.notifications.models import Notification
    from guanai.notifications.services import notify

    volunteer = consultation.assigned_to
    if volunteer is None or volunteer.user is None or consultation.state != State.ACCEPTED:
        return
    with override("zh-hans"):
        title = _("求助人有新留言")
        body = _("受理编号 %(reference)s 的求助人发来了新留言，请在%(hours)d小时内答复。") % {
            "reference": consultation.reference,
            "hours": settings.GUANAI_CONSULTATION_REPLY_HOURS,
        }
    notify(
        users=[volunteer.user],
        kind=Notification.Kind.NOTICE,
        title=title,
        body=body,
        link=_detail_link(consultation),
        topic=f"consultation_message:{message.pk}",
        sms=False,
    )


def attachment_open(*, attachment: Attachment) -> tuple[bytes, str]:
    """The bytes and content type of an attachment; see `guanai.consultations.attachments`. The caller
    has decided that the reader may see it (the assigned professional, audited by the selector; the
    requester, with their retrieval code)."""
    return attachment_store.attachment_open(attachment=attachment)


# --- Appointments --------------------------------------------------------------------------------------


def _duty_hours(consultation: Consultation, volunteer_id: int) -> set[tuple[int, int]]:
    """(weekday, hour) of every whole hour inside the assigned professional's duty parts of the request's
    kind. The night part offers no appointments: nobody books a call at 3 in the morning."""
    parts = (
        DutySlot.objects.filter(volunteer_id=volunteer_id, kind=consultation.kind)
        .exclude(part=DutyPart.NIGHT)
        .values_list("weekday", "part")
        .distinct()
    )
    hours: set[tuple[int, int]] = set()
    for weekday, part in parts:
        start, end = DUTY_PART_HOURS[part]
        hours.update((weekday, hour) for hour in range(start, end))
    return hours


def free_slots(
    *, consultation: Consultation, now: datetime.datetime, days: int = BOOKING_DAYS
) -> list[datetime.datetime]:
    """The hours the requester or the professional may book, in order (aware datetimes): whole hours of
    the assigned professional's duty parts of this kind (not the night) in the next `days` days, starting
    at least two hours from `now`, that none of the professional's booked appointments (of any request)
    takes. Empty unless the request is accepted."""
    volunteer_id = consultation.assigned_to_id
    if consultation.state != State.ACCEPTED or volunteer_id is None:
        return []
    days = max(1, min(int(days), SLOT_DAYS_MAX))
    duty = _duty_hours(consultation, volunteer_id)
    if not duty:
        return []
    earliest = now + BOOKING_LEAD
    latest = now + datetime.timedelta(days=days)
    booked = set(
        Appointment.objects.filter(
            volunteer_id=volunteer_id,
            state=AppointmentState.BOOKED,
            starts_at__gte=earliest,
            starts_at__lt=latest,
        ).values_list("starts_at", flat=True)
    )
    booked_utc = {moment.astimezone(datetime.UTC) for moment in booked}
    zone = timezone.get_current_timezone()
    first_day = timezone.localtime(now).date()
    slots: list[datetime.datetime] = []
    for offset in range(days + 1):
        day = first_day + datetime.timedelta(days=offset)
        for hour in range(24):
            if (day.weekday(), hour) not in duty:
                continue
            start = datetime.datetime.combine(day, datetime.time(hour), tzinfo=zone)
            if earliest <= start < latest and start.astimezone(datetime.UTC) not in booked_utc:
                slots.append(start)
    return slots


def _validate_booking(*, mode: str, booked_by: str, note: str) -> str:
    errors: dict[str, list[str]] = {}
    if mode not in AppointmentMode.values:
        errors["mode"] = [_("请选择电话、视频或面谈")]
    if booked_by not in (Sender.REQUESTER, Sender.PROFESSIONAL):
        raise ValueError(f"an appointment is booked by the requester or the professional, not {booked_by!r}")
    text = (note or "").strip()
    if len(text) > APPOINTMENT_NOTE_MAX_LENGTH:
        errors["note"] = [_("备注不能超过 %(count)d 字") % {"count": APPOINTMENT_NOTE_MAX_LENGTH}]
    if errors:
        raise ValidationFailed(fields=errors)
    return text


@transaction.atomic
def appointment_book(
    *,
    consultation: Consultation,
    starts_at: datetime.datetime,
    mode: str,
    booked_by: str,
    note: str = "",
    actor: Actor | None = None,
    request: HttpRequest | None = None,
) -> Appointment:
    """Book one hour of the assigned professional's free time (`free_slots`) by phone, video or in person,
    for the requester or by the professional. An hour already booked — also by a booking that raced this
    one — is `SlotTaken` ("该时段已被预约"); an hour outside the free ones is refused. The thread gets a
    system message; the professional is notified when the requester booked. The page or API passes the
    professional's `actor`; a requester's booking has none."""
    text = _validate_booking(mode=mode, booked_by=booked_by, note=note)
    locked = _locked(consultation.pk)
    if locked.state == State.CLOSED:
        raise ConsultationClosed()
    if locked.state != State.ACCEPTED or locked.assigned_to_id is None:
        raise ConsultationNotAccepted()
    if booked_by == Sender.PROFESSIONAL and (
        actor is None or actor.user is None or _assignee_user_id(locked) != actor.user.pk
    ):
        raise NotFoundError()
    if timezone.is_naive(starts_at):
        starts_at = timezone.make_aware(starts_at)
    if starts_at not in free_slots(consultation=locked, now=_now(), days=BOOKING_DAYS):
        # Asked after the free hours were read, so a booking that committed in between is seen here.
        if Appointment.objects.filter(
            volunteer_id=locked.assigned_to_id, starts_at=starts_at, state=AppointmentState.BOOKED
        ).exists():
            raise SlotTaken()
        raise ValidationFailed(fields={"starts_at": [_("请选择列出的可预约时段")]})
    try:
        with transaction.atomic():
            appointment = Appointment.objects.create(
                consultation=locked,
                volunteer_id=locked.assigned_to_id,
                mode=mode,
                starts_at=starts_at,
                ends_at=starts_at + APPOINTMENT_LENGTH,
                booked_by=booked_by,
                note=text,
            )
    except IntegrityError as error:
        # Another booking of the same hour committed between the check and the insert.
        raise SlotTaken() from error
    with override("zh-hans"):
        body = _("已预约 %(when)s %(mode)s沟通。") % {
            "when": _local_label(starts_at),
            "mode": AppointmentMode(mode).label,
        }
        if booked_by == Sender.REQUESTER:
            body = _("求助人") + body
    system_message_post(consultation=locked, body=body)
    if booked_by == Sender.REQUESTER:
        _notify_assignee(
            locked,
            title_text=_("求助人预约了沟通时间"),
            body_text=_("受理编号 %(reference)s：%(when)s，%(mode)s。")
            % {
                "reference": locked.reference,
                "when": _local_label(starts_at),
                "mode": AppointmentMode(mode).label,
            },
            topic=f"consultation_appointment:{appointment.pk}",
        )
    audit.record(
        actor=actor,
        action="consultation.appointment_book",
        target=locked,
        changes=["starts_at", "mode", *(["note"] if text else [])],
        detail={"appointment": appointment.pk, "booked_by": booked_by, "mode": mode},
        request=request,
    )
    return appointment


def _notify_assignee(consultation: Consultation, *, title_text: str, body_text: str, topic: str) -> None:
    from guanai.notifications.models import Notification
    from guanai.notifications.services import notify

    volunteer = consultation.assigned_to
    if volunteer is None or volunteer.user is None:
        return
    notify(
        users=[volunteer.user],
        kind=Notification.Kind.NOTICE,
        title=title_text,
        body=body_text,
        link=_detail_link(consultation),
        topic=topic,
        sms=False,
    )


def _locked_appointment(consultation: Consultation, appointment_id: int) -> Appointment:
    appointment = (
        Appointment.objects.select_for_update()
        .filter(pk=appointment_id, consultation_id=consultation.pk)
        .first()
    )
    if appointment is None:
        raise NotFoundError()
    return appointment


@transaction.atomic
def appointment_cancel(
    *,
    consultation: Consultation,
    appointment_id: int,
    by: str,
    actor: Actor | None = None,
    request: HttpRequest | None = None,
) -> Appointment:
    """Cancel a booked appointment of this request, by the requester or the professional (`by`); the hour
    is free again. A system message says so; the professional is notified when the requester cancels."""
    if by not in (Sender.REQUESTER, Sender.PROFESSIONAL):
        raise ValueError(f"an appointment is cancelled by the requester or the professional, not {by!r}")
    locked = _locked(consultation.pk)
    if by == Sender.PROFESSIONAL and (
        actor is None or actor.user is None or _assignee_user_id(locked) != actor.user.pk
    ):
        raise NotFoundError()
    appointment = _locked_appointment(locked, appointment_id)
    if appointment.state != AppointmentState.BOOKED:
        raise ConflictError(_("该预约已取消或已完成"))
    appointment.state = AppointmentState.CANCELLED
    appointment.save(update_fields=["state"])
    with override("zh-hans"):
        who = _("求助人") if by == Sender.REQUESTER else _("志愿者")
        body = _("%(who)s取消了 %(when)s 的预约。") % {
            "who": who,
            "when": _local_label(appointment.starts_at),
        }
    system_message_post(consultation=locked, body=body)
    if by == Sender.REQUESTER:
        _notify_assignee(
            locked,
            title_text=_("求助人取消了预约"),
            body_text=_("受理编号 %(reference)s：%(when)s 的预约已取消。")
            % {"reference": locked.reference, "when": _local_label(appointment.starts_at)},
            topic=f"consultation_appointment_cancel:{appointment.pk}",
        )
    audit.record(
        actor=actor,
        action="consultation.appointment_cancel",
        target=locked,
        changes=["state"],
        detail={"appointment": appointment.pk, "by": by},
        request=request,
    )
    return appointment


@transaction.atomic
def appointment_done(
    *, actor: Actor, consultation_id: int, appointment_id: int, request: HttpRequest | None = None
) -> Appointment:
    """The assigned professional marks a booked appointment as held, once its hour has begun."""
    consultation = _locked_for_assignee(actor, consultation_id)
    appointment = _locked_appointment(consultation, appointment_id)
    if appointment.state != AppointmentState.BOOKED:
        raise ConflictError(_("该预约已取消或已完成"))
    if appointment.starts_at > _now():
        raise ConflictError(_("预约时间还没到，不能标记为已完成"))
    appointment.state = AppointmentState.DONE
    appointment.save(update_fields=["state"])
    audit.record(
        actor=actor,
        action="consultation.appointment_done",
        target=consultation,
        changes=["state"],
        detail={"appointment": appointment.pk},
        request=request,
    )
    return appointment


# --- Notes, closing, rating ----------------------------------------------------------------------------


@transaction.atomic
def consultation_notes_save(
    *, actor: Actor, consultation_id: int, notes: str, request: HttpRequest | None = None
) -> Consultation:
    """The assigned professional's own counselling notes (encrypted; never shown to the requester or to a
    supervisor), editable while the request is open and after it closed. Does not move the version: the
    notes are the professional's alone, so they cannot race anyone."""
    consultation = _locked_for_assignee(actor, consultation_id)
    text = (notes or "").strip()
    if len(text) > NOTES_MAX_LENGTH:
        raise ValidationFailed(
            fields={"notes": [_("咨询记录不能超过 %(count)d 字") % {"count": NOTES_MAX_LENGTH}]}
        )
    consultation.notes = text
    consultation.save(update_fields=["notes", "updated_at"])
    audit.record(
        actor=actor, action="consultation.notes", target=consultation, changes=["notes"], request=request
    )
    return consultation


def parse_service_hours(value: Decimal | float | str | None) -> Decimal:
    """Service hours as a Decimal: 0.5 to 8, in steps of half an hour; ValidationFailed otherwise."""
    message = _("服务时长应为 0.5 到 8 小时，以半小时为单位")
    try:
        hours = Decimal(str(value)).normalize() if value is not None and str(value).strip() else None
    except InvalidOperation:
        hours = None
    if hours is None or not hours.is_finite() or not HOURS_MIN <= hours <= HOURS_MAX or hours % HOURS_STEP:
        raise ValidationFailed(fields={"service_hours": [message]})
    return hours.quantize(Decimal("0.1"))


@transaction.atomic
def consultation_close(
    *,
    actor: Actor,
    consultation_id: int,
    outcome: str,
    summary: str,
    service_hours: Decimal | float | str,
    version: int,
    request: HttpRequest | None = None,
) -> Consultation:
    """The assigned professional closes an accepted request with an outcome, a summary (encrypted) and the
    hours served, over the version they read (`StaleVersion` when the request changed since, for example
    a new message). The clocks stop; the hours are credited to the professional's volunteer record once
    (its source key "consultation:<id>": a retry credits nothing more); the requester sees a system
    message inviting a rating."""
    from guanai.volunteers.services import hours_record_automatic
    from guanai.volunteers.vocabulary import HoursSource

    consultation = _locked_for_assignee(actor, consultation_id)
    errors: dict[str, list[str]] = {}
    if outcome not in Outcome.values:
        errors["outcome"] = [_("请选择处理结果")]
    text = (summary or "").strip()
    if not text:
        errors["summary"] = [_("请填写结案小结")]
    elif len(text) > SUMMARY_MAX_LENGTH:
        errors["summary"] = [_("结案小结不能超过 %(count)d 字") % {"count": SUMMARY_MAX_LENGTH}]
    try:
        hours = parse_service_hours(service_hours)
    except ValidationFailed as error:
        errors.update(error.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    if consultation.state == State.CLOSED:
        raise ConsultationClosed(_("该咨询已经结束"))
    if consultation.state != State.ACCEPTED:
        raise ConsultationNotAccepted()
    if consultation.version != version:
        raise StaleVersion()
    now = _now()
    consultation.state = State.CLOSED
    consultation.closed_at = now
    consultation.outcome = outcome
    consultation.summary = text
    consultation.service_hours = hours
    consultation.reply_due_at = None
    consultation.accept_due_at = None
    _bump(
        consultation,
        ["state", "closed_at", "outcome", "summary", "service_hours", "reply_due_at", "accept_due_at"],
    )
    volunteer = consultation.assigned_to
    assert volunteer is not None  # an accepted request has its professional (a model constraint)
    with override("zh-hans"):
        description = _("网上咨询服务 %(reference)s") % {"reference": consultation.reference}
        body = _(
            "本次咨询已结束（%(outcome)s）。感谢您的信任，欢迎对本次服务进行评价。如有新的问题，可以重新提交求助。"
        ) % {"outcome": Outcome(outcome).label}
    hours_record_automatic(
        volunteer=volunteer,
        served_on=timezone.localdate(now),
        hours=hours,
        description=description,
        source=HoursSource.CONSULTATION,
        source_key=f"consultation:{consultation.pk}",
        recorded_by=actor.user,
    )
    system_message_post(consultation=consultation, body=body)
    audit.record(
        actor=actor,
        action="consultation.close",
        target=consultation,
        changes=["state", "outcome", "summary", "service_hours"],
        detail={"outcome": outcome, "hours": str(hours)},
        request=request,
    )
    return consultation


@transaction.atomic
def consultation_rate(
    *, consultation: Consultation, rating: int, comment: str = "", request: HttpRequest | None = None
) -> Consultation:
    """The requester's satisfaction with a closed request, 1 to 5 with an optional comment, given once
    (a second rating is `AlreadyRated`)."""
    errors: dict[str, list[str]] = {}
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        errors["rating"] = [_("请选择 1 到 5 星")]
    text = (comment or "").strip()
    if len(text) > RATING_COMMENT_MAX_LENGTH:
        errors["comment"] = [_("评价不能超过 %(count)d 字") % {"count": RATING_COMMENT_MAX_LENGTH}]
    if errors:
        raise ValidationFailed(fields=errors)
    locked = _locked(consultation.pk)
    if locked.state != State.CLOSED:
        raise ConsultationNotClosed()
    if locked.rating is not None:
        raise AlreadyRated()
    locked.rating, locked.rating_comment, locked.rated_at = rating, text, _now()
    locked.save(update_fields=["rating", "rating_comment", "rated_at", "updated_at"])
    audit.record(
        actor=None,
        action="consultation.rate",
        target=locked,
        changes=["rating", *(["rating_comment"] if text else [])],
        detail={"rating": rating},
        request=request,
    )
    consultation.rating, consultation.rating_comment, consultation.rated_at = rating, text, locked.rated_at
    return locked


# --- Legal-aid referral --------------------------------------------------------------------------------


@transaction.atomic
def legal_aid_refer(
    *,
    actor: Actor,
    consultation_id: int,
    referred_to: str,
    facts: str,
    requester_is_minor_without_income: bool,
    request: HttpRequest | None = None,
) -> LegalAidReferral:
    """The assigned lawyer converts a legal request (accepted or closed) into a legal-aid referral to the
    named legal-aid institution, with a summary of the facts (encrypted). A minor without income needs no
    means test (法律援助法 art.42): the referral records the exemption and its ground. The requester sees
    a system message; an open request is then closed by the lawyer with the outcome 转介法律援助."""
    consultation = _locked_for_assignee(actor, consultation_id)
    if consultation.kind != Kind.LEGAL:
        raise NotLegalKind()
    errors: dict[str, list[str]] = {}
    institution = (referred_to or "").strip()
    if not institution:
        errors["referred_to"] = [_("请填写法律援助机构")]
    elif len(institution) > REFERRED_TO_MAX_LENGTH:
        errors["referred_to"] = [_("机构名称不能超过 %(count)d 字") % {"count": REFERRED_TO_MAX_LENGTH}]
    text = (facts or "").strip()
    if not text:
        errors["facts"] = [_("请填写案情摘要")]
    elif len(text) > FACTS_MAX_LENGTH:
        errors["facts"] = [_("案情摘要不能超过 %(count)d 字") % {"count": FACTS_MAX_LENGTH}]
    if errors:
        raise ValidationFailed(fields=errors)
    if LegalAidReferral.objects.filter(consultation=consultation).exists():
        raise AlreadyReferred()
    exempt = bool(requester_is_minor_without_income)
    try:
        with transaction.atomic():
            referral = LegalAidReferral.objects.create(
                consultation=consultation,
                referred_to=institution,
                facts=text,
                means_test_exempt=exempt,
                exemption_ground=MINOR_EXEMPTION_GROUND if exempt else "",
                created_by=actor.user,
            )
    except IntegrityError as error:
        raise AlreadyReferred() from error
    with override("zh-hans"):
        body = _("志愿者律师已将您的问题转介至%(institution)s申请法律援助，该机构会与您联系。") % {
            "institution": institution
        }
        if exempt:
            body += _("未成年人无固定生活来源的，申请法律援助免予核查经济困难状况（法律援助法第四十二条）。")
    system_message_post(consultation=consultation, body=body)
    audit.record(
        actor=actor,
        action="consultation.referral",
        target=consultation,
        changes=["referred_to", "facts", "means_test_exempt"],
        detail={"referral": referral.pk, "means_test_exempt": exempt},
        request=request,
    )
    return referral
