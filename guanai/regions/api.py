from django.http import HttpRequest
from ninja import Field, Query

from guanai.core.access import Permission, request_actor, requires
from guanai.core.api import MAX_OFFSET, Router, responses
from guanai.core.schema import Schema
from guanai.regions.models import Region
from guanai.regions.selectors import region_breadcrumb, region_children, region_find_by_name, region_get

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


class ChildrenFilter(Schema):
    name: str | None = Field(
        None,
        max_length=50,
        description="按名称查找下级区划，接受简称：富城村、千岛湖镇、千岛湖、淳安县、淳安",
    )
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


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
def regions_children(request: HttpRequest, code: str, page: Query[ChildrenFilter]) -> RegionPageOut:
    actor = request_actor(request)
    children = region_children(actor=actor, code=code)
    if page.name:
        found = region_find_by_name(parent=region_get(actor=actor, code=code), name=page.name)
        children = children.filter(code=found.code) if found else children.none()
    window = children[page.offset : page.offset + page.limit]
    return RegionPageOut(count=children.count(), items=[RegionOut.of(r) for r in window])
