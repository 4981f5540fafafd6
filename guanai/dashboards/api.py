"""The dashboards' API: the indicators of a region and its child regions for a month or a year, the
monthly trend of a region, and the reports compiled in the background (request, follow, download)."""

import datetime
from typing import Any, Literal

from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils.translation import get_language
from ninja import Query, Status
from pydantic import BaseModel

from guanai.core.access import Permission, request_actor, requires
from guanai.core.api import ERROR_STATUSES, ErrorOut, Router, rendered, rendered_response, responses
from guanai.core.cached import remember
from guanai.core.schema import Schema
from guanai.dashboards import jobs
from guanai.dashboards.indicators import AreaIndicators, Indicators, indicator_region, indicators_for
from guanai.dashboards.models import IndicatorSnapshot, ReportJob
from guanai.dashboards.snapshots import indicator_trend
from guanai.regions.models import Region

router = Router(tags=["工作指标"])


# The leaves of an indicators response (thousands of figures) are plain pydantic models: with nothing for
# ninja's per-object validator to do (no resolvers, only plain values), pydantic-core validates them without
# a call into Python each. Their OpenAPI schema is the same.
class FigureOut(BaseModel):
    current: int | Literal["<5"] | None
    year_earlier: int | Literal["<5"] | None


class ShareOut(BaseModel):
    current: float | None
    year_earlier: float | None


class ServiceOut(BaseModel):
    reply_on_time_share: float | None
    average_rating: float | None


class AreaOut(Schema):
    code: str
    name: str
    level: int
    is_own_level: bool
    figures: dict[str, FigureOut]
    coverage: ShareOut
    service: dict[str, ServiceOut]


class IndicatorsOut(Schema):
    region_code: str
    region_name: str
    level: int
    period: str
    year_earlier_period: str
    source: str  # "snapshot" or "live"
    as_of: datetime.date | None
    total: AreaOut
    children: list[AreaOut]


class IndicatorsFilter(Schema):
    region: str
    period: str


def _area(item: AreaIndicators) -> dict[str, Any]:
    """One area as the plain data of an `AreaOut`: a response holds thousands of figures, and pydantic
    validates a whole nested dict in one call far faster than one schema instance per figure."""
    return {
        "code": item.code,
        "name": item.name,
        "level": item.level,
        "is_own_level": item.is_own_level,
        "figures": {
            key: {"current": figure.current, "year_earlier": figure.year_earlier}
            for key, figure in item.figures.items()
        },
        "coverage": {"current": item.coverage.current, "year_earlier": item.coverage.year_earlier},
        "service": {
            kind: {
                "reply_on_time_share": service.reply_on_time_share,
                "average_rating": service.average_rating,
            }
            for kind, service in item.service.items()
        },
    }


@router.get(
    "/indicators",
    response=responses(IndicatorsOut),
    operation_id="dashboard_indicators",
    summary="工作指标",
    description=(
        "辖区内某区域某月（YYYY-MM）或某年（YYYY）的工作指标及下一级区域的分项，均附上年同期数值。"
        "月度指标取自每日快照（source、as_of 说明来源与截至日期），没有快照时实时统计。县级以下区域中，"
        '儿童类别、需求、风险等级、强制报告等敏感指标的 1–4 显示为 "<5"；封存记录不在县级以下统计。'
        "辖区以外的区域返回 404，月份格式有误返回 422。"
    ),
)
@requires(Permission.DASHBOARD_VIEW)
def dashboard_indicators(request: HttpRequest, filters: Query[IndicatorsFilter]) -> HttpResponse:
    actor = request_actor(request)
    code = indicator_region(actor=actor, region_code=filters.region)  # outside the actor's region: 404
    # What the snapshots gave is the same for everyone allowed to ask (small numbers are protected by the
    # area's level, not by who asks): kept as sent (thousands of figures, 80 kB) until the snapshots or the
    # regions change. Live counts read the registers themselves and are not kept.

    def compute() -> tuple[str, bytes]:
        result = _indicators(indicators_for(actor=actor, region_code=code, period=filters.period))
        return result.source, rendered(result)

    _source, body = remember(
        f"dashboard-indicators:{code}:{filters.period}:{get_language()}",
        SNAPSHOT_TABLES,
        compute,
        ttl=INDICATORS_TTL,
        keep=lambda answer: answer[0] == "snapshot",
    )
    return rendered_response(body)


SNAPSHOT_TABLES = (IndicatorSnapshot._meta.db_table, Region._meta.db_table)
INDICATORS_TTL = 3600


def _indicators(result: Indicators) -> IndicatorsOut:
    return IndicatorsOut.model_validate(
        {
            "region_code": result.region_code,
            "region_name": result.region_name,
            "level": result.level,
            "period": result.period,
            "year_earlier_period": result.year_earlier_period,
            "source": result.source,
            "as_of": result.as_of,
            "total": _area(result.total),
            "children": [_area(item) for item in result.children],
        }
    )


class TrendFilter(Schema):
    region: str
    period: str
    months: int = 12


class TrendMonthOut(Schema):
    period: str
    figures: dict[str, int | Literal["<5"] | None]


@router.get(
    "/trend",
    response=responses(list[TrendMonthOut]),
    operation_id="dashboard_trend",
    summary="逐月走势",
    description=(
        "辖区内某区域截至某月（YYYY-MM）的逐月合计（默认 12 个月，最多 120 个月，按时间先后），"
        "小数字保护与工作指标相同。月份格式有误或月数越界返回 422，辖区以外返回 404。"
    ),
)
@requires(Permission.DASHBOARD_VIEW)
def dashboard_trend(request: HttpRequest, filters: Query[TrendFilter]) -> list[TrendMonthOut]:
    trend = indicator_trend(
        actor=request_actor(request), region_code=filters.region, period=filters.period, months=filters.months
    )
    return [TrendMonthOut(period=period, figures=figures) for period, figures in trend]


class ReportJobIn(Schema):
    kind: Literal["annual_pdf", "annual_xlsx", "returns_xlsx"]
    region: str
    period: str


class ReportJobOut(Schema):
    id: int
    kind: str
    region_code: str
    period: str
    status: str
    progress: int
    step: str
    message: str
    created_at: datetime.datetime
    finished_at: datetime.datetime | None
    is_downloadable: bool


def _job(job: ReportJob) -> ReportJobOut:
    return ReportJobOut(
        id=job.pk,
        kind=job.kind,
        region_code=job.region_id,
        period=job.period,
        status=job.status,
        progress=job.progress,
        step=job.step,
        message=job.message,
        created_at=job.created_at,
        finished_at=job.finished_at,
        is_downloadable=job.status == ReportJob.Status.SUCCEEDED and bool(job.file_name),
    )


@router.post(
    "/reports",
    response=responses(ReportJobOut, status=202),
    operation_id="dashboard_report_request",
    summary="申请生成报表",
    description=(
        "在后台生成年度工作统计（annual_pdf、annual_xlsx，统计期为年份 YYYY）或统计报表（returns_xlsx，"
        "统计期为 YYYY-MM 或 YYYY）。返回任务，可凭 id 查询进度。每人同时最多 3 份未完成（429）。"
    ),
)
@requires(Permission.DASHBOARD_EXPORT)
def dashboard_report_request(request: HttpRequest, payload: ReportJobIn) -> Status:
    job = jobs.report_job_request(
        actor=request_actor(request), kind=payload.kind, region_code=payload.region, period=payload.period
    )
    job.refresh_from_db()  # without a broker, the report has run already when the request commits
    return Status(202, _job(job))


@router.get(
    "/reports",
    response=responses(list[ReportJobOut]),
    operation_id="dashboard_report_list",
    summary="我的报表",
    description="本人最近申请的 20 份报表，新的在前。",
)
@requires(Permission.DASHBOARD_EXPORT)
def dashboard_report_list(request: HttpRequest) -> list[ReportJobOut]:
    return [_job(job) for job in jobs.report_jobs_of(actor=request_actor(request))]


@router.get(
    "/reports/{int:job_id}",
    response=responses(ReportJobOut),
    operation_id="dashboard_report_get",
    summary="报表进度",
    description="本人申请的一份报表的状态与进度（0–100）；他人的报表返回 404。",
)
@requires(Permission.DASHBOARD_EXPORT)
def dashboard_report_get(request: HttpRequest, job_id: int) -> ReportJobOut:
    return _job(jobs.report_job_get(actor=request_actor(request), job_id=job_id))


@router.get(
    "/reports/{int:job_id}/file",
    # The file itself, not JSON: its 200 is described below, only the errors have the JSON shape.
    response=dict.fromkeys(ERROR_STATUSES, ErrorOut),
    openapi_extra={
        "responses": {
            200: {
                "description": "报表文件",
                "content": {
                    content_type: {"schema": {"type": "string", "format": "binary"}}
                    for content_type in jobs.CONTENT_TYPES.values()
                },
            }
        }
    },
    operation_id="dashboard_report_file",
    summary="下载报表",
    description=(
        "本人申请且已生成的报表文件（PDF 或 Excel），每次下载记入审计日志；文件过期或未生成返回 404。"
    ),
)
@requires(Permission.DASHBOARD_EXPORT)
def dashboard_report_file(request: HttpRequest, job_id: int) -> FileResponse:
    return jobs.report_job_file(actor=request_actor(request), job_id=job_id).response()
