"""Writing the audit trail.

`audit_record` (also `guanai.audit.record`) appends one event. Services call it explicitly, never through
signals, preferably as the last write of their transaction: the append locks the chain head until the
transaction ends (so that concurrent appends line up one after another), and an event recorded inside a
transaction that rolls back disappears with it, as the change it describes does.

`audit_purge` removes events older than the retention period (网络安全法 art.21: at least six months).
"""

from __future__ import annotations

import datetime
import getpass
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from guanai.audit import chain
from guanai.audit.models import USER_AGENT_LENGTH, AuditChainHead, AuditEvent, Outcome
from guanai.core import region_codes
from guanai.core.access import ANONYMOUS, Actor
from guanai.core.errors import ConflictError, ValidationFailed
from guanai.core.http import client_ip, user_agent

__all__ = ["Outcome", "PurgeResult", "audit_purge", "audit_record", "audit_report_record", "retention_days"]

RETENTION_MINIMUM_DAYS = 180
DETAIL_MAX_BYTES = 2000
PURGE_BATCH_SIZE = 5000
# A field name, possibly dotted ("address.city"); never a value such as a phone number.
FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,63}")


def audit_record(
    *,
    actor: Actor | None,
    action: str,
    target: Model | None = None,
    target_type: str | None = None,
    target_id: str | int | None = None,
    region_code: str | None = None,
    changes: Iterable[str] = (),
    outcome: str = Outcome.SUCCESS,
    request: HttpRequest | None = None,
    username: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the audit trail and return it.

    actor        who acted (None, or the anonymous actor, for a sign-in attempt or a command);
                 their user, active role and region are copied into the event.
    action       `<area>.<what>`, e.g. "committee.create"; label it in `guanai.audit.actions`.
    target       the object acted on; gives `target_type` ("app_label.model") and `target_id`, which
                 may also be given (or overridden) explicitly for an object that is not a model row.
    region_code  the region the event concerns; by default the target's region (its `region_scope_field`,
                 else `region_id`), else the actor's region, else none. Readers are scoped by it.
    changes      the NAMES of the fields that changed (a form's `changed_data`, a dict's keys); never
                 their values. Anything that does not look like a field name is refused.
    outcome      Outcome.SUCCESS, DENIED or FAILED.
    request      gives the client's address (`guanai.core.http.client_ip`: REMOTE_ADDR, X-Forwarded-For
                 only behind settings.GUANAI_TRUSTED_PROXY_COUNT trusted proxies) and user agent.
    username     the name typed at a failed sign-in; replaces the actor's username.
    detail       small, non-sensitive context: {"method": "sms"}, {"count": 12}. Never a personal value
                 (name, ID number, phone, address): the trail is read by auditors who must not see them.
                 Strings, integers, booleans, None, lists and objects of those; at most 2000 bytes.
    """
    actor = actor or ANONYMOUS
    if username is None:
        username = actor.user.get_username() if actor.user is not None else ""
    event = AuditEvent(
        actor_user_id=actor.user.pk if actor.user is not None else None,
        actor_username=_text(username, 150),
        actor_role=_text(actor.role or "", 32),
        actor_region=_text(actor.region_code or "", 12),
        action=_text(action, 64),
        target_type=_text(target_type or (target._meta.label_lower if target is not None else ""), 100),
        target_id=_text(_target_id(target, target_id), 64),
        region_code=_event_region(region_code, target, actor),
        changed_fields=_field_names(changes),
        ip=_client_ip(request) if request is not None else None,
        user_agent=_text(user_agent(request), USER_AGENT_LENGTH) if request is not None else "",
        outcome=Outcome(outcome).value,
        detail=_clean_detail(detail),
    )
    if not event.action:
        raise ValueError("an audit event needs an action")
    with transaction.atomic():
        head = _locked_head()
        event.occurred_at = timezone.now()  # taken under the lock, so time order follows chain order
        event.previous_hash = head.last_hash
        event.hash = chain.event_hash(event)
        event.save(force_insert=True)
        head.last_event_id = event.pk
        head.last_hash = event.hash
        _save_head(head, ["last_event_id", "last_hash"])
    return event


def _locked_head() -> AuditChainHead:
    """The chain head, locked until the transaction ends (SQLite: the IMMEDIATE transaction already
    holds the database's write lock). Created on first use, pointing at the genesis hash."""
    head = AuditChainHead.objects.select_for_update().filter(pk=AuditChainHead.SINGLETON_ID).first()
    if head is not None:
        return head
    fresh = AuditChainHead(pk=AuditChainHead.SINGLETON_ID, last_hash=chain.GENESIS_HASH)
    fresh.hash = chain.head_hash(fresh)
    try:
        with transaction.atomic():
            fresh.save(force_insert=True)
    except IntegrityError:
        pass  # another writer created it first
    return AuditChainHead.objects.select_for_update().get(pk=AuditChainHead.SINGLETON_ID)


def _save_head(head: AuditChainHead, fields: list[str]) -> None:
    head.hash = chain.head_hash(head)
    head.save(update_fields=[*fields, "hash"])


# --- Cleaning what goes into an event ------------------------------------------------------------


def _text(value: object, max_length: int) -> str:
    """Text as the database will give it back: no NUL (PostgreSQL refuses it), valid UTF-8, not longer
    than the column."""
    text = str(value).replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return text[:max_length]


def _target_id(target: Model | None, target_id: str | int | None) -> str:
    if target_id is not None:
        return str(target_id)
    if target is not None and target.pk is not None:
        return str(target.pk)
    return ""


def _event_region(region_code: str | None, target: Model | None, actor: Actor) -> str:
    if region_code:
        return region_codes.normalise_code(region_code)
    code = _target_region(target) if target is not None else ""
    if not code and actor.region_code:
        code = actor.region_code
    return code if region_codes.is_valid_code(code) else ""


def _target_region(target: Model) -> str:
    if target._meta.label_lower == "regions.region":
        return str(target.pk)
    value: Any = target
    for part in str(getattr(target, "region_scope_field", "region_id")).split("__"):
        try:
            value = getattr(value, part, None)
        except ObjectDoesNotExist:
            return ""
        if value is None:
            return ""
    return str(value)


def _field_names(changes: Iterable[str]) -> list[str]:
    if isinstance(changes, str):
        raise TypeError("changes is a list of field names, not one string")
    names: list[str] = []
    for name in changes:
        if not isinstance(name, str) or not FIELD_NAME.fullmatch(name):
            raise ValueError(f"audit changes hold field names only, not {type(name).__name__} values")
        if name not in names:
            names.append(name)
    return names


def _clean_detail(detail: dict[str, Any] | None) -> dict[str, Any]:
    if not detail:
        return {}
    if not isinstance(detail, dict):
        raise TypeError("audit detail must be a dict")
    cleaned = _clean_json(detail)
    if len(chain.canonical_json(cleaned)) > DETAIL_MAX_BYTES:
        raise ValueError(f"audit detail is limited to {DETAIL_MAX_BYTES} bytes")
    return dict(cleaned)


def _clean_json(value: Any) -> Any:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        return _text(value, DETAIL_MAX_BYTES)
    if isinstance(value, list | tuple):
        return [_clean_json(item) for item in value]
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise TypeError("audit detail keys must be strings")
        return {_text(key, 64): _clean_json(item) for key, item in value.items()}
    # Floats are refused too: PostgreSQL's jsonb may give 1e16 back as 10000000000000000.
    raise TypeError(f"audit detail cannot hold a {type(value).__name__}; pass a string")


def _client_ip(request: HttpRequest) -> str | None:
    """The address `guanai.core.http.client_ip` trusts, written as `ipaddress` writes it (the form
    the hash covers); None when it is not an address."""
    address = client_ip(request) or ""
    try:
        return str(ipaddress.ip_address(address.split("%", 1)[0]))
    except ValueError:
        return None


# --- Purging -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PurgeResult:
    count: int
    purged_through_id: int | None
    anchor_hash: str


def retention_days() -> int:
    """settings.GUANAI_AUDIT_RETENTION_DAYS, never less than the legal minimum of 180 days."""
    configured = int(getattr(settings, "GUANAI_AUDIT_RETENTION_DAYS", RETENTION_MINIMUM_DAYS))
    return max(configured, RETENTION_MINIMUM_DAYS)


def audit_purge(*, before: datetime.date, operator: str = "") -> PurgeResult:
    """Delete the events that occurred before `before` (a local date), oldest first, in batches.

    Refused when `before` lies within the retention period. Each batch is checked against the chain
    before it is deleted (a purge never destroys the evidence of tampering), and moves the chain's
    anchor — the hash of the newest purged event, which the oldest remaining one points to — so that
    `audit_verify` stays clean after every committed batch. The purge itself is an event.
    """
    retention = retention_days()
    latest_allowed = timezone.localdate() - datetime.timedelta(days=retention)
    if before > latest_allowed:
        audit_record(
            actor=None,
            action="audit.purged",
            outcome=Outcome.DENIED,
            detail={"before": before.isoformat(), "retention_days": retention, "operator": operator},
        )
        message = _("审计日志至少保留 %(days)s 天：清理的截止日期不能晚于 %(date)s。") % {
            "days": retention,
            "date": latest_allowed.isoformat(),
        }
        raise ValidationFailed(fields={"before": [message]})
    cutoff = timezone.make_aware(datetime.datetime.combine(before, datetime.time.min))
    # The purge removes a prefix of the chain: everything before the first event at or after the cutoff.
    first_kept_id = (
        AuditEvent.objects.filter(occurred_at__gte=cutoff).order_by("id").values_list("id", flat=True).first()
    )
    count = 0
    purged_through_id: int | None = None
    anchor_hash = ""
    while True:
        with transaction.atomic():
            head = _locked_head()
            batch = AuditEvent.objects.order_by("id")
            if first_kept_id is not None:
                batch = batch.filter(id__lt=first_kept_id)
            else:
                batch = batch.filter(occurred_at__lt=cutoff)
            events = list(batch[:PURGE_BATCH_SIZE])
            if not events:
                break
            expected = chain.first_previous_hash(head)
            for event in events:
                reason = chain.broken_reason(event, expected)
                if reason is not None:
                    raise ConflictError(
                        _("第 %(id)s 条审计记录%(reason)s，拒绝清理。") % {"id": event.pk, "reason": reason}
                    )
                expected = event.hash
            last = events[-1]
            AuditEvent.objects.filter(id__lte=last.pk)._raw_delete(AuditEvent.objects.db)
            head.purged_through_id = last.pk
            head.purged_anchor_hash = last.hash
            _save_head(head, ["purged_through_id", "purged_anchor_hash"])
        count += len(events)
        purged_through_id, anchor_hash = last.pk, last.hash
    audit_record(
        actor=None,
        action="audit.purged",
        detail={
            "before": before.isoformat(),
            "count": count,
            "purged_through_id": purged_through_id,
            "anchor_hash": anchor_hash,
            "operator": operator,
        },
    )
    return PurgeResult(count=count, purged_through_id=purged_through_id, anchor_hash=anchor_hash)


def current_operator() -> str:
    """The operating-system account running a management command, for the record."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def audit_report_record(
    *,
    actor: Actor | None,
    year: int,
    region_code: str,
    file_format: str,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """Producing the yearly compliance audit report (`guanai.audit.reports`) is itself an event, in the
    report's region. Without an actor it was produced from the server's shell (`audit_report`): the
    event names the operating-system account that ran it."""
    detail: dict[str, Any] = {"year": year, "region": region_code, "format": file_format}
    if actor is None:
        detail["operator"] = current_operator()
    return audit_record(
        actor=actor, action="audit.report", region_code=region_code or None, request=request, detail=detail
    )


def audit_access_denied(*, request: HttpRequest) -> AuditEvent:
    """A refusal of a page or an API operation: who tried which path."""
    from guanai.core.access import request_actor

    return audit_record(
        actor=request_actor(request),
        action="access.denied",
        outcome=Outcome.DENIED,
        request=request,
        detail={"path": request.path[:200]},
    )
