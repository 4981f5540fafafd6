from django.http import HttpRequest
from ninja import Field, Query

from guanai.committees.models import Committee, CommitteeMember
from guanai.committees.selectors import committee_get, committee_list, committee_parent
from guanai.core.access import Permission, request_actor, requires
from guanai.core.api import MAX_OFFSET, Router, responses
from guanai.core.schema import Schema

router = Router(tags=["committees"])


class CommitteeOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str
    region_code: str
    region_name: str
    address: str
    phone: str
    email: str
    is_active: bool

    @staticmethod
    def of(committee: Committee) -> "CommitteeOut":
        return CommitteeOut(
            id=committee.pk,
            name=committee.name,
            kind=committee.kind,
            kind_label=str(committee.get_kind_display()),
            region_code=committee.region.code,
            region_name=committee.region.name,
            address=committee.address,
            phone=committee.phone,
            email=committee.email,
            is_active=committee.is_active,
        )


class MemberOut(Schema):
    id: int
    name: str
    position: str
    position_label: str
    office_phone: str

    @staticmethod
    def of(member: CommitteeMember) -> "MemberOut":
        return MemberOut(
            id=member.pk,
            name=member.name,
            position=member.position,
            position_label=str(member.get_position_display()),
            office_phone=member.office_phone,
        )


class CommitteeDetailOut(CommitteeOut):
    parent_id: int | None
    members: list[MemberOut]


class CommitteePageOut(Schema):
    count: int
    items: list[CommitteeOut]


class CommitteeFilter(Schema):
    region: str | None = Field(None, description="区划代码 (2、4、6、9 或 12 位)，只列出其辖区内的关工委")
    kind: str | None = Field(None, description="regional / school / enterprise")
    q: str | None = Field(None, max_length=50, description="按名称或区划简称搜索")
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


@router.get("/", response=responses(CommitteePageOut), operation_id="committees_list", summary="关工委列表")
@requires(Permission.COMMITTEE_VIEW)
def committees_list(request: HttpRequest, filters: Query[CommitteeFilter]) -> CommitteePageOut:
    committees = committee_list(
        actor=request_actor(request), region_code=filters.region, kind=filters.kind, search=filters.q
    )
    page = committees[filters.offset : filters.offset + filters.limit]
    return CommitteePageOut(count=committees.count(), items=[CommitteeOut.of(c) for c in page])


@router.get(
    "/{committee_id}",
    response=responses(CommitteeDetailOut),
    operation_id="committees_get",
    summary="关工委详情",
)
@requires(Permission.COMMITTEE_VIEW)
def committees_get(request: HttpRequest, committee_id: int) -> CommitteeDetailOut:
    actor = request_actor(request)
    committee = committee_get(actor=actor, committee_id=committee_id)
    parent = committee_parent(actor=actor, committee=committee)
    return CommitteeDetailOut(
        **CommitteeOut.of(committee).model_dump(),
        parent_id=parent.pk if parent else None,
        members=[MemberOut.of(m) for m in committee.members.all()],
    )
