"""The professionals' JSON API of their conversations, at /api/v1/consultations: the same selectors and
services as the pages (guanai.consultations.selectors, .conversation).

Only the professional a request is assigned to, once they accepted it, reads or writes it here; anyone
else gets 404 as for a request that does not exist. Reading a request's detail or messages, showing the
phone and downloading a file are audit events. The queue, accepting, declining and reassigning are the
duty API's (/consultations/queue, /consultations/{id}/accept …), the supervisors' figures the
supervision API's.
"""

import datetime
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import quote

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from ninja import Field, File, Form, Query, Status, UploadedFile

from guanai.consultations import selectors
from guanai.consultations.conversation import (
    APPOINTMENT_NOTE_MAX_LENGTH,
    BODY_MAX_LENGTH,
    FACTS_MAX_LENGTH,
    NOTES_MAX_LENGTH,
    REFERRED_TO_MAX_LENGTH,
    SUMMARY_MAX_LENGTH,
    appointment_book,
    appointment_cancel,
    attachment_open,
    consultation_close,
    consultation_notes_save,
    free_slots,
    legal_aid_refer,
    message_post,
)
from guanai.consultations.models import Appointment, Consultation, LegalAidReferral, Message
from guanai.consultations.vocabulary import Sender
from guanai.core.access import Actor, Permission, request_actor, requires
from guanai.core.api import ERROR_STATUSES, MAX_OFFSET, ErrorOut, Router, responses
from guanai.core.schema import Schema

router = Router(tags=["咨询服务"])

ONLY_ASSIGNEE = "仅限已受理该求助的承办志愿者；其他人（包括管理人员）返回 404。"


# --- Schemas ---------------------------------------------------------------------------------------------


class ConsultationFilter(Schema):
    state: Literal["", "accepted", "closed"] = Field(
        "", description="accepted 处理中，closed 已结束；不填为处理中和近 90 天内结束的"
    )
    kind: Literal["", "legal", "psychological"] = ""
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class ConsultationItemOut(Schema):
    id: int
    reference: str
    kind: str
    kind_label: str
    topic: str
    topic_label: str
    region_code: str
    region_name: str
    state: str
    state_label: str
    is_urgent: bool
    created_at: datetime.datetime
    accepted_at: datetime.datetime | None
    reply_due_at: datetime.datetime | None = Field(..., description="求助人留言待答复的期限")
    reply_breached: bool
    last_message_at: datetime.datetime | None
    closed_at: datetime.datetime | None
    outcome: str
    outcome_label: str


class ConsultationPageOut(Schema):
    count: int
    items: list[ConsultationItemOut]


class AttachmentOut(Schema):
    id: int
    original_name: str
    content_type: Literal["image/jpeg", "application/pdf"]
    size: int
    url: str = Field(..., description="下载地址（API）")


class MessageOut(Schema):
    id: int
    sender: Literal["requester", "professional", "system"]
    is_mine: bool = Field(..., description="本人发送的留言")
    body: str
    created_at: datetime.datetime
    attachments: list[AttachmentOut]


class AppointmentOut(Schema):
    id: int
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    mode: Literal["phone", "video", "in_person"]
    mode_label: str
    state: Literal["booked", "cancelled", "done"]
    booked_by: Literal["requester", "professional"]
    note: str


class ReferralOut(Schema):
    id: int
    referred_to: str
    facts: str
    means_test_exempt: bool
    exemption_ground: str
    state: str
    created_at: datetime.datetime


class ConsultationDetailOut(ConsultationItemOut):
    requester: str
    requester_label: str
    requester_age: int | None
    requester_name: str
    contact_preference: Literal["phone", "online"]
    contact_phone: str = Field(
        ..., description="已脱敏；需要时用 POST /consultations/{id}/phone 显示（记入审计）"
    )
    contact_phone_may_be_shown: bool = Field(..., description="求助人要求电话联系或紧急求助时可显示号码")
    description: str
    guardian_consent: bool
    first_reply_at: datetime.datetime | None
    summary: str
    notes: str = Field(..., description="承办志愿者本人的咨询记录，加密保存，求助人和管理人员不可见")
    service_hours: Decimal | None
    rating: int | None
    rating_comment: str
    version: int = Field(..., description="结束咨询时回传，用于并发检查")
    appointments: list[AppointmentOut]
    referral: ReferralOut | None


class SlotsOut(Schema):
    slots: list[datetime.datetime] = Field(..., description="可预约的整点（每次 1 小时），北京时间")


class AppointmentIn(Schema):
    starts_at: datetime.datetime = Field(..., description="free-slots 返回的一个时段")
    mode: Literal["phone", "video", "in_person"]
    note: str = Field("", max_length=APPOINTMENT_NOTE_MAX_LENGTH)


class CloseIn(Schema):
    outcome: Literal["advice", "legal_aid", "hotline_12355", "hospital", "police", "school", "no_response"]
    summary: str = Field(..., max_length=SUMMARY_MAX_LENGTH)
    service_hours: Decimal = Field(..., description="0.5 到 8 小时，以半小时为单位，计入志愿服务时长")
    version: int = Field(..., description="读取详情时的 version；其间求助有更新则返回 409 stale_version")


class NotesIn(Schema):
    notes: str = Field(..., max_length=NOTES_MAX_LENGTH)


class NotesOut(Schema):
    notes: str


class ReferralIn(Schema):
    referred_to: str = Field(..., max_length=REFERRED_TO_MAX_LENGTH, description="法律援助机构")
    facts: str = Field(..., max_length=FACTS_MAX_LENGTH, description="案情摘要")
    requester_is_minor_without_income: bool = Field(
        ..., description="无固定生活来源的未成年人免予经济困难审查（法律援助法第四十二条）"
    )


class PhoneOut(Schema):
    contact_phone: str


# --- Shaping -----------------------------------------------------------------------------------------------


def _item(consultation: Consultation) -> ConsultationItemOut:
    return ConsultationItemOut(**_item_fields(consultation))


def _item_fields(consultation: Consultation) -> dict[str, Any]:
    return {
        "id": consultation.pk,
        "reference": consultation.reference,
        "kind": consultation.kind,
        "kind_label": str(consultation.get_kind_display()),
        "topic": consultation.topic,
        "topic_label": str(consultation.get_topic_display()),
        "region_code": consultation.region_id,
        "region_name": consultation.region.name,
        "state": consultation.state,
        "state_label": str(consultation.get_state_display()),
        "is_urgent": consultation.is_urgent,
        "created_at": consultation.created_at,
        "accepted_at": consultation.accepted_at,
        "reply_due_at": consultation.reply_due_at,
        "reply_breached": consultation.reply_breached,
        "last_message_at": consultation.last_message_at,
        "closed_at": consultation.closed_at,
        "outcome": consultation.outcome,
        "outcome_label": str(consultation.get_outcome_display()) if consultation.outcome else "",
    }


def _appointment(appointment: Appointment) -> AppointmentOut:
    return AppointmentOut(
        id=appointment.pk,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        mode=appointment.mode,  # type: ignore[arg-type]
        mode_label=str(appointment.get_mode_display()),
        state=appointment.state,  # type: ignore[arg-type]
        booked_by=appointment.booked_by,  # type: ignore[arg-type]
        note=appointment.note,
    )


def _referral(referral: LegalAidReferral | None) -> ReferralOut | None:
    if referral is None:
        return None
    return ReferralOut(
        id=referral.pk,
        referred_to=referral.referred_to,
        facts=referral.facts,
        means_test_exempt=referral.means_test_exempt,
        exemption_ground=referral.exemption_ground,
        state=referral.state,
        created_at=referral.created_at,
    )


def _detail(consultation: Consultation) -> ConsultationDetailOut:
    return ConsultationDetailOut(
        **_item_fields(consultation),
        requester=consultation.requester,
        requester_label=str(consultation.get_requester_display()),
        requester_age=consultation.requester_age,
        requester_name=consultation.requester_name,
        contact_preference=consultation.contact_preference,  # type: ignore[arg-type]
        contact_phone=selectors.masked_phone(consultation),
        contact_phone_may_be_shown=selectors.phone_may_be_shown(consultation),
        description=consultation.description,
        guardian_consent=consultation.guardian_consent,
        first_reply_at=consultation.first_reply_at,
        summary=consultation.summary,
        notes=consultation.notes,
        service_hours=consultation.service_hours,
        rating=consultation.rating,
        rating_comment=consultation.rating_comment,
        version=consultation.version,
        appointments=[
            _appointment(a) for a in selectors.consultation_appointments(consultation=consultation)
        ],
        referral=_referral(selectors.referral_of(consultation)),
    )


def _message(message: Message, actor: Actor) -> MessageOut:
    mine = (
        message.sender == Sender.PROFESSIONAL
        and actor.user is not None
        and message.author_id == actor.user.pk
    )
    return MessageOut(
        id=message.pk,
        sender=message.sender,  # type: ignore[arg-type]
        is_mine=mine,
        body=message.body,
        created_at=message.created_at,
        attachments=[
            AttachmentOut(
                id=attachment.pk,
                original_name=attachment.original_name,
                content_type=attachment.content_type,  # type: ignore[arg-type]
                size=attachment.size,
                url=reverse(
                    "api:consultation_attachment",
                    kwargs={"consultation_id": message.consultation_id, "attachment_id": attachment.pk},
                ),
            )
            for attachment in message.attachments.all()
        ],
    )


# --- Operations --------------------------------------------------------------------------------------------


@router.get(
    "",
    response=responses(ConsultationPageOut),
    operation_id="consultation_list",
    summary="我的咨询",
    description="本人已受理的求助（处理中的在前，答复期限最近的在前），只含元数据，不含求助人的身份和谈话内容。",
)
@requires(Permission.CONSULTATION_ANSWER)
def consultation_list(request: HttpRequest, filters: Query[ConsultationFilter]) -> ConsultationPageOut:
    actor = request_actor(request)
    rows = selectors.professional_conversations(actor=actor, state=filters.state, kind=filters.kind)
    page = rows[filters.offset : filters.offset + filters.limit]
    return ConsultationPageOut(count=rows.count(), items=[_item(row) for row in page])


@router.get(
    "/{int:consultation_id}",
    response=responses(ConsultationDetailOut),
    operation_id="consultation_get",
    summary="求助详情",
    description=f"含求助人的称呼、问题描述和本人的咨询记录（解密），每次读取记入审计日志。{ONLY_ASSIGNEE}",
)
@requires(Permission.CONSULTATION_ANSWER)
def consultation_get(request: HttpRequest, consultation_id: int) -> ConsultationDetailOut:
    actor = request_actor(request)
    consultation = selectors.conversation_view(
        actor=actor, consultation_id=consultation_id, part="detail", request=request
    )
    return _detail(consultation)


@router.post(
    "/{int:consultation_id}/phone",
    response=responses(PhoneOut),
    operation_id="consultation_phone_unmask",
    summary="显示求助人的电话",
    description=(
        "求助人要求电话联系（或紧急求助）时返回完整号码，记入审计日志；求助人选择在线回复时返回 409 "
        f"phone_not_requested。{ONLY_ASSIGNEE}"
    ),
)
@requires(Permission.CONSULTATION_ANSWER)
def consultation_phone_unmask(request: HttpRequest, consultation_id: int) -> PhoneOut:
    actor = request_actor(request)
    phone = selectors.contact_phone_unmask(actor=actor, consultation_id=consultation_id, request=request)
    return PhoneOut(contact_phone=phone)


@router.get(
    "/{int:consultation_id}/messages",
    response=responses(list[MessageOut]),
    operation_id="consultation_messages",
    summary="对话记录",
    description=f"全部留言（由早到晚）及附件，读取记入审计日志。{ONLY_ASSIGNEE}",
)
@requires(Permission.CONSULTATION_ANSWER)
def consultation_messages(request: HttpRequest, consultation_id: int) -> list[MessageOut]:
    actor = request_actor(request)
    consultation = selectors.conversation_view(
        actor=actor, consultation_id=consultation_id, part="messages", request=request
    )
    return [_message(message, actor) for message in selectors.thread_messages(consultation=consultation)]


@router.post(
    "/{int:consultation_id}/messages",
    response=responses(MessageOut, status=201),
    operation_id="consultation_message_post",
    summary="回复求助人",
    description=(
        f"multipart/form-data：body（1–{BODY_MAX_LENGTH} 字）和最多 3 个 files（JPG、PNG 照片或 PDF，"
        "按内容识别；照片去除 EXIF 等信息后保存）。已结束的求助返回 409 consultation_closed。"
        f"{ONLY_ASSIGNEE}"
    ),
)
@requires(Permission.CONSULTATION_ANSWER)
def consultation_message_post(
    request: HttpRequest,
    consultation_id: int,
    # Defaults, so that a missing body gets the service's Chinese message rather than the parser's.
    body: Form[str] = "",
    files: File[list[UploadedFile]] = None,  # type: ignore[assignment]
) -> Status[MessageOut]:
    actor = request_actor(request)
    consultation = selectors.conversation_get(actor=actor, consultation_id=consultation_id)
    message = message_post(
        consultation=consultation,
        sender=Sender.PROFESSIONAL,
        body=body,
        author=actor.user,
        files=files or [],
        request=request,
    )
    posted = next(m for m in selectors.thread_messages(consultation=consultation) if m.pk == message.pk)
    return Status(201, _message(posted, actor))


@router.get(
    "/{int:consultation_id}/attachments/{int:attachment_id}",
    # The file itself, not JSON: its 200 is described below, only the errors have the JSON shape.
    response=dict.fromkeys(ERROR_STATUSES, ErrorOut),
    openapi_extra={
        "responses": {
            200: {
                "description": "附件文件",
                "content": {
                    content_type: {"schema": {"type": "string", "format": "binary"}}
                    for content_type in ("image/jpeg", "application/pdf")
                },
            }
        }
    },
    operation_id="consultation_attachment",
    url_name="consultation_attachment",
    summary="下载附件",
    description=f"返回文件本身（image/jpeg 或 application/pdf），每次下载记入审计日志。{ONLY_ASSIGNEE}",
)
@requires(Permission.CONSULTATION_ANSWER)
def consultation_attachment(request: HttpRequest, consultation_id: int, attachment_id: int) -> HttpResponse:
    actor = request_actor(request)
    attachment = selectors.attachment_for_professional(
        actor=actor, consultation_id=consultation_id, attachment_id=attachment_id, request=request
    )
    data, content_type = attachment_open(attachment=attachment)
    response = HttpResponse(data, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(attachment.original_name)}"
    return response


@router.get(
    "/{int:consultation_id}/free-slots",
    response=responses(SlotsOut),
    operation_id="consultation_free_slots",
    summary="可预约时段",
    description=(
        "未来 14 天内本人值班时段（夜间除外）中尚未被预约的整点，至少在 2 小时之后；"
        "只有处理中的求助可以预约。"
        f"{ONLY_ASSIGNEE}"
    ),
)
@requires(Permission.CONSULTATION_ANSWER)
def consultation_free_slots(request: HttpRequest, consultation_id: int) -> SlotsOut:
    consultation = selectors.conversation_get(actor=request_actor(request), consultation_id=consultation_id)
    return SlotsOut(slots=free_slots(consultation=consultation, now=timezone.now()))


@router.post(
    "/{int:consultation_id}/appointments",
    response=responses(AppointmentOut, status=201),
    operation_id="consultation_appointment_book",
    summary="预约沟通时间",
    description=f"在可预约时段中预约电话、视频或面谈；该时段已被预约返回 409 slot_taken。{ONLY_ASSIGNEE}",
)
@requires(Permission.CONSULTATION_ANSWER)
def consultation_appointment_book(
    request: HttpRequest, consultation_id: int, payload: AppointmentIn
) -> Status[AppointmentOut]:
    actor = request_actor(request)
    consultation = selectors.conversation_get(actor=actor, consultation_id=consultation_id)
    appointment = appointment_book(
        consultation=consultation,
        starts_at=payload.starts_at,
        mode=payload.mode,
        booked_by=Sender.PROFESSIONAL,
        note=payload.note,
        actor=actor,
        request=request,
    )
    return Status(201, _appointment(appointment))


@router.post(
    "/{int:consultation_id}/appointments/{int:appointment_id}/cancel",
    response=responses(AppointmentOut),
    operation_id="consultation_appointment_cancel",
    summary="取消预约",
    description=f"已取消或已完成的预约返回 409。{ONLY_ASSIGNEE}",
)
@requires(Permission.CONSULTATION_ANSWER)
def consultation_appointment_cancel(
    request: HttpRequest, consultation_id: int, appointment_id: int
) -> AppointmentOut:
    actor = request_actor(request)
    consultation = selectors.conversation_get(actor=actor, consultation_id=consultation_id)
    appointment = appointment_cancel(
        consultation=consultation,
        appointment_id=appointment_id,
        by=Sender.PROFESSIONAL,
        actor=actor,
        request=request,
    )
    return _appointment(appointment)


@router.post(
    "/{int:consultation_id}/close",
    response=responses(ConsultationDetailOut),
    operation_id="consultation_close",
    summary="结束咨询",
    description=(
        "填写处理结果、结案小结和服务时长（计入志愿服务时长，只计一次）。version 与当前不符返回 409 "
        f"stale_version；已结束返回 409 consultation_closed。{ONLY_ASSIGNEE}"
    ),
)
@requires(Permission.CONSULTATION_ANSWER)
def consultation_close_operation(
    request: HttpRequest, consultation_id: int, payload: CloseIn
) -> ConsultationDetailOut:
    actor = request_actor(request)
    consultation_close(
        actor=actor,
        consultation_id=consultation_id,
        outcome=payload.outcome,
        summary=payload.summary,
        service_hours=payload.service_hours,
        version=payload.version,
        request=request,
    )
    return _detail(selectors.conversation_get(actor=actor, consultation_id=consultation_id))


@router.put(
    "/{int:consultation_id}/notes",
    response=responses(NotesOut),
    operation_id="consultation_notes_save",
    summary="保存咨询记录",
    description=f"承办志愿者本人的咨询记录，加密保存，求助人和管理人员不可见；结束后仍可修改。{ONLY_ASSIGNEE}",
)
@requires(Permission.CONSULTATION_ANSWER)
def consultation_notes_save_operation(
    request: HttpRequest, consultation_id: int, payload: NotesIn
) -> NotesOut:
    consultation = consultation_notes_save(
        actor=request_actor(request), consultation_id=consultation_id, notes=payload.notes, request=request
    )
    return NotesOut(notes=consultation.notes)


@router.post(
    "/{int:consultation_id}/referral",
    response=responses(ReferralOut, status=201),
    operation_id="consultation_referral",
    summary="转介法律援助",
    description=(
        "仅法律咨询（处理中或已结束）；无固定生活来源的未成年人免予经济困难审查。已转介返回 409 "
        f"already_referred。{ONLY_ASSIGNEE}"
    ),
)
@requires(Permission.CONSULTATION_ANSWER)
def consultation_referral(
    request: HttpRequest, consultation_id: int, payload: ReferralIn
) -> Status[ReferralOut]:
    referral = legal_aid_refer(
        actor=request_actor(request),
        consultation_id=consultation_id,
        referred_to=payload.referred_to,
        facts=payload.facts,
        requester_is_minor_without_income=payload.requester_is_minor_without_income,
        request=request,
    )
    out = _referral(referral)
    assert out is not None
    return Status(201, out)
