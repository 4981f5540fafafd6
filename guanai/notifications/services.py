"""Notifying people: one row per recipient in the site's inbox, and an SMS for alerts.

`notify(users=, kind=, title=, body=, link=, topic=)` is what every module calls. A `topic` ("visit_overdue:
pairing 12:2026-11") makes it idempotent per recipient: a retried task or a second save never notifies
twice. The SMS goes through the configured SMS backend (guanai.accounts.sms) to the user's mobile, after
the transaction commits, and a failed delivery never undoes the notification.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from guanai.accounts.sms import SmsDeliveryError, sms_backend
from guanai.core.crypto import normalise_mobile
from guanai.notifications.models import Notification

logger = logging.getLogger(__name__)


def _send_sms(notification_ids: list[int]) -> None:
    backend = sms_backend()
    for notification in Notification.objects.filter(pk__in=notification_ids).select_related("user"):
        mobile = normalise_mobile(notification.user.mobile or "")
        if not (len(mobile) == 11 and mobile.startswith("1")):
            continue
        try:
            backend.send(
                mobile=mobile, message=f"【智慧关工委】{notification.title}：{notification.body}"[:300]
            )
        except SmsDeliveryError as error:
            logger.warning("notification %s: SMS not delivered: %s", notification.pk, error)
            continue
        Notification.objects.filter(pk=notification.pk).update(sms_sent_at=timezone.now())


def notify(
    *,
    users: Iterable[Any],
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    topic: str = "",
    sms: bool | None = None,
) -> list[Notification]:
    """Notify each user once (per topic, when one is given). Alerts go by SMS too unless `sms=False`."""
    created: list[Notification] = []
    for user in {user.pk: user for user in users}.values():
        try:
            with transaction.atomic():
                created.append(
                    Notification.objects.create(
                        user=user, kind=kind, title=title[:100], body=body[:500], link=link[:200], topic=topic
                    )
                )
        except IntegrityError:
            continue  # already notified about this topic
    by_sms = kind == Notification.Kind.ALERT if sms is None else sms
    if by_sms and created:
        ids = [notification.pk for notification in created]
        transaction.on_commit(lambda: _send_sms(ids))
    return created


def notifications_mark_read(*, user: Any, notification_ids: Iterable[int] | None = None) -> int:
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=list(notification_ids))
    return unread.update(read_at=timezone.now())
