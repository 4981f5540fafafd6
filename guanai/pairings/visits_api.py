"""Visits, mandatory reports and overdue follow-ups in the JSON API. The router is mounted at the API root
(config/api.py), so every path is written in full."""

import datetime
from typing import Literal

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from ninja import Field, File, Query, Status, UploadedFile

from guanai.core.access import Actor, Permission, request_actor, requires
from guanai.core.api import MAX_OFFSET, Router, responses
from guanai.core.crypto import encrypted_field
from guanai.core.labels import one_language, per_language
from guanai.core.masking import mask, mask_field
from guanai.core.schema import Schema
from guanai.minors import display
from guanai.pairings.contact import (
    contact_interval_days,
    days_overdue,
    overdue_counts,
    overdue_pairings,
    overdue_region,
)
from guanai.pairings.models import MandatoryReport, Visit
from guanai.pairings.visits import (
    ALL_ACTIVITIES,
    ALL_CONCERNS,
    bits_of,
    concern_labels,
    report_close,
    report_get,
    report_is_overdue,
    report_list,
    visit_get,
    visit_list,
    visit_photo_attach,
    visit_record,
)
from guanai.pairings.vocabulary import VISIT_ACTIVITY_LABELS, VisitActivity, VisitMode
from guanai.regions.models import Region

router = Router(tags=["visits"])

ConditionValue = Literal["good", "fair", "concern"]
VISIT_ROLES = "五老志愿者记录本人结对儿童的走访；管理结对的工作人员可为辖区内的结对代录。"


class VisitIn(Schema):
    pairing_id: int
    visited_on: datetime.date = Field(..., description="不能晚于今天，也不能早于结对日期")
    mode: Literal["home", "school", "phone", "video", "activity"] = Field(
        ..., description="入户、到校、电话、视频、活动"
    )
    duration_minutes: int = Field(..., ge=1, le=1440, description="实际陪伴的分钟数，计入志愿服务时长")
    activities: int = Field(
        0,
        ge=0,
        le=ALL_ACTIVITIES,
        description=(
            "走访内容位集合：1 谈心聊天、2 辅导功课、4 安全教育、8 联系监护人、16 送学习生活用品、"
            "32 关注身体健康、64 陪同参加活动"
        ),
    )
    note: str = Field("", max_length=2000, description="情况记录（加密保存，返回时脱敏）")
    study: ConditionValue = "good"
    health: ConditionValue = "good"
    emotion: ConditionValue = "good"
    safety: ConditionValue = "good"
    concerns: int = Field(
        0,
        ge=0,
        le=ALL_CONCERNS,
        description=(
            "安全隐患位集合：1 疑似遭受虐待或暴力、2 疏于照料、4 有自伤或轻生风险、8 无人照料。"
            "任一项即立即启动强制报告并通知乡镇和县级管理员"
        ),
    )


class VisitOut(Schema):
    id: int
    pairing_id: int
    minor_id: int
    minor_name: str = Field(..., description="无查看原文权限时脱敏")
    region_code: str
    region_name: str
    volunteer_id: int
    volunteer_name: str
    visited_on: datetime.date
    mode: str
    mode_label: str
    duration_minutes: int
    activities: int
    activity_labels: list[str]
    note: str = Field(..., description="已脱敏")
    study: str
    health: str
    emotion: str
    safety: str
    concerns: int
    concern_labels: list[str]
    mandatory_report_id: int | None
    photo_url: str | None = Field(..., description="照片经权限检查后提供；没有照片时为空")
    created_at: datetime.datetime


class VisitPageOut(Schema):
    count: int
    items: list[VisitOut]


class VisitFilter(Schema):
    pairing_id: int | None = None
    region: str | None = Field(None, description="辖区内的区划代码（工作人员）")
    with_concerns: bool = False
    since: datetime.date | None = None
    until: datetime.date | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class ReportOut(Schema):
    id: int
    minor_id: int
    minor_name: str = Field(..., description="无查看原文权限时脱敏")
    region_code: str
    region_name: str
    visit_id: int | None
    concerns: int
    concern_labels: list[str]
    state: Literal["open", "closed"]
    opened_at: datetime.datetime
    deadline: datetime.datetime
    is_overdue: bool = Field(..., description="待处置且已超过处置期限")
    outcome: str
    outcome_label: str
    outcome_note: str = Field(..., description="已脱敏")
    closed_at: datetime.datetime | None


class ReportPageOut(Schema):
    count: int
    overdue: int = Field(..., description="已超过处置期限的待处置报告数")
    items: list[ReportOut]


class ReportFilter(Schema):
    state: Literal["open", "closed", "all"] = "all"
    overdue: bool = Field(False, description="只看已超期的待处置报告")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class ReportCloseIn(Schema):
    outcome: Literal["police", "civil_affairs", "school", "guardian_remedied", "medical", "unfounded"] = (
        Field(
            ...,
            description=(
                "已报告公安机关、已转民政部门、已告知学校、监护人已整改、已送医或转介心理服务、经核实无安全问题"
            ),
        )
    )
    note: str = Field("", max_length=2000)


class OverduePairingOut(Schema):
    pairing_id: int
    minor_id: int
    minor_name: str = Field(..., description="无查看原文权限时脱敏")
    risk_level: str
    region_code: str
    region_name: str
    volunteer_id: int
    volunteer_name: str
    last_contact_on: datetime.date | None
    next_contact_due: datetime.date
    days_overdue: int
    contact_interval_days: int


class RegionCountOut(Schema):
    code: str
    name: str
    overdue: int


class OverdueFilter(Schema):
    region: str | None = Field(None, description="辖区内的区划代码；默认为本人辖区")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class OverdueOut(Schema):
    region_code: str
    day: datetime.date
    count: int = Field(..., description="逾期未联系的结对数")
    by_region: list[RegionCountOut] = Field(..., description="下一级区域的逾期数（乡镇以下按村）")
    items: list[OverduePairingOut]


# The labels of a page of visits are translated once per language, not once per row (guanai.core.labels).
@per_language
def _mode_label(mode: str) -> str:
    return str(VisitMode(mode).label)


@per_language
def _activity_labels(value: int) -> list[str]:
    return [str(VISIT_ACTIVITY_LABELS[flag]) for flag in bits_of(VisitActivity, value)]


# The note leaves masked as "text": **** for any note, "" for none — nothing of its value.
assert encrypted_field(Visit, "note").mask == "text"


def _masked_note(visit: Visit) -> str:
    """The note masked; for a row read without it (`has_note`, as `visit_list` gives rows) without
    decrypting it, since the mask shows nothing of it."""
    has_note = getattr(visit, "has_note", None)
    if has_note is None:
        return mask_field(visit, "note") if visit.note else ""
    return mask("text", "note") if has_note else ""


def _visit_out(visit: Visit, actor: Actor) -> VisitOut:
    pairing = visit.pairing
    minor = pairing.minor
    report = getattr(visit, "mandatory_report", None)
    return VisitOut(
        id=visit.pk,
        pairing_id=pairing.pk,
        minor_id=minor.pk,
        minor_name=display.shown_name(minor, actor),
        region_code=minor.region_id,
        region_name=minor.region.name,
        volunteer_id=pairing.volunteer_id,
        volunteer_name=pairing.volunteer.name,
        visited_on=visit.visited_on,
        mode=visit.mode,
        mode_label=_mode_label(visit.mode),
        duration_minutes=visit.duration_minutes,
        activities=visit.activities,
        activity_labels=_activity_labels(visit.activities),
        note=_masked_note(visit),
        study=visit.study,
        health=visit.health,
        emotion=visit.emotion,
        safety=visit.safety,
        concerns=visit.concerns,
        concern_labels=concern_labels(visit.concerns),
        mandatory_report_id=report.pk if report is not None else None,
        photo_url=reverse("visits:photo", args=[visit.pk]) if visit.photo else None,
        created_at=visit.created_at,
    )


def _report_out(report: MandatoryReport, actor: Actor, now: datetime.datetime) -> ReportOut:
    return ReportOut(
        id=report.pk,
        minor_id=report.minor_id,
        minor_name=display.shown_name(report.minor, actor),
        region_code=report.minor.region_id,
        region_name=report.minor.region.name,
        visit_id=report.visit_id,
        concerns=report.concerns,
        concern_labels=concern_labels(report.concerns),
        state=report.state,  # type: ignore[arg-type]
        opened_at=report.opened_at,
        deadline=report.deadline,
        is_overdue=report_is_overdue(report, now),
        outcome=report.outcome,
        outcome_label=str(report.get_outcome_display()) if report.outcome else "",
        outcome_note=mask_field(report, "outcome_note") if report.outcome_note else "",
        closed_at=report.closed_at,
    )


@router.get(
    "/visits/",
    response=responses(VisitPageOut),
    operation_id="visits_list",
    summary="走访记录",
    description="工作人员看到辖区内儿童的走访记录；五老志愿者看到本人的走访记录。",
)
# Staff (PAIRING_VIEW) and volunteers (VISIT_RECORD) both read here: the selector decides which rows.
@requires(Permission.SIGNED_IN)
def visits_list(request: HttpRequest, filters: Query[VisitFilter]) -> VisitPageOut:
    actor = request_actor(request)
    visits = visit_list(
        actor=actor,
        pairing_id=filters.pairing_id,
        region=filters.region,
        with_concerns=filters.with_concerns,
        since=filters.since,
        until=filters.until,
    )
    page = visits[filters.offset : filters.offset + filters.limit]
    with one_language():
        return VisitPageOut(count=visits.count(), items=[_visit_out(visit, actor) for visit in page])


@router.post(
    "/visits/",
    response=responses(VisitOut, status=201),
    operation_id="visits_create",
    summary="记录走访",
    description=(
        f"{VISIT_ROLES}只能为结对中的儿童记录；同一结对同一天同一方式只能记录一次（409）。"
        "时长自动计入志愿者的服务时长。勾选安全隐患时立即启动强制报告（mandatory_report_id），"
        "并以站内信和短信通知儿童所在乡镇和县的管理员。照片用 POST /visits/{id}/photo 上传。"
    ),
)
@requires(Permission.SIGNED_IN)
def visits_create(request: HttpRequest, payload: VisitIn) -> Status[VisitOut]:
    actor = request_actor(request)
    # Whoever may record a visit may see it (a volunteer their own, staff their region's): the recorded
    # visit is shown as it stands, with what the service loaded, rather than read back.
    visit = visit_record(actor=actor, request=request, **payload.model_dump())
    return Status(201, _visit_out(visit, actor))


@router.post(
    "/visits/{int:visit_id}/photo",
    response=responses(VisitOut),
    operation_id="visits_photo",
    summary="上传走访照片",
    description=(
        "JPG 或 PNG，不超过 8 MB。照片按像素重新编码保存，EXIF、拍摄位置等信息全部去除；"
        "私密保存，只能经权限检查后查看。再次上传即替换。"
    ),
)
@requires(Permission.SIGNED_IN)
def visits_photo(request: HttpRequest, visit_id: int, photo: File[UploadedFile]) -> VisitOut:
    actor = request_actor(request)
    visit_photo_attach(actor=actor, visit_id=visit_id, photo=photo, request=request)
    return _visit_out(visit_get(actor=actor, visit_id=visit_id), actor)


@router.get(
    "/mandatory-reports/",
    response=responses(ReportPageOut),
    operation_id="mandatory_reports_list",
    summary="强制报告",
    description="辖区内的强制报告：待处置的在前（期限最近的在前），已办结的在后。",
)
@requires(Permission.REPORT_MANAGE)
def mandatory_reports_list(request: HttpRequest, filters: Query[ReportFilter]) -> ReportPageOut:
    actor = request_actor(request)
    now = timezone.now()
    reports = report_list(
        actor=actor,
        state=None if filters.state == "all" else filters.state,
        overdue_only=filters.overdue,
        now=now,
    )
    page = reports[filters.offset : filters.offset + filters.limit]
    return ReportPageOut(
        count=reports.count(),
        overdue=report_list(actor=actor, overdue_only=True, now=now).count(),
        items=[_report_out(report, actor, now) for report in page],
    )


@router.post(
    "/mandatory-reports/{int:report_id}/close",
    response=responses(ReportOut),
    operation_id="mandatory_reports_close",
    summary="登记处置结果并办结",
    description="处置结果必填；已办结的报告再次办结返回 409。",
)
@requires(Permission.REPORT_MANAGE)
def mandatory_reports_close(request: HttpRequest, report_id: int, payload: ReportCloseIn) -> ReportOut:
    actor = request_actor(request)
    report_close(
        actor=actor, report_id=report_id, outcome=payload.outcome, note=payload.note, request=request
    )
    return _report_out(report_get(actor=actor, report_id=report_id), actor, timezone.now())


@router.get(
    "/pairings/overdue",
    response=responses(OverdueOut),
    operation_id="pairings_overdue",
    summary="逾期未联系的结对",
    description=(
        "按联系频次要求（默认每月至少一次，高风险儿童每两周至少一次）已超过期限未联系的结对，"
        "逾期最久的在前；by_region 为下一级区域的逾期数，供统计看板使用。"
    ),
)
@requires(Permission.PAIRING_VIEW)
def pairings_overdue(request: HttpRequest, filters: Query[OverdueFilter]) -> OverdueOut:
    actor = request_actor(request)
    today = timezone.localdate()
    pairings = overdue_pairings(actor=actor, today=today, region=filters.region)
    region_code = overdue_region(actor=actor, region=filters.region)
    counts = overdue_counts(region_code, today)
    names = dict(Region.objects.filter(code__in=list(counts)).values_list("code", "name"))
    page = pairings[filters.offset : filters.offset + filters.limit]
    return OverdueOut(
        region_code=region_code,
        day=today,
        count=pairings.count(),
        by_region=[
            RegionCountOut(code=key, name=names.get(key, key), overdue=value) for key, value in counts.items()
        ],
        items=[
            OverduePairingOut(
                pairing_id=pairing.pk,
                minor_id=pairing.minor_id,
                minor_name=display.shown_name(pairing.minor, actor),
                risk_level=pairing.minor.risk_level,
                region_code=pairing.minor.region_id,
                region_name=pairing.minor.region.name,
                volunteer_id=pairing.volunteer_id,
                volunteer_name=pairing.volunteer.name,
                last_contact_on=pairing.last_contact_on,
                next_contact_due=pairing.next_contact_due,  # type: ignore[arg-type]  # overdue: always set
                days_overdue=days_overdue(pairing, today),
                contact_interval_days=contact_interval_days(pairing.minor.risk_level),
            )
            for pairing in page
        ],
    )
