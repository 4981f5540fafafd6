"""The queue, accepting, declining and reassigning requests, and the duty rosters (full paths:
/api/v1/consultations/queue, /api/v1/consultations/{id}/accept, /api/v1/duty-slots, …).

The queue shows metadata only — kind, topic, who is asking, region, urgency, times, reference — never the
requester's words, name or phone: the professional reads those in the conversation
(/api/v1/consultations/{id}) once they have accepted. Supervisors reassign with the same metadata.
"""

import datetime
from typing import Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query

from guanai.consultations import duty, routing
from guanai.consultations.models import Consultation, DutySlot
from guanai.core.access import Permission, request_actor, requires
from guanai.core.api import MAX_OFFSET, Router, responses
from guanai.core.errors import PermissionDeniedError
from guanai.core.schema import Schema

router = Router(tags=["咨询值班"])

KindValue = Literal["legal", "psychological"]


class QueueItemOut(Schema):
    id: int
    reference: str
    kind: str
    kind_label: str
    topic: str
    topic_label: str
    requester: str = Field(..., description="本人、监护人、老师、其他")
    requester_label: str
    region_code: str
    region_name: str
    is_urgent: bool
    escalation_level: int = Field(..., description="0 本地值班，1 已上报县级，2 已上报省级")
    created_at: datetime.datetime
    waiting_minutes: int
    accept_due_at: datetime.datetime | None = Field(..., description="紧急求助的受理期限")
    is_assigned_to_me: bool = Field(..., description="分派给本人；否则为值班范围内的紧急求助，先受理者承办")


class QueueOut(Schema):
    count: int
    urgent: int
    items: list[QueueItemOut]


class AcceptIn(Schema):
    declares_no_conflict: bool = Field(
        False, description="声明与求助人不存在利益冲突（亲属、同事、代理过对方当事人等）；必须为 true"
    )


class DeclineIn(Schema):
    reason: Literal["conflict", "unavailable", "outside_expertise"] = Field(
        ..., description="存在利益冲突、暂时无法接待、超出专业范围"
    )


class ReassignIn(Schema):
    volunteer_id: int
    reason: str = Field(..., min_length=1, max_length=200, description="工作上的原因；不写求助人的个人信息")


class ConsultationStateOut(Schema):
    id: int
    reference: str
    kind: str
    topic: str
    region_code: str
    is_urgent: bool
    state: str
    state_label: str
    assigned_to_id: int | None
    assigned_at: datetime.datetime | None
    accepted_at: datetime.datetime | None
    accept_due_at: datetime.datetime | None
    reply_due_at: datetime.datetime | None
    accept_breached: bool
    reply_breached: bool
    escalation_level: int
    version: int


class DeclinedOut(Schema):
    id: int
    declined: bool


class DutySlotOut(Schema):
    id: int
    volunteer_id: int
    volunteer_name: str
    kind: str
    kind_label: str
    weekday: int = Field(..., description="0 周一 … 6 周日")
    part: int = Field(..., description="0 上午 8–12，1 下午 12–18，2 晚上 18–22，3 夜间 22–次日 8")
    part_label: str
    region_code: str = Field(..., description="服务地区：来自该地区（含下辖地区）的求助由值班者承办")
    region_name: str
    is_lead: bool = Field(..., description="省级值班负责人")


class DutySlotPageOut(Schema):
    count: int
    items: list[DutySlotOut]


class DutySlotFilter(Schema):
    kind: KindValue | None = None
    volunteer_id: int | None = None
    limit: int = Field(200, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class SlotIn(Schema):
    weekday: int = Field(..., ge=0, le=6)
    part: int = Field(..., ge=0, le=3)
    is_lead: bool = Field(False, description="只有省级管理员可以指定")


class DutySlotsIn(Schema):
    kind: KindValue
    region: str = Field(..., description="服务地区的区划代码，须在本人辖区之内")
    slots: list[SlotIn] = Field(..., max_length=28, description="一周的值班时段；空列表即清除此类值班")


class OnDutyFilter(Schema):
    region: str | None = Field(None, description="辖区内的区划代码；默认为本人辖区")
    kind: KindValue | None = None


def _queue_item(consultation: Consultation, volunteer_id: int, now: datetime.datetime) -> QueueItemOut:
    return QueueItemOut(
        id=consultation.pk,
        reference=consultation.reference,
        kind=consultation.kind,
        kind_label=str(consultation.get_kind_display()),
        topic=consultation.topic,
        topic_label=str(consultation.get_topic_display()),
        requester=consultation.requester,
        requester_label=str(consultation.get_requester_display()),
        region_code=consultation.region_id,
        region_name=consultation.region.name,
        is_urgent=consultation.is_urgent,
        escalation_level=consultation.escalation_level,
        created_at=consultation.created_at,
        waiting_minutes=max(int((now - consultation.created_at).total_seconds() // 60), 0),
        accept_due_at=consultation.accept_due_at,
        is_assigned_to_me=consultation.assigned_to_id == volunteer_id,
    )


def _state_out(consultation: Consultation) -> ConsultationStateOut:
    return ConsultationStateOut(
        id=consultation.pk,
        reference=consultation.reference,
        kind=consultation.kind,
        topic=consultation.topic,
        region_code=consultation.region_id,
        is_urgent=consultation.is_urgent,
        state=consultation.state,
        state_label=str(consultation.get_state_display()),
        assigned_to_id=consultation.assigned_to_id,
        assigned_at=consultation.assigned_at,
        accepted_at=consultation.accepted_at,
        accept_due_at=consultation.accept_due_at,
        reply_due_at=consultation.reply_due_at,
        accept_breached=consultation.accept_breached,
        reply_breached=consultation.reply_breached,
        escalation_level=consultation.escalation_level,
        version=consultation.version,
    )


def _slot_out(slot: DutySlot) -> DutySlotOut:
    return DutySlotOut(
        id=slot.pk,
        volunteer_id=slot.volunteer_id,
        volunteer_name=slot.volunteer.name,
        kind=slot.kind,
        kind_label=str(slot.get_kind_display()),
        weekday=slot.weekday,
        part=slot.part,
        part_label=str(slot.get_part_display()),
        region_code=slot.region_id,
        region_name=slot.region.name,
        is_lead=slot.is_lead,
    )


@router.get(
    "/consultations/queue",
    response=responses(QueueOut),
    operation_id="consultation_queue",
    summary="待受理的求助",
    description=(
        "分派给本人的求助，以及本人值班范围内（按上报层级）尚无人受理的紧急求助；紧急的在前，其余按提交先后。"
        "只含类别、问题类型、地区、时间等，不含求助内容、姓名和联系方式（受理后在会话中查看）。"
    ),
)
@requires(Permission.CONSULTATION_ANSWER)
def consultation_queue(request: HttpRequest) -> QueueOut:
    volunteer = routing.professional_for(request_actor(request))
    if volunteer is None:
        raise PermissionDeniedError("您的账号尚未关联在岗的律师或心理咨询师志愿者档案")
    now = timezone.now()
    rows = [
        _queue_item(row, volunteer.pk, now)
        for row in routing.professional_queue(volunteer=volunteer, now=now)
    ]
    return QueueOut(count=len(rows), urgent=sum(1 for row in rows if row.is_urgent), items=rows)


@router.post(
    "/consultations/{int:consultation_id}/accept",
    response=responses(ConsultationStateOut),
    operation_id="consultation_accept",
    summary="受理求助",
    description=(
        "须声明与求助人不存在利益冲突（declares_no_conflict 为 true，否则 422）。紧急求助先受理者承办，"
        "他人已受理时返回 409（code 为 consultation_taken）；不在本人待受理列表中的求助返回 404。"
    ),
)
@requires(Permission.CONSULTATION_ANSWER)
def consultation_accept(
    request: HttpRequest, consultation_id: int, payload: AcceptIn
) -> ConsultationStateOut:
    consultation = routing.consultation_accept(
        actor=request_actor(request),
        consultation_id=consultation_id,
        declares_no_conflict=payload.declares_no_conflict,
        request=request,
    )
    return _state_out(consultation)


@router.post(
    "/consultations/{int:consultation_id}/decline",
    response=responses(DeclinedOut),
    operation_id="consultation_decline",
    summary="退回求助",
    description="退回分派给本人的（或值班范围内的紧急）求助；此后不再分派给本人，分派给本人的求助重新分派。",
)
@requires(Permission.CONSULTATION_ANSWER)
def consultation_decline(request: HttpRequest, consultation_id: int, payload: DeclineIn) -> DeclinedOut:
    routing.consultation_decline(
        actor=request_actor(request), consultation_id=consultation_id, reason=payload.reason, request=request
    )
    return DeclinedOut(id=consultation_id, declined=True)


@router.post(
    "/consultations/{int:consultation_id}/reassign",
    response=responses(ConsultationStateOut),
    operation_id="consultation_reassign",
    summary="转交求助",
    description=(
        "监管人员把辖区内待受理或处理中的求助转交给另一位具备相应资质、服务地区覆盖该求助的志愿者；"
        "求助回到待受理，由新的志愿者声明无利益冲突后受理。"
    ),
)
@requires(Permission.CONSULTATION_SUPERVISE)
def consultation_reassign(
    request: HttpRequest, consultation_id: int, payload: ReassignIn
) -> ConsultationStateOut:
    consultation = routing.consultation_reassign(
        actor=request_actor(request),
        consultation_id=consultation_id,
        volunteer_id=payload.volunteer_id,
        reason=payload.reason,
        request=request,
    )
    return _state_out(consultation)


@router.get(
    "/duty-slots",
    response=responses(DutySlotPageOut),
    operation_id="duty_slots_list",
    summary="值班时段",
    description="监管人员看到居住在辖区内的专业志愿者的值班时段；律师、心理咨询师志愿者看到本人的。",
)
# Supervisors (CONSULTATION_SUPERVISE) and professionals (CONSULTATION_ANSWER) both read here: the selector
# decides which slots, and refuses everyone else.
@requires(Permission.SIGNED_IN)
def duty_slots_list(request: HttpRequest, filters: Query[DutySlotFilter]) -> DutySlotPageOut:
    slots = duty.duty_slot_list(
        actor=request_actor(request), kind=filters.kind, volunteer_id=filters.volunteer_id
    )
    page = slots[filters.offset : filters.offset + filters.limit]
    return DutySlotPageOut(count=slots.count(), items=[_slot_out(slot) for slot in page])


@router.get(
    "/duty-slots/on-duty",
    response=responses(list[DutySlotOut]),
    operation_id="duty_slots_on_duty",
    summary="当前值班",
    description="此刻（北京时间）为该地区值班的专业志愿者：服务地区覆盖该地区或在其之内；值班负责人在前。",
)
@requires(Permission.CONSULTATION_SUPERVISE)
def duty_slots_on_duty(request: HttpRequest, filters: Query[OnDutyFilter]) -> list[DutySlotOut]:
    slots = duty.on_duty_now(
        actor=request_actor(request), now=timezone.now(), region=filters.region, kind=filters.kind
    )
    return [_slot_out(slot) for slot in slots]


@router.put(
    "/duty-slots/{int:volunteer_id}",
    response=responses(list[DutySlotOut]),
    operation_id="duty_slots_replace",
    summary="保存一位志愿者某类别的值班表",
    description=(
        "整体替换该志愿者此类别的全部值班时段（空列表即清除）。志愿者须居住在本人辖区内并具备此类别的资质，"
        "服务地区须在本人辖区内；只有省级管理员可以指定值班负责人；上级安排的值班表只能由上级调整（409）。"
    ),
)
@requires(Permission.CONSULTATION_SUPERVISE)
def duty_slots_replace(request: HttpRequest, volunteer_id: int, payload: DutySlotsIn) -> list[DutySlotOut]:
    actor = request_actor(request)
    duty.duty_slots_replace(
        actor=actor,
        volunteer_id=volunteer_id,
        kind=payload.kind,
        region_code=payload.region,
        cells=[(slot.weekday, slot.part, slot.is_lead) for slot in payload.slots],
        request=request,
    )
    return [
        _slot_out(slot)
        for slot in duty.duty_slot_list(actor=actor, kind=payload.kind, volunteer_id=volunteer_id)
    ]
