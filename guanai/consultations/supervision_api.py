"""The supervisors' JSON API (full paths: /api/v1/consultations/statistics and
/api/v1/consultations/supervision): metadata only — never the requester's words, name or contact, the
messages or the notes."""

import datetime
from typing import Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query

from guanai.consultations.models import Consultation
from guanai.consultations.statistics import (
    ConsultationStatistics,
    Figures,
    OpenNow,
    Percentiles,
    SupervisionFilters,
    consultation_statistics,
    is_overdue,
    supervision_page,
    supervision_requests,
)
from guanai.core.access import Permission, request_actor, requires
from guanai.core.api import Router, responses
from guanai.core.schema import Schema

router = Router(tags=["咨询服务监管"])

SUPERVISORS = "县级、市级、省级管理员（网上咨询监管权限），只含辖区内的求助；"
METADATA_ONLY = "只有元数据：不含求助人的称呼、联系电话、问题描述、留言和咨询记录。"


class StatisticsFilter(Schema):
    region: str | None = Field(None, description="辖区内的区划代码（2、4、6、9 或 12 位）；默认为本人辖区")
    date_from: datetime.date | None = Field(None, description="开始日期（北京时间，含当日）；默认本月 1 日")
    date_to: datetime.date | None = Field(None, description="结束日期（北京时间，含当日）；默认本月最后一天")


class PercentilesOut(Schema):
    count: int = Field(..., description="计入的求助数")
    median: float | None = Field(..., description="中位数（分钟）")
    p90: float | None = Field(..., description="第 90 百分位（分钟）")


class FiguresOut(Schema):
    total: int
    urgent: int
    accept_minutes: PercentilesOut = Field(..., description="提交至受理的分钟数")
    urgent_accept_minutes: PercentilesOut = Field(..., description="紧急求助：提交至受理的分钟数")
    first_reply_minutes: PercentilesOut = Field(..., description="提交至首次答复的分钟数")
    crisis_decided: int = Field(..., description="已受理或已超时的紧急求助数")
    crisis_on_time: int = Field(..., description="其中按时受理的")
    crisis_compliance: float | None = Field(..., description="紧急求助按时受理率（0–1）")
    reply_measured: int = Field(..., description="已首次答复或答复超时的求助数")
    reply_on_time: int = Field(..., description="其中按时答复的")
    reply_compliance: float | None = Field(..., description="留言按时答复率（0–1）")
    ratings: int = Field(..., description="评价数")
    average_rating: float | None = Field(..., description="平均满意度（1–5）")
    satisfied_share: float | None = Field(..., description="评 4、5 分的比例（0–1）")


class OpenNowOut(Schema):
    waiting: int = Field(..., description="待受理")
    accepted: int = Field(..., description="处理中")
    unrouted: int = Field(..., description="待受理且未分派（不含紧急求助）")
    urgent_waiting: int = Field(..., description="待受理的紧急求助")
    overdue: int = Field(..., description="当前已超过受理或答复期限")


class KindFiguresOut(Schema):
    kind: str
    label: str
    figures: FiguresOut


class TopicFiguresOut(Schema):
    topic: str
    label: str
    kind: str
    figures: FiguresOut


class RegionFiguresOut(Schema):
    code: str
    name: str
    is_own_level: bool = Field(..., description="直接登记在所选区域本级的求助")
    figures: FiguresOut
    open_now: OpenNowOut


class StatisticsOut(Schema):
    region_code: str
    region_name: str
    date_from: datetime.date
    date_to: datetime.date
    accept_limit_minutes: int = Field(..., description="紧急求助受理时限（分钟）")
    reply_limit_hours: int = Field(..., description="留言答复时限（小时）")
    overall: FiguresOut
    open_now: OpenNowOut
    by_kind: list[KindFiguresOut]
    by_topic: list[TopicFiguresOut]
    by_region: list[RegionFiguresOut] = Field(..., description="下一级区域（村级时为本村）")


def _percentiles_out(value: Percentiles) -> PercentilesOut:
    return PercentilesOut(count=value.count, median=value.median, p90=value.p90)


def _figures_out(figures: Figures) -> FiguresOut:
    return FiguresOut(
        total=figures.total,
        urgent=figures.urgent,
        accept_minutes=_percentiles_out(figures.accept_minutes),
        urgent_accept_minutes=_percentiles_out(figures.urgent_accept_minutes),
        first_reply_minutes=_percentiles_out(figures.first_reply_minutes),
        crisis_decided=figures.crisis_decided,
        crisis_on_time=figures.crisis_on_time,
        crisis_compliance=figures.crisis_compliance,
        reply_measured=figures.reply_measured,
        reply_on_time=figures.reply_on_time,
        reply_compliance=figures.reply_compliance,
        ratings=figures.ratings,
        average_rating=figures.average_rating,
        satisfied_share=figures.satisfied_share,
    )


def _open_out(value: OpenNow) -> OpenNowOut:
    return OpenNowOut(
        waiting=value.waiting,
        accepted=value.accepted,
        unrouted=value.unrouted,
        urgent_waiting=value.urgent_waiting,
        overdue=value.overdue,
    )


def statistics_out(statistics: ConsultationStatistics) -> StatisticsOut:
    return StatisticsOut(
        region_code=statistics.region.code,
        region_name=statistics.region.name,
        date_from=statistics.period.date_from,
        date_to=statistics.period.date_to,
        accept_limit_minutes=statistics.accept_limit_minutes,
        reply_limit_hours=statistics.reply_limit_hours,
        overall=_figures_out(statistics.overall),
        open_now=_open_out(statistics.open_now),
        by_kind=[
            KindFiguresOut(kind=row.kind, label=row.label, figures=_figures_out(row.figures))
            for row in statistics.by_kind
        ],
        by_topic=[
            TopicFiguresOut(
                topic=row.topic, label=row.label, kind=row.kind, figures=_figures_out(row.figures)
            )
            for row in statistics.by_topic
        ],
        by_region=[
            RegionFiguresOut(
                code=row.code,
                name=row.name,
                is_own_level=row.is_own_level,
                figures=_figures_out(row.figures),
                open_now=_open_out(row.open_now),
            )
            for row in statistics.by_region
        ],
    )


@router.get(
    "/consultations/statistics",
    response=responses(StatisticsOut),
    operation_id="consultation_statistics",
    summary="网上咨询统计",
    description=(
        f"{SUPERVISORS}按提交时间统计（北京时间，起止日期均含）：求助量（按类别、问题类型、下一级区域）、"
        "紧急求助数、受理和首次答复用时的中位数与第 90 百分位（分钟）、紧急求助按时受理率、留言按时答复率、"
        "满意度，以及当前待受理、处理中、未分派和已超时的求助。辖区以外的区域返回 404。" + METADATA_ONLY
    ),
)
@requires(Permission.CONSULTATION_SUPERVISE)
def consultation_statistics_get(request: HttpRequest, filters: Query[StatisticsFilter]) -> StatisticsOut:
    statistics = consultation_statistics(
        actor=request_actor(request),
        region=filters.region,
        date_from=filters.date_from,
        date_to=filters.date_to,
    )
    return statistics_out(statistics)


class SupervisionFilterIn(Schema):
    region: str | None = Field(None, description="辖区内的区划代码；默认为本人辖区")
    state: Literal["waiting", "accepted", "closed"] | None = Field(None, description="待受理、处理中、已结束")
    kind: Literal["legal", "psychological"] | None = None
    topic: str | None = None
    urgent: bool | None = None
    breached: bool | None = Field(None, description="曾超过受理或答复期限")
    overdue: bool | None = Field(None, description="当前已超过受理或答复期限")
    date_from: datetime.date | None = Field(None, description="提交日期起（北京时间）")
    date_to: datetime.date | None = Field(None, description="提交日期止（北京时间）")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=100_000)


class ConsultationMetaOut(Schema):
    id: int
    reference: str
    kind: str
    kind_label: str
    topic: str
    topic_label: str
    requester: str = Field(..., description="求助人身份：本人、监护人、老师、其他")
    region_code: str
    region_name: str
    created_at: datetime.datetime
    state: str
    state_label: str
    is_urgent: bool
    escalation_level: int
    escalation_label: str
    assigned_to_name: str | None = Field(..., description="承办志愿者")
    assigned_at: datetime.datetime | None
    accepted_at: datetime.datetime | None
    first_reply_at: datetime.datetime | None
    closed_at: datetime.datetime | None
    accept_due_at: datetime.datetime | None
    reply_due_at: datetime.datetime | None
    accept_breached: bool
    reply_breached: bool
    is_overdue: bool = Field(..., description="当前已超过受理或答复期限")
    outcome: str
    rating: int | None


class ConsultationMetaPageOut(Schema):
    count: int
    items: list[ConsultationMetaOut]


def meta_out(consultation: Consultation, now: datetime.datetime) -> ConsultationMetaOut:
    assignee = consultation.assigned_to
    return ConsultationMetaOut(
        id=consultation.pk,
        reference=consultation.reference,
        kind=consultation.kind,
        kind_label=str(consultation.get_kind_display()),
        topic=consultation.topic,
        topic_label=str(consultation.get_topic_display()),
        requester=consultation.requester,
        region_code=consultation.region_id,
        region_name=consultation.region.name,
        created_at=consultation.created_at,
        state=consultation.state,
        state_label=str(consultation.get_state_display()),
        is_urgent=consultation.is_urgent,
        escalation_level=consultation.escalation_level,
        escalation_label=str(consultation.get_escalation_level_display()),
        assigned_to_name=assignee.name if assignee is not None else None,
        assigned_at=consultation.assigned_at,
        accepted_at=consultation.accepted_at,
        first_reply_at=consultation.first_reply_at,
        closed_at=consultation.closed_at,
        accept_due_at=consultation.accept_due_at,
        reply_due_at=consultation.reply_due_at,
        accept_breached=consultation.accept_breached,
        reply_breached=consultation.reply_breached,
        is_overdue=is_overdue(consultation, now),
        outcome=consultation.outcome,
        rating=consultation.rating,
    )


@router.get(
    "/consultations/supervision",
    response=responses(ConsultationMetaPageOut),
    operation_id="consultation_supervision_list",
    summary="网上求助清单（监管）",
    description=(
        f"{SUPERVISORS}最新提交的在前，可按状态、类别、问题类型、是否紧急、是否曾超时、当前是否超时和提交日期"
        "筛选。" + METADATA_ONLY
    ),
)
@requires(Permission.CONSULTATION_SUPERVISE)
def consultation_supervision_list(
    request: HttpRequest, filters: Query[SupervisionFilterIn]
) -> ConsultationMetaPageOut:
    now = timezone.now()
    values = filters.model_dump(exclude={"limit", "offset"})
    requests = supervision_requests(
        actor=request_actor(request), filters=SupervisionFilters(**values), now=now
    )
    page = supervision_page(requests, offset=filters.offset, limit=filters.limit)
    return ConsultationMetaPageOut(count=requests.count(), items=[meta_out(item, now) for item in page])
