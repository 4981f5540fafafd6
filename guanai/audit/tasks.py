from __future__ import annotations

import logging

from celery import shared_task

from guanai.audit.selectors import audit_chain_verify

logger = logging.getLogger(__name__)


@shared_task(name="audit.verify_chain")
def verify_chain() -> dict[str, object]:
    """Nightly: walk the audit chain; a break is logged as an error for the security administrator."""
    verdict = audit_chain_verify()
    if not verdict.is_intact:
        logger.error("audit chain broken at event %s: %s", verdict.broken_event_id, verdict.reason)
    return {"intact": verdict.is_intact, "count": verdict.count, "broken_event_id": verdict.broken_event_id}
