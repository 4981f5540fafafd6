"""Reads of the volunteers' records. Every staff read starts from `Volunteer.objects.visible_to(actor)`."""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, OrderBy, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import ExtractMonth, ExtractYear
from django.utils import timezone
from django.utils.translation import gettext as _

from guanai.core import region_codes
from guanai.core.access import Actor, Permission, can_see_region
from guanai.core.cached import counted_page_ids
from guanai.core.crypto import blind_index
from guanai.core.errors import NotFoundError, PermissionDeniedError, ValidationFailed
from guanai.core.rows import rows_in_order
from guanai.minors.validation import FULL_WIDTH
from guanai.minors.vocabulary import with_all_bits
from guanai.regions.selectors import with_region_name
from guanai.volunteers.models import (
    Honour,
    ServiceHours,
    Team,
    TeamActivity,
    TeamMembership,
    Training,
    Volunteer,
)
from guanai.volunteers.vocabulary import (
    CHECK_REMINDER_DAYS,
    CHECK_VALIDITY_DAYS,
    HoursState,
    Status,
    star_thresholds,
)

SORTS: dict[str, tuple[str | OrderBy, ...]] = {
    "name": ("name_pinyin", "id"),
    "-name": ("-name_pinyin", "-id"),
    "hours": ("-hours_total", "id"),
    # Most urgent first: no check at all, then the oldest. Said explicitly because SQLite puts NULL first
    # and PostgreSQL last.
    "check": (F("check_date").asc(nulls_first=True), "id"),
    "updated": ("-updated_at", "-id"),
}


@dataclass
class VolunteerFilters:
    region: str | None = None  # a region inside the actor's, in any short form
    categories: int = 0  # every bit must be set
    specialties: int = 0
    availability: int = 0  # every selected slot must be free
    has_capacity: bool = False  # can take at least one more child
    check_due: bool = False  # no clear check, or one that expires within CHECK_REMINDER_DAYS
    star: int | None = None  # exactly this star level (0 to 5)
    gender: str | None = None
    status: str | None = Status.ACTIVE
    team: int | None = None
    q: str | None = None  # name, pinyin, initials, ID number, phone
    sort: str = "name"


def check_due_q(today: datetime.date) -> Q:
    """Volunteers whose background check is missing, not clear, or expires within the reminder window."""
    last_valid_day = today - datetime.timedelta(days=CHECK_VALIDITY_DAYS - CHECK_REMINDER_DAYS)
    return Q(check_date__isnull=True) | ~Q(check_result="clear") | Q(check_date__lte=last_valid_day)


def star_q(star: int) -> Q:
    """Confirmed hours between the threshold of `star` and the next one."""
    limits = star_thresholds()
    if not 0 <= star <= len(limits):
        raise ValidationFailed(fields={"star": [_("星级应为 0 到 5")]})
    bounds = Q()
    if star > 0:
        bounds &= Q(hours_total__gte=limits[star - 1])
    if star < len(limits):
        bounds &= Q(hours_total__lt=limits[star])
    return bounds


def _search(q: str) -> Q:
    """An ID number (exact, by the blind index), a phone number (by its blind index), pinyin or initials
    (wangjianguo, wjg), or part of a name."""
    typed = q.translate(FULL_WIDTH).strip().lstrip("'").replace(" ", "")
    if re.fullmatch(r"[0-9]{17}[0-9Xx]", typed):
        return Q(id_number_index=blind_index(Volunteer, "id_number", typed.upper()))
    # Written as people write phone numbers: 0571-65012345, (0571)65012345, +86 139… (stored without +86).
    digits = re.sub(r"[-()]", "", typed).removeprefix("+86")
    if digits.isdigit() and len(digits) >= 7:
        return Q(phone_index=blind_index(Volunteer, "phone", digits))
    if typed.isascii() and typed.isalpha():
        lowered = typed.lower()
        return Q(name_initials__startswith=lowered) | Q(name_pinyin__startswith=lowered)
    return Q(name__contains=q.strip())


def _region_filter(actor: Actor, region: str) -> Q:
    try:
        code = region_codes.normalise_code(region)
    except ValueError as error:
        raise ValidationFailed(fields={"region": [_("区划代码应为 2、4、6、9 或 12 位数字")]}) from error
    if not can_see_region(actor, code):
        raise NotFoundError()
    return region_codes.within_q("region_id", code)


def volunteer_list(*, actor: Actor, filters: VolunteerFilters | None = None) -> QuerySet[Volunteer]:
    if not actor.has(Permission.VOLUNTEER_VIEW):
        raise PermissionDeniedError()
    filters = filters or VolunteerFilters()
    volunteers: QuerySet[Volunteer] = Volunteer.objects.visible_to(actor)
    if filters.region:
        volunteers = volunteers.filter(_region_filter(actor, filters.region))
    volunteers = with_all_bits(volunteers, "categories", filters.categories)
    volunteers = with_all_bits(volunteers, "specialties", filters.specialties)
    volunteers = with_all_bits(volunteers, "availability", filters.availability)
    if filters.has_capacity:
        volunteers = volunteers.filter(max_children__gt=F("paired_count"))
    if filters.check_due:
        volunteers = volunteers.filter(check_due_q(timezone.localdate()))
    if filters.star is not None:
        volunteers = volunteers.filter(star_q(filters.star))
    if filters.gender:
        volunteers = volunteers.filter(gender=filters.gender)
    if filters.status:
        volunteers = volunteers.filter(status=filters.status)
    if filters.team is not None:
        members = TeamMembership.objects.filter(team_id=filters.team, left_on__isnull=True)
        volunteers = volunteers.filter(pk__in=members.values("volunteer_id"))
    if filters.q and filters.q.strip():
        volunteers = volunteers.filter(_search(filters.q))
    order = SORTS.get(filters.sort, SORTS["name"])
    return volunteers.select_related("region").order_by(*order)


def volunteer_get(*, actor: Actor, volunteer_id: int) -> Volunteer:
    if not actor.has(Permission.VOLUNTEER_VIEW):
        raise PermissionDeniedError()
    volunteer = (
        with_region_name(Volunteer.objects.visible_to(actor).select_related("region", "user"), joined=True)
        .prefetch_related(  # type: ignore[type-var]  # the stubs cannot follow the typed manager
            Prefetch("trainings", queryset=Training.objects.order_by("-attended_on", "-id")),
            Prefetch("honours", queryset=Honour.objects.order_by("-awarded_on", "-id")),
            Prefetch(
                "memberships",
                queryset=TeamMembership.objects.filter(left_on__isnull=True).select_related("team"),
            ),
        )
        .filter(pk=volunteer_id)
        .first()
    )
    if volunteer is None:
        raise NotFoundError()
    return volunteer


# --- Reading a page: ids first (the covering index `volunteer_list_covering`) ---------------------


# What the lists show of a volunteer (the API's rows, the page's table): nothing else is read or decrypted.
LIST_FIELDS = (
    *("name", "gender", "birth_date", "id_number", "phone", "region", "categories", "specialties"),
    *("availability", "max_children", "paired_count", "status", "check_date", "check_result"),
    *("hours_total", "version"),
)


def volunteer_rows(ids: Sequence[int]) -> list[Volunteer]:
    """The rows of a page of ids, in the page's order, with only what a list shows (and `region_name`)."""
    return rows_in_order(with_region_name(Volunteer.objects.only(*LIST_FIELDS)), ids)


def volunteer_page(
    volunteers: QuerySet[Volunteer], *, offset: int, limit: int
) -> tuple[list[Volunteer], int]:
    """A page of the list (`volunteer_rows`) and the number of its rows in all (`counted_page_ids`)."""
    ids, total = counted_page_ids(volunteers, offset=offset, limit=limit)
    return volunteer_rows(ids), total


# --- Hours ---------------------------------------------------------------------------------------


def hours_of(*, volunteer: Volunteer) -> QuerySet[ServiceHours]:
    """Every record of one volunteer, newest first (the caller has already been allowed the volunteer)."""
    return (
        ServiceHours.objects.filter(volunteer=volunteer)
        .select_related("recorded_by", "confirmed_by")
        .prefetch_related("corrections")
        .order_by("-served_on", "-id")
    )


@dataclass(frozen=True)
class HoursTotals:
    total: Decimal
    by_year: list[tuple[int, Decimal]]  # newest year first
    by_month: list[tuple[int, int, Decimal]]  # (year, month, hours), newest first
    pending: Decimal


def hours_totals(*, volunteer: Volunteer) -> HoursTotals:
    """Confirmed hours in all, by year and by month, and what waits for confirmation."""
    confirmed = ServiceHours.objects.filter(volunteer=volunteer, state=HoursState.CONFIRMED)
    months = (
        confirmed.annotate(year=ExtractYear("served_on"), month=ExtractMonth("served_on"))
        .values("year", "month")
        .annotate(hours=Sum("hours"))
        .order_by("-year", "-month")
    )
    by_month = [(row["year"], row["month"], row["hours"]) for row in months]
    years: dict[int, Decimal] = {}
    for year, _month, hours in by_month:
        years[year] = years.get(year, Decimal("0")) + hours
    pending = ServiceHours.objects.filter(volunteer=volunteer, state=HoursState.PENDING).aggregate(
        hours=Sum("hours")
    )["hours"]
    return HoursTotals(
        total=sum((hours for hours in years.values()), Decimal("0")),
        by_year=sorted(years.items(), reverse=True),
        by_month=by_month,
        pending=pending or Decimal("0"),
    )


def hours_to_confirm(*, actor: Actor) -> QuerySet[ServiceHours]:
    """Claims waiting for the organiser, for volunteers the actor keeps."""
    if not actor.has(Permission.VOLUNTEER_MANAGE):
        raise PermissionDeniedError()
    return (
        ServiceHours.objects.visible_to(actor)
        .filter(state=HoursState.PENDING)
        .select_related("volunteer__region")
        .order_by("served_on", "id")
    )


# --- Teams ---------------------------------------------------------------------------------------


def team_list(*, actor: Actor, kind: str | None = None, region: str | None = None) -> QuerySet[Team]:
    if not actor.has(Permission.VOLUNTEER_VIEW):
        raise PermissionDeniedError()
    teams = Team.objects.visible_to(actor)
    if region:
        teams = teams.filter(_region_filter(actor, region))
    if kind:
        teams = teams.filter(kind=kind)
    return (
        teams.select_related("committee", "region")
        .annotate(member_count=Count("memberships", filter=Q(memberships__left_on__isnull=True)))
        .order_by("region_id", "kind", "name", "id")
    )


def team_get(*, actor: Actor, team_id: int) -> Team:
    if not actor.has(Permission.VOLUNTEER_VIEW):
        raise PermissionDeniedError()
    team = (
        Team.objects.visible_to(actor)
        .select_related("committee", "region")
        .prefetch_related(  # type: ignore[type-var]
            Prefetch(
                "memberships",
                queryset=TeamMembership.objects.filter(left_on__isnull=True)
                .select_related("volunteer__region")
                .order_by("role", "volunteer__name_pinyin"),
            ),
            # A sliced prefetch needs `to_attr` (Django cannot put a slice back on `team.activities`).
            Prefetch(
                "activities",
                queryset=TeamActivity.objects.order_by("-held_on", "-id")[:50],
                to_attr="recent_activities",
            ),
        )
        .filter(pk=team_id)
        .first()
    )
    if team is None:
        raise NotFoundError()
    return team


# --- Background checks due -----------------------------------------------------------------------


def checks_due(*, today: datetime.date | None = None) -> QuerySet[Volunteer]:
    """Active volunteers whose check is missing or expires within the reminder window (all regions; the
    reminder task groups them by township)."""
    day = today or timezone.localdate()
    return Volunteer.objects.filter(status=Status.ACTIVE).filter(check_due_q(day)).order_by("region_id", "id")


# --- The list of the most active volunteers ------------------------------------------------------


@dataclass(frozen=True)
class HonourRollEntry:
    volunteer_id: int
    name: str
    region_name: str
    hours: Decimal


def honour_roll(*, region_code: str, year: int | None = None, limit: int = 20) -> list[HonourRollEntry]:
    """The most active volunteers of a region by confirmed hours (of `year`, or in all), only those who
    agreed to appear (个人信息保护法: their choice, shows_on_honour_roll)."""
    volunteers = Volunteer.objects.filter(
        region_codes.within_q("region_id", region_code),
        shows_on_honour_roll=True,
        status__in=[Status.ACTIVE, Status.SUSPENDED],
    )
    if year is None:
        rows = volunteers.filter(hours_total__gt=0).order_by("-hours_total", "id")[:limit]
        return [
            HonourRollEntry(volunteer.pk, volunteer.name, volunteer.region.name, volunteer.hours_total)
            for volunteer in rows.select_related("region")
        ]
    ranked = (
        ServiceHours.objects.filter(
            volunteer__in=volunteers, state=HoursState.CONFIRMED, served_on__year=year
        )
        .values("volunteer_id", "volunteer__name", "volunteer__region__name")
        .annotate(hours=Sum("hours"))
        .order_by("-hours", "volunteer_id")[:limit]
    )
    return [
        HonourRollEntry(
            row["volunteer_id"], row["volunteer__name"], row["volunteer__region__name"], row["hours"]
        )
        for row in ranked
    ]
