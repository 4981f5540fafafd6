"""The keyed hash chain that seals the audit trail.

Each event's `hash` is HMAC-SM3 (GB/T 32905) under the audit key (setting `GUANAI_AUDIT_KEY`) over the
hash of the event before it and the canonical JSON of the event's content. Changing, inserting or
deleting a row breaks the chain at that row, and without the key nobody can compute a replacement chain
— having write access to the database is not enough.

The canonical form is what the database gives back, not what Python held before saving: times in UTC
with microseconds, addresses as `ipaddress` writes them, JSON with sorted keys. `detail` may therefore
hold only strings, integers, booleans, None, and lists and objects of those (a float would not survive
PostgreSQL's jsonb unchanged).
"""

from __future__ import annotations

import datetime
import ipaddress
import json
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from guanai.audit.models import AuditChainHead, AuditEvent
from guanai.core.crypto import hmac_sm3

GENESIS_HASH = "0" * 64  # the "previous hash" of the very first event

CONTENT_FIELDS = (
    "occurred_at",
    "actor_user_id",
    "actor_username",
    "actor_role",
    "actor_region",
    "action",
    "target_type",
    "target_id",
    "region_code",
    "changed_fields",
    "ip",
    "user_agent",
    "outcome",
    "detail",
)


def audit_key() -> bytes:
    return str(settings.GUANAI_AUDIT_KEY).encode("utf-8")


def _mac(data: bytes) -> str:
    return hmac_sm3(audit_key(), data).hex()


def canonical_json(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def canonical_time(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).isoformat(timespec="microseconds")


def canonical_ip(value: str | None) -> str | None:
    return str(ipaddress.ip_address(value)) if value else None


def event_content(event: AuditEvent) -> dict[str, Any]:
    content: dict[str, Any] = {name: getattr(event, name) for name in CONTENT_FIELDS}
    content["occurred_at"] = canonical_time(event.occurred_at)
    content["ip"] = canonical_ip(event.ip)
    return content


def event_hash(event: AuditEvent) -> str:
    """The hash an event must carry, given its `previous_hash` and its content."""
    return _mac(event.previous_hash.encode("ascii") + b"\n" + canonical_json(event_content(event)))


def head_hash(head: AuditChainHead) -> str:
    fields = {
        "last_event_id": head.last_event_id,
        "last_hash": head.last_hash,
        "purged_through_id": head.purged_through_id,
        "purged_anchor_hash": head.purged_anchor_hash,
    }
    return _mac(b"head\n" + canonical_json(fields))


def first_previous_hash(head: AuditChainHead | None) -> str:
    """What the oldest stored event must point to: the genesis, or after a purge the newest purged event."""
    if head is not None and head.purged_anchor_hash:
        return head.purged_anchor_hash
    return GENESIS_HASH


def broken_reason(event: AuditEvent, expected_previous_hash: str) -> str | None:
    """Why `event` breaks the chain, when the event before it has hash `expected_previous_hash`."""
    if event_hash(event) != event.hash:
        return _("内容与其哈希不符：该记录被修改，或是伪造后插入的")
    if event.previous_hash != expected_previous_hash:
        return _("与前一条记录的哈希不衔接：此前有记录被删除，或此处插入了记录")
    return None
