"""Background work of the volunteers: thin Celery wrappers, idempotent."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from guanai.volunteers.reminders import REMINDER_ACTION, check_reminders_send

__all__ = ["REMINDER_ACTION", "check_reminders"]

logger = logging.getLogger(__name__)

RUN_LOCK_SECONDS = 3600


@shared_task(name="volunteers.check_reminders")
def check_reminders() -> dict[str, Any]:
    """Daily: remind volunteers whose background check is due (see the module's docstring). Two runs at
    once (a beat fired twice) would both find nothing sent yet: while one runs, another is skipped."""
    day = timezone.localdate()
    lock = f"volunteers:check-reminders:{day.isoformat()}"
    if not cache.add(lock, "running", RUN_LOCK_SECONDS):
        logger.info("volunteers: check reminders for %s already running", day)
        return {"day": day.isoformat(), "status": "skipped"}
    try:
        result = check_reminders_send(today=day).as_json()
    finally:
        cache.delete(lock)
    logger.info(
        "volunteers: %d checks due, %d reminders sent, %d reminded before, %d without a mobile, %d failed",
        result["due"],
        result["sent"],
        result["already_reminded"],
        result["without_mobile"],
        result["failed"],
    )
    return result
