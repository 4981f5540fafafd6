"""The contact policy: monthly, fortnightly for a child at high risk, configurable; overdue computed with a
frozen clock; the overdue lists and counts of a region; the due days kept right; one reminder per overdue
period, however often the daily task runs."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from guanai.accounts.selectors import actor_for_user
from guanai.accounts.sms import ConsoleSmsBackend
from guanai.core.errors import NotFoundError, PermissionDeniedError, ValidationFailed
from guanai.core.region_codes import RegionLevel
from guanai.minors.tests.factories import COMMUNITY_A, COMMUNITY_B, VILLAGE_A, MinorFactory
from guanai.minors.vocabulary import RiskLevel
from guanai.notifications.models import Notification
from guanai.pairings.contact import (
    contact_interval_days,
    contact_schedule_sync,
    days_overdue,
    overdue_counts,
    overdue_pairings,
    overdue_reminders_send,
)
from guanai.pairings.models import Pairing
from guanai.pairings.tasks import overdue_reminders
from guanai.pairings.tests.factories import PairingFactory
from guanai.pairings.visits import visit_record
from guanai.pairings.vocabulary import PairingState
from guanai.volunteers.tests.factories import VolunteerFactory

pytestmark = pytest.mark.django_db

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
DAY = datetime.date(2026, 11, 30)


def at(day: datetime.date, hour: int = 9) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def frozen(time_machine: Any) -> Any:
    time_machine.move_to(at(DAY), tick=False)
    return time_machine


def paired(region_code: str = VILLAGE_A, *, risk: str = RiskLevel.LOW, **values: Any) -> Pairing:
    pairing: Pairing = PairingFactory.create(
        minor=MinorFactory.create(region_id=region_code, risk_level=risk),
        volunteer=VolunteerFactory.create(region_id=region_code),
        **values,
    )
    return pairing


# --- The policy ---------------------------------------------------------------------------------------


def test_contact_is_monthly_and_fortnightly_for_a_child_at_high_risk() -> None:
    assert contact_interval_days(RiskLevel.LOW) == 30
    assert contact_interval_days(RiskLevel.MEDIUM) == 30
    assert contact_interval_days(RiskLevel.HIGH) == 14


def test_the_intervals_come_from_the_settings(settings: Any) -> None:
    settings.GUANAI_CONTACT_DAYS = 21
    settings.GUANAI_CONTACT_DAYS_HIGH_RISK = 7

    assert (contact_interval_days(RiskLevel.LOW), contact_interval_days(RiskLevel.HIGH)) == (21, 7)


@pytest.mark.parametrize("value", [0, 367, "30", True])
def test_a_bad_interval_setting_fails_loudly(settings: Any, value: Any) -> None:
    settings.GUANAI_CONTACT_DAYS = value

    with pytest.raises(ImproperlyConfigured):
        contact_interval_days(RiskLevel.LOW)


# --- Overdue, with the clock frozen ----------------------------------------------------------------------


def overdue_ids(personas: dict[str, Any], name: str = "county_a_admin", **filters: Any) -> list[int]:
    actor = actor_for_user(personas[name])
    return list(overdue_pairings(actor=actor, **filters).values_list("pk", flat=True))


def visit(personas: dict[str, Any], pairing: Pairing, day: datetime.date) -> None:
    visit_record(
        actor=actor_for_user(personas["township_worker"]),
        pairing_id=pairing.pk,
        visited_on=day,
        mode="home",
        duration_minutes=45,
    )


def test_a_monthly_contact_is_overdue_from_the_day_after_it_was_due(
    personas: dict[str, Any], frozen: Any
) -> None:
    frozen.move_to(at(datetime.date(2026, 10, 30)), tick=False)
    pairing = paired()
    visit(personas, pairing, datetime.date(2026, 10, 30))
    pairing.refresh_from_db()
    assert pairing.next_contact_due == datetime.date(2026, 11, 29)

    frozen.move_to(at(datetime.date(2026, 11, 29), hour=23), tick=False)
    assert overdue_ids(personas) == []

    frozen.move_to(at(datetime.date(2026, 11, 30), hour=0), tick=False)
    assert overdue_ids(personas) == [pairing.pk]
    assert days_overdue(pairing, datetime.date(2026, 11, 30)) == 1

    visit(personas, pairing, datetime.date(2026, 11, 30))
    assert overdue_ids(personas) == []


def test_a_high_risk_child_is_overdue_after_a_fortnight(personas: dict[str, Any], frozen: Any) -> None:
    frozen.move_to(at(datetime.date(2026, 11, 15)), tick=False)
    high = paired(risk=RiskLevel.HIGH)
    low = paired()
    visit(personas, high, datetime.date(2026, 11, 15))
    visit(personas, low, datetime.date(2026, 11, 15))

    frozen.move_to(at(datetime.date(2026, 11, 29)), tick=False)
    assert overdue_ids(personas) == []

    frozen.move_to(at(datetime.date(2026, 11, 30)), tick=False)
    assert overdue_ids(personas) == [high.pk]

    frozen.move_to(at(datetime.date(2026, 12, 16)), tick=False)
    assert overdue_ids(personas) == [high.pk, low.pk]  # the longest overdue first


@pytest.fixture
def overdue_world(regions: None) -> dict[str, Pairing]:
    """Overdue on 30 November: two in 富城村 and one in 青城社区 (千岛湖镇, 淳安县), one in 白沙社区 (建德市);
    and pairings that are not: due later, closed, proposed, and a sealed record."""
    return {
        "fucheng_long": paired(VILLAGE_A, next_contact_due=datetime.date(2026, 11, 1)),
        "fucheng": paired(VILLAGE_A, next_contact_due=datetime.date(2026, 11, 20)),
        "qingcheng": paired(COMMUNITY_A, next_contact_due=datetime.date(2026, 11, 29)),
        "baisha": paired(COMMUNITY_B, next_contact_due=datetime.date(2026, 11, 10)),
        "due_today": paired(VILLAGE_A, next_contact_due=DAY),
        "closed": paired(VILLAGE_A, state=PairingState.CLOSED, next_contact_due=datetime.date(2026, 11, 1)),
        "proposed": paired(
            VILLAGE_A, state=PairingState.PROPOSED, next_contact_due=datetime.date(2026, 11, 1)
        ),
        "sealed": PairingFactory.create(
            minor=MinorFactory.create(region_id=VILLAGE_A, is_sealed=True, categories=128),
            next_contact_due=datetime.date(2026, 11, 1),
        ),
    }


def test_the_overdue_list_is_the_regions_own(
    personas: dict[str, Any], overdue_world: dict[str, Pairing]
) -> None:
    a = [overdue_world[key].pk for key in ("fucheng_long", "fucheng", "qingcheng")]
    b = overdue_world["baisha"].pk

    assert overdue_ids(personas, "county_a_admin") == a
    assert overdue_ids(personas, "township_worker") == a
    assert overdue_ids(personas, "county_b_admin") == [b]
    assert overdue_ids(personas, "province_admin") == [a[0], b, a[1], a[2]]
    assert overdue_ids(personas, "county_a_admin", region="330127100219") == a[:2]
    assert overdue_ids(personas, "province_admin", region="330182") == [b]
    with pytest.raises(NotFoundError):
        overdue_ids(personas, "county_a_admin", region="330182000000")
    with pytest.raises(NotFoundError):
        overdue_ids(personas, "township_worker", region="330127000000")  # above one's own region
    with pytest.raises(ValidationFailed):
        overdue_ids(personas, "county_a_admin", region="33012")
    for name in ("volunteer", "auditor", "lawyer"):
        with pytest.raises(PermissionDeniedError):
            overdue_ids(personas, name)


def test_overdue_counts_per_region_for_the_dashboards(overdue_world: dict[str, Pairing]) -> None:
    assert overdue_counts("330127000000", DAY) == {"330127100000": 3}
    assert overdue_counts("330127100000", DAY) == {"330127100001": 1, "330127100219": 2}
    assert overdue_counts("330127100219", DAY) == {"330127100219": 2}
    assert overdue_counts("330000000000", DAY) == {"330100000000": 4}
    assert overdue_counts("33", DAY, level=RegionLevel.COUNTY) == {"330127000000": 3, "330182000000": 1}
    assert overdue_counts("330127000000", datetime.date(2026, 11, 21)) == {"330127100000": 2}
    assert overdue_counts("330200000000", DAY) == {}
    with pytest.raises(ValueError, match="higher level"):
        overdue_counts("330127000000", DAY, level=RegionLevel.CITY)


# --- Due days kept right --------------------------------------------------------------------------------


def test_due_days_missing_or_too_late_for_a_high_risk_child_are_set_by_the_daily_run(regions: None) -> None:
    missing = paired(started_on=datetime.date(2026, 11, 1), next_contact_due=None)
    missing_high = paired(risk=RiskLevel.HIGH, started_on=datetime.date(2026, 11, 1), next_contact_due=None)
    raised_risk = paired(
        risk=RiskLevel.HIGH,
        last_contact_on=datetime.date(2026, 11, 20),
        next_contact_due=datetime.date(2026, 12, 20),
    )
    high_on_time = paired(
        risk=RiskLevel.HIGH,
        last_contact_on=datetime.date(2026, 11, 20),
        next_contact_due=datetime.date(2026, 12, 4),
    )
    closed = paired(state=PairingState.CLOSED, next_contact_due=None)

    assert contact_schedule_sync(today=DAY) == 3

    def due(pairing: Pairing) -> datetime.date | None:
        pairing.refresh_from_db()
        return pairing.next_contact_due

    assert due(missing) == datetime.date(2026, 12, 1)
    assert due(missing_high) == datetime.date(2026, 11, 15)
    assert due(raised_risk) == datetime.date(2026, 12, 4)
    assert due(high_on_time) == datetime.date(2026, 12, 4)
    assert due(closed) is None
    assert contact_schedule_sync(today=DAY) == 0


# --- Reminders ------------------------------------------------------------------------------------------


@pytest.fixture
def reminded(personas: dict[str, Any]) -> dict[str, Any]:
    user = personas["volunteer"]
    user.mobile = "13912345678"
    user.save()
    mine = PairingFactory.create(
        minor=MinorFactory.create(name="张小明", region_id=VILLAGE_A),
        volunteer=VolunteerFactory.create(user=user, region_id=VILLAGE_A),
        next_contact_due=datetime.date(2026, 11, 25),
    )
    without_account = paired(COMMUNITY_A, next_contact_due=datetime.date(2026, 11, 28))
    on_time = PairingFactory.create(
        minor=MinorFactory.create(region_id=VILLAGE_A),
        volunteer=mine.volunteer,
        next_contact_due=datetime.date(2027, 1, 10),
    )
    ConsoleSmsBackend.outbox.clear()
    return {"user": user, "mine": mine, "without_account": without_account, "on_time": on_time}


def send(day: datetime.date, capture: Any) -> dict[str, Any]:
    with capture(execute=True):
        return overdue_reminders_send(today=day).as_json()


def test_the_volunteer_is_reminded_once_per_overdue_period(
    reminded: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    mine = reminded["mine"]

    first = send(DAY, django_capture_on_commit_callbacks)
    assert first == {
        "day": "2026-11-30",
        "rescheduled": 0,
        "overdue": 2,
        "sent": 1,
        "already_reminded": 0,
        "without_account": 1,
        "townships": {"330127100000": 2},
    }
    notification = Notification.objects.get()
    assert (notification.user, notification.kind, notification.topic) == (
        reminded["user"],
        "reminder",
        f"contact_overdue:{mine.pk}:20261125:0",
    )
    assert notification.link == f"/visits/new/{mine.pk}/"
    assert notification.title == "结对儿童走访提醒"
    assert notification.body == (
        "您在富城村结对的儿童已超过 5 天未联系（应于11月25日前联系），请尽快走访或电话联系，并记录走访情况。"
    )
    assert ConsoleSmsBackend.outbox == [
        ("13912345678", f"【智慧关工委】结对儿童走访提醒：{notification.body}"),
    ]
    assert "小明" not in ConsoleSmsBackend.outbox[0][1]

    # The same day again, the next day, and to the end of the period: nothing more.
    for day in (DAY, DAY + datetime.timedelta(days=1), datetime.date(2026, 12, 25)):
        again = send(day, django_capture_on_commit_callbacks)
        assert (again["sent"], again["already_reminded"]) == (0, 1)
    assert Notification.objects.count() == 1
    assert len(ConsoleSmsBackend.outbox) == 1

    # A whole interval later, still not contacted: reminded again.
    later = send(datetime.date(2026, 12, 26), django_capture_on_commit_callbacks)
    assert (later["sent"], later["already_reminded"], later["overdue"]) == (1, 0, 2)
    assert set(Notification.objects.values_list("topic", flat=True)) == {
        f"contact_overdue:{mine.pk}:20261125:0",
        f"contact_overdue:{mine.pk}:20261125:1",
    }
    assert "已超过 31 天未联系" in ConsoleSmsBackend.outbox[-1][1]


def test_a_contact_ends_the_reminders(
    personas: dict[str, Any], reminded: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    visit(personas, reminded["mine"], DAY)

    result = send(DAY, django_capture_on_commit_callbacks)

    assert (result["overdue"], result["sent"], result["without_account"]) == (1, 0, 1)
    assert not Notification.objects.exists()


def test_the_daily_task_sends_the_reminders(
    reminded: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        result = overdue_reminders()

    assert (result["day"], result["overdue"], result["sent"]) == ("2026-11-30", 2, 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert overdue_reminders()["sent"] == 0
    assert len(ConsoleSmsBackend.outbox) == 1
