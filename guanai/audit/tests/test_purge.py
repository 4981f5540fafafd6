from __future__ import annotations

import datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from guanai.audit.models import AuditChainHead, AuditEvent
from guanai.audit.selectors import audit_chain_verify
from guanai.audit.services import audit_purge, audit_record

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 6, 30)


def at(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(10, 0)))


def record_on(day: datetime.date, count: int) -> list[AuditEvent]:
    with time_machine.travel(at(day), tick=False):
        return [audit_record(actor=None, action="auth.login", username=f"u{index}") for index in range(count)]


def purge(before: datetime.date) -> str:
    out = StringIO()
    with time_machine.travel(at(TODAY), tick=False):
        call_command("audit_purge", "--before", before.isoformat(), stdout=out)
    return out.getvalue().strip()


def test_a_purge_within_180_days_is_refused_and_deletes_nothing() -> None:
    record_on(TODAY - datetime.timedelta(days=200), 3)
    record_on(TODAY - datetime.timedelta(days=100), 2)
    too_late = TODAY - datetime.timedelta(days=179)
    with pytest.raises(CommandError) as caught:
        purge(too_late)
    assert str(caught.value) == "审计日志至少保留 180 天：清理的截止日期不能晚于 2026-01-01。"
    assert AuditEvent.objects.filter(action="auth.login").count() == 5
    refusal = AuditEvent.objects.get(action="audit.purged")
    assert (refusal.outcome, refusal.detail["before"]) == ("denied", too_late.isoformat())
    assert audit_chain_verify().is_intact


@override_settings(GUANAI_AUDIT_RETENTION_DAYS=30)
def test_a_shorter_retention_setting_cannot_go_below_180_days() -> None:
    with pytest.raises(CommandError):
        purge(TODAY - datetime.timedelta(days=100))


@override_settings(GUANAI_AUDIT_RETENTION_DAYS=365)
def test_a_longer_retention_setting_is_kept() -> None:
    with pytest.raises(CommandError, match="至少保留 365 天"):
        purge(TODAY - datetime.timedelta(days=200))


def test_a_malformed_date_is_refused() -> None:
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("audit_purge", "--before", "30/06/2025")


def test_purging_old_events_leaves_a_chain_that_verifies() -> None:
    old = record_on(TODAY - datetime.timedelta(days=400), 5)
    recent = record_on(TODAY - datetime.timedelta(days=10), 3)
    assert (
        purge(TODAY - datetime.timedelta(days=180))
        == "已清理 2026-01-01 之前的审计日志 5 条（保留期 180 天）。"
    )
    remaining = list(AuditEvent.objects.order_by("id"))
    assert [event.pk for event in remaining[:3]] == [event.pk for event in recent]
    purged = remaining[-1]
    assert (purged.action, purged.outcome) == ("audit.purged", "success")
    assert purged.detail["count"] == 5
    assert purged.detail["anchor_hash"] == old[-1].hash
    assert purged.detail["purged_through_id"] == old[-1].pk
    head = AuditChainHead.objects.get()
    assert (head.purged_through_id, head.purged_anchor_hash) == (old[-1].pk, old[-1].hash)
    verdict = audit_chain_verify()
    assert (verdict.is_intact, verdict.count) == (True, 4)


def test_after_a_purge_deleting_the_oldest_remaining_event_is_caught() -> None:
    record_on(TODAY - datetime.timedelta(days=400), 2)
    recent = record_on(TODAY - datetime.timedelta(days=10), 2)
    purge(TODAY - datetime.timedelta(days=180))
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [recent[0].pk])  # noqa: S608 - a fixed name
    assert audit_chain_verify().broken_event_id == recent[1].pk


def test_purging_everything_old_then_writing_on_continues_the_chain() -> None:
    record_on(TODAY - datetime.timedelta(days=400), 3)
    purge(TODAY - datetime.timedelta(days=180))
    record_on(TODAY, 1)
    verdict = audit_chain_verify()
    assert (verdict.is_intact, verdict.count) == (True, 2)  # the purge event and the new one


def test_purging_in_batches_moves_the_anchor_each_time(monkeypatch: pytest.MonkeyPatch) -> None:
    from guanai.audit import services

    monkeypatch.setattr(services, "PURGE_BATCH_SIZE", 2)
    record_on(TODAY - datetime.timedelta(days=400), 5)
    with time_machine.travel(at(TODAY), tick=False):
        result = audit_purge(before=TODAY - datetime.timedelta(days=180))
    assert result.count == 5
    assert audit_chain_verify().is_intact


def test_a_purge_refuses_to_destroy_evidence_of_tampering() -> None:
    old = record_on(TODAY - datetime.timedelta(days=400), 3)
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET actor_username = 'x' WHERE id = %s", [old[1].pk])  # noqa: S608
    with pytest.raises(CommandError, match=f"第 {old[1].pk} 条审计记录"):
        purge(TODAY - datetime.timedelta(days=180))
    assert AuditEvent.objects.filter(action="auth.login").count() == 3
