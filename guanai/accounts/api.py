from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query

from guanai.accounts.models import RoleAssignment, User
from guanai.accounts.selectors import user_get, user_list
from guanai.accounts.services import user_set_preferences
from guanai.core.access import Actor, Permission, request_actor, requires
from guanai.core.api import MAX_OFFSET, Router, responses
from guanai.core.masking import mask_field, unmask_field
from guanai.core.schema import Schema
from guanai.regions.selectors import region_breadcrumb

router = Router(tags=["accounts"])


class RegionRefOut(Schema):
    code: str
    name: str


class AssignmentOut(Schema):
    id: int
    role: str
    role_label: str
    region: RegionRefOut
    committee_id: int | None
    valid_from: str
    valid_to: str | None


class MeOut(Schema):
    username: str
    display_name: str
    elder_mode: bool
    language: str
    active_assignment: AssignmentOut | None
    assignments: list[AssignmentOut]
    permissions: list[str]
    breadcrumb: list[RegionRefOut]


def _assignment_out(assignment: RoleAssignment) -> AssignmentOut:
    return AssignmentOut(
        id=assignment.pk,
        role=assignment.role,
        role_label=str(assignment.get_role_display()),
        region=RegionRefOut(code=assignment.region.code, name=assignment.region.name),
        committee_id=assignment.committee_id,
        valid_from=assignment.valid_from.isoformat(),
        valid_to=assignment.valid_to.isoformat() if assignment.valid_to else None,
    )


class PreferencesIn(Schema):
    elder_mode: bool | None = Field(None, description="长辈模式")
    language: str | None = Field(None, description="界面语言：zh-hans、zh-hant 或 en")


def _me(actor: Actor) -> MeOut:
    user = actor.user
    assert user is not None  # guaranteed by SIGNED_IN
    crumbs = region_breadcrumb(code=actor.region_code) if actor.region_code else []
    return MeOut(
        username=user.username,
        display_name=user.display_name,
        elder_mode=user.elder_mode,
        language=user.language,
        active_assignment=_assignment_out(actor.assignment) if actor.assignment else None,
        assignments=[_assignment_out(a) for a in actor.assignments],
        permissions=sorted(str(p) for p in actor.permissions),
        breadcrumb=[RegionRefOut(code=r.code, name=r.name) for r in crumbs],
    )


@router.get("/me", response=responses(MeOut), operation_id="me_get", summary="当前用户与角色")
@requires(Permission.SIGNED_IN)
def me_get(request: HttpRequest) -> MeOut:
    return _me(request_actor(request))


@router.patch(
    "/me/preferences",
    response=responses(MeOut),
    operation_id="me_preferences_update",
    summary="修改长辈模式与界面语言",
)
@requires(Permission.SIGNED_IN)
def me_preferences_update(request: HttpRequest, payload: PreferencesIn) -> MeOut:
    actor = request_actor(request)
    assert actor.user is not None  # guaranteed by SIGNED_IN
    user_set_preferences(user=actor.user, elder_mode=payload.elder_mode, language=payload.language)
    return _me(actor)


class UserRoleOut(Schema):
    role: str
    role_label: str
    region_code: str
    region_name: str


class UserOut(Schema):
    id: int
    username: str
    display_name: str
    mobile: str | None = Field(None, description="已脱敏，如 139****0001；明文须调用 unmask 接口")
    is_active: bool
    roles: list[UserRoleOut]


class UserPageOut(Schema):
    count: int
    items: list[UserOut]


class UserFilter(Schema):
    q: str | None = Field(None, max_length=50, description="按用户名或姓名搜索")
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class UnmaskIn(Schema):
    field: Literal["mobile"]


class UnmaskOut(Schema):
    field: str
    value: str


def _user_out(user: User) -> UserOut:
    return UserOut(
        id=user.pk,
        username=user.username,
        display_name=user.display_name,
        mobile=mask_field(user, "mobile") if user.mobile else None,
        is_active=user.is_active,
        roles=[
            UserRoleOut(
                role=a.role,
                role_label=str(a.get_role_display()),
                region_code=a.region_id,
                region_name=a.region.name,
            )
            for a in user.assignments.all()
        ],
    )


@router.get("/users/", response=responses(UserPageOut), operation_id="users_list", summary="辖区内用户")
@requires(Permission.ACCOUNT_VIEW)
def users_list(request: HttpRequest, filters: Query[UserFilter]) -> UserPageOut:
    users = user_list(actor=request_actor(request), search=filters.q)
    page = users[filters.offset : filters.offset + filters.limit]
    return UserPageOut(count=users.count(), items=[_user_out(u) for u in page])


@router.post(
    "/users/{user_id}/unmask",
    response=responses(UnmaskOut),
    operation_id="users_unmask",
    summary="查看一个字段的明文（记入审计日志）",
)
@requires(Permission.ACCOUNT_MANAGE)
def users_unmask(request: HttpRequest, user_id: int, payload: UnmaskIn) -> UnmaskOut:
    actor = request_actor(request)
    user = user_get(actor=actor, user_id=user_id)
    return UnmaskOut(
        field=payload.field, value=unmask_field(actor=actor, instance=user, field_name=payload.field)
    )
