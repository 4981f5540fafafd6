"""Who may see and do what — the only place it is decided.

An *actor* is a user acting under one of their role assignments (the active one). Every region-scoped
queryset offers `.visible_to(actor)`, which keeps the rows inside the actor's region subtree; what an
actor may not see answers 404, exactly like what does not exist. Every page and API operation declares
the permission it needs (`permission_required`, `requires`, `public`); one that declares nothing is
refused by the framework (see `guanai.web.middleware` and `guanai.core.api`).
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanai.core import region_codes
from guanai.core.region_codes import RegionLevel

if TYPE_CHECKING:
    from django.http import HttpRequest

    from guanai.accounts.models import RoleAssignment, User


class Role(models.TextChoices):
    PROVINCE_ADMIN = "province_admin", _("省级管理员")
    CITY_ADMIN = "city_admin", _("市级管理员")
    COUNTY_ADMIN = "county_admin", _("县级管理员")
    TOWNSHIP_ADMIN = "township_admin", _("乡镇(街道)管理员")
    VILLAGE_LIAISON = "village_liaison", _("村(社区)联络员")
    VOLUNTEER = "volunteer", _("五老志愿者")
    LAWYER = "lawyer", _("律师志愿者")
    COUNSELLOR = "counsellor", _("心理咨询师志愿者")
    PUBLICIST = "publicist", _("五老网宣员")
    AUDITOR = "auditor", _("审计管理员")
    SECURITY_ADMIN = "security_admin", _("安全管理员")
    SYSTEM_ADMIN = "system_admin", _("系统管理员")


# The level of region a role is assigned at; roles absent here may be held at any level.
ROLE_REGION_LEVEL: dict[str, RegionLevel] = {
    Role.PROVINCE_ADMIN: RegionLevel.PROVINCE,
    Role.CITY_ADMIN: RegionLevel.CITY,
    Role.COUNTY_ADMIN: RegionLevel.COUNTY,
    Role.TOWNSHIP_ADMIN: RegionLevel.TOWNSHIP,
    Role.VILLAGE_LIAISON: RegionLevel.VILLAGE,
    Role.AUDITOR: RegionLevel.PROVINCE,
    Role.SECURITY_ADMIN: RegionLevel.PROVINCE,
    Role.SYSTEM_ADMIN: RegionLevel.PROVINCE,
}

# Roles that sign in with a second, cryptographic factor (TOTP), 等保 2.0 level 3. A user holding any of
# them verifies the second factor whatever role is active, since the active role can be switched.
ROLES_REQUIRING_SECOND_FACTOR: frozenset[str] = frozenset(
    {
        Role.PROVINCE_ADMIN,
        Role.CITY_ADMIN,
        Role.COUNTY_ADMIN,
        Role.SECURITY_ADMIN,
        Role.AUDITOR,
        Role.SYSTEM_ADMIN,
    }
)

# Order in which a user's assignments are offered; the first valid one is active by default.
ROLE_ORDER: list[str] = [role.value for role in Role]


class Permission(enum.StrEnum):
    PUBLIC = "public"  # anyone, signed in or not
    SIGNED_IN = "signed_in"  # any signed-in user: their own profile, language, elder mode, role switch
    REGION_VIEW = "regions.view"
    COMMITTEE_VIEW = "committees.view"
    COMMITTEE_MANAGE = "committees.manage"
    ACCOUNT_VIEW = "accounts.view"
    ACCOUNT_MANAGE = "accounts.manage"
    MINOR_VIEW = "minors.view"
    MINOR_MANAGE = "minors.manage"
    MINOR_UNMASK = "minors.unmask"
    MINOR_IMPORT = "minors.import"
    MINOR_EXPORT = "minors.export"
    EXPORT_APPROVE = "exports.approve"
    VOLUNTEER_VIEW = "volunteers.view"
    VOLUNTEER_MANAGE = "volunteers.manage"  # register, review sign-ups, teams, hours, training, honours
    VOLUNTEER_UNMASK = "volunteers.unmask"
    VOLUNTEER_IMPORT = "volunteers.import"
    VOLUNTEER_EXPORT = "volunteers.export"
    VOLUNTEER_SELF = "volunteers.self"  # 我的: one's own volunteer record, hours claims and certificate
    PAIRING_VIEW = "pairings.view"
    PAIRING_MANAGE = "pairings.manage"  # propose, accept, start, close pairings; declare conflicts
    VISIT_RECORD = "visits.record"  # a volunteer records visits of their own pairings
    REPORT_MANAGE = "reports.manage"  # 强制报告: receive the alert, handle, close with an outcome
    MENTORING_MANAGE = "mentoring.manage"  # open a sealed mentoring case, assign its officer and mentors
    MENTORING_BREAK_GLASS = "mentoring.break_glass"  # state a lawful reason for 3 hours' access
    CAFE_VIEW = "cafes.view"
    CAFE_MANAGE = "cafes.manage"  # cafés of a township, findings' follow-up and outcome
    CAFE_INSPECT = "cafes.inspect"  # a member of a café supervision team records inspections
    CONSULTATION_ANSWER = "consultations.answer"  # a lawyer or counsellor on duty: queue, conversations
    CONSULTATION_SUPERVISE = "consultations.supervise"  # metadata, service clocks, duty rosters, statistics
    KNOWLEDGE_WRITE = "consultations.knowledge"  # write and publish questions and answers
    DASHBOARD_VIEW = "dashboards.view"  # the indicators of one's region and its subregions
    DASHBOARD_EXPORT = "dashboards.export"  # the annual work report and the statistical returns
    AUDIT_VIEW = "audit.view"
    RECORD_HISTORY_VIEW = "audit.record_history"  # "who viewed or changed this" on a record one may see
    KEY_MANAGE = "keys.manage"
    # 个人信息保护法 art. 55–57: impact assessments and personal-information incidents with notification.
    PRIVACY_VIEW = "privacy.view"  # read the assessments and incidents of one's region
    PRIVACY_MANAGE = "privacy.manage"  # record assessments and incidents, notifications, containment, closing


_STAFF = {
    Permission.REGION_VIEW,
    Permission.COMMITTEE_VIEW,
    Permission.COMMITTEE_MANAGE,
    Permission.ACCOUNT_VIEW,
    Permission.RECORD_HISTORY_VIEW,
}
_FIELD = {Permission.REGION_VIEW, Permission.COMMITTEE_VIEW}
# The registry of children: staff of every level keep it; unmasking and exporting stay with the admins;
# an export of more than 1,000 rows is approved one level up (city and province approve).
_REGISTRY = {
    Permission.MINOR_VIEW,
    Permission.MINOR_MANAGE,
    Permission.MINOR_IMPORT,
    Permission.MINOR_EXPORT,
    Permission.MINOR_UNMASK,
}
# The volunteers (五老): kept by the same staff as the registry, the village liaison included (they know
# the elders of the village); unmasking and exporting stay with the admins, as for children.
_VOLUNTEERS = {
    Permission.VOLUNTEER_VIEW,
    Permission.VOLUNTEER_MANAGE,
    Permission.VOLUNTEER_IMPORT,
    Permission.VOLUNTEER_EXPORT,
    Permission.VOLUNTEER_UNMASK,
}
# Pairing, visits and their follow-up (issue 6): kept by the township upward; the county and township
# admins receive mandatory reports; mentoring cases are opened by the county and city, and are sealed
# (the case's officer and mentors see it; others only by break-the-glass).
_PAIRING = {Permission.PAIRING_VIEW, Permission.PAIRING_MANAGE, Permission.REPORT_MANAGE}
_CAFES = {Permission.CAFE_VIEW, Permission.CAFE_MANAGE}
_MENTORING = {Permission.MENTORING_MANAGE, Permission.MENTORING_BREAK_GLASS}
_UPPER = {Permission.ACCOUNT_MANAGE, Permission.EXPORT_APPROVE}
# The online services (issue 7): the county and above supervise (metadata only) and keep duty rosters;
# lawyers and counsellors answer and write the knowledge base.
_SUPERVISE = {Permission.CONSULTATION_SUPERVISE}
_PROFESSIONAL = {Permission.CONSULTATION_ANSWER, Permission.KNOWLEDGE_WRITE}
# The dashboards (issue 8): every level of staff steers by them, the village liaison included; the
# annual report and the statistical returns are compiled by the admins, township upward.
_DASHBOARD = {Permission.DASHBOARD_VIEW, Permission.DASHBOARD_EXPORT}
_SELF = {Permission.VOLUNTEER_SELF, Permission.VISIT_RECORD, Permission.CAFE_INSPECT}

# Separation of duties (等保 2.0): the system admin runs accounts but reads no audit log and holds no
# keys; the auditor reads the audit log and, read-only, the impact assessments and incident records (to
# check them); the security admin manages keys, records the assessments and handles the incidents.
ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    Role.PROVINCE_ADMIN: frozenset(
        _STAFF | _REGISTRY | _VOLUNTEERS | _PAIRING | _CAFES | _MENTORING | _UPPER | _SUPERVISE | _DASHBOARD
    ),
    Role.CITY_ADMIN: frozenset(
        _STAFF | _REGISTRY | _VOLUNTEERS | _PAIRING | _CAFES | _MENTORING | _UPPER | _SUPERVISE | _DASHBOARD
    ),
    Role.COUNTY_ADMIN: frozenset(
        _STAFF | _REGISTRY | _VOLUNTEERS | _PAIRING | _CAFES | _MENTORING | _UPPER | _SUPERVISE | _DASHBOARD
    ),
    Role.TOWNSHIP_ADMIN: frozenset(_STAFF | _REGISTRY | _VOLUNTEERS | _PAIRING | _CAFES | _DASHBOARD),
    # The village liaison registers and updates the children and elders of the village, seen masked.
    Role.VILLAGE_LIAISON: frozenset(
        _FIELD
        | {
            Permission.MINOR_VIEW,
            Permission.MINOR_MANAGE,
            Permission.VOLUNTEER_VIEW,
            Permission.VOLUNTEER_MANAGE,
            Permission.PAIRING_VIEW,
            Permission.CAFE_VIEW,
            Permission.DASHBOARD_VIEW,
        }
    ),
    Role.VOLUNTEER: frozenset(_FIELD | _SELF),
    Role.LAWYER: frozenset(_FIELD | _SELF | _PROFESSIONAL),
    Role.COUNSELLOR: frozenset(_FIELD | _SELF | _PROFESSIONAL),
    Role.PUBLICIST: frozenset(_FIELD | _SELF),
    Role.AUDITOR: frozenset({Permission.AUDIT_VIEW, Permission.PRIVACY_VIEW}),
    Role.SECURITY_ADMIN: frozenset(
        {Permission.KEY_MANAGE, Permission.PRIVACY_VIEW, Permission.PRIVACY_MANAGE}
    ),
    Role.SYSTEM_ADMIN: frozenset(
        {
            Permission.REGION_VIEW,
            Permission.ACCOUNT_VIEW,
            Permission.ACCOUNT_MANAGE,
            Permission.COMMITTEE_VIEW,
        }
    ),
}


@dataclass(frozen=True)
class Actor:
    """A user acting under one role assignment; anonymous when `user` is None."""

    user: User | None
    assignment: RoleAssignment | None = None
    assignments: tuple[RoleAssignment, ...] = field(default=())

    @property
    def is_authenticated(self) -> bool:
        return self.user is not None

    @property
    def role(self) -> str | None:
        return self.assignment.role if self.assignment else None

    @property
    def region_code(self) -> str | None:
        return self.assignment.region_id if self.assignment else None

    @property
    def permissions(self) -> frozenset[Permission]:
        if self.user is None:
            return frozenset({Permission.PUBLIC})
        granted = ROLE_PERMISSIONS.get(self.role or "", frozenset())
        return granted | {Permission.PUBLIC, Permission.SIGNED_IN}

    def has(self, permission: Permission) -> bool:
        return permission in self.permissions

    @property
    def requires_second_factor(self) -> bool:
        return any(assignment.role in ROLES_REQUIRING_SECOND_FACTOR for assignment in self.assignments)


ANONYMOUS = Actor(user=None)


def scope_q(actor: Actor, field_name: str) -> Q:
    """Rows whose region (in `field_name`, a 12-digit code) lies inside the actor's region."""
    if actor.region_code is None:
        return Q(pk__in=[])
    return region_codes.within_q(field_name, actor.region_code)


def is_above(actor: Actor, region_code: str) -> bool:
    """Whether the actor's region strictly contains `region_code` (one level up or more, never their own):
    who decides what a region below asks for (an export over the threshold, a role)."""
    return (
        actor.region_code is not None
        and region_code != actor.region_code
        and region_codes.is_within(region_code, actor.region_code)
    )


def above_q(actor: Actor, field_name: str) -> Q:
    """Rows whose region (in `field_name`) lies strictly inside the actor's: `is_above` as a filter."""
    if actor.region_code is None:
        return Q(pk__in=[])
    return scope_q(actor, field_name) & ~Q(**{field_name: actor.region_code})


# Separation of duties (等保 2.0): the system, security and audit administrators are three people, and their
# roles are granted, ended and reviewed only by a province administrator: otherwise the system
# administrator, who manages accounts, would choose or remove the auditor who audits them.
DUTY_SEPARATED_ROLES: frozenset[str] = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR})


def may_handle_role(actor: Actor, role: str) -> bool:
    """Whether the actor may decide on, end or review an assignment of `role` (given ACCOUNT_MANAGE)."""
    return role not in DUTY_SEPARATED_ROLES or actor.role == Role.PROVINCE_ADMIN


# Data-subject requests (guanai.rights) answered with the child's data in the clear: a copy (access,
# copy) holds every value unmasked, and an erasure is decided by who sees the record unmasked. A
# correction is made through the normal (masked) update.
SUBJECT_REQUEST_KINDS_IN_THE_CLEAR: frozenset[str] = frozenset({"access", "copy", "deletion"})


def may_answer_subject_request(actor: Actor, kind: str) -> bool:
    """Whether the actor may answer a data-subject request of `kind` — complete, erase or refuse it:
    MINOR_MANAGE, plus MINOR_UNMASK for the kinds answered in the clear."""
    if not actor.has(Permission.MINOR_MANAGE):
        return False
    return kind not in SUBJECT_REQUEST_KINDS_IN_THE_CLEAR or actor.has(Permission.MINOR_UNMASK)


def region_visibility_q(actor: Actor, field_name: str = "code") -> Q:
    """Regions an actor may look at: their own subtree and the chain of ancestors above it
    (so that a breadcrumb such as 浙江省 › 杭州市 › 淳安县 can be shown), never a sibling's subtree."""
    if actor.region_code is None:
        return Q(pk__in=[])
    ancestors = region_codes.ancestor_codes(actor.region_code)
    return scope_q(actor, field_name) | Q(**{f"{field_name}__in": ancestors})


def minor_visibility_q(actor: Actor, prefix: str = "") -> Q:
    """Children in the registry an actor may see: inside their region, never a sealed record (特殊青少年,
    reached only through its mentoring case). `prefix` reaches the child from a related row ("minor__")."""
    if not actor.has(Permission.MINOR_VIEW):
        return Q(pk__in=[])
    return scope_q(actor, f"{prefix}region_id") & Q(**{f"{prefix}is_sealed": False})


def cafe_coverage_code(region_code: str) -> str:
    """The region whose internet cafés a team or a staff member of `region_code` looks after. Cafés belong
    to a township: a village (its committee, its liaison) looks after the cafés of its township."""
    if region_codes.level_of(region_code) == RegionLevel.VILLAGE:
        parent = region_codes.parent_code(region_code)
        assert parent is not None
        return parent
    return region_code


def cafe_staff_scope_q(actor: Actor, field_name: str) -> Q:
    """Rows of cafés inside the region the actor's staff role looks after (`field_name`: the café's
    township code)."""
    if actor.region_code is None or not actor.has(Permission.CAFE_VIEW):
        return Q(pk__in=[])
    return region_codes.within_q(field_name, cafe_coverage_code(actor.region_code))


def cafe_supervision_teams(actor: Actor) -> models.QuerySet[Any]:
    """The café supervision teams (网吧义务监督员队) the signed-in volunteer currently serves in: an active
    team, a membership not ended, and the volunteer 在岗."""
    from django.apps import apps

    team = apps.get_model("volunteers", "Team")
    if actor.user is None or not actor.has(Permission.CAFE_INSPECT):
        return team.objects.none()
    return team.objects.filter(
        kind="cafe_supervisors",
        is_active=True,
        memberships__left_on__isnull=True,
        memberships__volunteer__user=actor.user,
        memberships__volunteer__status="active",
    ).distinct()


def cafe_inspector_scope_q(actor: Actor, field_name: str) -> Q:
    """Rows of cafés that a team the actor inspects for covers."""
    teams = cafe_supervision_teams(actor).values_list("region_id", flat=True)
    scope = Q(pk__in=[])
    for code in sorted({cafe_coverage_code(code) for code in teams}):
        scope |= region_codes.within_q(field_name, code)
    return scope


def mentoring_case_visibility_q(actor: Actor, prefix: str = "") -> Q:
    """Sealed mentoring cases the actor may see: as their officer, as a current mentor, or under an
    unexpired, unrevoked access grant (break-the-glass). Neither the role nor the region of the actor
    widens this: a province administrator sees no case they have not been given. `prefix` reaches the
    case from a related row ("case__")."""
    from django.apps import apps
    from django.utils import timezone

    if actor.user is None or actor.assignment is None:
        return Q(pk__in=[])
    user_id = actor.user.pk
    mentors = apps.get_model("mentoring", "CaseMentor")
    grants = apps.get_model("mentoring", "AccessGrant")
    mentored = mentors.objects.filter(volunteer__user_id=user_id, ended_on__isnull=True).values("case_id")
    granted = grants.objects.filter(
        user_id=user_id, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).values("case_id")
    return (
        Q(**{f"{prefix}officer_id": user_id})
        | Q(**{f"{prefix}pk__in": mentored})
        | Q(**{f"{prefix}pk__in": granted})
    )


def consultation_supervision_q(actor: Actor, prefix: str = "") -> Q:
    """Online requests whose metadata a supervisor may see: inside their region. What identifies the
    requester is the assigned professional's alone (guanai.consultations.selectors)."""
    if not actor.has(Permission.CONSULTATION_SUPERVISE):
        return Q(pk__in=[])
    return scope_q(actor, f"{prefix}region_id")


def can_see_region(actor: Actor, code: str) -> bool:
    if actor.region_code is None:
        return False
    return region_codes.is_within(code, actor.region_code) or code in region_codes.ancestor_codes(
        actor.region_code
    )


_QuerySetT = TypeVar("_QuerySetT", bound="RegionScopedQuerySet[Any]")
_ModelT = TypeVar("_ModelT", bound=models.Model)


class RegionScopedQuerySet(models.QuerySet[_ModelT]):
    """A queryset of rows that belong to a region. The model names the region code field in
    `region_scope_field` (for example "region_id" or "committee__region_id")."""

    def visible_to(self: _QuerySetT, actor: Actor) -> _QuerySetT:
        scope_field: str = getattr(self.model, "region_scope_field", "region_id")
        return self.filter(scope_q(actor, scope_field))


class RegionScoped:
    """Mixin for models whose rows belong to a region."""

    region_scope_field: ClassVar[str] = "region_id"


# --- Declaring what a page or an operation needs -------------------------------------------------

PERMISSION_ATTRIBUTE = "guanai_permission"
_F = TypeVar("_F", bound=Callable[..., Any])


def declared_permission(view: Callable[..., Any]) -> Permission | None:
    return getattr(view, PERMISSION_ATTRIBUTE, None)


def permission_required(permission: Permission) -> Callable[[_F], _F]:
    """Declare the permission a Django view needs; `DeclaredPermissionMiddleware` enforces it."""

    def decorate(view: _F) -> _F:
        setattr(view, PERMISSION_ATTRIBUTE, permission)
        return view

    return decorate


def public(view: _F) -> _F:
    """Declare a page that anyone may open, signed in or not."""
    return permission_required(Permission.PUBLIC)(view)


def requires(permission: Permission) -> Callable[[_F], _F]:
    """Declare and enforce the permission an API operation needs (place it under `@router.get`)."""

    def decorate(operation: _F) -> _F:
        @functools.wraps(operation)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            from guanai.core.errors import PermissionDeniedError

            if not request_actor(request).has(permission):
                raise PermissionDeniedError()
            return operation(request, *args, **kwargs)

        setattr(checked, PERMISSION_ATTRIBUTE, permission)
        return checked  # type: ignore[return-value]

    return decorate


def request_actor(request: HttpRequest) -> Actor:
    """The actor of a request, set by `ActorMiddleware` (session) or the API's bearer-token auth."""
    actor = getattr(request, "actor", None)
    return actor if isinstance(actor, Actor) else ANONYMOUS


def audit_scope_q(actor: Actor) -> Q:
    """Audit events an actor may read: those concerning a region inside the actor's region. Events that
    concern no region (a failed sign-in under an unknown name, a purge) only at province level."""
    if actor.region_code is None:
        return Q(pk__in=[])
    scope = region_codes.within_q("region_code", actor.region_code)
    if region_codes.level_of(actor.region_code) == RegionLevel.PROVINCE:
        scope |= Q(region_code="")
    return scope
