"""The JSON face of data-subject requests: the same selectors and services as the pages. The copy of an
access or copy request is a file produced on the page (`/rights/<id>/copy/`), not here."""

import datetime
from typing import Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Status

from guanai import audit
from guanai.core.access import Actor, Permission, request_actor, requires
from guanai.core.api import MAX_OFFSET, Router, responses
from guanai.core.masking import mask, mask_field
from guanai.core.schema import Schema
from guanai.rights.models import DataSubjectRequest
from guanai.rights.selectors import SubjectRequestFilters, subject_request_get, subject_request_list
from guanai.rights.services import (
    TEXT_MAX_LENGTH,
    SubjectRequestInput,
    subject_request_complete,
    subject_request_erase,
    subject_request_refuse,
    subject_request_register,
)

router = Router(tags=["subject-requests"])

KindLiteral = Literal["access", "copy", "correction", "deletion"]
RoleLiteral = Literal["guardian", "child"]
VerificationLiteral = Literal["id_card", "household_register", "guardianship_proof", "guardian_on_record"]
StatusLiteral = Literal["received", "completed", "refused"]


class SubjectRequestIn(Schema):
    kind: KindLiteral = Field(..., description="查阅、复制、更正/补充、删除")
    requester_role: RoleLiteral = Field(..., description="监护人，或已满14周岁的儿童本人")
    requester_name: str = Field(..., min_length=1, max_length=50)
    requester_contact: str = Field("", max_length=50)
    verification: VerificationLiteral = Field(..., description="身份与监护关系的核验方式")
    description: str = Field(..., min_length=1, max_length=TEXT_MAX_LENGTH, description="请求内容")
    received_on: datetime.date = Field(..., description="收到日期；答复期限自此起算")


class SubjectRequestOut(Schema):
    id: int
    minor_id: int
    region_code: str = Field(..., description="儿童现居村（社区）的区划代码")
    kind: KindLiteral
    requester_role: RoleLiteral
    requester_name: str = Field(..., description="无查看原文权限时脱敏")
    requester_contact: str = Field(..., description="已脱敏")
    verification: VerificationLiteral
    description: str
    received_on: datetime.date
    due_on: datetime.date = Field(..., description="答复期限（当日仍在期限内）")
    is_overdue: bool
    status: StatusLiteral
    copy_produced_at: datetime.datetime | None
    outcome_note: str
    refusal_reasons: str
    handled_at: datetime.datetime | None


class SubjectRequestPageOut(Schema):
    count: int
    items: list[SubjectRequestOut]


class SubjectRequestFilter(Schema):
    status: StatusLiteral | None = None
    overdue: bool = Field(False, description="仅未办结且已过答复期限的请求")
    minor_id: int | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class CompleteIn(Schema):
    note: str = Field("", max_length=TEXT_MAX_LENGTH, description="办理情况；更正请求须说明更正了哪些信息")


class RefuseIn(Schema):
    reasons: str = Field(..., min_length=1, max_length=TEXT_MAX_LENGTH, description="写入答复函的理由")


class EraseIn(Schema):
    confirmation: str = Field(..., max_length=20, description="儿童记录编号，确认删除")
    note: str = Field("", max_length=TEXT_MAX_LENGTH)


def _out(subject_request: DataSubjectRequest, actor: Actor, today: datetime.date) -> SubjectRequestOut:
    may_unmask = actor.has(Permission.MINOR_UNMASK)

    def text(field_name: str) -> str:
        """What was asked, how it was handled, why it was refused: masked ("text") without MINOR_UNMASK."""
        return (
            str(getattr(subject_request, field_name))
            if may_unmask
            else mask_field(subject_request, field_name)
        )

    return SubjectRequestOut(
        id=subject_request.pk,
        minor_id=subject_request.minor_id,
        region_code=subject_request.minor.region_id,
        kind=subject_request.kind,  # type: ignore[arg-type]
        requester_role=subject_request.requester_role,  # type: ignore[arg-type]
        requester_name=(
            subject_request.requester_name if may_unmask else mask("name", subject_request.requester_name)
        ),
        requester_contact=mask_field(subject_request, "requester_contact"),
        verification=subject_request.verification,  # type: ignore[arg-type]
        description=text("description"),
        received_on=subject_request.received_on,
        due_on=subject_request.due_on,
        is_overdue=subject_request.is_overdue_on(today),
        status=subject_request.status,  # type: ignore[arg-type]
        copy_produced_at=subject_request.copy_produced_at,
        outcome_note=text("outcome_note"),
        refusal_reasons=text("refusal_reasons"),
        handled_at=subject_request.handled_at,
    )


def _written(request: HttpRequest, subject_request: DataSubjectRequest) -> SubjectRequestOut:
    """The request as a write left it: the services return it with its child (`minor`) loaded."""
    return _out(subject_request, request_actor(request), timezone.localdate())


@router.get(
    "/subject-requests",
    response=responses(SubjectRequestPageOut),
    operation_id="subject_requests_list",
    summary="个人信息请求（答复期限最近的在前）",
)
@requires(Permission.MINOR_MANAGE)
def subject_requests_list(
    request: HttpRequest, filters: Query[SubjectRequestFilter]
) -> SubjectRequestPageOut:
    actor = request_actor(request)
    today = timezone.localdate()
    requests = subject_request_list(
        actor=actor,
        filters=SubjectRequestFilters(
            status=filters.status, overdue=filters.overdue, minor_id=filters.minor_id
        ),
        today=today,
    )
    page = list(requests[filters.offset : filters.offset + filters.limit])
    return SubjectRequestPageOut(count=requests.count(), items=[_out(row, actor, today) for row in page])


@router.post(
    "/minors/{int:minor_id}/subject-requests",
    response=responses(SubjectRequestOut, status=201),
    operation_id="subject_requests_create",
    summary="登记个人信息请求",
)
@requires(Permission.MINOR_MANAGE)
def subject_requests_create(
    request: HttpRequest, minor_id: int, payload: SubjectRequestIn
) -> Status[SubjectRequestOut]:
    actor = request_actor(request)
    subject_request = subject_request_register(
        actor=actor, minor_id=minor_id, data=SubjectRequestInput(**payload.model_dump()), request=request
    )
    return Status(201, _written(request, subject_request))


@router.get(
    "/subject-requests/{int:subject_request_id}",
    response=responses(SubjectRequestOut),
    operation_id="subject_requests_get",
    summary="个人信息请求详情",
)
@requires(Permission.MINOR_MANAGE)
def subject_requests_get(request: HttpRequest, subject_request_id: int) -> SubjectRequestOut:
    actor = request_actor(request)
    subject_request = subject_request_get(actor=actor, request_id=subject_request_id)
    audit.record(actor=actor, action="subject_request.view", target=subject_request, request=request)
    return _out(subject_request, actor, timezone.localdate())


@router.post(
    "/subject-requests/{int:subject_request_id}/complete",
    response=responses(SubjectRequestOut),
    operation_id="subject_requests_complete",
    summary="办结查阅、复制（已生成副本）或更正请求",
)
@requires(Permission.MINOR_MANAGE)
def subject_requests_complete(
    request: HttpRequest, subject_request_id: int, payload: CompleteIn
) -> SubjectRequestOut:
    subject_request = subject_request_complete(
        actor=request_actor(request), request_id=subject_request_id, note=payload.note, request=request
    )
    return _written(request, subject_request)


@router.post(
    "/subject-requests/{int:subject_request_id}/refuse",
    response=responses(SubjectRequestOut),
    operation_id="subject_requests_refuse",
    summary="不予办理（须写明理由）",
)
@requires(Permission.MINOR_MANAGE)
def subject_requests_refuse(
    request: HttpRequest, subject_request_id: int, payload: RefuseIn
) -> SubjectRequestOut:
    subject_request = subject_request_refuse(
        actor=request_actor(request), request_id=subject_request_id, reasons=payload.reasons, request=request
    )
    return _written(request, subject_request)


@router.post(
    "/subject-requests/{int:subject_request_id}/erase",
    response=responses(SubjectRequestOut),
    operation_id="subject_requests_erase",
    summary="删除儿童个人信息并办结删除请求",
    description="仍有未解除的结对、未办结的强制报告或帮教案件时拒绝（409，code 为 erasure_blocked）。",
)
@requires(Permission.MINOR_UNMASK)
def subject_requests_erase(
    request: HttpRequest, subject_request_id: int, payload: EraseIn
) -> SubjectRequestOut:
    subject_request = subject_request_erase(
        actor=request_actor(request),
        request_id=subject_request_id,
        confirmation=payload.confirmation,
        note=payload.note,
        request=request,
    )
    return _written(request, subject_request)
