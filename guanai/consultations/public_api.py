"""The public JSON API of online help, at /api/v1/public/consultations: intake without an account, and
the requester's reading and writing back with the retrieval code (header X-Retrieval-Code).

Every operation is open to anyone (no authentication, hence no CSRF token either: nothing here acts on a
signed-in session, and a signed-in caller gets exactly what an anonymous one gets). Every call that
names a request counts against the caller's address, like the retrieval form; a wrong code answers
exactly like an unknown reference.
"""

import datetime

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Header, Status

from guanai.consultations import conversation
from guanai.consultations.intake import (
    IntakeData,
    IntakeRateLimited,
    consultation_for_requester,
    consultation_submit,
    professional_title,
    requester_appointments,
    requester_messages,
    state_in_words,
)
from guanai.consultations.models import Appointment, Consultation, Message
from guanai.consultations.vocabulary import ContactPreference, Sender, hotlines
from guanai.core.access import Permission, requires
from guanai.core.api import ErrorOut, Router, responses
from guanai.core.schema import Schema

router = Router(tags=["网上求助（公众）"])

CODE_HEADER = "X-Retrieval-Code"
ACCESS = (
    "公开接口，无需登录。用受理编号和请求头 X-Retrieval-Code（查询码）访问；编号或查询码不正确时一律返回"
    "相同的 404。每次访问都计入本地址的查询次数，超过后返回 429（rate_limited）。"
)


class HotlineOut(Schema):
    number: str
    name: str


class IntakeIn(Schema):
    kind: str = Field(..., description="legal 法律咨询 / psychological 心理咨询")
    topic: str = Field(..., description="问题类型，须属于所选类别（vocabulary.TOPICS_BY_KIND）")
    requester: str = Field(..., description="self 本人 / guardian 监护人 / teacher 老师 / other 其他")
    region_code: str = Field(..., description="本省县（市、区）或以下的区划代码")
    description: str = Field(..., description="问题描述，10 到 2000 字")
    contact_preference: str = Field(ContactPreference.ONLINE, description="phone 电话回访 / online 在线回复")
    contact_phone: str = Field("", description="11 位手机号；选择电话回访时必填")
    requester_name: str = Field("", description="称呼，选填，不超过 20 字")
    requester_age: int | None = Field(None, description="孩子的年龄，6 到 17，选填")
    consent: bool = Field(False, description="已阅读并同意个人信息处理告知（必须为 true）")
    guardian_consent: bool = Field(
        False,
        description="监护人已同意：孩子不满 14 周岁且留下电话或称呼时必须为 true（个人信息保护法第三十一条）",
    )


class IntakeOut(Schema):
    reference: str = Field(..., description="受理编号")
    retrieval_code: str = Field(..., description="查询码，只返回这一次，平台只保存其摘要")
    urgent: bool = Field(..., description="是否识别为紧急求助（危机信号）")
    hotlines: list[HotlineOut] = Field(..., description="求助热线，紧急时请求助人立即拨打")


class IntakeLimitedOut(ErrorOut):
    urgent: bool = Field(..., description="被限流的内容是否有危机信号")
    hotlines: list[HotlineOut]


class AttachmentOut(Schema):
    id: int
    name: str


class MessageOut(Schema):
    id: int
    sender: str = Field(..., description="requester 求助人 / professional 志愿者 / system 系统")
    sender_label: str
    body: str
    created_at: datetime.datetime
    attachments: list[AttachmentOut]


class AppointmentOut(Schema):
    id: int
    mode: str
    mode_label: str
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    state: str
    state_label: str
    booked_by: str


class ConsultationOut(Schema):
    reference: str
    state: str = Field(..., description="waiting 待受理 / accepted 处理中 / closed 已结束")
    state_label: str
    state_description: str = Field(..., description="进度的文字说明")
    kind: str
    kind_label: str
    topic: str
    topic_label: str
    description: str = Field(..., description="求助时写的问题描述")
    created_at: datetime.datetime
    urgent: bool
    professional: str = Field(..., description="答复者的身份（志愿律师或心理咨询志愿者），不含姓名")
    hotlines: list[HotlineOut]
    outcome: str
    outcome_label: str
    messages: list[MessageOut]
    appointments: list[AppointmentOut]
    rating: int | None
    rating_comment: str


class MessageIn(Schema):
    body: str = Field(..., description="留言内容")


class FreeSlotsOut(Schema):
    slots: list[datetime.datetime] = Field(..., description="未来两周内志愿者可预约的开始时间（每次一小时）")


class AppointmentIn(Schema):
    starts_at: datetime.datetime = Field(..., description="free-slots 中的一个时间")
    mode: str = Field(..., description="phone 电话 / video 视频 / in_person 面谈")
    note: str = Field("", description="备注，不超过 200 字")


class RatingIn(Schema):
    rating: int = Field(..., description="满意度 1–5")
    comment: str = Field("", description="评价，不超过 200 字")


def _message_out(message: Message) -> MessageOut:
    return MessageOut(
        id=message.pk,
        sender=message.sender,
        sender_label=str(message.get_sender_display()),
        body=message.body,
        created_at=message.created_at,
        attachments=[
            AttachmentOut(id=attachment.pk, name=attachment.original_name)
            for attachment in message.attachments.all()
        ],
    )


def _appointment_out(appointment: Appointment) -> AppointmentOut:
    return AppointmentOut(
        id=appointment.pk,
        mode=appointment.mode,
        mode_label=str(appointment.get_mode_display()),
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        state=appointment.state,
        state_label=str(appointment.get_state_display()),
        booked_by=appointment.booked_by,
    )


def _consultation_out(consultation: Consultation) -> ConsultationOut:
    """What the requester reads: never the professional's name or notes, nor the closing summary."""
    return ConsultationOut(
        reference=consultation.reference,
        state=consultation.state,
        state_label=str(consultation.get_state_display()),
        state_description=state_in_words(consultation),
        kind=consultation.kind,
        kind_label=str(consultation.get_kind_display()),
        topic=consultation.topic,
        topic_label=str(consultation.get_topic_display()),
        description=consultation.description,
        created_at=consultation.created_at,
        urgent=consultation.is_urgent,
        professional=professional_title(consultation),
        hotlines=[HotlineOut(**hotline) for hotline in hotlines()],
        outcome=consultation.outcome,
        outcome_label=str(consultation.get_outcome_display()) if consultation.outcome else "",
        messages=[_message_out(message) for message in requester_messages(consultation=consultation)],
        appointments=[
            _appointment_out(appointment) for appointment in requester_appointments(consultation=consultation)
        ],
        rating=consultation.rating,
        rating_comment=consultation.rating_comment,
    )


def _requested(request: HttpRequest, reference: str, code: str) -> Consultation:
    return consultation_for_requester(request=request, reference=reference, code=code)


@router.post(
    "/consultations",
    auth=None,
    response={**responses(IntakeOut, status=201), 429: IntakeLimitedOut},
    operation_id="public_consultation_create",
    summary="提交求助（无需登录）",
    description=(
        "公开接口，无需登录。校验失败返回 422，fields 中为各字段的中文说明。按来源地址和手机号限流："
        "超过后返回 429（rate_limited），同样附带求助热线；内容有危机信号时 urgent 为 true。"
        "成功时返回受理编号和查询码（只返回这一次）；有危机信号的求助立即作为紧急求助通知值班志愿者。"
    ),
)
@requires(Permission.PUBLIC)
def public_consultation_create(
    request: HttpRequest, payload: IntakeIn
) -> Status[IntakeOut] | Status[IntakeLimitedOut]:
    try:
        result = consultation_submit(request=request, data=IntakeData(**payload.model_dump()))
    except IntakeRateLimited as error:
        return Status(
            429,
            IntakeLimitedOut(
                code=error.code,
                message=error.message,
                fields={},
                urgent=error.urgent,
                hotlines=[HotlineOut(**hotline) for hotline in error.hotlines],
            ),
        )
    return Status(
        201,
        IntakeOut(
            reference=result.consultation.reference,
            retrieval_code=result.retrieval_code,
            urgent=result.urgent,
            hotlines=[HotlineOut(**hotline) for hotline in result.hotlines],
        ),
    )


@router.get(
    "/consultations/{reference}",
    auth=None,
    response=responses(ConsultationOut),
    operation_id="public_consultation_get",
    summary="查看我的求助",
    description=f"{ACCESS}返回进度、留言、预约、处理结果和评价。",
)
@requires(Permission.PUBLIC)
def public_consultation_get(
    request: HttpRequest, reference: str, code: str = Header("", alias=CODE_HEADER)
) -> ConsultationOut:
    return _consultation_out(_requested(request, reference, code))


@router.post(
    "/consultations/{reference}/messages",
    auth=None,
    response=responses(MessageOut, status=201),
    operation_id="public_consultation_message_create",
    summary="继续留言",
    description=(
        f"{ACCESS}求助结束后不能再留言（409）。志愿者须在规定时间内答复；留言中出现危机信号时，"
        "求助立即转为紧急求助。附件请在网页上传。"
    ),
)
@requires(Permission.PUBLIC)
def public_consultation_message_create(
    request: HttpRequest,
    reference: str,
    payload: MessageIn,
    code: str = Header("", alias=CODE_HEADER),
) -> Status[MessageOut]:
    consultation = _requested(request, reference, code)
    message = conversation.message_post(
        consultation=consultation, sender=Sender.REQUESTER, body=payload.body, request=request
    )
    return Status(201, _message_out(message))


@router.get(
    "/consultations/{reference}/free-slots",
    auth=None,
    response=responses(FreeSlotsOut),
    operation_id="public_consultation_free_slots",
    summary="可预约时间",
    description=f"{ACCESS}志愿者接手后，未来两周内其值班时段中尚未被预约的整点。",
)
@requires(Permission.PUBLIC)
def public_consultation_free_slots(
    request: HttpRequest, reference: str, code: str = Header("", alias=CODE_HEADER)
) -> FreeSlotsOut:
    consultation = _requested(request, reference, code)
    return FreeSlotsOut(slots=conversation.free_slots(consultation=consultation, now=timezone.now()))


@router.post(
    "/consultations/{reference}/appointments",
    auth=None,
    response=responses(AppointmentOut, status=201),
    operation_id="public_consultation_appointment_create",
    summary="预约通话或面谈",
    description=f"{ACCESS}时间须为 free-slots 中的一个；已被预约或不可预约时返回 409 或 422。",
)
@requires(Permission.PUBLIC)
def public_consultation_appointment_create(
    request: HttpRequest,
    reference: str,
    payload: AppointmentIn,
    code: str = Header("", alias=CODE_HEADER),
) -> Status[AppointmentOut]:
    consultation = _requested(request, reference, code)
    appointment = conversation.appointment_book(
        consultation=consultation,
        starts_at=payload.starts_at,
        mode=payload.mode,
        booked_by=Sender.REQUESTER,
        note=payload.note,
        request=request,
    )
    return Status(201, _appointment_out(appointment))


@router.post(
    "/consultations/{reference}/appointments/{int:appointment_id}/cancel",
    auth=None,
    response=responses(ConsultationOut),
    operation_id="public_consultation_appointment_cancel",
    summary="取消预约",
    description=f"{ACCESS}取消本求助的一个预约。",
)
@requires(Permission.PUBLIC)
def public_consultation_appointment_cancel(
    request: HttpRequest,
    reference: str,
    appointment_id: int,
    code: str = Header("", alias=CODE_HEADER),
) -> ConsultationOut:
    consultation = _requested(request, reference, code)
    conversation.appointment_cancel(
        consultation=consultation, appointment_id=appointment_id, by=Sender.REQUESTER, request=request
    )
    return _consultation_out(consultation)


@router.post(
    "/consultations/{reference}/rating",
    auth=None,
    response=responses(ConsultationOut),
    operation_id="public_consultation_rate",
    summary="评价服务",
    description=f"{ACCESS}求助结束后评价一次，满意度 1–5；结束前或已评价时返回 409。",
)
@requires(Permission.PUBLIC)
def public_consultation_rate(
    request: HttpRequest,
    reference: str,
    payload: RatingIn,
    code: str = Header("", alias=CODE_HEADER),
) -> ConsultationOut:
    consultation = _requested(request, reference, code)
    rated = conversation.consultation_rate(
        consultation=consultation, rating=payload.rating, comment=payload.comment, request=request
    )
    return _consultation_out(rated)
