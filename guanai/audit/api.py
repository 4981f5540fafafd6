import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query

from guanai.audit.models import AuditEvent
from guanai.audit.selectors import AuditEventFilters, audit_event_list
from guanai.core.access import Permission, request_actor, requires
from guanai.core.api import MAX_OFFSET, Router, responses
from guanai.core.schema import Schema

router = Router(tags=["audit"])


class AuditEventOut(Schema):
    id: int
    occurred_at: datetime.datetime
    actor_user_id: int | None
    actor_username: str
    actor_role: str
    actor_role_label: str
    actor_region: str
    action: str
    action_label: str
    target_type: str
    target_id: str
    region_code: str
    changed_fields: list[str]
    ip: str | None
    user_agent: str
    outcome: str
    outcome_label: str
    detail: dict[str, Any]
    hash: str

    @staticmethod
    def of(event: AuditEvent) -> "AuditEventOut":
        return AuditEventOut(
            id=event.pk,
            occurred_at=event.occurred_at,
            actor_user_id=event.actor_user_id,
            actor_username=event.actor_username,
            actor_role=event.actor_role,
            actor_role_label=event.actor_role_label,
            actor_region=event.actor_region,
            action=event.action,
            action_label=str(event.action_label),
            target_type=event.target_type,
            target_id=event.target_id,
            region_code=event.region_code,
            changed_fields=list(event.changed_fields or []),
            ip=event.ip,
            user_agent=event.user_agent,
            outcome=event.outcome,
            outcome_label=event.outcome_label,
            detail=dict(event.detail or {}),
            hash=event.hash,
        )


class AuditEventPageOut(Schema):
    count: int
    items: list[AuditEventOut]


class AuditEventFilter(Schema):
    actor: str | None = Field(None, max_length=151, description="操作人用户名；以 * 结尾为前缀匹配，如 wang*")
    action: str | None = Field(
        None, max_length=65, description="动作代码，如 auth.login；以 . 或 * 结尾为前缀匹配，如 auth."
    )
    target_type: str | None = Field(None, max_length=100, description="对象类型，如 committees.committee")
    target_id: str | None = Field(None, max_length=64, description="对象 ID")
    region: str | None = Field(
        None, description="区划代码 (2、4、6、9 或 12 位)，只列出涉及该区划及其下级的事件"
    )
    since: datetime.datetime | None = Field(
        None, description="起始时间（含），ISO 8601；不带时区时按北京时间"
    )
    until: datetime.datetime | None = Field(
        None, description="截止时间（不含），ISO 8601；不带时区时按北京时间"
    )
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


@router.get(
    "/events",
    response=responses(AuditEventPageOut),
    operation_id="audit_events_list",
    summary="审计事件查询（最新的在前）",
)
@requires(Permission.AUDIT_VIEW)
def audit_events_list(request: HttpRequest, filters: Query[AuditEventFilter]) -> AuditEventPageOut:
    events = audit_event_list(
        actor=request_actor(request),
        filters=AuditEventFilters(
            actor=filters.actor or "",
            action=filters.action or "",
            target_type=filters.target_type or "",
            target_id=filters.target_id or "",
            region=filters.region or "",
            since=filters.since,
            until=filters.until,
        ),
    )
    page = events[filters.offset : filters.offset + filters.limit]
    return AuditEventPageOut(count=events.count(), items=[AuditEventOut.of(event) for event in page])
