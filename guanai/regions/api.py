from django.http import HttpRequest
from ninja import Field, Query, Schema

from guanai.core.access import Permission, request_actor, requires
from guanai.core.api import Router, responses
from guanai.regions.models import Region
from guanai.regions.selectors import region_breadcrumb, region_children, region_get

router = Router(tags=["regions"])


class RegionOut(Schema):
    code: str
    name: str
    short_name: str
    level: int
    level_label: str
    parent_code: str | None

    @staticmethod
    def of(region: Region) -> "RegionOut":
        return RegionOut(
            code=region.code,
            name=region.name,
            short_name=region.short_name,
            level=region.level,
            level_label=str(region.get_level_display()),
            parent_code=region.parent_id,
        )


class RegionDetailOut(RegionOut):
    breadcrumb: list[RegionOut]


class RegionPageOut(Schema):
    count: int
    items: list[RegionOut]


class PageFilter(Schema):
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0)


@router.get("/{code}", response=responses(RegionDetailOut), operation_id="regions_get", summary="区划详情")
@requires(Permission.REGION_VIEW)
def regions_get(request: HttpRequest, code: str) -> RegionDetailOut:
    region = region_get(actor=request_actor(request), code=code)
    return RegionDetailOut(
        **RegionOut.of(region).model_dump(),
        breadcrumb=[RegionOut.of(r) for r in region_breadcrumb(code=region.code)],
    )


@router.get(
    "/{code}/children", response=responses(RegionPageOut), operation_id="regions_children", summary="下级区划"
)
@requires(Permission.REGION_VIEW)
def regions_children(request: HttpRequest, code: str, page: Query[PageFilter]) -> RegionPageOut:
    children = region_children(actor=request_actor(request), code=code)
    window = children[page.offset : page.offset + page.limit]
    return RegionPageOut(count=children.count(), items=[RegionOut.of(r) for r in window])
