"""Messages of the conversation (guanai.consultations.conversation.message_post): who may write, the
length of a message, the service clocks, the crisis triage of a requester's message, the notification
of the professional, and the audit trail."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from guanai.audit.models import AuditEvent
from guanai.consultations.conversation import (
    ConsultationClosed,
    ConsultationNotAccepted,
    message_post,
    system_message_post,
)
from guanai.consultations.models import Consultation, Message
from guanai.consultations.tests.conftest import NOW
from guanai.consultations.tests.factories import ConsultationFactory
from guanai.consultations.vocabulary import Outcome, Sender, State, Topic
from guanai.core.access import Actor
from guanai.core.errors import NotFoundError, ValidationFailed
from guanai.notifications.models import Notification
from guanai.volunteers.models import Volunteer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def accepted_consultation(volunteer: Volunteer, **fields: Any) -> Consultation:
    """A request accepted by `volunteer`, made directly (not through routing)."""
    fields.setdefault("state", State.ACCEPTED)
    fields.setdefault("assigned_to", volunteer)
    fields.setdefault("assigned_at", NOW - datetime.timedelta(hours=1))
    fields.setdefault("accepted_at", NOW - datetime.timedelta(hours=1))
    if volunteer.law_licence_number and "topic" not in fields:
        fields["topic"] = Topic.SCHOOL_BULLYING
    consultation: Consultation = ConsultationFactory.create(**fields)
    return consultation


def professional_actor(volunteer: Volunteer) -> Actor:
    """The professional signed in under their role."""
    from guanai.accounts.selectors import actor_for_user

    assert volunteer.user is not None
    return actor_for_user(volunteer.user)


@pytest.fixture
def counsellor(persona_professionals: dict[str, Volunteer]) -> Volunteer:
    return persona_professionals["counsellor"]


@pytest.fixture
def lawyer(persona_professionals: dict[str, Volunteer]) -> Volunteer:
    return persona_professionals["lawyer"]


def test_requester_message_is_stored_encrypted_and_starts_the_reply_clock(counsellor: Volunteer) -> None:
    consultation = accepted_consultation(counsellor)

    message = message_post(
        consultation=consultation, sender=Sender.REQUESTER, body="  老师，我还是睡不着。  "
    )

    message.refresh_from_db()
    assert message.body == "老师，我还是睡不着。"
    assert message.author is None
    assert message.sender == Sender.REQUESTER
    consultation.refresh_from_db()
    assert consultation.last_message_at == message.created_at
    assert consultation.reply_due_at == NOW + datetime.timedelta(hours=24)
    assert consultation.version == 2
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM consultations_message WHERE id = %s", [message.pk])
        stored = cursor.fetchone()[0]
    assert "睡不着" not in stored


def test_a_second_requester_message_keeps_the_earlier_reply_due_time(
    counsellor: Volunteer, time_machine: Any
) -> None:
    consultation = accepted_consultation(counsellor)
    message_post(consultation=consultation, sender=Sender.REQUESTER, body="第一条")
    time_machine.move_to(NOW + datetime.timedelta(hours=3), tick=False)

    message_post(consultation=consultation, sender=Sender.REQUESTER, body="第二条")

    consultation.refresh_from_db()
    assert consultation.reply_due_at == NOW + datetime.timedelta(hours=24)
    assert consultation.last_message_at == NOW + datetime.timedelta(hours=3)


def test_professional_reply_stops_the_clock_and_is_the_first_reply(
    counsellor: Volunteer, time_machine: Any
) -> None:
    consultation = accepted_consultation(counsellor, reply_due_at=NOW + datetime.timedelta(hours=20))
    time_machine.move_to(NOW + datetime.timedelta(minutes=30), tick=False)

    message = message_post(
        consultation=consultation,
        sender=Sender.PROFESSIONAL,
        body="你好，我是心理志愿者。",
        author=counsellor.user,
    )

    consultation.refresh_from_db()
    assert message.author == counsellor.user
    assert consultation.first_reply_at == NOW + datetime.timedelta(minutes=30)
    assert consultation.reply_due_at is None
    # The professional's own message does not make their open close form stale.
    assert consultation.version == 1
    time_machine.move_to(NOW + datetime.timedelta(hours=2), tick=False)
    message_post(
        consultation=consultation, sender=Sender.PROFESSIONAL, body="再补充一点。", author=counsellor.user
    )
    consultation.refresh_from_db()
    assert consultation.first_reply_at == NOW + datetime.timedelta(minutes=30)
    assert consultation.last_message_at == NOW + datetime.timedelta(hours=2)


@pytest.mark.parametrize("body", ["", "   ", "字" * 2001])
def test_message_body_must_be_one_to_two_thousand_characters(counsellor: Volunteer, body: str) -> None:
    consultation = accepted_consultation(counsellor)

    with pytest.raises(ValidationFailed) as refused:
        message_post(consultation=consultation, sender=Sender.REQUESTER, body=body)

    expected = "请填写留言内容" if not body.strip() else "留言不能超过 2000 字"
    assert refused.value.fields == {"body": [expected]}
    assert Message.objects.count() == 0


def test_a_message_of_exactly_two_thousand_characters_is_accepted(counsellor: Volunteer) -> None:
    consultation = accepted_consultation(counsellor)

    message = message_post(consultation=consultation, sender=Sender.REQUESTER, body="字" * 2000)

    assert len(message.body) == 2000


@pytest.mark.parametrize("sender", [Sender.REQUESTER, Sender.PROFESSIONAL])
def test_nobody_posts_on_a_closed_request(counsellor: Volunteer, sender: str) -> None:
    consultation = accepted_consultation(
        counsellor, state=State.CLOSED, closed_at=NOW, outcome=Outcome.ADVICE, summary="已答复"
    )

    with pytest.raises(ConsultationClosed) as refused:
        message_post(
            consultation=consultation,
            sender=sender,
            body="还在吗？",
            author=counsellor.user if sender == Sender.PROFESSIONAL else None,
        )

    assert refused.value.code == "consultation_closed"
    assert refused.value.status == 409
    assert Message.objects.count() == 0


def test_only_the_assignee_posts_as_the_professional(
    counsellor: Volunteer, lawyer: Volunteer, personas: dict[str, Any]
) -> None:
    consultation = accepted_consultation(counsellor)

    for author in (lawyer.user, personas["county_a_admin"], None):
        with pytest.raises(NotFoundError):
            message_post(consultation=consultation, sender=Sender.PROFESSIONAL, body="你好", author=author)

    assert Message.objects.count() == 0


def test_an_offered_request_cannot_be_answered_before_it_is_accepted(counsellor: Volunteer) -> None:
    consultation = ConsultationFactory.create(state=State.WAITING, assigned_to=counsellor, assigned_at=NOW)

    with pytest.raises(ConsultationNotAccepted) as refused:
        message_post(
            consultation=consultation, sender=Sender.PROFESSIONAL, body="你好", author=counsellor.user
        )

    assert refused.value.code == "consultation_not_accepted"
    assert Message.objects.count() == 0


def test_a_requester_may_add_to_a_request_still_waiting(counsellor: Volunteer) -> None:
    consultation = ConsultationFactory.create(state=State.WAITING, assigned_to=counsellor, assigned_at=NOW)

    message_post(consultation=consultation, sender=Sender.REQUESTER, body="补充一下情况。")

    assert Message.objects.filter(consultation=consultation).count() == 1
    # Not yet accepted: the professional is not told of each message, the queue shows the request.
    assert Notification.objects.count() == 0


def test_the_assignee_is_notified_of_a_requester_message_without_its_words(counsellor: Volunteer) -> None:
    consultation = accepted_consultation(counsellor)

    message = message_post(consultation=consultation, sender=Sender.REQUESTER, body="我和妈妈又吵架了。")

    notification = Notification.objects.get()
    assert notification.user == counsellor.user
    assert notification.kind == Notification.Kind.NOTICE
    assert notification.title == "求助人有新留言"
    assert notification.body == f"受理编号 {consultation.reference} 的求助人发来了新留言，请在24小时内答复。"
    assert notification.link == f"/consultations/{consultation.pk}/"
    assert notification.topic == f"consultation_message:{message.pk}"
    assert notification.sms_sent_at is None
    assert "吵架" not in notification.title + notification.body


def test_the_professional_is_not_notified_of_their_own_reply(counsellor: Volunteer) -> None:
    consultation = accepted_consultation(counsellor)

    message_post(consultation=consultation, sender=Sender.PROFESSIONAL, body="你好", author=counsellor.user)

    assert Notification.objects.count() == 0


def test_a_requester_message_signalling_a_crisis_makes_the_request_urgent(counsellor: Volunteer) -> None:
    consultation = accepted_consultation(counsellor)
    assert consultation.is_urgent is False

    message_post(consultation=consultation, sender=Sender.REQUESTER, body="我真的不想活了")

    consultation.refresh_from_db()
    assert consultation.is_urgent is True
    assert consultation.crisis_signals != []
    alert = Notification.objects.get(kind=Notification.Kind.ALERT)
    assert alert.user == counsellor.user


def test_an_ordinary_message_leaves_the_request_as_it_was(counsellor: Volunteer) -> None:
    consultation = accepted_consultation(counsellor)

    message_post(consultation=consultation, sender=Sender.REQUESTER, body="谢谢老师，我明天试试早点睡。")

    consultation.refresh_from_db()
    assert consultation.is_urgent is False
    assert consultation.crisis_signals == []


def test_a_professional_message_is_never_triaged(counsellor: Volunteer) -> None:
    consultation = accepted_consultation(counsellor)

    message_post(
        consultation=consultation,
        sender=Sender.PROFESSIONAL,
        body="如果你有不想活了的念头，请马上拨打 12355。",
        author=counsellor.user,
    )

    consultation.refresh_from_db()
    assert consultation.is_urgent is False


def test_every_message_is_an_audit_event_without_its_words(counsellor: Volunteer) -> None:
    consultation = accepted_consultation(counsellor)

    requester = message_post(consultation=consultation, sender=Sender.REQUESTER, body="求助内容")
    reply = message_post(
        consultation=consultation, sender=Sender.PROFESSIONAL, body="答复内容", author=counsellor.user
    )

    events = list(AuditEvent.objects.filter(action="consultation.message").order_by("id"))
    assert [(event.actor_user_id, event.detail["message"], event.detail["sender"]) for event in events] == [
        (None, requester.pk, "requester"),
        (counsellor.user_id, reply.pk, "professional"),
    ]
    assert all(event.target_id == str(consultation.pk) for event in events)
    assert all(event.region_code == consultation.region_id for event in events)
    assert all("内容" not in str(event.detail) for event in events)


def test_a_system_message_moves_no_clock(counsellor: Volunteer) -> None:
    consultation = accepted_consultation(counsellor)

    message = system_message_post(consultation=consultation, body="已预约")

    consultation.refresh_from_db()
    assert message.sender == Sender.SYSTEM
    assert consultation.last_message_at == timezone.now()
    assert consultation.reply_due_at is None
    assert consultation.first_reply_at is None


def test_a_system_message_cannot_be_posted_as_a_person(counsellor: Volunteer) -> None:
    consultation = accepted_consultation(counsellor)

    with pytest.raises(ValueError, match="requester or the professional"):
        message_post(consultation=consultation, sender=Sender.SYSTEM, body="伪造")
