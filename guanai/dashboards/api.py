"""The dashboards' API: the indicators of a region and its child regions for a month."""

from typing import Literal

from django.http import HttpRequest
from ninja import Query, Schema

from guanai.core.access import Permission, request_actor, requires
from guanai.core.api import Router, responses
from guanai.dashboards.indicators import AreaIndicators, indicators_for

router = Router(tags=["工作指标"])


class FigureOut(Schema):
    current: int | Literal["<5"] | None
    year_earlier: int | Literal["<5"] | None


class ShareOut(Schema):
    current: float | None
    year_earlier: float | None


class ServiceOut(Schema):
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
    total: AreaOut
    children: list[AreaOut]


class IndicatorsFilter(Schema):
    region: str
    period: str


def _area(item: AreaIndicators) -> AreaOut:
    return AreaOut(
        code=item.code,
        name=item.name,
        level=item.level,
        is_own_level=item.is_own_level,
        figures={
            key: FigureOut(current=figure.current, year_earlier=figure.year_earlier)
            for key, figure in item.figures.items()
        },
        coverage=ShareOut(current=item.coverage.current, year_earlier=item.coverage.year_earlier),
        service={
            kind: ServiceOut(
                reply_on_time_share=service.reply_on_time_share, average_rating=service.average_rating
            )
            for kind, service in item.service.items()
        },
    )


@router.get(
    "/indicators",
    response=responses(IndicatorsOut),
    operation_id="dashboard_indicators",
    summary="工作指标",
    description=(
        "辖区内某区域某月（YYYY-MM）的工作指标及下一级区域的分项，均附上年同月数值。县级以下区域中，"
        '儿童类别、需求、风险等级、强制报告等敏感指标的 1–4 显示为 "<5"；封存记录不在县级以下统计。'
        "辖区以外的区域返回 404，月份格式有误返回 422。"
    ),
)
@requires(Permission.DASHBOARD_VIEW)
def dashboard_indicators(request: HttpRequest, filters: Query[IndicatorsFilter]) -> IndicatorsOut:
    result = indicators_for(actor=request_actor(request), region_code=filters.region, period=filters.period)
    return IndicatorsOut(
        region_code=result.region_code,
        region_name=result.region_name,
        level=result.level,
        period=result.period,
        year_earlier_period=result.year_earlier_period,
        total=_area(result.total),
        children=[_area(item) for item in result.children],
    )
