"""Appointments in the professional's free hours (guanai.consultations.conversation): which hours are
free, booking one (also twice at once), cancelling, marking as held — with the thread's system messages,
the professional's notifications and the audit trail."""

from __future__ import annotations

import datetime
import threading
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from guanai.audit.models import AuditEvent
from guanai.consultations import conversation
from guanai.consultations.conversation import (
    ConsultationClosed,
    ConsultationNotAccepted,
    SlotTaken,
    appointment_book,
    appointment_cancel,
    appointment_done,
    free_slots,
)
from guanai.consultations.models import Appointment, DutySlot, Message
from guanai.consultations.tests.conftest import NOW
from guanai.consultations.tests.factories import ConsultationFactory
from guanai.consultations.tests.test_conversation import accepted_consultation, professional_actor
from guanai.consultations.vocabulary import AppointmentState, DutyPart, Kind, Outcome, Sender, State
from guanai.core.access import Actor
from guanai.core.errors import ConflictError, NotFoundError, ValidationFailed
from guanai.notifications.models import Notification
from guanai.volunteers.models import Volunteer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(month: int, day: int, hour: int) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, tzinfo=SHANGHAI)


@pytest.fixture
def counsellor(persona_professionals: dict[str, Volunteer]) -> Volunteer:
    """On duty on Mondays (morning and afternoon) and Tuesdays (evening and night) for psychological help,
    and on Wednesday mornings for legal help (which a psychological request does not offer)."""
    volunteer = persona_professionals["counsellor"]
    for weekday, part, kind in (
        (0, DutyPart.MORNING, Kind.PSYCHOLOGICAL),
        (0, DutyPart.AFTERNOON, Kind.PSYCHOLOGICAL),
        (1, DutyPart.EVENING, Kind.PSYCHOLOGICAL),
        (1, DutyPart.NIGHT, Kind.PSYCHOLOGICAL),
        (2, DutyPart.MORNING, Kind.LEGAL),
    ):
        DutySlot.objects.create(
            volunteer=volunteer, kind=kind, region_id="330127000000", weekday=weekday, part=part
        )
    return volunteer


@pytest.fixture
def actor(counsellor: Volunteer) -> Actor:

    return professional_actor(counsellor)


def test_free_slots_are_the_whole_hours_of_the_duty_parts_from_two_hours_on(counsellor: Volunteer) -> None:
    consultation = accepted_consultation(counsellor)

    slots = free_slots(consultation=consultation, now=NOW, days=14)

    expected = (
        [local(11, 30, hour) for hour in range(12, 18)]  # Monday: 10:00 and 11:00 are less than 2 h away
        + [local(12, 1, hour) for hour in range(18, 22)]  # Tuesday evening; the night offers nothing
        + [local(12, 7, hour) for hour in range(8, 18)]
        + [local(12, 8, hour) for hour in range(18, 22)]
        + [local(12, 14, hour) for hour in (8, 9)]  # 14 days from Monday 10:00
    )
    assert slots == expected
    assert all(slot.tzinfo is not None and slot.utcoffset() == datetime.timedelta(hours=8) for slot in slots)


def test_free_slots_of_the_next_two_days(counsellor: Volunteer) -> None:
    consultation = accepted_consultation(counsellor)

    slots = free_slots(consultation=consultation, now=NOW, days=2)

    assert slots == [local(11, 30, hour) for hour in range(12, 18)] + [
        local(12, 1, hour) for hour in range(18, 22)
    ]


def test_booked_hours_of_any_request_are_not_free_but_cancelled_ones_are(counsellor: Volunteer) -> None:
    consultation = accepted_consultation(counsellor)
    other = accepted_consultation(counsellor)
    for start, state in (
        (local(11, 30, 12), AppointmentState.BOOKED),
        (local(11, 30, 13), AppointmentState.CANCELLED),
    ):
        Appointment.objects.create(
            consultation=other,
            volunteer=counsellor,
            mode="phone",
            starts_at=start,
            ends_at=start + datetime.timedelta(hours=1),
            booked_by=Sender.REQUESTER,
            state=state,
        )

    slots = free_slots(consultation=consultation, now=NOW, days=1)

    assert slots == [local(11, 30, hour) for hour in range(13, 18)]


def test_another_professionals_bookings_do_not_matter(
    counsellor: Volunteer, persona_professionals: Any
) -> None:
    lawyer = persona_professionals["lawyer"]
    theirs = accepted_consultation(lawyer)
    Appointment.objects.create(
        consultation=theirs,
        volunteer=lawyer,
        mode="phone",
        starts_at=local(11, 30, 12),
        ends_at=local(11, 30, 13),
        booked_by=Sender.REQUESTER,
    )

    slots = free_slots(consultation=accepted_consultation(counsellor), now=NOW, days=1)

    assert slots[0] == local(11, 30, 12)


@pytest.mark.parametrize("state", [State.WAITING, State.CLOSED])
def test_no_slots_unless_the_request_is_accepted(counsellor: Volunteer, state: str) -> None:
    fields: dict[str, Any] = {"state": state, "assigned_to": counsellor}
    if state == State.CLOSED:
        fields.update(outcome=Outcome.ADVICE, closed_at=NOW)
    consultation = ConsultationFactory.create(**fields)

    assert free_slots(consultation=consultation, now=NOW) == []


def test_a_professional_without_duty_has_no_slots(persona_professionals: dict[str, Volunteer]) -> None:
    consultation = accepted_consultation(persona_professionals["counsellor"])

    assert free_slots(consultation=consultation, now=NOW) == []


def test_the_requester_books_a_free_hour(counsellor: Volunteer) -> None:
    consultation = accepted_consultation(counsellor)

    appointment = appointment_book(
        consultation=consultation,
        starts_at=local(11, 30, 14),
        mode="phone",
        booked_by=Sender.REQUESTER,
        note=" 下午放学后 ",
    )

    appointment.refresh_from_db()
    assert appointment.volunteer == counsellor
    assert appointment.consultation == consultation
    assert appointment.starts_at == local(11, 30, 14)
    assert appointment.ends_at == local(11, 30, 15)
    assert appointment.state == AppointmentState.BOOKED
    assert appointment.booked_by == Sender.REQUESTER
    assert appointment.note == "下午放学后"
    system = Message.objects.get(consultation=consultation)
    assert system.sender == Sender.SYSTEM
    assert system.body == "求助人已预约 11月30日 14:00–15:00 电话沟通。"
    notification = Notification.objects.get()
    assert notification.user == counsellor.user
    assert notification.kind == Notification.Kind.NOTICE
    assert notification.title == "求助人预约了沟通时间"
    assert notification.body == f"受理编号 {consultation.reference}：11月30日 14:00–15:00，电话。"
    assert notification.sms_sent_at is None
    assert local(11, 30, 14) not in free_slots(consultation=consultation, now=NOW)
    [event] = AuditEvent.objects.filter(action="consultation.appointment_book")
    assert event.actor_user_id is None
    assert event.detail == {"appointment": appointment.pk, "booked_by": "requester", "mode": "phone"}


def test_the_professional_books_without_being_notified(counsellor: Volunteer, actor: Actor) -> None:
    consultation = accepted_consultation(counsellor)

    appointment_book(
        consultation=consultation,
        starts_at=local(12, 1, 19),
        mode="in_person",
        booked_by=Sender.PROFESSIONAL,
        actor=actor,
    )

    assert Message.objects.get().body == "已预约 12月1日 19:00–20:00 面谈沟通。"
    assert Notification.objects.count() == 0
    [event] = AuditEvent.objects.filter(action="consultation.appointment_book")
    assert event.actor_user_id == counsellor.user_id


def test_an_hour_is_booked_once(counsellor: Volunteer) -> None:
    first = accepted_consultation(counsellor)
    second = accepted_consultation(counsellor)
    appointment_book(
        consultation=first, starts_at=local(11, 30, 14), mode="phone", booked_by=Sender.REQUESTER
    )

    with pytest.raises(SlotTaken) as refused:
        appointment_book(
            consultation=second, starts_at=local(11, 30, 14), mode="video", booked_by=Sender.REQUESTER
        )

    assert refused.value.code == "slot_taken"
    assert refused.value.status == 409
    assert refused.value.message == "该时段已被预约"
    assert Appointment.objects.count() == 1
    assert Message.objects.filter(consultation=second).count() == 0


def test_the_same_hour_given_in_another_time_zone_is_the_same_hour(counsellor: Volunteer) -> None:
    consultation = accepted_consultation(counsellor)
    appointment_book(
        consultation=consultation, starts_at=local(11, 30, 14), mode="phone", booked_by=Sender.REQUESTER
    )

    with pytest.raises(SlotTaken):
        appointment_book(
            consultation=consultation,
            starts_at=datetime.datetime(2026, 11, 30, 6, 0, tzinfo=datetime.UTC),
            mode="phone",
            booked_by=Sender.REQUESTER,
        )


@pytest.mark.parametrize(
    "starts_at",
    [
        local(11, 30, 11),  # a duty hour, but less than two hours away
        local(12, 1, 23),  # the night part
        local(12, 2, 9),  # Wednesday morning: legal duty, not psychological
        local(11, 30, 14).replace(minute=30),  # not a whole hour
        local(12, 28, 14),  # a Monday beyond the booking horizon
    ],
)
def test_only_a_free_hour_can_be_booked(counsellor: Volunteer, starts_at: datetime.datetime) -> None:
    consultation = accepted_consultation(counsellor)

    with pytest.raises(ValidationFailed) as refused:
        appointment_book(
            consultation=consultation, starts_at=starts_at, mode="phone", booked_by=Sender.REQUESTER
        )

    assert refused.value.fields == {"starts_at": ["请选择列出的可预约时段"]}
    assert Appointment.objects.count() == 0


def test_the_mode_and_note_are_checked(counsellor: Volunteer) -> None:
    consultation = accepted_consultation(counsellor)

    with pytest.raises(ValidationFailed) as refused:
        appointment_book(
            consultation=consultation,
            starts_at=local(11, 30, 14),
            mode="letter",
            booked_by=Sender.REQUESTER,
            note="字" * 201,
        )

    assert refused.value.fields == {"mode": ["请选择电话、视频或面谈"], "note": ["备注不能超过 200 字"]}


def test_no_booking_on_a_closed_or_waiting_request(counsellor: Volunteer) -> None:
    closed = accepted_consultation(counsellor, state=State.CLOSED, outcome=Outcome.ADVICE, closed_at=NOW)
    waiting = ConsultationFactory.create(state=State.WAITING, assigned_to=counsellor)

    with pytest.raises(ConsultationClosed):
        appointment_book(
            consultation=closed, starts_at=local(11, 30, 14), mode="phone", booked_by=Sender.REQUESTER
        )
    with pytest.raises(ConsultationNotAccepted):
        appointment_book(
            consultation=waiting, starts_at=local(11, 30, 14), mode="phone", booked_by=Sender.REQUESTER
        )
    assert Appointment.objects.count() == 0


def test_another_professional_cannot_book_for_the_request(
    counsellor: Volunteer, persona_professionals: dict[str, Volunteer]
) -> None:

    consultation = accepted_consultation(counsellor)
    other = professional_actor(persona_professionals["lawyer"])

    with pytest.raises(NotFoundError):
        appointment_book(
            consultation=consultation,
            starts_at=local(11, 30, 14),
            mode="phone",
            booked_by=Sender.PROFESSIONAL,
            actor=other,
        )
    assert Appointment.objects.count() == 0


def test_the_requester_cancels_and_the_hour_is_free_again(counsellor: Volunteer) -> None:
    consultation = accepted_consultation(counsellor)
    appointment = appointment_book(
        consultation=consultation, starts_at=local(11, 30, 14), mode="phone", booked_by=Sender.REQUESTER
    )
    Notification.objects.all().delete()

    appointment_cancel(consultation=consultation, appointment_id=appointment.pk, by=Sender.REQUESTER)

    appointment.refresh_from_db()
    assert appointment.state == AppointmentState.CANCELLED
    assert local(11, 30, 14) in free_slots(consultation=consultation, now=NOW)
    assert list(Message.objects.order_by("id").values_list("body", flat=True)) == [
        "求助人已预约 11月30日 14:00–15:00 电话沟通。",
        "求助人取消了 11月30日 14:00–15:00 的预约。",
    ]
    notification = Notification.objects.get()
    assert notification.title == "求助人取消了预约"
    assert notification.body == f"受理编号 {consultation.reference}：11月30日 14:00–15:00 的预约已取消。"
    # Booked again after the cancellation: the unique constraint only counts booked hours.
    again = appointment_book(
        consultation=consultation, starts_at=local(11, 30, 14), mode="video", booked_by=Sender.REQUESTER
    )
    assert again.state == AppointmentState.BOOKED


def test_the_professional_cancels(counsellor: Volunteer, actor: Actor) -> None:
    consultation = accepted_consultation(counsellor)
    appointment = appointment_book(
        consultation=consultation, starts_at=local(11, 30, 14), mode="phone", booked_by=Sender.REQUESTER
    )
    Notification.objects.all().delete()

    appointment_cancel(
        consultation=consultation, appointment_id=appointment.pk, by=Sender.PROFESSIONAL, actor=actor
    )

    assert Message.objects.order_by("-id").first().body == "志愿者取消了 11月30日 14:00–15:00 的预约。"  # type: ignore[union-attr]
    assert Notification.objects.count() == 0
    [event] = AuditEvent.objects.filter(action="consultation.appointment_cancel")
    assert event.detail == {"appointment": appointment.pk, "by": "professional"}


def test_a_cancelled_appointment_cannot_be_cancelled_again(counsellor: Volunteer) -> None:
    consultation = accepted_consultation(counsellor)
    appointment = appointment_book(
        consultation=consultation, starts_at=local(11, 30, 14), mode="phone", booked_by=Sender.REQUESTER
    )
    appointment_cancel(consultation=consultation, appointment_id=appointment.pk, by=Sender.REQUESTER)

    with pytest.raises(ConflictError) as refused:
        appointment_cancel(consultation=consultation, appointment_id=appointment.pk, by=Sender.REQUESTER)

    assert refused.value.message == "该预约已取消或已完成"


def test_an_appointment_of_another_request_is_not_found(counsellor: Volunteer) -> None:
    consultation = accepted_consultation(counsellor)
    other = accepted_consultation(counsellor)
    appointment = appointment_book(
        consultation=other, starts_at=local(11, 30, 14), mode="phone", booked_by=Sender.REQUESTER
    )

    with pytest.raises(NotFoundError):
        appointment_cancel(consultation=consultation, appointment_id=appointment.pk, by=Sender.REQUESTER)
    appointment.refresh_from_db()
    assert appointment.state == AppointmentState.BOOKED


def test_the_professional_marks_a_held_appointment_done(
    counsellor: Volunteer, actor: Actor, time_machine: Any
) -> None:
    consultation = accepted_consultation(counsellor)
    appointment = appointment_book(
        consultation=consultation, starts_at=local(11, 30, 14), mode="phone", booked_by=Sender.REQUESTER
    )

    with pytest.raises(ConflictError) as early:
        appointment_done(actor=actor, consultation_id=consultation.pk, appointment_id=appointment.pk)
    assert early.value.message == "预约时间还没到，不能标记为已完成"

    time_machine.move_to(local(11, 30, 14), tick=False)
    appointment_done(actor=actor, consultation_id=consultation.pk, appointment_id=appointment.pk)

    appointment.refresh_from_db()
    assert appointment.state == AppointmentState.DONE
    with pytest.raises(ConflictError):
        appointment_done(actor=actor, consultation_id=consultation.pk, appointment_id=appointment.pk)
    assert AuditEvent.objects.filter(action="consultation.appointment_done").count() == 1


def test_only_the_assignee_marks_done(
    counsellor: Volunteer, persona_professionals: dict[str, Volunteer], time_machine: Any
) -> None:

    consultation = accepted_consultation(counsellor)
    appointment = appointment_book(
        consultation=consultation, starts_at=local(11, 30, 14), mode="phone", booked_by=Sender.REQUESTER
    )
    time_machine.move_to(local(11, 30, 15), tick=False)

    with pytest.raises(NotFoundError):
        appointment_done(
            actor=professional_actor(persona_professionals["lawyer"]),
            consultation_id=consultation.pk,
            appointment_id=appointment.pk,
        )
    appointment.refresh_from_db()
    assert appointment.state == AppointmentState.BOOKED


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent connections: PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_requesters_booking_the_same_hour_at_once_one_wins(counsellor: Volunteer) -> None:
    requests = [accepted_consultation(counsellor), accepted_consultation(counsellor)]
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def book(consultation: Any) -> None:
        try:
            start.wait()
            appointment_book(
                consultation=consultation,
                starts_at=local(11, 30, 14),
                mode="phone",
                booked_by=Sender.REQUESTER,
            )
            outcomes.append("booked")
        except SlotTaken:
            outcomes.append("taken")
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(consultation,)) for consultation in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["booked", "taken"]
    assert Appointment.objects.filter(state=AppointmentState.BOOKED).count() == 1
    # Only the winner's thread has the system message and its professional's notification.
    assert Message.objects.count() == 1
    assert Notification.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent connections: PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_an_hour_booked_by_another_request_while_this_booking_runs_is_taken_not_unlisted(
    counsellor: Volunteer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The interleaving the race above can hit: the other request's booking commits while this one is
    already inside its transaction, just before it reads the free hours. The hour is gone from them, and
    the requester is told it was taken ("该时段已被预约"), not that they chose an hour never offered."""
    mine, theirs = accepted_consultation(counsellor), accepted_consultation(counsellor)
    real_free_slots = conversation.free_slots
    raced: list[int] = []

    def book_theirs() -> None:
        try:
            appointment_book(
                consultation=theirs, starts_at=local(11, 30, 14), mode="phone", booked_by=Sender.REQUESTER
            )
        finally:
            connection.close()

    def free_slots_after_theirs_committed(**kwargs: Any) -> list[datetime.datetime]:
        if kwargs["consultation"].pk == mine.pk and not raced:
            raced.append(mine.pk)
            other = threading.Thread(target=book_theirs)
            other.start()
            other.join()
        return real_free_slots(**kwargs)

    monkeypatch.setattr(conversation, "free_slots", free_slots_after_theirs_committed)

    with pytest.raises(SlotTaken):
        appointment_book(
            consultation=mine, starts_at=local(11, 30, 14), mode="video", booked_by=Sender.REQUESTER
        )

    assert raced == [mine.pk]
    assert list(Appointment.objects.values_list("consultation_id", "state")) == [
        (theirs.pk, AppointmentState.BOOKED)
    ]
