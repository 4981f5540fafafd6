"""Every filter of the audit search is answered from its own index, newest first."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.models import QuerySet

from guanai.audit.models import AuditEvent
from guanai.core import region_codes

pytestmark = pytest.mark.django_db


def plan(queryset: QuerySet[Any, Any]) -> str:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Tiny test tables make a sequential scan cheapest; the question is whether an index *can* serve.
            cursor.execute("SET LOCAL enable_seqscan = off")
    return queryset.explain()


NEWEST_FIRST = ("-occurred_at", "-id")


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({"action": "auth.login"}, "audit_action_time"),
        ({"actor_username": "wang"}, "audit_actor_name_time"),
        ({"actor_user_id": 7}, "audit_actor_id_time"),
        ({"target_type": "committees.committee", "target_id": "12"}, "audit_target_time"),
    ],
)
def test_each_exact_filter_reads_its_index(filters: dict[str, Any], index: str) -> None:
    text = plan(AuditEvent.objects.filter(**filters).order_by(*NEWEST_FIRST)[:50])
    assert index in text
    assert "Seq Scan" not in text


def test_a_region_filter_reads_the_region_index() -> None:
    events = AuditEvent.objects.filter(region_codes.within_q("region_code", "330127000000"))
    text = plan(events.order_by(*NEWEST_FIRST)[:50])
    assert "audit_region_time" in text


def test_prefix_filters_read_the_index_on_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's LIKE ignores case, so it cannot use an ordinary index")
    for field, index in (("action", "audit_action_time"), ("actor_username", "audit_actor_name_time")):
        text = plan(
            AuditEvent.objects.filter(**{f"{field}__startswith": "auth."}).order_by(*NEWEST_FIRST)[:50]
        )
        assert index in text
