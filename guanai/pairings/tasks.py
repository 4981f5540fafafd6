"""Background work of the pairings: thin Celery wrappers, idempotent."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.utils import timezone

from guanai.pairings.contact import overdue_reminders_send
from guanai.pairings.services import pairings_close_lapsed

logger = logging.getLogger(__name__)


@shared_task(name="pairings.overdue_reminders")
def overdue_reminders() -> dict[str, Any]:
    """Daily: keep the pairings' contact due days right and remind each volunteer whose contact with a
    paired child is overdue, once per overdue period (`contact.overdue_reminders_send`). Running it twice
    sends nothing more: each reminder's topic is unique per volunteer."""
    result = overdue_reminders_send(today=timezone.localdate()).as_json()
    logger.info(
        "pairings: %d contacts overdue, %d reminders sent, %d reminded before, %d without an account, "
        "%d due days set",
        result["overdue"],
        result["sent"],
        result["already_reminded"],
        result["without_account"],
        result["rescheduled"],
    )
    return result


@shared_task(name="pairings.close_lapsed")
def close_lapsed() -> dict[str, int]:
    """Daily: close the pairings whose child aged out or left the registry, whose consent was withdrawn,
    or whose volunteer withdrew or died (`services.pairings_close_lapsed`)."""
    closed = pairings_close_lapsed(today=timezone.localdate())
    logger.info("pairings: closed %s", closed or "none")
    return closed
