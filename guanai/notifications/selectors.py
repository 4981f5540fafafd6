"""Reads of the inbox: a user sees only their own notifications."""

from __future__ import annotations

from typing import Any

from django.db.models import F, QuerySet

from guanai.notifications.models import Notification


def notifications_of(*, user: Any) -> QuerySet[Notification]:
    """Unread first, then newest first."""
    unread_first = F("read_at").desc(nulls_first=True)
    return Notification.objects.filter(user=user).order_by(unread_first, "-created_at", "-id")
