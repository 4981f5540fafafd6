"""Reading the audit trail: the auditor's search, one record's history, and the chain check."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from guanai.audit import chain
from guanai.audit.models import AuditChainHead, AuditEvent
from guanai.core import region_codes
from guanai.core.access import Actor, Permission, audit_scope_q, can_see_region
from guanai.core.errors import NotFoundError, PermissionDeniedError, ValidationFailed

TRAIL_LIMIT = 100
VERIFY_CHUNK_SIZE = 2000


@dataclass(frozen=True)
class AuditEventFilters:
    """What the auditor searches by; empty means any.

    actor        a username; "wang*" for every username starting with "wang"
    action       an action code; "auth." or "auth.*" for every action of an area
    target_type  "app_label.model", e.g. "committees.committee"; target_id the object's id
    region       a region code, 2, 4, 6, 9 or 12 digits: the events concerning that region and below
    since/until  from `since` (included) to `until` (excluded); naive times are Beijing time
    """

    actor: str = ""
    action: str = ""
    target_type: str = ""
    target_id: str = ""
    region: str = ""
    since: datetime.datetime | None = None
    until: datetime.datetime | None = None


def audit_event_list(*, actor: Actor, filters: AuditEventFilters | None = None) -> QuerySet[AuditEvent]:
    """The events the actor may read (their region's; see `audit_scope_q`), newest first."""
    if not actor.has(Permission.AUDIT_VIEW):
        raise PermissionDeniedError()
    filters = filters or AuditEventFilters()
    events = AuditEvent.objects.filter(audit_scope_q(actor))
    if filters.actor:
        events = events.filter(**_exact_or_prefix("actor_username", filters.actor.strip(), prefix_marks="*"))
    if filters.action:
        events = events.filter(**_exact_or_prefix("action", filters.action.strip(), prefix_marks="*."))
    if filters.target_type:
        events = events.filter(target_type=filters.target_type.strip().lower())
    if filters.target_id:
        events = events.filter(target_id=filters.target_id.strip())
    if filters.region:
        try:
            code = region_codes.normalise_code(filters.region)
        except ValueError as error:
            raise ValidationFailed(fields={"region": [_("区划代码应为 2、4、6、9 或 12 位数字")]}) from error
        if not can_see_region(actor, code):
            raise NotFoundError()
        events = events.filter(region_codes.within_q("region_code", code))
    if filters.since is not None:
        events = events.filter(occurred_at__gte=_aware(filters.since))
    if filters.until is not None:
        events = events.filter(occurred_at__lt=_aware(filters.until))
    return events.order_by("-occurred_at", "-id")


def _exact_or_prefix(field: str, value: str, *, prefix_marks: str) -> dict[str, str]:
    if value.endswith("*"):
        return {f"{field}__startswith": value.rstrip("*")}
    if value[-1:] in prefix_marks:
        return {f"{field}__startswith": value}
    return {field: value}


def _aware(moment: datetime.datetime) -> datetime.datetime:
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def audit_trail_for(*, actor: Actor, target: Model, limit: int = TRAIL_LIMIT) -> list[AuditEvent]:
    """Who viewed or changed one record, newest first: for a record page.

    The caller has already let the actor see the record; as a second guard, a region-scoped record
    outside the actor's region answers NotFoundError, like the record itself would.
    """
    if not (actor.has(Permission.RECORD_HISTORY_VIEW) or actor.has(Permission.AUDIT_VIEW)):
        raise PermissionDeniedError()
    rows = type(target)._default_manager.all()
    visible_to = getattr(rows, "visible_to", None)
    if callable(visible_to) and not visible_to(actor).filter(pk=target.pk).exists():
        raise NotFoundError()
    return list(
        AuditEvent.objects.filter(target_type=target._meta.label_lower, target_id=str(target.pk)).order_by(
            "-occurred_at", "-id"
        )[:limit]
    )


def region_names(codes: Iterable[str]) -> dict[str, str]:
    """Region code → name, for the codes shown on one page (one query)."""
    from guanai.regions.models import Region

    wanted = {code for code in codes if code}
    if not wanted:
        return {}
    return dict(Region.objects.filter(code__in=wanted).values_list("code", "name"))


# --- The chain check (manage.py audit_verify) -------------------------------------------------------


@dataclass(frozen=True)
class ChainVerdict:
    count: int  # events checked
    broken_event_id: int | None = None  # the first event where the chain breaks (None: at the head)
    reason: str = ""

    @property
    def is_intact(self) -> bool:
        return not self.reason


def audit_chain_verify(*, chunk_size: int = VERIFY_CHUNK_SIZE) -> ChainVerdict:
    """Walk the chain in id order, streaming, and report the first event that was changed, inserted or
    deleted; then check that the chain ends where its head says (which catches deleting the newest).

    Events appended while the walk runs are walked too: the head is read once the walk has caught up.
    """
    head = AuditChainHead.objects.filter(pk=AuditChainHead.SINGLETON_ID).first()
    expected = chain.first_previous_hash(head)
    count = 0
    last_id: int | None = None
    while True:
        events = AuditEvent.objects.order_by("id")
        if last_id is not None:
            events = events.filter(id__gt=last_id)
        walked_any = False
        for event in events.iterator(chunk_size=chunk_size):
            reason = chain.broken_reason(event, expected)
            if reason is not None:
                return ChainVerdict(count=count, broken_event_id=event.pk, reason=reason)
            expected, last_id, count, walked_any = event.hash, event.pk, count + 1, True
        head = AuditChainHead.objects.filter(pk=AuditChainHead.SINGLETON_ID).first()
        if head is None or head.last_event_id is None or last_id is None or head.last_event_id <= last_id:
            break
        if not walked_any and head.last_event_id > last_id:
            break  # the head points past the last event: reported below
    return _check_head(head, count=count, last_id=last_id, last_hash=expected)


def _check_head(
    head: AuditChainHead | None, *, count: int, last_id: int | None, last_hash: str
) -> ChainVerdict:
    if head is None:
        if last_id is None:
            return ChainVerdict(count=0)
        return ChainVerdict(count=count, reason=_("审计链头缺失"))
    if chain.head_hash(head) != head.hash:
        return ChainVerdict(count=count, reason=_("审计链头被修改"))
    if head.last_event_id == last_id and head.last_hash == last_hash:
        return ChainVerdict(count=count)
    if last_id is None and head.last_event_id == head.purged_through_id:
        return ChainVerdict(count=0)  # every event purged, none written since
    if last_id is not None and (head.last_event_id is None or head.last_event_id < last_id):
        following = AuditEvent.objects.filter(id__gt=head.last_event_id or 0).order_by("id").first()
        return ChainVerdict(
            count=count,
            broken_event_id=following.pk if following else last_id,
            reason=_("位于链尾之后：此处插入了记录"),
        )
    return ChainVerdict(
        count=count,
        broken_event_id=head.last_event_id,
        reason=_("缺失：链头指向该记录，最新的记录被删除"),
    )
