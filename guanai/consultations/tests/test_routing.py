"""Routing (guanai.consultations.routing): who a request is offered to, the queue, accepting, declining,
reassigning and a crisis signalled later. The clock stands still on Monday 30 November 2026 at 10:00, a
morning duty part."""

from __future__ import annotations

import datetime
import threading
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection

from guanai.accounts.models import RoleAssignment
from guanai.accounts.selectors import actor_for_user
from guanai.audit.models import AuditEvent
from guanai.consultations.models import Consultation, ConsultationDecline, DutySlot, Message
from guanai.consultations.routing import (
    ConsultationTaken,
    consultation_accept,
    consultation_decline,
    consultation_mark_urgent,
    consultation_reassign,
    consultation_route,
    professional_for,
    professional_queue,
)
from guanai.consultations.tests.conftest import NOW
from guanai.consultations.tests.factories import (
    ConsultationFactory,
    DutySlotFactory,
    make_professional,
    on_duty_all_week,
)
from guanai.consultations.vocabulary import DeclineReason, EscalationLevel, Kind, Sender, State, Topic
from guanai.core.access import Actor
from guanai.core.errors import NotFoundError, PermissionDeniedError, ValidationFailed
from guanai.core.testing import COUNTY_B
from guanai.notifications.models import Notification
from guanai.volunteers.models import Volunteer
from guanai.volunteers.tests.factories import VolunteerFactory
from guanai.volunteers.vocabulary import Specialty, Status

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

TOWNSHIP_A = "330127100000"  # 千岛湖镇
COMMUNITY_B = "330182001020"  # 白沙社区 (建德市)


@dataclass
class World:
    first: Volunteer  # counsellor, county A, on duty all week
    second: Volunteer  # counsellor, county A, on duty all week
    lawyer: Volunteer  # lawyer, county A, on duty all week
    personas: dict[str, Any]


@pytest.fixture
def world(personas: dict[str, Any]) -> World:
    first = make_professional(username="c-first", kind=Kind.PSYCHOLOGICAL)
    second = make_professional(username="c-second", kind=Kind.PSYCHOLOGICAL)
    lawyer = make_professional(username="l-first", kind=Kind.LEGAL)
    for volunteer, kind in ((first, Kind.PSYCHOLOGICAL), (second, Kind.PSYCHOLOGICAL), (lawyer, Kind.LEGAL)):
        on_duty_all_week(volunteer, kind=kind)
    return World(first=first, second=second, lawyer=lawyer, personas=personas)


def actor_of(volunteer_or_user: Any) -> Actor:
    user = getattr(volunteer_or_user, "user", volunteer_or_user)
    return actor_for_user(user)


def routed(**fields: Any) -> Consultation:
    consultation: Consultation = ConsultationFactory.create(**fields)
    consultation_route(consultation=consultation)
    consultation.refresh_from_db()
    return consultation


def open_requests(volunteer: Volunteer, count: int, **fields: Any) -> None:
    ConsultationFactory.create_batch(
        count, assigned_to=volunteer, assigned_at=NOW - datetime.timedelta(hours=1), **fields
    )


def notified(topic_part: str = "") -> set[str]:
    rows = Notification.objects.filter(topic__contains=topic_part)
    return {row.user.username for row in rows.select_related("user")}


# --- Professionals ---------------------------------------------------------------------------------------


def test_professional_for_is_the_active_qualified_volunteer_of_an_answering_role(world: World) -> None:
    assert professional_for(actor_of(world.first)) == world.first
    assert professional_for(actor_of(world.personas["county_a_admin"])) is None
    Volunteer.objects.filter(pk=world.first.pk).update(psychology_certificate="")
    assert professional_for(actor_of(world.first)) is None
    Volunteer.objects.filter(pk=world.lawyer.pk).update(status=Status.SUSPENDED, status_reason="休假")
    assert professional_for(actor_of(world.lawyer)) is None


# --- Ordinary requests ------------------------------------------------------------------------------------


def test_an_ordinary_request_goes_to_the_least_loaded_professional_on_duty(world: World) -> None:
    open_requests(world.first, 2)
    open_requests(world.second, 1, state=State.ACCEPTED)

    consultation = routed()

    assert consultation.assigned_to == world.second
    assert consultation.assigned_at == NOW
    assert consultation.state == State.WAITING
    assert consultation.reply_due_at == NOW + datetime.timedelta(hours=24)
    assert consultation.accept_due_at is None
    notice = Notification.objects.get(topic__startswith=f"consultation:{consultation.pk}:assigned")
    assert (notice.user, notice.kind) == (world.second.user, Notification.Kind.NOTICE)
    assert consultation.reference in notice.body
    assert "小林" not in notice.body
    assert "考试" not in notice.body
    assert AuditEvent.objects.filter(action="consultation.route", target_id=str(consultation.pk)).count() == 1


def test_equal_loads_go_to_whoever_was_given_fewer_requests_this_week_then_the_lowest_id(
    world: World,
) -> None:
    # Closed requests do not count as load, but the first was given one two days ago.
    ConsultationFactory.create(
        assigned_to=world.first,
        assigned_at=NOW - datetime.timedelta(days=2),
        state=State.CLOSED,
        outcome="advice",
    )
    # Given three weeks ago: too long ago to count.
    ConsultationFactory.create(
        assigned_to=world.second,
        assigned_at=NOW - datetime.timedelta(days=21),
        state=State.CLOSED,
        outcome="advice",
    )
    assert routed().assigned_to == world.second
    # Now each has been given one this week and the second has one open: the first.
    assert routed().assigned_to == world.first
    # One open each, one this week each... the first has one more this week (two): the second.
    assert routed().assigned_to == world.second


def test_exact_ties_go_to_the_lowest_id(world: World) -> None:
    assert world.first.pk < world.second.pk
    assert routed().assigned_to == world.first


def test_a_legal_request_goes_to_a_lawyer_never_to_a_counsellor(world: World) -> None:
    consultation = routed(topic=Topic.SCHOOL_BULLYING)
    assert consultation.assigned_to == world.lawyer


def test_nobody_on_duty_falls_back_to_the_least_loaded_professional_covering_the_region(
    world: World,
) -> None:
    DutySlot.objects.filter(volunteer__in=[world.first, world.second]).exclude(weekday=3).delete()
    open_requests(world.first, 1)

    consultation = routed()

    assert consultation.assigned_to == world.second


def test_professionals_who_may_not_answer_are_never_chosen(world: World, personas: dict[str, Any]) -> None:
    DutySlot.objects.filter(volunteer__in=[world.first, world.second]).delete()
    suspended = make_professional(
        username="c-suspended", kind=Kind.PSYCHOLOGICAL, status=Status.SUSPENDED, status_reason="休假"
    )
    uncertified = make_professional(
        username="c-uncertified", kind=Kind.PSYCHOLOGICAL, psychology_certificate=""
    )
    teacher = make_professional(
        username="c-teacher", kind=Kind.PSYCHOLOGICAL, specialties=int(Specialty.TEACHING)
    )
    county_b = make_professional(
        username="c-county-b", kind=Kind.PSYCHOLOGICAL, region=COUNTY_B, home=COMMUNITY_B
    )
    without_account: Volunteer = VolunteerFactory.create(
        specialties=int(Specialty.PSYCHOLOGY), psychology_certificate="心理咨询师二级"
    )
    expired = make_professional(username="c-expired", kind=Kind.PSYCHOLOGICAL)
    RoleAssignment.objects.filter(user=expired.user).update(valid_to=datetime.date(2025, 12, 31))
    for volunteer in (suspended, uncertified, teacher, without_account, expired):
        on_duty_all_week(volunteer, kind=Kind.PSYCHOLOGICAL)
    on_duty_all_week(county_b, kind=Kind.PSYCHOLOGICAL, region=COUNTY_B)
    on_duty_all_week(
        world.lawyer, kind=Kind.PSYCHOLOGICAL
    )  # a lawyer's psychological slots count for nothing

    consultation = routed()

    assert consultation.assigned_to is None
    # Nobody: the county's admins are told, once.
    assert notified(f"consultation:{consultation.pk}:unrouted") == {"p-county-a"}
    consultation_route(consultation=consultation)
    assert Notification.objects.filter(topic__contains="unrouted").count() == 1


def test_lead_slots_take_no_ordinary_requests(world: World) -> None:
    DutySlot.objects.filter(volunteer__in=[world.first, world.second]).delete()
    lead = make_professional(username="c-lead", kind=Kind.PSYCHOLOGICAL, region="330000000000")
    on_duty_all_week(lead, kind=Kind.PSYCHOLOGICAL, region="330000000000", is_lead=True)

    assert routed().assigned_to is None


def test_a_slot_of_a_township_covers_its_villages_not_the_rest_of_the_county(world: World) -> None:
    DutySlot.objects.filter(volunteer=world.first).update(region_id=TOWNSHIP_A)
    DutySlot.objects.filter(volunteer=world.second).update(region_id="330127100219")  # another village
    open_requests(world.first, 3)

    # From 青城社区 (千岛湖镇): only the first's township slots cover it.
    assert routed().assigned_to == world.first


def test_a_declined_request_is_never_offered_again_to_the_one_who_declined(world: World) -> None:
    consultation = routed()
    assert consultation.assigned_to == world.first

    consultation_decline(
        actor=actor_of(world.first), consultation_id=consultation.pk, reason=DeclineReason.CONFLICT
    )
    consultation.refresh_from_db()
    assert consultation.assigned_to == world.second
    assert ConsultationDecline.objects.filter(consultation=consultation, volunteer=world.first).exists()

    consultation_decline(
        actor=actor_of(world.second), consultation_id=consultation.pk, reason=DeclineReason.UNAVAILABLE
    )
    consultation.refresh_from_db()
    assert consultation.assigned_to is None
    assert notified(f"consultation:{consultation.pk}:unrouted") == {"p-county-a"}
    assert AuditEvent.objects.filter(action="consultation.decline").count() == 2


def test_declining_needs_a_known_reason_and_a_request_offered_to_oneself(world: World) -> None:
    consultation = routed()
    with pytest.raises(ValidationFailed) as failure:
        consultation_decline(actor=actor_of(world.first), consultation_id=consultation.pk, reason="tired")
    assert failure.value.fields == {"reason": ["请选择退回原因"]}
    with pytest.raises(NotFoundError):
        consultation_decline(
            actor=actor_of(world.second), consultation_id=consultation.pk, reason=DeclineReason.CONFLICT
        )
    with pytest.raises(PermissionDeniedError):
        consultation_decline(
            actor=actor_of(world.personas["county_a_admin"]),
            consultation_id=consultation.pk,
            reason=DeclineReason.CONFLICT,
        )


# --- Crises -----------------------------------------------------------------------------------------------


def test_a_crisis_alerts_every_counsellor_and_professional_of_its_kind_on_duty_and_assigns_nobody(
    world: World,
) -> None:
    off_duty = make_professional(username="c-off-duty", kind=Kind.PSYCHOLOGICAL)
    DutySlotFactory.create(volunteer=off_duty, weekday=1, part=0)
    lead = make_professional(username="c-lead", kind=Kind.PSYCHOLOGICAL, region="330000000000")
    on_duty_all_week(lead, kind=Kind.PSYCHOLOGICAL, region="330000000000", is_lead=True)
    county_b = make_professional(
        username="c-county-b", kind=Kind.PSYCHOLOGICAL, region=COUNTY_B, home=COMMUNITY_B
    )
    on_duty_all_week(county_b, kind=Kind.PSYCHOLOGICAL, region=COUNTY_B)
    other_lawyer = make_professional(
        username="l-county-b", kind=Kind.LEGAL, region=COUNTY_B, home=COMMUNITY_B
    )
    on_duty_all_week(other_lawyer, kind=Kind.LEGAL, region=COUNTY_B)

    consultation = routed(topic=Topic.DOMESTIC_VIOLENCE, is_urgent=True, crisis_signals=["violence"])

    assert consultation.assigned_to is None
    assert consultation.accept_due_at == NOW + datetime.timedelta(minutes=10)
    assert consultation.escalation_level == EscalationLevel.REGION
    assert notified(f"consultation:{consultation.pk}:urgent:0") == {"c-first", "c-second", "l-first"}
    alerts = Notification.objects.filter(topic=f"consultation:{consultation.pk}:urgent:0")
    assert {alert.kind for alert in alerts} == {Notification.Kind.ALERT}
    assert all("紧急" in alert.title and consultation.reference in alert.body for alert in alerts)


def test_a_psychological_crisis_alerts_no_lawyer(world: World) -> None:
    consultation = routed(topic=Topic.SELF_HARM, is_urgent=True)
    assert notified(f"consultation:{consultation.pk}:urgent") == {"c-first", "c-second"}


def test_a_crisis_with_nobody_on_duty_goes_to_the_county_at_once(world: World) -> None:
    DutySlot.objects.filter(volunteer__in=[world.first, world.second]).exclude(weekday=3).delete()

    consultation = routed(topic=Topic.SELF_HARM, is_urgent=True)

    assert consultation.escalation_level == EscalationLevel.COUNTY
    assert consultation.accept_breached is False
    # The county's professionals (on duty some other time) and its admins.
    assert notified(f"consultation:{consultation.pk}:urgent:1") == {"c-first", "c-second", "p-county-a"}


def test_the_queue_holds_ones_own_requests_and_the_crises_offered_urgent_first(world: World) -> None:
    mine_old: Consultation = ConsultationFactory.create(assigned_to=world.first, assigned_at=NOW)
    Consultation.objects.filter(pk=mine_old.pk).update(created_at=NOW - datetime.timedelta(hours=2))
    mine_new: Consultation = ConsultationFactory.create(assigned_to=world.first, assigned_at=NOW)
    ConsultationFactory.create(assigned_to=world.second, assigned_at=NOW)  # someone else's
    ConsultationFactory.create(assigned_to=world.first, state=State.ACCEPTED)  # accepted: in conversations
    crisis = routed(topic=Topic.SELF_HARM, is_urgent=True)
    elsewhere = routed(topic=Topic.SELF_HARM, is_urgent=True, region_id=COMMUNITY_B)
    legal_crisis = routed(topic=Topic.DOMESTIC_VIOLENCE, is_urgent=True)

    queue = list(professional_queue(volunteer=world.first, now=NOW))
    lawyer_queue = list(professional_queue(volunteer=world.lawyer, now=NOW))

    assert queue == [crisis, legal_crisis, mine_old, mine_new]
    assert elsewhere not in queue
    assert lawyer_queue == [legal_crisis]


# --- Accepting --------------------------------------------------------------------------------------------


def test_accepting_requires_the_declaration_of_no_conflict(world: World) -> None:
    consultation = routed()
    with pytest.raises(ValidationFailed) as failure:
        consultation_accept(
            actor=actor_of(world.first), consultation_id=consultation.pk, declares_no_conflict=False
        )
    assert failure.value.fields == {"declares_no_conflict": ["请确认与求助人不存在利益冲突"]}
    consultation.refresh_from_db()
    assert consultation.state == State.WAITING


def test_accepting_an_offered_request(world: World) -> None:
    consultation = routed()

    accepted = consultation_accept(
        actor=actor_of(world.first), consultation_id=consultation.pk, declares_no_conflict=True
    )

    assert accepted.state == State.ACCEPTED
    assert accepted.assigned_to == world.first
    assert accepted.accepted_at == NOW
    assert accepted.version == 2
    message = Message.objects.get(consultation=consultation)
    assert (message.sender, message.body) == (Sender.SYSTEM, "志愿者已受理您的求助，会尽快回复您。")
    event = AuditEvent.objects.get(action="consultation.accept")
    assert event.detail["declares_no_conflict"] is True
    # Accepting again changes nothing.
    again = consultation_accept(
        actor=actor_of(world.first), consultation_id=consultation.pk, declares_no_conflict=True
    )
    assert again.version == 2
    assert Message.objects.filter(consultation=consultation).count() == 1


def test_a_request_not_offered_answers_404(world: World) -> None:
    consultation = routed()
    with pytest.raises(NotFoundError):
        consultation_accept(
            actor=actor_of(world.second), consultation_id=consultation.pk, declares_no_conflict=True
        )
    with pytest.raises(NotFoundError):
        consultation_accept(actor=actor_of(world.first), consultation_id=999999, declares_no_conflict=True)


def test_the_first_to_accept_a_crisis_wins(world: World) -> None:
    crisis = routed(topic=Topic.SELF_HARM, is_urgent=True)

    consultation_accept(actor=actor_of(world.second), consultation_id=crisis.pk, declares_no_conflict=True)
    with pytest.raises(ConsultationTaken) as failure:
        consultation_accept(actor=actor_of(world.first), consultation_id=crisis.pk, declares_no_conflict=True)

    assert (failure.value.status, failure.value.code) == (409, "consultation_taken")
    crisis.refresh_from_db()
    assert (crisis.state, crisis.assigned_to) == (State.ACCEPTED, world.second)
    assert crisis.accept_due_at is None
    assert crisis.accept_breached is False
    # The lawyer, never offered this psychological crisis, learns nothing of it.
    with pytest.raises(NotFoundError):
        consultation_accept(
            actor=actor_of(world.lawyer), consultation_id=crisis.pk, declares_no_conflict=True
        )


def test_a_crisis_accepted_late_is_marked_breached(world: World, time_machine: Any) -> None:
    crisis = routed(topic=Topic.SELF_HARM, is_urgent=True)
    time_machine.move_to(NOW + datetime.timedelta(minutes=11), tick=False)

    accepted = consultation_accept(
        actor=actor_of(world.first), consultation_id=crisis.pk, declares_no_conflict=True
    )

    assert accepted.accept_breached is True


# --- Reassigning ------------------------------------------------------------------------------------------


def test_a_supervisor_reassigns_an_accepted_request_which_waits_again(world: World) -> None:
    consultation = routed()
    consultation_accept(
        actor=actor_of(world.first), consultation_id=consultation.pk, declares_no_conflict=True
    )

    reassigned = consultation_reassign(
        actor=actor_of(world.personas["county_a_admin"]),
        consultation_id=consultation.pk,
        volunteer_id=world.second.pk,
        reason="原承办人出差",
    )

    assert (reassigned.state, reassigned.assigned_to, reassigned.accepted_at) == (
        State.WAITING,
        world.second,
        None,
    )
    assert list(professional_queue(volunteer=world.second, now=NOW)) == [reassigned]
    assert Message.objects.filter(consultation=consultation, sender=Sender.SYSTEM).count() == 2
    notice = Notification.objects.get(user=world.second.user, topic__contains="assigned")
    assert "原承办人出差" in notice.body
    event = AuditEvent.objects.get(action="consultation.reassign")
    assert event.detail == {"from": world.first.pk, "to": world.second.pk, "reason": "原承办人出差"}


def test_a_supervisor_of_another_county_cannot_reassign(world: World) -> None:
    consultation = routed()
    with pytest.raises(NotFoundError):
        consultation_reassign(
            actor=actor_of(world.personas["county_b_admin"]),
            consultation_id=consultation.pk,
            volunteer_id=world.second.pk,
            reason="调整",
        )
    with pytest.raises(NotFoundError):  # whatever the form holds
        consultation_reassign(
            actor=actor_of(world.personas["county_b_admin"]),
            consultation_id=consultation.pk,
            volunteer_id=world.second.pk,
            reason="",
        )
    with pytest.raises(PermissionDeniedError):
        consultation_reassign(
            actor=actor_of(world.first),
            consultation_id=consultation.pk,
            volunteer_id=world.second.pk,
            reason="x",
        )


def test_a_request_is_reassigned_only_to_a_qualified_professional_covering_it(world: World) -> None:
    consultation = routed()
    county_b = make_professional(
        username="c-county-b", kind=Kind.PSYCHOLOGICAL, region=COUNTY_B, home=COMMUNITY_B
    )
    on_duty_all_week(county_b, kind=Kind.PSYCHOLOGICAL, region=COUNTY_B)
    admin = actor_of(world.personas["county_a_admin"])
    for volunteer_id in (world.lawyer.pk, county_b.pk, world.first.pk):
        with pytest.raises(ValidationFailed) as failure:
            consultation_reassign(
                actor=admin, consultation_id=consultation.pk, volunteer_id=volunteer_id, reason="x"
            )
        assert list(failure.value.fields) == ["volunteer_id"]
    with pytest.raises(ValidationFailed) as failure:
        consultation_reassign(
            actor=admin, consultation_id=consultation.pk, volunteer_id=world.second.pk, reason=" "
        )
    assert failure.value.fields == {"reason": ["请填写转交原因"]}


# --- A crisis signalled later -----------------------------------------------------------------------------


def test_a_crisis_in_a_later_message_offers_a_waiting_request_to_everyone_on_duty(world: World) -> None:
    consultation = routed()
    assert consultation.assigned_to == world.first

    consultation_mark_urgent(consultation=consultation, signals=["suicide"])

    assert consultation.is_urgent is True
    assert consultation.crisis_signals == ["suicide"]
    assert consultation.assigned_to is None
    assert consultation.accept_due_at == NOW + datetime.timedelta(minutes=10)
    assert notified(f"consultation:{consultation.pk}:urgent:0") == {"c-first", "c-second"}
    before = Notification.objects.count()
    consultation_mark_urgent(consultation=consultation, signals=["suicide"])
    assert Notification.objects.count() == before


def test_a_crisis_in_an_accepted_conversation_alerts_its_professional(world: World) -> None:
    consultation = routed()
    consultation_accept(
        actor=actor_of(world.first), consultation_id=consultation.pk, declares_no_conflict=True
    )

    consultation_mark_urgent(consultation=consultation, signals=["suicide", "self_harm"])
    consultation_mark_urgent(consultation=consultation, signals=["suicide"])

    assert consultation.state == State.ACCEPTED
    assert consultation.crisis_signals == ["suicide", "self_harm"]
    alerts = Notification.objects.filter(topic__contains="crisis")
    assert [(alert.user, alert.kind) for alert in alerts] == [(world.first.user, Notification.Kind.ALERT)]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks between connections: PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_professionals_accepting_at_the_same_moment_one_wins(world: World) -> None:
    crisis = routed(topic=Topic.SELF_HARM, is_urgent=True)
    actors = [actor_of(world.first), actor_of(world.second)]
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def accept(actor: Actor) -> None:
        try:
            start.wait()
            consultation_accept(actor=actor, consultation_id=crisis.pk, declares_no_conflict=True)
            outcomes.append("accepted")
        except ConsultationTaken:
            outcomes.append("taken")
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(actor,)) for actor in actors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["accepted", "taken"]
    assert Message.objects.filter(consultation=crisis).count() == 1
