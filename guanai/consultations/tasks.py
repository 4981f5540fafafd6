"""Background work of the online services: thin Celery wrappers, idempotent."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from guanai.consultations.attachments import attachments_sweep_orphans
from guanai.consultations.retention import consultations_purge_expired
from guanai.consultations.routing import clocks_run

logger = logging.getLogger(__name__)


@shared_task(name="consultations.run_clocks")
def run_clocks() -> dict[str, int]:
    """Every minute (config/settings.py CELERY_BEAT_SCHEDULE): escalate the crises nobody accepted in time
    and mark the messages not answered in time (`routing.clocks_run`). Running it twice, or on two workers
    at once, escalates and reminds nothing more: each request is re-read under a lock with the clock's
    conditions, and each reminder's topic is unique."""
    counts = clocks_run(now=timezone.now())
    if any(counts.values()):
        logger.info(
            "consultations: %d escalated to the county, %d to the province, %d replies overdue, %d notified",
            counts["escalated_to_county"],
            counts["escalated_to_province"],
            counts["reply_breached"],
            counts["notified"],
        )
    return counts


@shared_task(name="consultations.purge_expired")
def purge_expired() -> dict[str, int]:
    """Daily, at night (config/settings.py CELERY_BEAT_SCHEDULE): erase the personal data of the requests
    closed longer ago than the consent notice promises to keep them (`retention.consultations_purge_expired`).
    Idempotent: an erased request is recognised and not counted again; two runs at once skip each other's
    locked rows."""
    counts = consultations_purge_expired(now=timezone.now())
    if counts["consultations"]:
        logger.info(
            "consultations: personal data of %d closed requests erased (%d messages, %d attachments)",
            counts["consultations"],
            counts["messages"],
            counts["attachments"],
        )
    return counts


@shared_task(name="consultations.sweep_attachments")
def sweep_attachments() -> int:
    """Hourly: delete stored attachment files that no message names — those written by a message whose
    transaction an outer caller rolled back (`attachments.attachments_sweep_orphans`)."""
    removed = attachments_sweep_orphans()
    if removed:
        logger.info("consultations: %d orphaned attachment files deleted", removed)
    return removed
