"""The contact policy (DOMAIN.md §7): a paired child is contacted at least monthly, a child at high risk at
least fortnightly. Each active pairing keeps the day of its last contact and the day by which the next one
is due (`Pairing.last_contact_on`, `Pairing.next_contact_due`, indexed with the state); a pairing is
overdue from the day after its due day. The daily task `pairings.overdue_reminders` fills in due days the
lifecycle left empty, corrects those of children who became high-risk, and reminds each volunteer once per
overdue period through the notification backend.

The intervals come from the settings `GUANAI_CONTACT_DAYS` and `GUANAI_CONTACT_DAYS_HIGH_RISK`, with the
defaults below when they are not set.

Overdue lists and counts leave out sealed records (特殊青少年, reached only through their mentoring case):
they are never counted below county level, and these counts go down to the village.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Substr
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from guanai.core import region_codes
from guanai.core.access import Actor, Permission
from guanai.core.errors import NotFoundError, PermissionDeniedError, ValidationFailed
from guanai.core.region_codes import PREFIX_LENGTH, RegionLevel
from guanai.minors.vocabulary import RiskLevel
from guanai.pairings.models import Pairing
from guanai.pairings.vocabulary import PairingState

logger = logging.getLogger(__name__)

# Elders read text messages, not the site's inbox: the reminder goes by SMS too.
REMINDER_BY_SMS = True
BATCH_SIZE = 500


def _days_setting(name: str) -> int:
    value = getattr(settings, name)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 366:
        raise ImproperlyConfigured(f"{name} must be a whole number of days between 1 and 366, not {value!r}")
    return value


def contact_interval_days(risk_level: str) -> int:
    """The most days allowed between two contacts with a child of this risk level."""
    if risk_level == RiskLevel.HIGH:
        return _days_setting("GUANAI_CONTACT_DAYS_HIGH_RISK")
    return _days_setting("GUANAI_CONTACT_DAYS")


def next_due(pairing: Pairing, from_day: datetime.date) -> datetime.date:
    """The day by which the next contact is due, counting from a contact (or the start) on `from_day`."""
    return from_day + datetime.timedelta(days=contact_interval_days(pairing.minor.risk_level))


def contact_base_day(pairing: Pairing) -> datetime.date:
    """The day the policy counts from: the last contact, else the start of the pairing."""
    if pairing.last_contact_on is not None:
        return pairing.last_contact_on
    if pairing.started_on is not None:
        return pairing.started_on
    return timezone.localdate(pairing.created_at)


def overdue_q(today: datetime.date) -> Q:
    """Active pairings whose next contact was due before today."""
    return Q(state=PairingState.ACTIVE, next_contact_due__lt=today)


def days_overdue(pairing: Pairing, today: datetime.date) -> int:
    if pairing.next_contact_due is None or pairing.next_contact_due >= today:
        return 0
    return (today - pairing.next_contact_due).days


# --- Reads: the overdue list of a region and its counts ------------------------------------------------


def overdue_region(*, actor: Actor, region: str | None) -> str:
    """The region an overdue list is for: the actor's own, or one inside it (anything else answers 404)."""
    if actor.region_code is None:
        raise NotFoundError()
    if not region:
        return actor.region_code
    try:
        code = region_codes.normalise_code(region)
    except ValueError as error:
        raise ValidationFailed(fields={"region": [_("区划代码应为 2、4、6、9 或 12 位数字")]}) from error
    if not region_codes.is_within(code, actor.region_code):
        raise NotFoundError()
    return code


def overdue_pairings(
    *, actor: Actor, today: datetime.date | None = None, region: str | None = None
) -> QuerySet[Pairing]:
    """Active pairings of children the actor may see whose contact is overdue, the longest overdue first;
    `region` narrows the list to a region inside the actor's."""
    if not actor.has(Permission.PAIRING_VIEW):
        raise PermissionDeniedError()
    today = today or timezone.localdate()
    code = overdue_region(actor=actor, region=region)
    return (
        Pairing.objects.visible_to(actor)
        .filter(overdue_q(today))
        .filter(region_codes.within_q("minor__region_id", code))
        .select_related("minor__region", "volunteer")
        .order_by("next_contact_due", "id")
    )


def overdue_counts(
    region_code: str, today: datetime.date | None = None, *, level: RegionLevel | None = None
) -> dict[str, int]:
    """Overdue active pairings inside `region_code`, per region of `level` (by default the level just
    below the region's: a county's per township), as {12-digit code: count}; regions without any are left
    out. For the dashboards, which check their reader's permission themselves. Sealed records are never
    counted."""
    code = region_codes.normalise_code(region_code)
    own_level = region_codes.level_of(code)
    level = level or RegionLevel(min(own_level + 1, RegionLevel.VILLAGE))
    if level < own_level:
        raise ValueError(f"cannot count {code} per region of the higher level {level}")
    today = today or timezone.localdate()
    length = PREFIX_LENGTH[level]
    rows = (
        Pairing.objects.filter(overdue_q(today), minor__is_sealed=False)
        .filter(region_codes.within_q("minor__region_id", code))
        .annotate(area=Substr("minor__region_id", 1, length))
        .values("area")
        .annotate(overdue=Count("id"))
        .order_by("area")
    )
    return {str(row["area"]).ljust(region_codes.CODE_LENGTH, "0"): int(row["overdue"]) for row in rows}


# --- The daily run: due days kept right, one reminder per overdue period ---------------------------------


def _batches(pairings: QuerySet[Pairing]) -> Iterator[list[Pairing]]:
    """The pairings in batches by id, so that a province of them is never held in memory."""
    last_id = 0
    while True:
        batch = list(pairings.filter(pk__gt=last_id).order_by("pk")[:BATCH_SIZE])
        if not batch:
            return
        yield batch
        last_id = batch[-1].pk


def contact_schedule_sync(*, today: datetime.date | None = None) -> int:
    """Set the due day of active pairings that have none (a lifecycle that did not set it), and bring
    forward those of children at high risk whose due day lies further ahead than the high-risk interval
    allows (the risk was raised after the last contact). Returns the number of pairings changed."""
    today = today or timezone.localdate()
    high_risk_horizon = today + datetime.timedelta(days=contact_interval_days(RiskLevel.HIGH))
    stale = (
        Pairing.objects.filter(state=PairingState.ACTIVE)
        .filter(
            Q(next_contact_due__isnull=True)
            | Q(minor__risk_level=RiskLevel.HIGH, next_contact_due__gt=high_risk_horizon)
        )
        .select_related("minor")
        .only("id", "last_contact_on", "started_on", "created_at", "next_contact_due", "minor__risk_level")
    )
    changed = 0
    for batch in _batches(stale):
        for pairing in batch:
            due = next_due(pairing, contact_base_day(pairing))
            if due != pairing.next_contact_due:
                Pairing.objects.filter(pk=pairing.pk).update(next_contact_due=due)
                changed += 1
    return changed


def overdue_period(pairing: Pairing, today: datetime.date) -> int:
    """Which overdue period today falls in: 0 for the first interval after the due day, 1 for the next…
    The volunteer is reminded once per period."""
    assert pairing.next_contact_due is not None
    interval = contact_interval_days(pairing.minor.risk_level)
    return (today - pairing.next_contact_due - datetime.timedelta(days=1)).days // interval


def reminder_topic(pairing: Pairing, today: datetime.date) -> str:
    assert pairing.next_contact_due is not None
    return f"contact_overdue:{pairing.pk}:{pairing.next_contact_due:%Y%m%d}:{overdue_period(pairing, today)}"


@dataclass
class ReminderRun:
    day: datetime.date
    rescheduled: int = 0  # due days filled in or brought forward first
    overdue: int = 0
    sent: int = 0
    already_reminded: int = 0  # this overdue period was reminded before
    without_account: int = 0  # the volunteer has no account to notify: the township follows up
    townships: dict[str, int] = field(default_factory=dict)  # overdue per township

    def as_json(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "rescheduled": self.rescheduled,
            "overdue": self.overdue,
            "sent": self.sent,
            "already_reminded": self.already_reminded,
            "without_account": self.without_account,
            "townships": dict(sorted(self.townships.items())),
        }


def _reminder_text(pairing: Pairing, today: datetime.date) -> tuple[str, str]:
    """Title and body, in Chinese, without the child's name (the SMS passes through a gateway)."""
    assert pairing.next_contact_due is not None
    with override("zh-hans"):
        title = _("结对儿童走访提醒")
        body = _(
            "您在%(village)s结对的儿童已超过 %(days)d 天未联系（应于%(due)s前联系），"
            "请尽快走访或电话联系，并记录走访情况。"
        ) % {
            "village": pairing.minor.region.short_name or pairing.minor.region.name,
            "days": days_overdue(pairing, today),
            "due": f"{pairing.next_contact_due.month}月{pairing.next_contact_due.day}日",
        }
    return title, body


def overdue_reminders_send(*, today: datetime.date | None = None) -> ReminderRun:
    """Daily: keep the due days right, then remind the volunteer of each overdue active pairing, once per
    overdue period (the notification's topic makes a second run, or a retried task, send nothing)."""
    from guanai.notifications.models import Notification
    from guanai.notifications.services import notify

    today = today or timezone.localdate()
    run = ReminderRun(day=today, rescheduled=contact_schedule_sync(today=today))
    overdue = (
        Pairing.objects.filter(overdue_q(today))
        .select_related("minor__region", "volunteer__user")
        .only(
            "id",
            "next_contact_due",
            "minor__risk_level",
            "minor__region__name",
            "minor__region__short_name",
            "volunteer__user__is_active",
        )
    )
    for batch in _batches(overdue):
        topics = {pairing.pk: reminder_topic(pairing, today) for pairing in batch}
        reminded = set(Notification.objects.filter(topic__in=topics.values()).values_list("user_id", "topic"))
        for pairing in batch:
            run.overdue += 1
            township = pairing.minor.region_id[: PREFIX_LENGTH[RegionLevel.TOWNSHIP]].ljust(12, "0")
            run.townships[township] = run.townships.get(township, 0) + 1
            user = pairing.volunteer.user
            if user is None or not user.is_active:
                run.without_account += 1
                continue
            if (user.pk, topics[pairing.pk]) in reminded:
                run.already_reminded += 1
                continue
            title, body = _reminder_text(pairing, today)
            created = notify(
                users=[user],
                kind=Notification.Kind.REMINDER,
                title=title,
                body=body,
                link=reverse("visits:record", args=[pairing.pk]),
                topic=topics[pairing.pk],
                sms=REMINDER_BY_SMS,
            )
            if created:
                run.sent += 1
            else:
                run.already_reminded += 1
    return run
