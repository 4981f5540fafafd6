"""Reads of mentoring cases. Every read of a case starts from `MentoringCase.objects.visible_to(actor)`:
its officer, its current mentors and holders of an unexpired access grant — nobody else, whatever their
role. A case that is not visible answers 404, exactly like one that does not exist.

There is no search and no export of cases. The only number that leaves this module without a visible case
behind it is `cases_count`, which refuses to count below county level.
"""

from __future__ import annotations

import datetime
import enum
import re
import unicodedata

from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from guanai import audit
from guanai.accounts.models import RoleAssignment, User
from guanai.core import region_codes
from guanai.core.access import Actor
from guanai.core.errors import NotFoundError
from guanai.core.region_codes import RegionLevel
from guanai.mentoring.models import AccessGrant, CaseGoal, CaseMentor, CaseReview, MentoringCase
from guanai.mentoring.vocabulary import OFFICER_ROLES, CaseState
from guanai.volunteers.models import Volunteer
from guanai.volunteers.vocabulary import CHECK_VALIDITY_DAYS, CheckResult, Status, TeamKind

VIEW_ACTION = "mentoring.view"


class AccessBasis(enum.StrEnum):
    """Why an actor sees a case, recorded with every read."""

    OFFICER = "officer"
    MENTOR = "mentor"
    BREAK_GLASS = "break_glass"


def case_list(*, actor: Actor, state: str | None = None) -> QuerySet[MentoringCase]:
    """The cases the actor may see (their own as officer or mentor, and those under an access grant)."""
    cases = MentoringCase.objects.visible_to(actor)
    if state:
        cases = cases.filter(state=state)
    return cases.select_related("minor", "region", "officer").order_by("state", "-opened_at", "-id")


def case_get(*, actor: Actor, case_id: int) -> MentoringCase:
    """One visible case with its plan, reviews and mentors; NotFoundError otherwise."""
    case = (
        MentoringCase.objects.visible_to(actor)
        .select_related("minor__region", "region", "officer", "opened_by", "closed_by")
        .prefetch_related(
            Prefetch("goals", queryset=CaseGoal.objects.order_by("id")),
            Prefetch("reviews", queryset=CaseReview.objects.select_related("recorded_by").order_by("-month")),
            Prefetch(
                "mentors",
                queryset=CaseMentor.objects.select_related("volunteer").order_by("started_on", "id"),
            ),
        )
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise NotFoundError()
    return case


def access_basis(*, actor: Actor, case: MentoringCase) -> AccessBasis:
    """Under which of the three rules the actor sees a case they were given by `case_get`."""
    if actor.user is None:
        return AccessBasis.BREAK_GLASS
    user_id = actor.user.pk
    if case.officer_id == user_id:
        return AccessBasis.OFFICER
    if CaseMentor.objects.filter(case=case, volunteer__user_id=user_id, ended_on__isnull=True).exists():
        return AccessBasis.MENTOR
    return AccessBasis.BREAK_GLASS


def case_view(
    *, actor: Actor, case_id: int, part: str = "case", request: HttpRequest | None = None
) -> MentoringCase:
    """A case read by a person: `case_get`, and one audit event saying who read which part, and under
    which rule (officer, mentor, break-the-glass with the grant)."""
    case = case_get(actor=actor, case_id=case_id)
    basis = access_basis(actor=actor, case=case)
    detail: dict[str, object] = {"part": part, "basis": basis.value}
    if basis == AccessBasis.BREAK_GLASS:
        grant = active_grant(actor=actor, case=case)
        detail["grant"] = grant.pk if grant is not None else None
    audit.record(actor=actor, action=VIEW_ACTION, target=case, detail=detail, request=request)
    return case


def active_grant(*, actor: Actor, case: MentoringCase) -> AccessGrant | None:
    """The actor's unexpired, unrevoked grant to the case, if they hold one."""
    if actor.user is None:
        return None
    return (
        AccessGrant.objects.filter(
            user=actor.user, case=case, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )
        .order_by("-expires_at")
        .first()
    )


def case_grants(*, case: MentoringCase) -> QuerySet[AccessGrant]:
    """Every access grant of a case (for its officer: who looked, why and until when)."""
    return AccessGrant.objects.filter(case=case).select_related("user", "revoked_by").order_by("-granted_at")


def grants_of(*, actor: Actor) -> QuerySet[AccessGrant]:
    """The actor's own grants that are still running."""
    if actor.user is None:
        return AccessGrant.objects.none()
    return (
        AccessGrant.objects.filter(user=actor.user, revoked_at__isnull=True, expires_at__gt=timezone.now())
        .select_related("case")
        .order_by("expires_at")
    )


# --- Counting, for the dashboards ------------------------------------------------------------------


def cases_count(*, region_code: str, state: str | None = CaseState.OPEN) -> int | None:
    """The number of cases (open ones by default) in a county or a larger region; None below county
    level, where a number could point at one youth in a township or a village. Raises ValueError for a
    code that is not a region code."""
    code = region_codes.normalise_code(region_code)
    if region_codes.level_of(code) > RegionLevel.COUNTY:
        return None
    cases = MentoringCase.objects.filter(region_codes.within_q("region_id", code))
    if state:
        cases = cases.filter(state=state)
    return cases.count()


# --- Finding a case or a youth without seeing them ---------------------------------------------------

_REFERENCE_SEPARATORS = re.compile(r"[\s\-_－—–]+")


def normalise_reference(typed: str) -> str:
    """ "bj 2026 7kq4m9xt", "BJ－2026－7KQ4M9XT" → "BJ-2026-7KQ4M9XT"; anything else as typed (upper-cased),
    which then matches nothing."""
    text = unicodedata.normalize("NFKC", typed).strip().upper()
    parts = [part for part in _REFERENCE_SEPARATORS.split(text) if part]
    if len(parts) == 3:
        return "-".join(parts)
    if len(parts) == 1 and len(parts[0]) == 14 and parts[0][2:6].isdigit():
        return f"{parts[0][:2]}-{parts[0][2:6]}-{parts[0][6:]}"
    return text


def case_by_reference_in_region(*, actor: Actor, reference: str) -> MentoringCase | None:
    """The case a reference names, if it lies in the actor's region — for the people who act on a case
    without seeing it (break-the-glass, changing the officer). Never shown to the actor as such."""
    if actor.region_code is None:
        return None
    return (
        MentoringCase.objects.filter(reference=normalise_reference(reference))
        .filter(region_codes.within_q("region_id", actor.region_code))
        .first()
    )


# --- Choosing people ---------------------------------------------------------------------------------


def officer_choices(*, actor: Actor, county_code: str | None = None) -> QuerySet[User]:
    """Staff who may be a case's officer: active users holding, today, a county or township role inside
    the actor's region (and inside `county_code` when given)."""
    if actor.region_code is None:
        return User.objects.none()
    assignments = RoleAssignment.objects.valid_on(timezone.localdate()).filter(
        role__in=OFFICER_ROLES, user__is_active=True
    )
    assignments = assignments.filter(region_codes.within_q("region_id", actor.region_code))
    if county_code:
        assignments = assignments.filter(region_codes.within_q("region_id", county_code))
    return User.objects.filter(pk__in=assignments.values("user_id")).order_by("username")


def is_officer_of_county(*, user_id: int, county_code: str) -> bool:
    return (
        RoleAssignment.objects.valid_on(timezone.localdate())
        .filter(user_id=user_id, user__is_active=True, role__in=OFFICER_ROLES)
        .filter(region_codes.within_q("region_id", county_code))
        .exists()
    )


def mentoring_team_q(county_code: str, prefix: str = "") -> Q:
    """Current members of an active mentoring team (帮教团) of the county, of a township in it, or of
    the city or province above it."""
    team = f"{prefix}memberships__team__"
    return Q(
        **{
            f"{prefix}memberships__left_on__isnull": True,
            f"{team}kind": TeamKind.MENTORING,
            f"{team}is_active": True,
        }
    ) & (
        region_codes.within_q(f"{team}region_id", county_code)
        | Q(**{f"{team}region_id__in": region_codes.ancestor_codes(county_code)})
    )


def mentor_candidates(*, county_code: str, today: datetime.date | None = None) -> QuerySet[Volunteer]:
    """Volunteers who may be assigned to a case of the county now: members of a mentoring team, 在岗,
    with a clear background check of the last twelve months and a user account to see the case with."""
    day = today or timezone.localdate()
    ids = Volunteer.objects.filter(mentoring_team_q(county_code)).values("pk")
    return (
        Volunteer.objects.filter(
            pk__in=ids,
            user__isnull=False,
            status=Status.ACTIVE,
            check_result=CheckResult.CLEAR,
            check_date__lte=day,
            check_date__gte=day - datetime.timedelta(days=CHECK_VALIDITY_DAYS),
        )
        .select_related("region")
        .order_by("name_pinyin", "id")
    )
