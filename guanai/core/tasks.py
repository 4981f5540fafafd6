from __future__ import annotations

from celery import shared_task
from django.db import connection
from django.utils import timezone


@shared_task(name="core.health_check")
def health_check() -> dict[str, str]:
    """Proves a worker can reach the database: `celery -A config call core.health_check`."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"status": "ok", "at": timezone.now().isoformat()}
