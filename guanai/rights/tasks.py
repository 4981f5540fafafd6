"""Background work of data-subject requests: thin Celery wrappers, idempotent."""

from __future__ import annotations

import logging

from celery import shared_task

from guanai.rights.services import subject_request_reminders_send

logger = logging.getLogger(__name__)


@shared_task(name="rights.deadline_reminders")
def deadline_reminders() -> dict[str, int]:
    """Every morning (config/settings.py CELERY_BEAT_SCHEDULE): remind the county's administrators of the
    requests due within days or overdue (`services.subject_request_reminders_send`). Running it twice
    sends nothing more: each reminder's topic is unique per request and stage."""
    counts = subject_request_reminders_send()
    if counts["notified"]:
        logger.info(
            "rights: %d requests due soon, %d overdue, %d notified",
            counts["due_soon"],
            counts["overdue"],
            counts["notified"],
        )
    return counts
