from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db.models import BooleanField, ExpressionWrapper, Prefetch, Q, QuerySet
from django.utils import timezone

from guanai.accounts.models import ApiToken, RoleAssignment, RoleGrantRequest, User, not_ended_q
from guanai.committees.models import Committee
from guanai.core import access, region_codes
from guanai.core.access import ROLE_ORDER, Actor
from guanai.core.cached import recall, remember
from guanai.core.crypto import blind_index, sm3_hex
from guanai.core.errors import NotFoundError, PermissionDeniedError
from guanai.regions.models import Region

# Every request is authenticated from the token and the role assignments; both are remembered while their
# tables are unchanged (guanai.core.cached), so revoking, deactivating or ending an assignment — a write to
# one of them — counts from the next request. AUTH_TTL bounds a change made outside Django.
AUTH_TTL = 60
AUTH_TABLES = (ApiToken._meta.db_table, User._meta.db_table)
ASSIGNMENT_TABLES = (RoleAssignment._meta.db_table, Region._meta.db_table, Committee._meta.db_table)


def _assignments_on(user: User, day: datetime.date) -> list[RoleAssignment]:
    assignments = list(
        RoleAssignment.objects.valid_on(day).filter(user=user).select_related("region", "committee")
    )
    assignments.sort(key=lambda a: (ROLE_ORDER.index(a.role), a.region_id, a.pk))
    return assignments


def assignments_valid_today(*, user: User) -> list[RoleAssignment]:
    today = timezone.localdate()
    key = f"assignments:{user.pk}:{today.isoformat()}"
    return list(remember(key, ASSIGNMENT_TABLES, lambda: _assignments_on(user, today), ttl=AUTH_TTL))


def mobile_digest(mobile: str) -> str:
    """The keyed blind index of a mobile number: finds what belongs to it without storing the number."""
    return blind_index(User, "mobile", mobile) or ""


def user_by_login_identifier(*, identifier: str) -> User | None:
    """The account a person means by what they typed: an 11-digit mobile number or a username."""
    identifier = identifier.strip()
    if len(identifier) == 11 and identifier.isascii() and identifier.isdigit():
        return User.objects.filter(mobile_index=mobile_digest(identifier)).first()
    return User.objects.filter(username=identifier).first()


def actor_for_user(user: User, *, assignment_id: int | None = None) -> Actor:
    """The user acting under the requested assignment, or under their first valid one."""
    return _actor(user, assignments_valid_today(user=user), assignment_id)


def _actor(user: User, assignments: list[RoleAssignment], assignment_id: int | None) -> Actor:
    active = next((a for a in assignments if a.pk == assignment_id), assignments[0] if assignments else None)
    return Actor(user=user, assignment=active, assignments=tuple(assignments))


def user_list(*, actor: Actor, search: str | None = None) -> QuerySet[User]:
    """Users holding an assignment inside the actor's region (none without ACCOUNT_VIEW)."""
    if not actor.has(access.Permission.ACCOUNT_VIEW):
        return User.objects.none()
    users = User.objects.visible_to(actor)
    if search:
        users = users.filter(Q(username__icontains=search) | Q(display_name__icontains=search))
    return users.prefetch_related(
        Prefetch("assignments", queryset=RoleAssignment.objects.select_related("region").order_by("id"))
    ).order_by("username")


def user_get(*, actor: Actor, user_id: int) -> User:
    if not actor.has(access.Permission.ACCOUNT_VIEW):
        raise PermissionDeniedError()
    user = user_list(actor=actor).filter(pk=user_id).first()
    if user is None:
        raise NotFoundError()
    return user


def api_token_lookup(
    *, raw_token: str, assignment_id: int | None = None, now: datetime.datetime
) -> tuple[ApiToken, Actor] | None:
    """The bearer token and its active user, acting under the requested assignment (or their first valid
    one); None if the token is unknown, expired or revoked, or its user is deactivated. Reads only: the
    request is authenticated by `accounts.services.api_token_authenticate`, which notes the use.

    The token and the user's assignments of today are read from the cache in one round trip."""
    today = timezone.localdate(now)
    digest = sm3_hex(raw_token)
    token_key, assignments_key = f"api-token:{digest}", f"api-token-assignments:{digest}:{today.isoformat()}"
    kept = recall({token_key: AUTH_TABLES, assignments_key: ASSIGNMENT_TABLES})
    # Kept in the cache without the user's decrypted mobile number and password hash, which no API request
    # needs (a view that reads one loads it then).
    unrevoked = (
        ApiToken.objects.select_related("user")
        .defer("user__mobile", "user__password")
        .filter(digest=digest, revoked_at__isnull=True)
    )
    token = kept.get(token_key, unrevoked.first, ttl=AUTH_TTL)
    if token is None or token.expires_at <= now or not token.user.is_active:
        return None
    user = token.user
    assignments = kept.get(assignments_key, lambda: _assignments_on(user, today), ttl=AUTH_TTL)
    return token, _actor(user, list(assignments), assignment_id)


LOGIN_ACTIONS = ("auth.login", "auth.login_failed", "auth.locked_out", "auth.logout")


def login_history(*, user: User, limit: int = 50) -> list[Any]:
    """The user's own recent sign-ins and failed attempts (time, address, device, outcome)."""
    from guanai.audit.models import AuditEvent

    return list(
        AuditEvent.objects.filter(action__in=LOGIN_ACTIONS)
        .filter(Q(actor_user_id=user.pk) | Q(actor_username=user.username))
        .order_by("-occurred_at", "-id")[:limit]
    )


# --- Staff access: roles in scope, requests, the periodic review ------------------------------------


def review_cutoff(today: datetime.date | None = None) -> datetime.datetime:
    """Assignments last reviewed before this moment (the start of the day GUANAI_ROLE_REVIEW_DAYS ago) are
    due: one reviewed exactly that many days ago is not yet, one reviewed a day earlier is."""
    today = today or timezone.localdate()
    day = today - datetime.timedelta(days=settings.GUANAI_ROLE_REVIEW_DAYS)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _review_due_q(today: datetime.date) -> Q:
    return not_ended_q(today) & (Q(reviewed_at__isnull=True) | Q(reviewed_at__lt=review_cutoff(today)))


def role_assignments(
    *,
    actor: Actor,
    search: str = "",
    role: str = "",
    region_code: str = "",
    due_only: bool = False,
    include_ended: bool = False,
) -> QuerySet[RoleAssignment]:
    """Assignments inside the actor's region (none without ACCOUNT_MANAGE), filtered by the holder's
    username or name, the role, a region (and its subregions), and whether they are due for review;
    each says whether it is (`is_review_due`)."""
    if not actor.has(access.Permission.ACCOUNT_MANAGE):
        return RoleAssignment.objects.none()
    today = timezone.localdate()
    assignments = RoleAssignment.objects.visible_to(actor)
    if not include_ended:
        assignments = assignments.not_ended(today)
    if search:
        assignments = assignments.filter(
            Q(user__username__icontains=search) | Q(user__display_name__icontains=search)
        )
    if role:
        assignments = assignments.filter(role=role)
    if region_code:
        assignments = assignments.filter(region_codes.within_q("region_id", region_code))
    if due_only:
        assignments = assignments.filter(_review_due_q(today))
    due = ExpressionWrapper(_review_due_q(today), output_field=BooleanField())
    return (
        assignments.annotate(is_review_due=due)
        .select_related("user", "region", "committee", "reviewed_by")
        .order_by("region_id", "role", "user__username", "id")
    )


def role_assignment_get(*, actor: Actor, assignment_id: int) -> RoleAssignment:
    if not actor.has(access.Permission.ACCOUNT_MANAGE):
        raise PermissionDeniedError()
    assignment = role_assignments(actor=actor, include_ended=True).filter(pk=assignment_id).first()
    if assignment is None:
        raise NotFoundError()
    return assignment


def role_review_due_count(*, actor: Actor) -> int:
    return role_assignments(actor=actor, due_only=True).count()


def role_grant_requests(
    *, actor: Actor, state: str = RoleGrantRequest.State.PENDING
) -> QuerySet[RoleGrantRequest]:
    """Requests for roles inside the actor's region in one state, oldest first (none without
    ACCOUNT_MANAGE)."""
    if not actor.has(access.Permission.ACCOUNT_MANAGE):
        return RoleGrantRequest.objects.none()
    return (
        RoleGrantRequest.objects.visible_to(actor)
        .filter(state=state)
        .select_related("user", "region", "committee", "requested_by", "decided_by")
        .order_by("requested_at", "id")
    )


def role_grant_request_get(*, actor: Actor, grant_request_id: int) -> RoleGrantRequest:
    if not actor.has(access.Permission.ACCOUNT_MANAGE):
        raise PermissionDeniedError()
    grant = (
        RoleGrantRequest.objects.visible_to(actor)
        .select_related("user", "region", "committee", "requested_by", "decided_by")
        .filter(pk=grant_request_id)
        .first()
    )
    if grant is None:
        raise NotFoundError()
    return grant
