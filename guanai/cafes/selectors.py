"""Reads of 网吧义务监督. Every read starts from `.visible_to(actor)`: staff see the cafés of their region
(a village liaison those of their township), an inspector the cafés their supervision teams cover; what an
actor may not see answers 404, like what does not exist."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from guanai.cafes.models import (
    CafeFinding,
    CafeInspection,
    CafeInspectionPhoto,
    InternetCafe,
    teams_covering_q,
)
from guanai.cafes.vocabulary import INSPECTION_DUE_DAYS, FindingState
from guanai.core import access, region_codes
from guanai.core.access import Actor, Permission, can_see_region
from guanai.core.errors import NotFoundError, PermissionDeniedError, ValidationFailed
from guanai.core.region_codes import RegionLevel
from guanai.regions.models import Region
from guanai.volunteers.models import Team, TeamMembership, Volunteer
from guanai.volunteers.vocabulary import Status as VolunteerStatus
from guanai.volunteers.vocabulary import TeamKind


def _require(actor: Actor, permission: Permission) -> None:
    if not actor.has(permission):
        raise PermissionDeniedError()


def _region_q(actor: Actor, region: str | None, field_name: str) -> Q:
    """Narrow a list to a region inside the actor's (any short form of its code); 404 outside it."""
    if not region:
        return Q()
    try:
        code = region_codes.normalise_code(region)
    except ValueError as error:
        raise ValidationFailed(fields={"region": [_("区划代码应为 2、4、6、9 或 12 位数字")]}) from error
    if actor.region_code is None or not can_see_region(actor, code):
        raise NotFoundError()
    return region_codes.within_q(field_name, code)


# --- Cafés ------------------------------------------------------------------------------------------


@dataclass
class CafeFilters:
    region: str | None = None  # a township (or a county) inside the actor's region
    is_open: bool | None = True  # None: open and closed
    q: str | None = None  # part of the name, the address or the licence number
    has_open_findings: bool = False
    inspection_due: bool = False  # not inspected within INSPECTION_DUE_DAYS


def _with_follow_up_columns(cafes: QuerySet[InternetCafe]) -> QuerySet[InternetCafe]:
    """Each café with the day of its last inspection and its number of open findings (two correlated
    subqueries, answered from the indexes cafe_inspection_cafe_day and cafe_finding_cafe_state)."""
    last = (
        CafeInspection.objects.filter(cafe=OuterRef("pk"))
        .order_by("-inspected_on")
        .values("inspected_on")[:1]
    )
    open_findings = (
        CafeFinding.objects.filter(cafe=OuterRef("pk"), state=FindingState.OPEN)
        .order_by()
        .values("cafe")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return cafes.annotate(
        last_inspected_on=Subquery(last),
        open_findings=Coalesce(Subquery(open_findings, output_field=IntegerField()), 0),
    )


def cafe_list(*, actor: Actor, filters: CafeFilters | None = None) -> QuerySet[InternetCafe]:
    """The cafés of the actor's region (of one township, with `filters.region`), each with its last
    inspection (`last_inspected_on`) and its open findings (`open_findings`)."""
    _require(actor, Permission.CAFE_VIEW)
    filters = filters or CafeFilters()
    cafes: QuerySet[InternetCafe] = InternetCafe.objects.visible_to(actor).filter(
        _region_q(actor, filters.region, "region_id")
    )
    if filters.is_open is not None:
        cafes = cafes.filter(is_open=filters.is_open)
    if filters.q and filters.q.strip():
        text = filters.q.strip()
        cafes = cafes.filter(
            Q(name__contains=text) | Q(address__contains=text) | Q(licence_number__contains=text)
        )
    cafes = _with_follow_up_columns(cafes)
    if filters.has_open_findings:
        cafes = cafes.filter(Q(open_findings__gt=0))
    if filters.inspection_due:
        since = timezone.localdate() - datetime.timedelta(days=INSPECTION_DUE_DAYS)
        cafes = cafes.filter(Q(last_inspected_on__isnull=True) | Q(last_inspected_on__lt=since))
    return cafes.select_related("region").order_by("region_id", "name", "id")


def cafe_get(*, actor: Actor, cafe_id: int) -> InternetCafe:
    _require(actor, Permission.CAFE_VIEW)
    cafe = _with_follow_up_columns(
        InternetCafe.objects.visible_to(actor).select_related("region").filter(pk=cafe_id)
    ).first()
    if cafe is None:
        raise NotFoundError()
    return cafe


def _inspection_rows(inspections: QuerySet[CafeInspection]) -> QuerySet[CafeInspection]:
    return inspections.select_related("team", "finding", "cafe__region").prefetch_related(  # type: ignore[type-var]  # the stubs cannot follow the typed manager
        Prefetch("inspectors", queryset=Volunteer.objects.order_by("pk")),
        Prefetch("photos", queryset=CafeInspectionPhoto.objects.order_by("pk")),
    )


def cafe_inspections(*, actor: Actor, cafe_id: int, limit: int = 50) -> list[CafeInspection]:
    """The latest inspections of a café, with their team, inspectors, photos and finding."""
    cafe = cafe_get(actor=actor, cafe_id=cafe_id)
    return list(
        _inspection_rows(CafeInspection.objects.visible_to(actor).filter(cafe=cafe)).order_by(
            "-inspected_on", "-id"
        )[:limit]
    )


def inspection_get(*, actor: Actor, inspection_id: int) -> CafeInspection:
    _require(actor, Permission.CAFE_VIEW)
    inspection = _inspection_rows(CafeInspection.objects.visible_to(actor).filter(pk=inspection_id)).first()
    if inspection is None:
        raise NotFoundError()
    return inspection


def photo_get(*, actor: Actor, inspection_id: int, photo_id: int) -> CafeInspectionPhoto:
    """A photo of an inspection the actor may see (staff of the café's region)."""
    _require(actor, Permission.CAFE_VIEW)
    photo = (
        CafeInspectionPhoto.objects.visible_to(actor).filter(pk=photo_id, inspection_id=inspection_id).first()
    )
    if photo is None:
        raise NotFoundError()
    return photo


# --- Findings ---------------------------------------------------------------------------------------


@dataclass
class FindingFilters:
    state: str | None = FindingState.OPEN  # None: every state
    overdue: bool = False  # open and past the deadline
    region: str | None = None  # a county or township inside the actor's region


def finding_list(*, actor: Actor, filters: FindingFilters | None = None) -> QuerySet[CafeFinding]:
    """Findings of the cafés of the actor's region, the nearest deadline first."""
    _require(actor, Permission.CAFE_VIEW)
    filters = filters or FindingFilters()
    findings = CafeFinding.objects.visible_to(actor).filter(
        _region_q(actor, filters.region, "cafe__region_id")
    )
    if filters.state:
        findings = findings.filter(state=filters.state)
    if filters.overdue:
        findings = findings.filter(state=FindingState.OPEN, deadline__lt=timezone.localdate())
    return findings.select_related("cafe__region", "county", "inspection").order_by("state", "deadline", "id")


def finding_get(*, actor: Actor, finding_id: int) -> CafeFinding:
    _require(actor, Permission.CAFE_VIEW)
    finding = (
        CafeFinding.objects.visible_to(actor)
        .select_related("cafe__region", "county", "inspection__team", "followed_up_by", "closed_by")
        .prefetch_related(  # type: ignore[type-var]  # the stubs cannot follow the typed manager
            Prefetch("inspection__inspectors", queryset=Volunteer.objects.order_by("pk")),
            Prefetch("inspection__photos", queryset=CafeInspectionPhoto.objects.order_by("pk")),
        )
        .filter(pk=finding_id)
        .first()
    )
    if finding is None:
        raise NotFoundError()
    return finding


@dataclass(frozen=True)
class CountyFindings:
    county_code: str
    county_name: str
    open: int
    overdue: int


def findings_by_county(*, actor: Actor) -> list[CountyFindings]:
    """Open and overdue findings per county of the actor's region (counties without any left out)."""
    _require(actor, Permission.CAFE_VIEW)
    today = timezone.localdate()
    rows = (
        CafeFinding.objects.visible_to(actor)
        .filter(state=FindingState.OPEN)
        .values("county_id", "county__name")
        .annotate(open=Count("pk"), overdue=Count("pk", filter=Q(deadline__lt=today)))
        .order_by("county_id")
    )
    return [
        CountyFindings(row["county_id"], row["county__name"], row["open"], row["overdue"]) for row in rows
    ]


# --- Counts for the dashboards ----------------------------------------------------------------------


@dataclass(frozen=True)
class CafeCounts:
    cafes_open: int
    cafes_inspected_recently: int  # open cafés inspected within INSPECTION_DUE_DAYS
    cafes_inspection_due: int  # open cafés not inspected within INSPECTION_DUE_DAYS
    inspections_this_year: int
    minors_found_this_year: int
    findings_open: int
    findings_overdue: int
    findings_closed_this_year: int


def cafe_counts(region_code: str, *, today: datetime.date | None = None) -> CafeCounts:
    """Counts of the cafés inside a region (any level; a village counts its township's cafés), for the
    dashboards. The caller has checked that the reader may see the region."""
    today = today or timezone.localdate()
    scope = access.cafe_coverage_code(region_codes.normalise_code(region_code))
    cafes = InternetCafe.objects.filter(region_codes.within_q("region_id", scope))
    since = today - datetime.timedelta(days=INSPECTION_DUE_DAYS)
    year_start = today.replace(month=1, day=1)
    cafe_numbers = cafes.filter(is_open=True).aggregate(
        open=Count("pk"),
        inspected=Count(
            "pk",
            filter=Q(pk__in=CafeInspection.objects.filter(inspected_on__gte=since).values("cafe_id")),
        ),
    )
    inspections = CafeInspection.objects.filter(region_codes.within_q("cafe__region_id", scope)).filter(
        inspected_on__gte=year_start, inspected_on__lte=today
    )
    inspection_numbers = inspections.aggregate(n=Count("pk"), minors=Coalesce(Sum("minors_found"), 0))
    findings = CafeFinding.objects.filter(region_codes.within_q("cafe__region_id", scope)).aggregate(
        open=Count("pk", filter=Q(state=FindingState.OPEN)),
        overdue=Count("pk", filter=Q(state=FindingState.OPEN, deadline__lt=today)),
        closed=Count(
            "pk",
            filter=Q(
                state=FindingState.CLOSED,
                closed_at__date__gte=year_start,
            ),
        ),
    )
    return CafeCounts(
        cafes_open=cafe_numbers["open"],
        cafes_inspected_recently=cafe_numbers["inspected"],
        cafes_inspection_due=cafe_numbers["open"] - cafe_numbers["inspected"],
        inspections_this_year=inspection_numbers["n"],
        minors_found_this_year=inspection_numbers["minors"],
        findings_open=findings["open"],
        findings_overdue=findings["overdue"],
        findings_closed_this_year=findings["closed"],
    )


# --- For inspectors ---------------------------------------------------------------------------------


def inspector_cafes(*, actor: Actor) -> list[InternetCafe]:
    """The open cafés the signed-in inspector's supervision teams cover, the least recently inspected
    first (never inspected at the top)."""
    _require(actor, Permission.CAFE_INSPECT)
    cafes = _with_follow_up_columns(
        InternetCafe.objects.visible_to(actor).filter(is_open=True).select_related("region")
    )
    return sorted(
        cafes,
        key=lambda cafe: (
            getattr(cafe, "last_inspected_on", None) or datetime.date.min,
            cafe.region_id,
            cafe.name,
        ),
    )


def inspector_cafe_get(*, actor: Actor, cafe_id: int) -> InternetCafe:
    _require(actor, Permission.CAFE_INSPECT)
    cafe = _with_follow_up_columns(
        InternetCafe.objects.visible_to(actor).select_related("region").filter(pk=cafe_id)
    ).first()
    if cafe is None:
        raise NotFoundError()
    return cafe


def inspector_recent_inspections(*, actor: Actor, limit: int = 10) -> list[CafeInspection]:
    """The signed-in inspector's own latest inspections."""
    _require(actor, Permission.CAFE_INSPECT)
    return list(
        CafeInspection.objects.visible_to(actor)
        .select_related("cafe", "finding")
        .order_by("-inspected_on", "-id")[:limit]
    )


def inspection_teams(*, actor: Actor, cafe: InternetCafe) -> list[Team]:
    """The supervision teams an inspection of `cafe` may be recorded for: for an inspector, their own
    teams covering the café; for staff who manage cafés, every active team covering it."""
    teams: QuerySet[Team]
    if actor.has(Permission.CAFE_MANAGE):
        teams = Team.objects.filter(kind=TeamKind.CAFE_SUPERVISORS, is_active=True)
    else:
        teams = access.cafe_supervision_teams(actor)
    return list(teams.filter(teams_covering_q(cafe.region_id)).order_by("region_id", "name", "id"))


def team_inspectors(*, team_ids: list[int]) -> dict[int, list[Volunteer]]:
    """The current, 在岗 members of each team, to choose the inspectors from."""
    rows = (
        TeamMembership.objects.filter(
            team_id__in=team_ids, left_on__isnull=True, volunteer__status=VolunteerStatus.ACTIVE
        )
        .select_related("volunteer")
        .order_by("team_id", "volunteer__name_pinyin", "volunteer_id")
    )
    members: dict[int, list[Volunteer]] = {team_id: [] for team_id in team_ids}
    for row in rows:
        members[row.team_id].append(row.volunteer)
    return members


def township_choices(*, actor: Actor) -> list[tuple[str, str]]:
    """The townships a café may be registered in: those inside the actor's region."""
    if actor.region_code is None:
        return []
    return list(
        Region.objects.within(actor.region_code)
        .filter(level=RegionLevel.TOWNSHIP)
        .order_by("code")
        .values_list("code", "name")[:2000]
    )
