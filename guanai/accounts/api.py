from django.http import HttpRequest
from ninja import Field, Schema

from guanai.accounts.models import RoleAssignment
from guanai.accounts.services import user_set_preferences
from guanai.core.access import Actor, Permission, request_actor, requires
from guanai.core.api import Router, responses
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
