"""The daily closing of pairings that can no longer go on."""

from __future__ import annotations

import datetime

import pytest

from guanai.audit.models import AuditEvent
from guanai.minors.tests.factories import ConsentFactory, MinorFactory
from guanai.pairings.models import Pairing
from guanai.pairings.services import pairings_close_lapsed
from guanai.pairings.tasks import close_lapsed
from guanai.pairings.tests.factories import PairingFactory
from guanai.pairings.vocabulary import PairingState
from guanai.volunteers.tests.factories import VolunteerFactory
from guanai.volunteers.vocabulary import Status as VolunteerStatus

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 11, 30)


def consented_minor(**fields: object) -> object:
    minor = MinorFactory.create(**fields)
    ConsentFactory.create(minor=minor, scope=["registration", "pairing"])
    return minor


def open_pairing(minor: object = None, volunteer: object = None, state: str = PairingState.ACTIVE) -> Pairing:
    volunteer = volunteer or VolunteerFactory.create(paired_count=1)
    return PairingFactory.create(minor=minor or consented_minor(), volunteer=volunteer, state=state)


def test_each_lapse_closes_its_pairing_with_its_reason_and_frees_the_place(regions: None) -> None:
    going_on = open_pairing()
    suspended = open_pairing(
        volunteer=VolunteerFactory.create(
            status=VolunteerStatus.SUSPENDED, status_reason="住院", paired_count=1
        )
    )
    aged_out = open_pairing(consented_minor(status="aged_out", closed_reason="已满18周岁"))
    closed_record = open_pairing(consented_minor(status="closed", closed_reason="迁往外省"))
    no_consent = open_pairing(MinorFactory.create())
    withdrawn = MinorFactory.create()
    ConsentFactory.create(minor=withdrawn, scope=["registration", "pairing"], withdrawn_on=DAY)
    consent_withdrawn = open_pairing(withdrawn, state=PairingState.PROPOSED)
    gone = VolunteerFactory.create(status=VolunteerStatus.DECEASED, status_reason="病故", paired_count=1)
    volunteer_gone = open_pairing(volunteer=gone)

    assert pairings_close_lapsed(today=DAY) == {
        "aged_out": 1,
        "other": 1,
        "consent_withdrawn": 2,
        "volunteer_unable": 1,
    }
    states = {p.pk: (p.state, p.close_reason, p.close_note, p.closed_on) for p in Pairing.objects.all()}
    assert states[going_on.pk] == ("active", "", "", None)
    assert states[suspended.pk] == ("active", "", "", None)
    assert states[aged_out.pk] == ("closed", "aged_out", "", DAY)
    assert states[closed_record.pk] == ("closed", "other", "儿童档案已结案", DAY)
    assert states[no_consent.pk] == ("closed", "consent_withdrawn", "", DAY)
    assert states[consent_withdrawn.pk] == ("closed", "consent_withdrawn", "", DAY)
    assert states[volunteer_gone.pk] == ("closed", "volunteer_unable", "已故", DAY)
    gone.refresh_from_db()
    assert gone.paired_count == 0
    events = AuditEvent.objects.filter(action="pairing.close").order_by("id")  # in the order of the pairings
    assert [event.detail for event in events] == [
        {"reason": reason, "automatic": True}
        for reason in ["aged_out", "other", "consent_withdrawn", "consent_withdrawn", "volunteer_unable"]
    ]
    assert all(event.actor_user_id is None for event in events)


def test_running_again_closes_nothing_more(regions: None) -> None:
    open_pairing(consented_minor(status="aged_out", closed_reason="已满18周岁"))
    assert close_lapsed.delay().get() == {"aged_out": 1}
    assert close_lapsed.delay().get() == {}
    assert AuditEvent.objects.filter(action="pairing.close").count() == 1
