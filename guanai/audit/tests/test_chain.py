from __future__ import annotations

import itertools
import threading
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test import override_settings

from guanai.audit import chain
from guanai.audit.models import AppendOnlyError, AuditChainHead, AuditEvent
from guanai.audit.selectors import audit_chain_verify
from guanai.audit.services import audit_record
from guanai.core.crypto import hmac_sm3

pytestmark = pytest.mark.django_db

TABLE = AuditEvent._meta.db_table


def record(count: int) -> list[AuditEvent]:
    return [
        audit_record(
            actor=None,
            action="committee.create",
            target_type="committees.committee",
            target_id=index,
            region_code="330127000000",
            changes=["name", "phone"],
            detail={"sequence": index, "note": "测试"},
        )
        for index in range(count)
    ]


def execute(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql.replace("{table}", connection.ops.quote_name(TABLE)), params)


def verify_output(*args: str) -> str:
    out = StringIO()
    call_command("audit_verify", *args, stdout=out)
    return out.getvalue().strip()


def verify_failure() -> str:
    with pytest.raises(CommandError) as caught:
        call_command("audit_verify", stdout=StringIO())
    return str(caught.value)


def test_an_empty_trail_is_intact() -> None:
    assert verify_output() == "审计日志完整：0 条"


def test_a_clean_chain_of_500_events_verifies_in_small_chunks() -> None:
    events = record(500)
    assert events[0].previous_hash == "0" * 64
    assert all(later.previous_hash == earlier.hash for earlier, later in itertools.pairwise(events))
    assert verify_output("--chunk-size", "64") == "审计日志完整：500 条"


def test_an_edited_row_is_reported_with_its_id() -> None:
    events = record(6)
    execute("UPDATE {table} SET actor_username = %s WHERE id = %s", ["someone-else", events[2].pk])
    verdict = audit_chain_verify()
    assert (verdict.broken_event_id, verdict.count) == (events[2].pk, 2)
    assert "内容与其哈希不符" in verdict.reason
    assert verify_failure() == (
        f"审计日志已被篡改：第 {events[2].pk} 条记录内容与其哈希不符：该记录被修改，或是伪造后插入的"
        "（此前 2 条完好）。"
    )


def test_an_edited_row_rehashed_without_the_key_is_still_caught() -> None:
    events = record(4)
    row = AuditEvent.objects.get(pk=events[1].pk)
    row.changed_fields = []  # hide that a field was changed
    guessed = hmac_sm3(b"a key the attacker guessed", row.previous_hash.encode() + b"\n").hex()
    execute("UPDATE {table} SET changed_fields = %s, hash = %s WHERE id = %s", ["[]", guessed, row.pk])
    assert audit_chain_verify().broken_event_id == events[1].pk


def test_a_deleted_middle_row_is_reported_at_the_row_after_it() -> None:
    events = record(6)
    execute("DELETE FROM {table} WHERE id = %s", [events[3].pk])
    verdict = audit_chain_verify()
    assert verdict.broken_event_id == events[4].pk
    assert "此前有记录被删除" in verdict.reason


def test_a_deleted_first_row_is_reported() -> None:
    events = record(3)
    execute("DELETE FROM {table} WHERE id = %s", [events[0].pk])
    assert audit_chain_verify().broken_event_id == events[1].pk


def test_a_deleted_last_row_is_caught_by_the_head() -> None:
    events = record(5)
    execute("DELETE FROM {table} WHERE id = %s", [events[4].pk])
    verdict = audit_chain_verify()
    assert (verdict.broken_event_id, verdict.count) == (events[4].pk, 4)
    assert "最新的记录被删除" in verdict.reason
    assert f"第 {events[4].pk} 条记录" in verify_failure()


def test_moving_the_head_back_over_deleted_rows_is_caught_without_the_key() -> None:
    events = record(5)
    execute("DELETE FROM {table} WHERE id = %s", [events[4].pk])
    AuditChainHead.objects.filter(pk=1).update(last_event_id=events[3].pk, last_hash=events[3].hash)
    verdict = audit_chain_verify()
    assert verdict.reason == "审计链头被修改"


def test_a_deleted_head_is_reported() -> None:
    record(2)
    AuditChainHead.objects.all().delete()
    assert verify_failure() == "审计日志已被篡改：审计链头缺失（此前 2 条完好）。"


def test_the_next_event_after_a_deleted_head_does_not_hide_it() -> None:
    events = record(2)
    execute("DELETE FROM {table} WHERE id = %s", [events[1].pk])
    AuditChainHead.objects.all().delete()
    (after,) = record(1)  # a fresh head starts from the genesis hash again: the break stays visible
    assert audit_chain_verify().broken_event_id == after.pk


def test_a_row_inserted_in_place_of_a_deleted_one_is_reported() -> None:
    events = record(5)
    original = events[2]
    execute("DELETE FROM {table} WHERE id = %s", [original.pk])
    # A plausible forgery: the same shape, linked to the row before, with a well-formed hash.
    fake_hash = hmac_sm3(b"not the audit key", b"forged").hex()
    insert_forged_copy(original, actor_username="innocent", previous_hash=events[1].hash, hash=fake_hash)
    verdict = audit_chain_verify()
    assert verdict.broken_event_id == original.pk
    assert "伪造" in verdict.reason


def test_a_row_inserted_after_the_newest_is_reported() -> None:
    events = record(3)
    fake_hash = hmac_sm3(b"not the audit key", b"forged").hex()
    forged_id = events[-1].pk + 1
    insert_forged_copy(events[-1], pk=forged_id, previous_hash=events[-1].hash, hash=fake_hash)
    assert audit_chain_verify().broken_event_id == forged_id


def test_a_genuine_row_copied_to_another_place_is_reported() -> None:
    events = record(4)
    # Re-inserting a genuine row (valid hash) elsewhere breaks the links around it.
    insert_forged_copy(
        events[1], pk=events[-1].pk + 1, previous_hash=events[1].previous_hash, hash=events[1].hash
    )
    verdict = audit_chain_verify()
    assert verdict.broken_event_id == events[-1].pk + 1
    assert "插入" in verdict.reason


def insert_forged_copy(event: AuditEvent, **changes: object) -> None:
    values = {
        str(field.column): field.get_db_prep_value(getattr(event, field.attname), connection, prepared=False)
        for field in AuditEvent._meta.concrete_fields
    }
    for name, value in changes.items():
        column = "id" if name == "pk" else name
        values[column] = value
    columns = ", ".join(connection.ops.quote_name(column) for column in values)
    placeholders = ", ".join(["%s"] * len(values))
    execute(f"INSERT INTO {{table}} ({columns}) VALUES ({placeholders})", list(values.values()))  # noqa: S608


def test_the_chain_does_not_verify_under_another_key() -> None:
    events = record(2)
    with override_settings(GUANAI_AUDIT_KEY="another-key-of-at-least-thirty-two-characters"):
        assert audit_chain_verify().broken_event_id == events[0].pk


def test_two_sequential_transactions_chain_one_after_the_other() -> None:
    with transaction.atomic():
        first = record(2)
    with transaction.atomic():
        second = record(2)
    assert second[0].previous_hash == first[1].hash
    head = AuditChainHead.objects.get()
    assert (head.last_event_id, head.last_hash) == (second[1].pk, second[1].hash)
    assert audit_chain_verify().count == 4


def failing_service() -> None:
    with transaction.atomic():
        record(1)
        raise RuntimeError("the service failed")


def test_an_event_rolled_back_with_its_transaction_leaves_no_gap() -> None:
    (kept,) = record(1)
    with pytest.raises(RuntimeError):
        failing_service()
    (after,) = record(1)
    assert after.previous_hash == kept.hash
    assert AuditEvent.objects.count() == 2
    assert verify_output() == "审计日志完整：2 条"


def test_events_cannot_be_changed_or_deleted_through_the_orm() -> None:
    (event,) = record(1)
    event.actor_username = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(actor_username="changed")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert verify_output() == "审计日志完整：1 条"


def test_the_hash_covers_what_the_database_gives_back() -> None:
    from django.test import RequestFactory

    request = RequestFactory().get("/", REMOTE_ADDR="2001:0db8:0000:0000:0000:0000:0000:0001")
    request.META["HTTP_USER_AGENT"] = "Mozilla/5.0 （测试）"
    event = audit_record(
        actor=None,
        action="personal_data.unmask",
        request=request,
        detail={"字段": ["id_number"], "nested": {"b": True, "a": None, "n": 2**40}},
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.ip == "2001:db8::1"
    assert chain.event_hash(stored) == stored.hash == event.hash


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_build_one_chain() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks across connections are tested on PostgreSQL")
    errors: list[BaseException] = []

    def write() -> None:
        try:
            record(25)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    verdict = audit_chain_verify()
    assert (verdict.is_intact, verdict.count) == (True, 100)
