"""The service-level clocks (routing.clocks_run, tasks.run_clocks): a crisis nobody accepts escalates to the
county after 10 minutes and to the province's lead after 10 more, once; a message not answered in 24 hours
is marked and reminded, once. The clock is moved with time_machine."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from guanai.accounts.selectors import actor_for_user
from guanai.accounts.services import role_assign, user_create
from guanai.audit.models import AuditEvent
from guanai.consultations.models import Consultation, DutySlot
from guanai.consultations.routing import clocks_run, consultation_accept, consultation_route
from guanai.consultations.tasks import run_clocks
from guanai.consultations.tests.conftest import NOW
from guanai.consultations.tests.factories import (
    ConsultationFactory,
    DutySlotFactory,
    make_professional,
    on_duty_all_week,
)
from guanai.consultations.vocabulary import EscalationLevel, Kind, State, Topic
from guanai.core.access import Actor, Role
from guanai.core.testing import COUNTY_B
from guanai.notifications.models import Notification
from guanai.regions.models import Region
from guanai.volunteers.models import Volunteer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

PROVINCE = "330000000000"
TOWNSHIP_A = "330127100000"
COMMUNITY_B = "330182001020"
ZERO = {"escalated_to_county": 0, "escalated_to_province": 0, "reply_breached": 0, "notified": 0}


def actor_of(volunteer: Volunteer) -> Actor:
    assert volunteer.user is not None
    return actor_for_user(volunteer.user)


def usernames(topic: str) -> set[str]:
    return set(Notification.objects.filter(topic=topic).values_list("user__username", flat=True))


@pytest.fixture
def crisis(personas: dict[str, Any]) -> Consultation:
    """A psychological crisis from 青城社区 at 10:00, with: a counsellor on duty now (alerted at once); one
    of the county's on duty only on Tuesdays, one covering a township of the county only on Wednesday
    mornings; one of county B; the province's lead on duty now and one on duty only at night."""
    on_duty = make_professional(username="c-on-duty", kind=Kind.PSYCHOLOGICAL)
    on_duty_all_week(on_duty, kind=Kind.PSYCHOLOGICAL)
    tuesdays = make_professional(username="c-tuesdays", kind=Kind.PSYCHOLOGICAL)
    DutySlotFactory.create(volunteer=tuesdays, weekday=1, part=0)
    township = make_professional(username="c-township", kind=Kind.PSYCHOLOGICAL)
    DutySlotFactory.create(volunteer=township, weekday=2, part=0, region_id=TOWNSHIP_A)
    county_b = make_professional(
        username="c-county-b", kind=Kind.PSYCHOLOGICAL, region=COUNTY_B, home=COMMUNITY_B
    )
    on_duty_all_week(county_b, kind=Kind.PSYCHOLOGICAL, region=COUNTY_B)
    lead = make_professional(username="c-lead", kind=Kind.PSYCHOLOGICAL, region=PROVINCE)
    DutySlotFactory.create(volunteer=lead, weekday=0, part=0, region_id=PROVINCE, is_lead=True)
    night_lead = make_professional(username="c-night-lead", kind=Kind.PSYCHOLOGICAL, region=PROVINCE)
    DutySlotFactory.create(volunteer=night_lead, weekday=0, part=3, region_id=PROVINCE, is_lead=True)
    consultation: Consultation = ConsultationFactory.create(topic=Topic.SELF_HARM, is_urgent=True)
    consultation_route(consultation=consultation)
    assert usernames(f"consultation:{consultation.pk}:urgent:0") == {"c-on-duty"}
    return consultation


def test_nothing_is_due_before_the_accept_minutes_have_passed(
    crisis: Consultation, time_machine: Any
) -> None:
    time_machine.move_to(NOW + datetime.timedelta(minutes=9, seconds=59), tick=False)
    assert clocks_run(now=NOW + datetime.timedelta(minutes=9, seconds=59)) == ZERO


def test_a_crisis_nobody_accepts_escalates_to_the_county_then_to_the_province_lead_once(
    crisis: Consultation, time_machine: Any
) -> None:
    first = NOW + datetime.timedelta(minutes=10, seconds=5)
    time_machine.move_to(first, tick=False)

    counts = clocks_run(now=first)

    crisis.refresh_from_db()
    assert counts == {**ZERO, "escalated_to_county": 1, "notified": 4}
    assert crisis.escalation_level == EscalationLevel.COUNTY
    assert crisis.accept_breached is True
    assert crisis.escalated_at == first
    assert crisis.accept_due_at == first + datetime.timedelta(minutes=10)
    # The county's admins and every professional serving the county, on duty or not; not county B's.
    assert usernames(f"consultation:{crisis.pk}:urgent:1") == {
        "c-on-duty",
        "c-tuesdays",
        "c-township",
        "p-county-a",
    }
    alert = Notification.objects.get(topic=f"consultation:{crisis.pk}:urgent:1", user__username="p-county-a")
    assert alert.kind == Notification.Kind.ALERT
    assert alert.link == f"/consultations/{crisis.pk}/reassign/"
    assert clocks_run(now=first) == ZERO

    second = first + datetime.timedelta(minutes=10)
    time_machine.move_to(second, tick=False)
    counts = clocks_run(now=second)

    crisis.refresh_from_db()
    assert counts == {**ZERO, "escalated_to_province": 1, "notified": 2}
    assert crisis.escalation_level == EscalationLevel.PROVINCE
    # The lead on duty now (not the night's) and the province's admins.
    assert usernames(f"consultation:{crisis.pk}:urgent:2") == {"c-lead", "p-province"}
    assert AuditEvent.objects.filter(action="consultation.escalate", target_id=str(crisis.pk)).count() == 2

    later = second + datetime.timedelta(minutes=30)
    time_machine.move_to(later, tick=False)
    before = Notification.objects.count()
    assert clocks_run(now=later) == ZERO
    assert Notification.objects.count() == before
    crisis.refresh_from_db()
    assert crisis.escalation_level == EscalationLevel.PROVINCE


def test_an_escalated_crisis_is_in_the_queue_of_everyone_it_reached(
    crisis: Consultation, time_machine: Any
) -> None:
    from guanai.consultations.routing import professional_queue

    tuesdays = Volunteer.objects.get(user__username="c-tuesdays")
    lead = Volunteer.objects.get(user__username="c-lead")
    county_b = Volunteer.objects.get(user__username="c-county-b")
    assert list(professional_queue(volunteer=tuesdays, now=NOW)) == []

    first = NOW + datetime.timedelta(minutes=11)
    time_machine.move_to(first, tick=False)
    clocks_run(now=first)
    assert list(professional_queue(volunteer=tuesdays, now=first)) == [crisis]
    assert list(professional_queue(volunteer=lead, now=first)) == []

    second = first + datetime.timedelta(minutes=11)
    time_machine.move_to(second, tick=False)
    clocks_run(now=second)
    assert list(professional_queue(volunteer=lead, now=second)) == [crisis]
    assert list(professional_queue(volunteer=county_b, now=second)) == []

    accepted = consultation_accept(actor=actor_of(lead), consultation_id=crisis.pk, declares_no_conflict=True)
    assert (accepted.state, accepted.accept_breached) == (State.ACCEPTED, True)


def test_with_no_lead_on_duty_every_lead_is_alerted(crisis: Consultation, time_machine: Any) -> None:
    DutySlot.objects.filter(volunteer__user__username="c-lead").update(part=2)
    moment = NOW + datetime.timedelta(minutes=10)
    for _step in range(2):
        moment += datetime.timedelta(minutes=10)
        time_machine.move_to(moment, tick=False)
        clocks_run(now=moment)

    assert usernames(f"consultation:{crisis.pk}:urgent:2") == {"c-lead", "c-night-lead", "p-province"}


def test_an_accepted_crisis_does_not_escalate(crisis: Consultation, time_machine: Any) -> None:
    on_duty = Volunteer.objects.get(user__username="c-on-duty")
    consultation_accept(actor=actor_of(on_duty), consultation_id=crisis.pk, declares_no_conflict=True)
    later = NOW + datetime.timedelta(minutes=30)
    time_machine.move_to(later, tick=False)

    assert clocks_run(now=later) == ZERO


def test_county_admins_of_another_county_or_with_an_expired_role_are_not_alerted(
    crisis: Consultation, time_machine: Any
) -> None:
    former = user_create(username="p-county-a-former", password=None, display_name="former")
    role_assign(
        user=former,
        role=Role.COUNTY_ADMIN,
        region=Region.objects.get(code="330127000000"),
        valid_from=datetime.date(2020, 1, 1),
        valid_to=datetime.date(2025, 1, 1),
    )
    moment = NOW + datetime.timedelta(minutes=10)
    time_machine.move_to(moment, tick=False)
    clocks_run(now=moment)

    recipients = usernames(f"consultation:{crisis.pk}:urgent:1")
    assert "p-county-a" in recipients
    assert "p-county-a-former" not in recipients
    assert "p-county-b" not in recipients


# --- The reply clock --------------------------------------------------------------------------------------


def test_a_message_not_answered_in_time_is_marked_and_reminded_once(
    personas: dict[str, Any], time_machine: Any
) -> None:
    counsellor = make_professional(username="c-slow", kind=Kind.PSYCHOLOGICAL)
    on_duty_all_week(counsellor, kind=Kind.PSYCHOLOGICAL)
    consultation: Consultation = ConsultationFactory.create()
    consultation_route(consultation=consultation)
    consultation_accept(
        actor=actor_of(counsellor), consultation_id=consultation.pk, declares_no_conflict=True
    )
    unanswered: Consultation = ConsultationFactory.create()  # nobody to route it to later
    Consultation.objects.filter(pk=unanswered.pk).update(reply_due_at=NOW + datetime.timedelta(hours=30))

    almost = NOW + datetime.timedelta(hours=23, minutes=59)
    assert clocks_run(now=almost) == ZERO

    due = NOW + datetime.timedelta(hours=24)
    time_machine.move_to(due, tick=False)
    counts = clocks_run(now=due)

    consultation.refresh_from_db()
    assert counts == {**ZERO, "reply_breached": 1, "notified": 2}
    assert consultation.reply_breached is True
    reminders = Notification.objects.filter(topic__startswith=f"consultation:{consultation.pk}:reply:")
    assert {(row.user.username, row.kind) for row in reminders} == {
        ("c-slow", Notification.Kind.REMINDER),
        ("p-county-a", Notification.Kind.REMINDER),
    }
    assert clocks_run(now=due) == ZERO
    unanswered.refresh_from_db()
    assert unanswered.reply_breached is False


def test_a_closed_request_has_no_clock(personas: dict[str, Any]) -> None:
    ConsultationFactory.create(
        state=State.CLOSED,
        outcome="advice",
        reply_due_at=NOW - datetime.timedelta(hours=1),
        is_urgent=True,
        accept_due_at=NOW - datetime.timedelta(hours=1),
    )
    assert clocks_run(now=NOW) == ZERO


def test_the_task_runs_the_clocks_at_the_current_time(crisis: Consultation, time_machine: Any) -> None:
    time_machine.move_to(NOW + datetime.timedelta(minutes=10), tick=False)

    assert run_clocks() == {**ZERO, "escalated_to_county": 1, "notified": 4}
    assert run_clocks() == ZERO
