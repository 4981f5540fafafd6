"""The daily background-check reminders (未成年人保护法 art.62): one SMS per volunteer per window, counts
per township, nothing sent twice however often the task runs."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.cache import cache

from guanai.accounts.selectors import actor_for_user
from guanai.accounts.sms import ConsoleSmsBackend, SmsDeliveryError
from guanai.audit.models import AuditEvent
from guanai.minors.tests.factories import COMMUNITY_A, COMMUNITY_B, VILLAGE_A
from guanai.volunteers.models import Volunteer
from guanai.volunteers.services import volunteer_record_check
from guanai.volunteers.tasks import REMINDER_ACTION, check_reminders
from guanai.volunteers.tests.factories import VolunteerFactory
from guanai.volunteers.vocabulary import CheckResult, Status

pytestmark = pytest.mark.django_db

TODAY = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
DAY = TODAY.date()
QIANDAOHU = "330127100000"  # 千岛湖镇 (富城村, 青城社区)
XINANJIANG = "330182001000"  # 新安江街道 (白沙社区)


@pytest.fixture(autouse=True)
def today(time_machine: Any) -> None:
    time_machine.move_to(TODAY, tick=False)


@pytest.fixture(autouse=True)
def outbox() -> list[tuple[str, str]]:
    ConsoleSmsBackend.outbox.clear()
    return ConsoleSmsBackend.outbox


def checked(days_ago: int | None, result: str = CheckResult.CLEAR) -> dict[str, Any]:
    if days_ago is None:
        return {"check_date": None, "check_result": "", "check_by": ""}
    return {"check_date": DAY - datetime.timedelta(days=days_ago), "check_result": result}


@pytest.fixture
def elders(regions: None) -> dict[str, Volunteer]:
    return {
        # Expires on 2026-12-25, in 25 days: reminded.
        "expiring": VolunteerFactory.create(
            name="王将满", region_id=VILLAGE_A, phone="13900000001", **checked(340)
        ),
        # Expired on 2026-10-26: reminded.
        "expired": VolunteerFactory.create(
            name="李已过", region_id=COMMUNITY_A, phone="13900000002", **checked(400)
        ),
        # Never checked: reminded.
        "missing": VolunteerFactory.create(
            name="赵未审", region_id=VILLAGE_A, phone="+86 139-0000-0003", **checked(None)
        ),
        # Checked a month ago: nothing due.
        "fresh": VolunteerFactory.create(
            name="钱刚审", region_id=VILLAGE_A, phone="13900000004", **checked(30)
        ),
        # Expires on 2027-01-24, in 55 days: not yet in the window.
        "later": VolunteerFactory.create(
            name="冯还早", region_id=VILLAGE_A, phone="13900000008", **checked(310)
        ),
        # Due, but only a landline on record: counted, not texted.
        "landline": VolunteerFactory.create(
            name="孙座机", region_id=COMMUNITY_A, phone="0571-64881234", **checked(350)
        ),
        # A flagged check is the township's decision, not a reminder's.
        "flagged": VolunteerFactory.create(
            name="周有记录", region_id=VILLAGE_A, phone="13900000005", **checked(20, CheckResult.FLAGGED)
        ),
        # Not in service: nothing due.
        "suspended": VolunteerFactory.create(
            name="吴暂停",
            region_id=VILLAGE_A,
            phone="13900000006",
            status=Status.SUSPENDED,
            status_reason="外出",
            **checked(400),
        ),
        # Another county's township; expires on 2026-12-05.
        "jiande": VolunteerFactory.create(
            name="郑建德", region_id=COMMUNITY_B, phone="13900000007", **checked(360)
        ),
    }


FIRST_RUN = {
    "day": "2026-11-30",
    "due": 6,
    "sent": 4,
    "already_reminded": 0,
    "without_mobile": 1,
    "flagged": 1,
    "failed": 0,
    "townships": {QIANDAOHU: {"due": 5, "sent": 3}, XINANJIANG: {"due": 1, "sent": 1}},
}


def test_volunteers_whose_check_is_due_are_texted_once_with_counts_per_township(
    elders: dict[str, Volunteer], outbox: list[tuple[str, str]]
) -> None:
    assert check_reminders() == FIRST_RUN
    assert sorted(outbox) == [
        (
            "13900000001",
            "【智慧关工委】王将满您好：您的背景审查将于2026年12月25日到期，请联系所在乡镇（街道）关工委办理年度审查。",
        ),
        (
            "13900000002",
            "【智慧关工委】李已过您好：您的背景审查已于2026年10月26日到期，请尽快联系所在乡镇（街道）关工委办理年度审查。",
        ),
        (
            "13900000003",
            "【智慧关工委】赵未审您好：您还没有有效的背景审查记录，按《未成年人保护法》规定，请联系所在乡镇（街道）关工委办理。",
        ),
        (
            "13900000007",
            "【智慧关工委】郑建德您好：您的背景审查将于2026年12月5日到期，请联系所在乡镇（街道）关工委办理年度审查。",
        ),
    ]
    events = AuditEvent.objects.filter(action=REMINDER_ACTION).order_by("id")
    assert [(event.target_id, event.region_code, event.actor_username) for event in events] == [
        (str(elders[key].pk), elders[key].region_id, "")
        for key in ("expiring", "expired", "missing", "jiande")
    ]
    assert [event.detail["kind"] for event in events] == ["expiring", "expired", "missing", "expiring"]
    assert all("139" not in str(event.detail) for event in events)  # no phone number in the trail


def test_running_again_the_same_day_or_later_in_the_window_sends_nothing(
    elders: dict[str, Volunteer], outbox: list[tuple[str, str]], time_machine: Any
) -> None:
    check_reminders()
    assert len(outbox) == 4
    again = check_reminders()
    assert again == {**FIRST_RUN, "sent": 0, "already_reminded": 4, "townships": {
        QIANDAOHU: {"due": 5, "sent": 0},
        XINANJIANG: {"due": 1, "sent": 0},
    }}  # fmt: skip
    assert len(outbox) == 4
    # Twenty-nine days later: the missing check's month is not over, the others stay in their window;
    # only 冯还早, whose check now expires within the window, gets a first reminder.
    time_machine.move_to(TODAY + datetime.timedelta(days=29), tick=False)
    later = check_reminders()
    assert (later["due"], later["sent"], later["already_reminded"]) == (7, 1, 4)
    assert [mobile for mobile, _text in outbox[4:]] == ["13900000008"]
    assert AuditEvent.objects.filter(action=REMINDER_ACTION).count() == 5


def test_a_missing_check_is_reminded_again_a_month_later_an_expiring_one_is_not(
    elders: dict[str, Volunteer], outbox: list[tuple[str, str]], time_machine: Any
) -> None:
    check_reminders()
    time_machine.move_to(TODAY + datetime.timedelta(days=30), tick=False)
    result = check_reminders()
    # 冯还早's check now expires within the window too: a first reminder.
    assert result["sent"] == 2
    assert sorted(mobile for mobile, _text in outbox[4:]) == ["13900000003", "13900000008"]


def test_a_renewed_check_ends_the_reminders_and_opens_a_new_window_a_year_on(
    elders: dict[str, Volunteer], outbox: list[tuple[str, str]], personas: dict[str, Any], time_machine: Any
) -> None:
    check_reminders()
    volunteer_record_check(
        actor=actor_for_user(personas["township_worker"]),
        volunteer_id=elders["expiring"].pk,
        checked_on=DAY,
        result=CheckResult.CLEAR,
        checked_by="千岛湖镇派出所",
    )
    assert check_reminders()["due"] == 5
    # The renewed check expires on 2027-11-30: its own window opens on 2027-10-31.
    time_machine.move_to(datetime.datetime(2027, 11, 5, 10, 0, tzinfo=TODAY.tzinfo), tick=False)
    outbox.clear()
    check_reminders()
    assert (
        "13900000001",
        "【智慧关工委】王将满您好：您的背景审查将于2027年11月30日到期，请联系所在乡镇（街道）关工委办理年度审查。",
    ) in outbox


class RefusingSmsBackend:
    def send(self, *, mobile: str, message: str) -> None:
        raise SmsDeliveryError("gateway down")


def test_a_message_the_gateway_refused_is_sent_by_the_next_run(
    elders: dict[str, Volunteer], outbox: list[tuple[str, str]], settings: Any
) -> None:
    settings.GUANAI_SMS_BACKEND = f"{__name__}.RefusingSmsBackend"
    refused = check_reminders()
    assert (refused["sent"], refused["failed"]) == (0, 4)
    assert AuditEvent.objects.filter(action=REMINDER_ACTION).count() == 0
    settings.GUANAI_SMS_BACKEND = "guanai.accounts.sms.ConsoleSmsBackend"
    assert check_reminders() == FIRST_RUN
    assert len(outbox) == 4


def test_a_run_already_in_progress_is_not_doubled(
    elders: dict[str, Volunteer], outbox: list[tuple[str, str]]
) -> None:
    cache.add("volunteers:check-reminders:2026-11-30", "running", 60)
    assert check_reminders() == {"day": "2026-11-30", "status": "skipped"}
    assert outbox == []
    cache.delete("volunteers:check-reminders:2026-11-30")
    assert check_reminders()["sent"] == 4


def test_many_volunteers_are_read_in_batches(
    regions: None, outbox: list[tuple[str, str]], monkeypatch: Any
) -> None:
    from guanai.volunteers import reminders

    monkeypatch.setattr(reminders, "BATCH_SIZE", 3)
    for n in range(7):
        VolunteerFactory.create(region_id=VILLAGE_A, phone=f"1360000{n:04d}", **checked(None))
    assert check_reminders()["sent"] == 7
    assert sorted(mobile for mobile, _text in outbox) == [f"1360000{n:04d}" for n in range(7)]
    assert check_reminders()["already_reminded"] == 7
