"""Background work of the registry: thin Celery wrappers around services, idempotent."""

from __future__ import annotations

import logging

from celery import shared_task

from guanai.minors.services import minors_age_out, minors_verification_due

logger = logging.getLogger(__name__)


@shared_task(name="minors.daily_care")
def daily_care() -> dict[str, int]:
    """Daily: close the records of those who turned 18, and count the yearly verifications due (the
    lists themselves are the registry page's 核查逾期 filter)."""
    closed = minors_age_out()
    due = minors_verification_due().count()
    logger.info("minors: %d aged out, %d verifications due", closed, due)
    return {"aged_out": closed, "verification_due": due}
