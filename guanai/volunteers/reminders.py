"""Reminders of background checks due (run daily by the task `volunteers.check_reminders`).

未成年人保护法 art.62 has those in close contact with minors checked
at entry and every year. Active volunteers whose check is missing, or expires within the reminder
window (`selectors.checks_due`), get one SMS per window; the counts per township go back to the caller
(the dashboards, the worker's log).

What was sent is remembered in the audit trail: each SMS is a "volunteer.check_reminder_sent" event on
the volunteer (the record has no field for it), so a second run — the same day or any day of the same
window — finds the event and sends nothing. The event is written after the gateway accepted the message:
a failed send is tried again by the next run.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from guanai import audit
from guanai.accounts.sms import SmsDeliveryError, sms_backend
from guanai.audit.models import AuditEvent
from guanai.core.crypto import normalise_mobile
from guanai.volunteers.models import Volunteer
from guanai.volunteers.selectors import checks_due
from guanai.volunteers.vocabulary import CHECK_REMINDER_DAYS, CheckResult, check_expires_on

logger = logging.getLogger(__name__)

REMINDER_ACTION = "volunteer.check_reminder_sent"
BATCH_SIZE = 500


@dataclass
class TownshipCounts:
    due: int = 0  # checks missing, flagged or expiring: the township's list to work through
    sent: int = 0  # reminders sent by this run


@dataclass
class ReminderRun:
    day: datetime.date
    due: int = 0
    sent: int = 0
    already_reminded: int = 0  # reminded earlier in the same window
    without_mobile: int = 0  # no mobile number on record: the township calls or visits
    flagged: int = 0  # a flagged check is the township's decision, not a reminder's
    failed: int = 0  # the gateway refused; tried again by the next run
    townships: dict[str, TownshipCounts] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "due": self.due,
            "sent": self.sent,
            "already_reminded": self.already_reminded,
            "without_mobile": self.without_mobile,
            "flagged": self.flagged,
            "failed": self.failed,
            "townships": {
                code: {"due": counts.due, "sent": counts.sent}
                for code, counts in sorted(self.townships.items())
            },
        }


def _batches(day: datetime.date) -> Iterator[list[Volunteer]]:
    """The volunteers due, in batches by id, so that a province of them is never held in memory."""
    last_id = 0
    due = checks_due(today=day)
    while True:
        batch = list(due.filter(pk__gt=last_id).order_by("pk")[:BATCH_SIZE])
        if not batch:
            return
        yield batch
        last_id = batch[-1].pk


def _window_start(volunteer: Volunteer, day: datetime.date) -> datetime.date:
    """The first day of the reminder window the volunteer is in: CHECK_REMINDER_DAYS before the check
    expires (one reminder per check); without a check on record, the last CHECK_REMINDER_DAYS days (one
    reminder a month until it is done)."""
    if volunteer.check_date is not None and volunteer.check_result == CheckResult.CLEAR:
        return check_expires_on(volunteer.check_date) - datetime.timedelta(days=CHECK_REMINDER_DAYS)
    return day - datetime.timedelta(days=CHECK_REMINDER_DAYS - 1)


def _last_reminded(volunteer_ids: list[int]) -> dict[int, datetime.date]:
    """The local day each volunteer was last sent a reminder, from the audit trail."""
    rows = (
        AuditEvent.objects.filter(
            action=REMINDER_ACTION,
            target_type=Volunteer._meta.label_lower,
            target_id__in=[str(pk) for pk in volunteer_ids],
        )
        .values("target_id")
        .annotate(last=Max("occurred_at"))
        .order_by()
    )
    return {int(row["target_id"]): timezone.localdate(row["last"]) for row in rows}


def _message(volunteer: Volunteer, day: datetime.date) -> tuple[str, str]:
    """The SMS text and what it is about ("expiring", "expired", "missing"), in Chinese."""
    with override("zh-hans"):
        if volunteer.check_date is None or volunteer.check_result != CheckResult.CLEAR:
            return (
                _(
                    "【智慧关工委】%(name)s您好：您还没有有效的背景审查记录，按《未成年人保护法》"
                    "规定，请联系所在乡镇（街道）关工委办理。"
                )
                % {"name": volunteer.name},
                "missing",
            )
        expires = check_expires_on(volunteer.check_date)
        text = (
            _(
                "【智慧关工委】%(name)s您好：您的背景审查将于%(date)s到期，请联系所在乡镇（街道）关工委办理年度审查。"
            )
            if expires >= day
            else _(
                "【智慧关工委】%(name)s您好：您的背景审查已于%(date)s到期，请尽快联系所在乡镇（街道）关工委办理年度审查。"
            )
        )
        date = f"{expires.year}年{expires.month}月{expires.day}日"
        return text % {"name": volunteer.name, "date": date}, "expiring" if expires >= day else "expired"


def check_reminders_send(*, today: datetime.date | None = None) -> ReminderRun:
    """Text every active volunteer whose background check is due, once per reminder window."""
    day = today or timezone.localdate()
    run = ReminderRun(day=day)
    backend = sms_backend()
    for batch in _batches(day):
        reminded = _last_reminded([volunteer.pk for volunteer in batch])
        for volunteer in batch:
            run.due += 1
            township = run.townships.setdefault(volunteer.region_id[:9].ljust(12, "0"), TownshipCounts())
            township.due += 1
            if volunteer.check_result == CheckResult.FLAGGED:
                run.flagged += 1
                continue
            last = reminded.get(volunteer.pk)
            if last is not None and last >= _window_start(volunteer, day):
                run.already_reminded += 1
                continue
            mobile = normalise_mobile(volunteer.phone or "")
            if not (len(mobile) == 11 and mobile.startswith("1")):
                run.without_mobile += 1
                continue
            text, kind = _message(volunteer, day)
            try:
                backend.send(mobile=mobile, message=text)
            except SmsDeliveryError:
                logger.warning(
                    "volunteers: check reminder to volunteer %s refused by the gateway", volunteer.pk
                )
                run.failed += 1
                continue
            audit.record(
                actor=None,
                action=REMINDER_ACTION,
                target=volunteer,
                detail={
                    "kind": kind,
                    "check_date": volunteer.check_date.isoformat() if volunteer.check_date else None,
                },
            )
            run.sent += 1
            township.sent += 1
    return run
