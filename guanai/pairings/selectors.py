"""Reads of the pairings (结对关爱), and the loading of a region's children and volunteers into the
matching engine's nodes (`guanai.pairings.matching`).

Every read an actor makes starts from `.visible_to(actor)`: a pairing is visible when its child is (never
a sealed record). The node loaders take a region code and no actor: the services check the actor's
permission and region first, and the `propose_pairings` command runs as the system.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from guanai.core import access, region_codes
from guanai.core.access import Actor, Permission, can_see_region
from guanai.core.errors import NotFoundError, PermissionDeniedError, ValidationFailed
from guanai.core.region_codes import RegionLevel
from guanai.minors.models import Consent, Minor
from guanai.minors.validation import age_on
from guanai.minors.vocabulary import Category, ConsentScope, Status
from guanai.pairings.matching import ChildNode, UnassignedReason, VolunteerNode
from guanai.pairings.models import ConflictDeclaration, Pairing, ProposalRun, ProposedPair
from guanai.pairings.vocabulary import CloseReason, PairingState
from guanai.volunteers.models import TeamMembership, Volunteer
from guanai.volunteers.vocabulary import Status as VolunteerStatus
from guanai.volunteers.vocabulary import TeamKind

# Regions a proposal is made for: a city (pairs may then cross counties), a county or a township.
PROPOSAL_LEVELS = (RegionLevel.CITY, RegionLevel.COUNTY, RegionLevel.TOWNSHIP)

# A pairing closed for these reasons gives no continuity bonus: the volunteer could not go on, or it
# ended over a safety concern.
NO_CONTINUITY_REASONS = frozenset({CloseReason.VOLUNTEER_UNABLE, CloseReason.SAFETY})
# A pairing closed over a safety concern is never proposed again: the pair counts as a declared conflict
# (安全顾虑 may concern the volunteer; a person decides, and declares nothing less safe than before).
EXCLUDING_REASONS = frozenset({CloseReason.SAFETY})


# --- Loading the engine's nodes --------------------------------------------------------------------


@dataclass(frozen=True)
class RegionNodes:
    """A region's children and volunteers as the matcher sees them."""

    region_code: str
    children: list[ChildNode]
    volunteers: list[VolunteerNode]
    allow_cross_county: bool  # a city-wide proposal


@dataclass
class _ChildFacts:
    """What the nodes need beyond the child's row, gathered per child id."""

    consented: set[int] = field(default_factory=set)
    former: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    excluded: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))


def _child_facts(minor_scope: Q) -> _ChildFacts:
    """Active consents covering pairing, former volunteers and declared (or safety) conflicts of the
    children that `minor_scope` (a Q on "minor__…") selects."""
    facts = _ChildFacts()
    consents = Consent.objects.filter(minor_scope, withdrawn_on__isnull=True).values_list("minor_id", "scope")
    for minor_id, scope in consents.iterator(chunk_size=5000):
        # JSON containment is not portable (SQLite): the scopes are read and tested here.
        if isinstance(scope, list) and ConsentScope.PAIRING.value in scope:
            facts.consented.add(minor_id)
    closed = Pairing.objects.filter(minor_scope, state=PairingState.CLOSED).values_list(
        "minor_id", "volunteer_id", "close_reason"
    )
    for minor_id, volunteer_id, reason in closed.iterator(chunk_size=5000):
        if reason in EXCLUDING_REASONS:
            facts.excluded[minor_id].add(volunteer_id)
        elif reason not in NO_CONTINUITY_REASONS:
            facts.former[minor_id].add(volunteer_id)
    conflicts = ConflictDeclaration.objects.filter(minor_scope).values_list("minor_id", "volunteer_id")
    for minor_id, volunteer_id in conflicts.iterator(chunk_size=5000):
        facts.excluded[minor_id].add(volunteer_id)
    return facts


_CHILD_COLUMNS = ("pk", "region_id", "gender", "birth_date", "needs", "risk_level", "categories")


def _child_nodes(
    rows: Iterable[tuple[Any, ...]], facts: _ChildFacts, today: datetime.date
) -> list[ChildNode]:
    nodes = []
    for pk, region_id, gender, birth_date, needs, risk_level, categories in rows:
        minor_id = int(pk)
        nodes.append(
            ChildNode(
                id=minor_id,
                region_code=str(region_id),
                gender=str(gender),
                age=age_on(birth_date, today),
                has_pairing_consent=minor_id in facts.consented,
                needs=int(needs),
                risk=str(risk_level),
                is_special=bool(int(categories) & Category.SPECIAL),
                former_volunteer_ids=frozenset(facts.former.get(minor_id, ())),
                conflict_volunteer_ids=frozenset(facts.excluded.get(minor_id, ())),
            )
        )
    return nodes


def open_pairing_minor_ids() -> QuerySet[Pairing, int]:
    """The children with a pairing that is not closed (拟结对 or 结对中), as a subquery."""
    return Pairing.objects.exclude(state=PairingState.CLOSED).values_list("minor_id", flat=True)


def unpaired_children(*, region_code: str, today: datetime.date) -> list[ChildNode]:
    """The children of a region who may be proposed: in the registry (在册), without an open pairing.

    Sealed records (特殊青少年) are left out: a staff proposal is made over the registry, which never
    lists them; their mentors are assigned in the mentoring module (guanai.mentoring), which may use the
    same engine with `ChildNode.is_special` and mentoring-team volunteers."""
    minors = (
        Minor.objects.filter(region_codes.within_q("region_id", region_code), status=Status.ACTIVE)
        .filter(is_sealed=False)
        .exclude(pk__in=open_pairing_minor_ids())
        .order_by("pk")
        .values_list(*_CHILD_COLUMNS)
    )
    rows = list(minors.iterator(chunk_size=5000))
    facts = _child_facts(
        region_codes.within_q("minor__region_id", region_code)
        & Q(minor__status=Status.ACTIVE, minor__is_sealed=False)
    )
    return _child_nodes(rows, facts, today)


def child_node(
    *, minor: Minor, today: datetime.date, excluded_volunteer_ids: Iterable[int] = ()
) -> ChildNode:
    """One child as the matcher sees it (for "推荐" and for explaining a manual pairing)."""
    facts = _child_facts(Q(minor_id=minor.pk))
    facts.excluded[minor.pk].update(excluded_volunteer_ids)
    row = (
        minor.pk,
        minor.region_id,
        minor.gender,
        minor.birth_date,
        minor.needs,
        minor.risk_level,
        minor.categories,
    )
    return _child_nodes([row], facts, today)[0]


def mentoring_member_ids(volunteers: Q) -> set[int]:
    """Volunteers (of those `volunteers`, a Q on "volunteer__…") in a running mentoring team (帮教团)
    they have not left."""
    return set(
        TeamMembership.objects.filter(
            volunteers, team__kind=TeamKind.MENTORING, team__is_active=True, left_on__isnull=True
        ).values_list("volunteer_id", flat=True)
    )


_VOLUNTEER_COLUMNS = (
    "pk", "region_id", "gender", "status", "check_date", "check_result", "max_children", "paired_count",
    "specialties", "latitude", "longitude",
)  # fmt: skip


def volunteer_nodes(*, scope: Q, today: datetime.date) -> list[VolunteerNode]:
    """The volunteers `scope` (a Q on Volunteer) selects, as the matcher sees them: 在岗, a valid
    background check today (`Volunteer.check_valid_on`), the places left and the current load. The
    load and the places count open pairings, 拟结对 included (see `guanai.pairings.services`)."""
    rows = list(
        Volunteer.objects.filter(scope)
        .order_by("pk")
        .values_list(*_VOLUNTEER_COLUMNS)
        .iterator(chunk_size=5000)
    )
    mentors = mentoring_member_ids(Q(volunteer__in=Volunteer.objects.filter(scope).values("pk")))
    valid: dict[tuple[object, object], bool] = {}
    nodes = []
    for (
        pk,
        region_id,
        gender,
        status,
        check_date,
        check_result,
        max_children,
        paired,
        specialties,
        lat,
        lon,
    ) in rows:
        key = (check_date, check_result)
        if key not in valid:
            # The one rule of validity is the model's; few distinct check dates, so few instances.
            valid[key] = Volunteer(check_date=check_date, check_result=check_result).check_valid_on(today)
        nodes.append(
            VolunteerNode(
                id=pk,
                region_code=region_id,
                gender=gender,
                capacity_left=max(max_children - paired, 0),
                is_active=status == VolunteerStatus.ACTIVE,
                check_valid=valid[key],
                specialties=specialties,
                load=paired,
                is_mentoring_team_member=pk in mentors,
                latitude=float(lat) if lat is not None else None,
                longitude=float(lon) if lon is not None else None,
            )
        )
    return nodes


def proposal_region(code: str) -> tuple[str, bool]:
    """A proposal's region: the 12-digit code of a city, county or township, and whether pairs may
    cross counties (a city). ValidationFailed otherwise."""
    try:
        full = region_codes.normalise_code(code)
    except ValueError as error:
        raise ValidationFailed(
            fields={"region": [_("区划代码应为 4、6 或 9 位数字（市、县或乡镇）")]}
        ) from error
    level = region_codes.level_of(full)
    if level not in PROPOSAL_LEVELS:
        raise ValidationFailed(fields={"region": [_("请选择市、县（市、区）或乡镇（街道）")]})
    return full, level == RegionLevel.CITY


def region_nodes(*, region_code: str, today: datetime.date) -> RegionNodes:
    """The unpaired children and the volunteers of a city, county or township (no actor: the caller has
    checked who asks)."""
    code, allow_cross_county = proposal_region(region_code)
    return RegionNodes(
        region_code=code,
        children=unpaired_children(region_code=code, today=today),
        volunteers=volunteer_nodes(scope=region_codes.within_q("region_id", code), today=today),
        allow_cross_county=allow_cross_county,
    )


def suggestion_scope(actor: Actor, minor: Minor) -> tuple[str, bool]:
    """Where volunteers for one child are looked for: the actor's region, narrowed to the child's city
    for an actor above it; pairs cross counties only for an actor of a city or the province."""
    if actor.region_code is None:
        return minor.region_id, False
    if region_codes.level_of(actor.region_code) <= RegionLevel.CITY:
        return minor.region_id[:4].ljust(region_codes.CODE_LENGTH, "0"), True
    return actor.region_code, False


VOLUNTEER_CHOICES_LIMIT = 1000


def volunteer_choices(*, actor: Actor, minor: Minor) -> list[tuple[int, str, str]]:
    """在岗 volunteers one may pair the child with by hand (id, name, village), nearest codes first; at
    most VOLUNTEER_CHOICES_LIMIT (the suggestions name the best of them)."""
    code, _allow_cross_county = suggestion_scope(actor, minor)
    rows = (
        Volunteer.objects.visible_to(actor)
        .filter(region_codes.within_q("region_id", code), status=VolunteerStatus.ACTIVE)
        .order_by("region_id", "name_pinyin", "id")
        .values_list("pk", "name", "region__name")[:VOLUNTEER_CHOICES_LIMIT]
    )
    return [(pk, name, village) for pk, name, village in rows]


# --- Pairings ------------------------------------------------------------------------------------


def _require(actor: Actor, permission: Permission) -> None:
    if not actor.has(permission):
        raise PermissionDeniedError()


@dataclass
class PairingFilters:
    region: str | None = None  # a region inside the actor's, in any short form
    state: str | None = None
    volunteer: int | None = None
    minor: int | None = None


def pairing_list(*, actor: Actor, filters: PairingFilters | None = None) -> QuerySet[Pairing]:
    _require(actor, Permission.PAIRING_VIEW)
    filters = filters or PairingFilters()
    pairings = Pairing.objects.visible_to(actor)
    if filters.region:
        try:
            code = region_codes.normalise_code(filters.region)
        except ValueError as error:
            raise ValidationFailed(fields={"region": [_("区划代码应为 2、4、6、9 或 12 位数字")]}) from error
        if not can_see_region(actor, code):
            raise NotFoundError()
        pairings = pairings.filter(region_codes.within_q("minor__region_id", code))
    if filters.state:
        if filters.state not in PairingState.values:
            raise ValidationFailed(fields={"state": [_("未知的结对状态")]})
        pairings = pairings.filter(state=filters.state)
    if filters.volunteer is not None:
        pairings = pairings.filter(volunteer_id=filters.volunteer)
    if filters.minor is not None:
        pairings = pairings.filter(minor_id=filters.minor)
    return pairings.select_related("minor__region", "volunteer__region").order_by("-created_at", "-id")


def pairing_get(*, actor: Actor, pairing_id: int) -> Pairing:
    _require(actor, Permission.PAIRING_VIEW)
    pairing = (
        Pairing.objects.visible_to(actor)
        .select_related("minor__region", "volunteer__region", "created_by")
        .filter(pk=pairing_id)
        .first()
    )
    if pairing is None:
        raise NotFoundError()
    return pairing


def pairings_by_ids(*, actor: Actor, ids: Iterable[int]) -> list[Pairing]:
    """Pairings the actor may see, in the order of `ids` (those just written, to show them)."""
    _require(actor, Permission.PAIRING_VIEW)
    wanted = list(ids)
    found = (
        Pairing.objects.visible_to(actor).select_related("minor__region", "volunteer__region").in_bulk(wanted)
    )
    return [found[pk] for pk in wanted if pk in found]


def minor_pairings(*, actor: Actor, minor_id: int) -> list[Pairing]:
    """A child's pairings, the newest first: the history kept across closings and rematches."""
    _require(actor, Permission.PAIRING_VIEW)
    return list(
        Pairing.objects.visible_to(actor)
        .filter(minor_id=minor_id)
        .select_related("volunteer__region")
        .order_by("-created_at", "-id")
    )


def visible_minor(*, actor: Actor, minor_id: int) -> Minor:
    """A child of the registry the actor may see (never a sealed record), or NotFoundError."""
    minor = Minor.objects.visible_to(actor).select_related("region").filter(pk=minor_id).first()
    if minor is None:
        raise NotFoundError()
    return minor


def has_pairing_consent(minor: Minor) -> bool:
    """An active consent on record whose scope covers pairing (结对关爱)."""
    return any(
        consent.covers(ConsentScope.PAIRING)
        for consent in Consent.objects.filter(minor=minor, withdrawn_on=None)
    )


def open_pairing_of(minor: Minor) -> Pairing | None:
    return (
        Pairing.objects.exclude(state=PairingState.CLOSED)
        .filter(minor=minor)
        .select_related("volunteer__region")
        .first()
    )


# --- Proposal runs ------------------------------------------------------------------------------


def proposal_run_get(*, actor: Actor, run_id: int) -> ProposalRun:
    _require(actor, Permission.PAIRING_VIEW)
    run = (
        ProposalRun.objects.visible_to(actor).select_related("region", "created_by").filter(pk=run_id).first()
    )
    if run is None:
        raise NotFoundError()
    return run


def proposal_runs_recent(*, actor: Actor, limit: int = 10) -> list[ProposalRun]:
    _require(actor, Permission.PAIRING_VIEW)
    return list(
        ProposalRun.objects.visible_to(actor).select_related("region").order_by("-created_at", "-id")[:limit]
    )


def proposal_run_pairs(*, actor: Actor, run: ProposalRun) -> list[ProposedPair]:
    """The run's proposals whose child the actor may still see (a record sealed since is left out),
    with the pairing an accepted one made."""
    return list(
        ProposedPair.objects.filter(run=run)
        .filter(access.minor_visibility_q(actor, prefix="minor__"))
        .select_related("minor__region", "volunteer__region", "pairing")
        .order_by("id")
    )


@dataclass(frozen=True)
class UnassignedChild:
    minor: Minor
    reason: str  # UnassignedReason value
    reason_label: str


def proposal_run_unassigned(*, actor: Actor, run: ProposalRun) -> list[UnassignedChild]:
    """The children the run left unassigned, with the reason, those the actor may still see."""
    reasons = {int(minor_id): reason for minor_id, reason in run.unassigned.items()}
    minors = (
        Minor.objects.visible_to(actor).select_related("region").filter(pk__in=list(reasons)).order_by("pk")
    )
    return [
        UnassignedChild(
            minor=minor,
            reason=reasons[minor.pk],
            reason_label=(
                str(UnassignedReason(reasons[minor.pk]).label)
                if reasons[minor.pk] in UnassignedReason._value2member_map_
                else reasons[minor.pk]
            ),
        )
        for minor in minors
    ]
