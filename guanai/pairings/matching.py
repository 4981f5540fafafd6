"""Pairing proposals (结对关爱): which volunteer should care for which child, for a whole region at once.

Pure computation over plain frozen dataclasses — no database, no Django models — so that the same code
serves the staff's preview, the `propose_pairings` command, the benchmarks in `bench/bench_matching.py`
and the tests. The caller loads the unpaired children and the volunteers of a region into `ChildNode` and
`VolunteerNode` and gets a `MatchResult`: proposals that explain themselves, and the children left
unassigned with the reason.

**Hard rules** (never broken; they are applied before anything is costed and once more on the final
candidate graph): the child's guardian consented to pairing (结对关爱 consent on record, 个人信息保护法
art.31); the volunteer is 在岗, has a clear background check of less than a year (未成年人保护法 art.62)
and a free place (`capacity_left`); the pair is not a conflict either side declared; a special youth
(特殊青少年) is paired only with a member of a mentoring team (帮教团); and pairs stay inside the child's
county — unless the caller allows it (a city-wide proposal) *and* nothing in the county is eligible, in
which case the child's city is searched.

**Cost** of a pair, an integer (`pair_cost`; the weights are `CostWeights`, defaults below):

    distance × per_km + current pairings × per_current_pairing
      − fit_bonus × (needs the volunteer's specialty answers: 法律 ↔ LAW, 心理 ↔ PSYCHOLOGY, 学业 ↔ TEACHING)
      − same_gender_bonus (a child of 10 or over with a volunteer of the same gender)
      − continuity_bonus (the child's former volunteer)

The distance is the great-circle distance when both have coordinates, otherwise the distance in the
region tree, priced as an assumed number of kilometres: same village 1, same township 8, same county 25,
same city (another county) 60. Distances are costed to 0.1 km (per_km = 10).

**Candidates.** Each child is joined to its k nearest eligible volunteers (k = 10) and its eligible former
volunteers, never to all of them: nearest by the distance above; among equally near (the tree makes a
whole township equidistant) the cheaper pair first; among equally cheap, a per-child pseudo-random order,
so that the children of a village do not all queue for the same few volunteers. The search is exact and
never builds a county's full matrix: a child without coordinates looks in its own township first (any
volunteer outside it is at least a county away); a child with coordinates looks in the 5 km grid cells
around it plus its township's volunteers without coordinates. Only a child whose k-th candidate is not
provably nearer than everything outside that neighbourhood (too few volunteers there) is searched again
against its whole county.

**Solving.** A min-cost flow (OR-Tools `SimpleMinCostFlow`): every child supplies one unit (the source's
arcs of capacity 1), child → volunteer arcs of capacity 1 at the pair's cost, volunteer → sink arcs of
capacity `capacity_left` at no cost, and a child → sink "unassigned" arc at the penalty P plus the child's
risk priority. P = (M + 1) × (C + R) + 1, where M bounds the matching (min(children, places)), C is the
range of the pair costs and R the largest risk priority: a solution matching d more children costs at
most M × C more in pairs and R × M in priorities, but saves d × P > that in penalties, so **the number of
children matched is maximised first**, then Σ (pair cost − risk priority of the matched child) is
minimised. The priorities (high risk 300, medium 100) decide who is matched when places are too few;
set them to 0 for a pure minimum cost. A child is left unassigned only when no candidate exists or every
candidate's places are taken by children the optimum prefers.

**Splitting.** Pairs never leave a county unless a city-wide proposal needs them, so the candidate graph
falls apart into independent counties (counties joined by a cross-county pair are solved together).
`solve_split` solves those parts in worker processes and merges them; the result has exactly the
optimum of `solve_whole` on the same graph (same matched count and total cost; between equal-cost
optima the chosen pairs may differ). `greedy_baseline` — each child in turn takes its nearest candidate
with a place left — is there for comparison.
"""

from __future__ import annotations

import enum
import math
import multiprocessing
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

import numpy as np
import numpy.typing as npt
from django.utils.translation import gettext as _
from ortools.graph.python import min_cost_flow

from guanai.core.region_codes import CODE_PATTERN
from guanai.minors.vocabulary import NEED_LABELS, Gender, Need, RiskLevel
from guanai.volunteers.vocabulary import SPECIALTY_LABELS, Specialty

# Column arrays; the dtype is named where each is made.
Array = npt.NDArray[Any]

# Which specialty answers which need.
NEED_SPECIALTY: dict[Need, Specialty] = {
    Need.LEGAL: Specialty.LAW,
    Need.PSYCHOLOGICAL: Specialty.PSYCHOLOGY,
    Need.STUDY: Specialty.TEACHING,
}
SAME_GENDER_FROM_AGE = 10  # a child of this age or over is better paired with a volunteer of the same gender
DEFAULT_CANDIDATES = 10  # k: candidate volunteers per child
DEFAULT_SUGGESTIONS = 5  # "推荐": volunteers suggested for one child
DEFAULT_WORKERS = 2

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE = math.pi * EARTH_RADIUS_KM / 180
# The candidate search's grid: a volunteer outside the 3 × 3 cells around a child is more than one cell
# away; the safety factor absorbs the flat projection's error inside a county.
GRID_CELL_KM = 5.0
GRID_SAFETY = 0.9
# Pairs costed at once in the candidate search (bounds its memory: about 40 bytes per pair).
BLOCK_PAIRS = 1 << 20

_GENDER_CODES = {Gender.MALE.value: 0, Gender.FEMALE.value: 1}
_ANSWERING_SPECIALTIES = int(sum(int(specialty) for specialty in NEED_SPECIALTY.values()))
_GENDER_CLASSES = 3  # a child under 10 or of unknown gender, a boy of 10+, a girl of 10+
_POPCOUNT = np.array([bin(value).count("1") for value in range(_ANSWERING_SPECIALTIES + 1)], dtype=np.int64)
_EMPTY = np.zeros(0, dtype=np.int64)
# Candidate ranking keys: distance cost (21 bits) | pair cost shifted to ≥ 0 (22 bits) | spread (20 bits).
_DISTANCE_SHIFT = 42
_COST_SHIFT = 20
_DISTANCE_FIELD_MAX = (1 << 21) - 1
_COST_FIELD_MAX = (1 << 22) - 1
_NOT_ALLOWED = np.iinfo(np.int64).max
_CELL_OFFSET = 1 << 20  # grid cell coordinates are stored offset, 21 bits each, under the county code
_CELL_X = 1 << 21
# OR-Tools scales costs by the number of nodes; keep the largest scaled cost inside int64.
_COST_LIMIT = 1 << 62


class TreeLevel(enum.IntEnum):
    """How far apart two places are in the region tree: the smallest region holding both."""

    VILLAGE = 1
    TOWNSHIP = 2
    COUNTY = 3
    CITY = 4


class UnassignedReason(enum.StrEnum):
    NO_CONSENT = "no_consent"
    NO_MENTOR = "no_mentor"
    NO_VOLUNTEER = "no_volunteer"
    PLACES_TAKEN = "places_taken"

    @property
    def label(self) -> str:
        return {
            UnassignedReason.NO_CONSENT: _("没有监护人对结对关爱的同意记录"),
            UnassignedReason.NO_MENTOR: _("特殊青少年只能由帮教团成员结对，附近没有符合条件的帮教团成员"),
            UnassignedReason.NO_VOLUNTEER: _(
                "附近没有符合条件的志愿者（在岗、背景审查在有效期内、有空余名额、无申报的利益冲突）"
            ),
            UnassignedReason.PLACES_TAKEN: _("附近符合条件的志愿者名额已满"),
        }[self]


@dataclass(frozen=True, kw_only=True)
class CostWeights:
    """The weights of `pair_cost` (integers, so the flow is exact). A bonus lowers a pair's cost."""

    per_km: int = 10  # per kilometre: distances count to 0.1 km
    # Kilometres assumed when a coordinate is missing, by the smallest region holding both.
    village_km: float = 1.0
    township_km: float = 8.0
    county_km: float = 25.0
    city_km: float = 60.0
    fit_bonus: int = 100  # per need the volunteer's specialty answers (≈ 10 km)
    same_gender_bonus: int = 50  # a child of 10 or over and a volunteer of the same gender (≈ 5 km)
    continuity_bonus: int = 200  # the child's former volunteer (≈ 20 km)
    per_current_pairing: int = 30  # per child the volunteer already cares for (≈ 3 km)
    # Preference for matching a child when places are too few (see the module's docstring).
    medium_risk_priority: int = 100
    high_risk_priority: int = 300

    def __post_init__(self) -> None:
        integers = (
            self.per_km,
            self.fit_bonus,
            self.same_gender_bonus,
            self.continuity_bonus,
            self.per_current_pairing,
            self.medium_risk_priority,
            self.high_risk_priority,
        )
        if any(value < 0 for value in integers) or self.per_km < 1:
            raise ValueError("cost weights must be non-negative integers, per_km at least 1")
        if not 0 < self.village_km < self.township_km < self.county_km < self.city_km:
            raise ValueError("assumed distances must grow from village to city")

    def tree_km(self, level: TreeLevel) -> float:
        return self._tree_km_table()[level].item()

    def risk_priority(self, risk: str) -> int:
        if risk == RiskLevel.HIGH:
            return self.high_risk_priority
        if risk == RiskLevel.MEDIUM:
            return self.medium_risk_priority
        return 0

    def _tree_km_table(self) -> Array:
        return np.array([0.0, self.village_km, self.township_km, self.county_km, self.city_km])


DEFAULT_WEIGHTS = CostWeights()


@dataclass(frozen=True, slots=True, kw_only=True)
class ChildNode:
    """An unpaired child, as the matcher needs it. `region_code` is the 12-digit code of the child's
    village (社区); coordinates are decimal degrees; `needs` is the registry's `Need` bit set; `age` in
    whole years; `gender` and `risk` are the registry's `Gender` and `RiskLevel` values."""

    id: int
    region_code: str
    gender: str
    age: int
    has_pairing_consent: bool
    needs: int = 0
    risk: str = RiskLevel.LOW.value
    is_special: bool = False  # 特殊青少年: only a mentoring team's member may be paired
    latitude: float | None = None
    longitude: float | None = None
    former_volunteer_ids: frozenset[int] = frozenset()  # continuity
    conflict_volunteer_ids: frozenset[int] = frozenset()  # declared conflicts of interest


@dataclass(frozen=True, slots=True, kw_only=True)
class VolunteerNode:
    """A volunteer, as the matcher needs it. `specialties` is the `Specialty` bit set; `check_valid` means
    a clear background check of less than a year on the day of the proposal; `load` is the number of
    children the volunteer cares for now and `capacity_left` the places still free."""

    id: int
    region_code: str
    gender: str
    capacity_left: int
    is_active: bool
    check_valid: bool
    specialties: int = 0
    load: int = 0
    is_mentoring_team_member: bool = False
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Proposal:
    child_id: int
    volunteer_id: int
    cost: int
    tree_level: TreeLevel
    distance_km: float | None  # great-circle, to 0.1 km, when both have coordinates
    fit: int  # the volunteer's specialties (Specialty bits) that answer the child's needs
    load: int  # the volunteer's current pairings
    is_former_volunteer: bool
    explanation: tuple[str, ...]  # e.g. ("同村", "约 0.8 公里", "专长匹配：法律", "同性别", "当前结对 1 人")


@dataclass(frozen=True, kw_only=True)
class MatchResult:
    proposals: tuple[Proposal, ...]  # by child id
    unassigned: dict[int, UnassignedReason]  # child id → why
    total_cost: int  # Σ of the proposals' costs
    # What the flow minimises once the most children are matched: Σ (cost − the child's risk priority).
    objective: int
    children: int  # children asked about
    volunteers: int  # volunteers offered
    seconds: float  # wall-clock: candidate graph and solving

    @property
    def proposed(self) -> int:
        return len(self.proposals)

    def unassigned_labels(self) -> dict[int, str]:
        return {child_id: reason.label for child_id, reason in self.unassigned.items()}

    def summary(self) -> dict[str, int | float]:
        """What `propose_pairings --json` prints."""
        return {
            "children": self.children,
            "volunteers": self.volunteers,
            "proposed": self.proposed,
            "unassigned": len(self.unassigned),
            "total_cost": self.total_cost,
            "seconds": round(self.seconds, 3),
        }


# Eligibility ------------------------------------------------------------------------------------------


def child_ineligibility(child: ChildNode) -> UnassignedReason | None:
    """Why the child may not be paired at all, or None."""
    return None if child.has_pairing_consent else UnassignedReason.NO_CONSENT


def volunteer_may_pair(volunteer: VolunteerNode) -> bool:
    """在岗, a valid background check and a free place."""
    return volunteer.is_active and volunteer.check_valid and volunteer.capacity_left > 0


def pair_allowed(child: ChildNode, volunteer: VolunteerNode) -> bool:
    """The hard rules of one pair, the county rule apart (see `candidate_graph`)."""
    return (
        child_ineligibility(child) is None
        and volunteer_may_pair(volunteer)
        and volunteer.id not in child.conflict_volunteer_ids
        and (volunteer.is_mentoring_team_member or not child.is_special)
    )


# Columns ------------------------------------------------------------------------------------------------


class _Places:
    """Ids, region-tree codes and coordinates of nodes, as columns."""

    def __init__(self, nodes: Sequence[ChildNode] | Sequence[VolunteerNode]) -> None:
        count = len(nodes)
        self.ids = np.fromiter((node.id for node in nodes), dtype=np.int64, count=count)
        codes = [node.region_code for node in nodes]
        for code in codes:
            if not CODE_PATTERN.fullmatch(code):
                raise ValueError(f"a region code has 12 digits: {code!r}")
        self.village = np.fromiter(map(int, codes), dtype=np.int64, count=count)
        self.township = self.village // 1_000
        self.county = self.village // 1_000_000
        self.city = self.village // 100_000_000
        latitude = np.fromiter(
            (
                math.nan if node.latitude is None or node.longitude is None else node.latitude
                for node in nodes
            ),
            dtype=np.float64,
            count=count,
        )
        longitude = np.fromiter(
            (
                math.nan if node.latitude is None or node.longitude is None else node.longitude
                for node in nodes
            ),
            dtype=np.float64,
            count=count,
        )
        self.has_coordinates = ~np.isnan(latitude)
        located = self.has_coordinates
        if np.any(np.abs(latitude[located]) > 90) or np.any(np.abs(longitude[located]) > 180):
            raise ValueError("coordinates are decimal degrees: latitude within ±90, longitude within ±180")
        self.latitude_degrees = np.where(located, latitude, 0.0)
        self.longitude_degrees = np.where(located, longitude, 0.0)
        # Points on the unit sphere: a pair's great-circle distance then needs no trigonometry but one
        # arcsine (haversine's a is a quarter of the squared chord between the points).
        phi, lam = np.radians(self.latitude_degrees), np.radians(self.longitude_degrees)
        self.cos_latitude = np.cos(phi)
        self.x = self.cos_latitude * np.cos(lam)
        self.y = self.cos_latitude * np.sin(lam)
        self.z = np.sin(phi)
        # A per-node pseudo-random 20-bit number (splitmix64 of the id): the last tie-break of pairs.
        mixed = self.ids.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        mixed = (mixed ^ (mixed >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        mixed = (mixed ^ (mixed >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        self.spread = ((mixed ^ (mixed >> np.uint64(31))) >> np.uint64(44)).astype(np.int64)


class _ChildColumns(_Places):
    def __init__(self, children: Sequence[ChildNode], weights: CostWeights) -> None:
        super().__init__(children)
        count = len(children)
        needs = np.fromiter((child.needs for child in children), dtype=np.int64, count=count)
        self.wanted = np.zeros(count, dtype=np.int64)  # the specialties that would answer the needs
        for need, specialty in NEED_SPECIALTY.items():
            self.wanted |= np.where(needs & int(need), int(specialty), 0)
        self.gender = np.fromiter(
            (_GENDER_CODES.get(child.gender, -1) for child in children), dtype=np.int64, count=count
        )
        self.older = np.fromiter(
            (child.age >= SAME_GENDER_FROM_AGE for child in children), dtype=np.bool_, count=count
        )
        # What the fit and gender bonuses depend on, as one small number (see `_VolunteerColumns`).
        self.profile = self.wanted * _GENDER_CLASSES + np.where(
            self.older & (self.gender >= 0), self.gender + 1, 0
        )
        self.special = np.fromiter((child.is_special for child in children), dtype=np.bool_, count=count)
        self.priority = np.fromiter(
            (weights.risk_priority(child.risk) for child in children), dtype=np.int64, count=count
        )


class _VolunteerColumns(_Places):
    def __init__(self, volunteers: Sequence[VolunteerNode], weights: CostWeights) -> None:
        super().__init__(volunteers)
        count = len(volunteers)
        self.specialties = np.fromiter(
            (volunteer.specialties & _ANSWERING_SPECIALTIES for volunteer in volunteers),
            dtype=np.int64,
            count=count,
        )
        self.gender = np.fromiter(
            (_GENDER_CODES.get(volunteer.gender, -2) for volunteer in volunteers), dtype=np.int64, count=count
        )
        self.load = np.fromiter((volunteer.load for volunteer in volunteers), dtype=np.int64, count=count)
        # The cost apart from distance, for each child profile (row) and volunteer (column): load − fit
        # bonus − same-gender bonus. Looking it up costs one read per pair.
        wanted = np.arange(_ANSWERING_SPECIALTIES + 1).repeat(_GENDER_CLASSES)[:, None]
        gender_class = np.tile(np.arange(_GENDER_CLASSES), _ANSWERING_SPECIALTIES + 1)[:, None]
        self.profile_cost = (
            self.load[None, :] * weights.per_current_pairing
            - weights.fit_bonus * _POPCOUNT[wanted & self.specialties[None, :]]
            - weights.same_gender_bonus * (gender_class == self.gender[None, :] + 1)
        )
        self.mentor = np.fromiter(
            (volunteer.is_mentoring_team_member for volunteer in volunteers), dtype=np.bool_, count=count
        )
        self.capacity = np.fromiter(
            (volunteer.capacity_left for volunteer in volunteers), dtype=np.int64, count=count
        )


@dataclass(frozen=True)
class _Terms:
    """The parts of the cost of pairs (arrays of one shape; continuity apart)."""

    level: Array  # int8, TreeLevel values
    km: Array  # float64 great-circle km, NaN where a coordinate is missing
    distance_cost: Array  # int64
    cost: Array  # int64: distance + load − fit − same gender


def _great_circle_km(
    children: _ChildColumns, rows: Array, volunteers: _VolunteerColumns, columns: Array
) -> Array:
    squared_chord = (
        (children.x[rows] - volunteers.x[columns]) ** 2
        + (children.y[rows] - volunteers.y[columns]) ** 2
        + (children.z[rows] - volunteers.z[columns]) ** 2
    )
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(np.sqrt(squared_chord) * 0.5, 1.0))


def _pair_terms(
    children: _ChildColumns, rows: Array, volunteers: _VolunteerColumns, columns: Array, weights: CostWeights
) -> _Terms:
    """The cost terms of child `rows[i]` with volunteer `columns[i]` (any shapes that broadcast).

    The one definition of the cost: the candidate search, the flow's arcs, the proposals and
    `pair_cost` all come through here."""
    # The codes nest (a village's code begins with its township's), so sharing a village means sharing
    # the township and the county; pairs never leave the city.
    level = (
        np.int8(TreeLevel.CITY)
        - (children.county[rows] == volunteers.county[columns]).astype(np.int8)
        - (children.township[rows] == volunteers.township[columns])
        - (children.village[rows] == volunteers.village[columns])
    )
    tree_cost = np.rint(weights._tree_km_table() * weights.per_km).astype(np.int64)[level]
    located = children.has_coordinates[rows] & volunteers.has_coordinates[columns]
    if located.any():
        great_circle = _great_circle_km(children, rows, volunteers, columns)
        km = np.where(located, great_circle, np.nan)
        distance_cost = np.where(located, np.rint(great_circle * weights.per_km).astype(np.int64), tree_cost)
    else:
        km = np.full(level.shape, np.nan)
        distance_cost = tree_cost
    cost = distance_cost + volunteers.profile_cost[children.profile[rows], columns]
    return _Terms(level=level, km=km, distance_cost=distance_cost, cost=cost)


def _rank_keys(distance_cost: Array, cost: Array, cost_offset: int, spread: Array) -> Array:
    """Candidates' order, as one int64: nearest, then cheapest, then `spread` (20 bits)."""
    distance = np.minimum(distance_cost, _DISTANCE_FIELD_MAX)
    shifted_cost = np.clip(cost + cost_offset, 0, _COST_FIELD_MAX)
    return (distance << _DISTANCE_SHIFT) | (shifted_cost << _COST_SHIFT) | spread


def _distinct(values: Array) -> Array:
    """The distinct values, ascending (np.unique without its hash table, which is slow on large arrays)."""
    ordered = np.sort(values, kind="stable")
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))] if ordered.size else ordered


def _contains(sorted_values: Array, values: Array) -> Array:
    """values ∈ sorted_values, elementwise."""
    if sorted_values.size == 0:
        return np.zeros(values.shape, dtype=np.bool_)
    positions = np.minimum(np.searchsorted(sorted_values, values), sorted_values.size - 1)
    return sorted_values[positions] == values


def _groups(keys: Array, members: Array) -> Iterator[tuple[int, Array]]:
    """(key, the members with that key) for each distinct key, keys ascending, members in their order."""
    if keys.size == 0:
        return
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.flatnonzero(np.concatenate(([True], sorted_keys[1:] != sorted_keys[:-1])))
    ends = np.concatenate((starts[1:], [keys.size]))
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        yield int(sorted_keys[start]), members[order[start:end]]


def _pair_codes(rows: Array, columns: Array, volunteer_count: int) -> Array:
    return rows.astype(np.int64) * max(volunteer_count, 1) + columns.astype(np.int64)


def _listed_pairs(
    children: Sequence[ChildNode], attribute: str, volunteer_index: dict[int, int], volunteer_count: int
) -> Array:
    """Pair codes (child index × volunteers + volunteer index) of the volunteers each child lists in
    `attribute` (former volunteers or conflicts), sorted; volunteers not offered are left out."""
    rows: list[int] = []
    columns: list[int] = []
    for row, child in enumerate(children):
        for volunteer_id in getattr(child, attribute):
            column = volunteer_index.get(volunteer_id)
            if column is not None:
                rows.append(row)
                columns.append(column)
    return np.sort(
        _pair_codes(np.array(rows, dtype=np.int64), np.array(columns, dtype=np.int64), volunteer_count)
    )


# The candidate graph ------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, kw_only=True)
class CandidateGraph:
    """The sparse graph the flow is solved on: each eligible child with its candidate volunteers.

    Edges are sorted by child (id order) and, for one child, nearest first. Indices point into
    `eligible_children` and `eligible_volunteers`."""

    children: tuple[ChildNode, ...]  # every child asked about, by id
    volunteers: tuple[VolunteerNode, ...]  # every volunteer offered, by id
    eligible_children: tuple[ChildNode, ...]
    eligible_volunteers: tuple[VolunteerNode, ...]
    edge_child: Array  # int32
    edge_volunteer: Array  # int32
    edge_cost: Array  # int64, `pair_cost` of the edge
    k: int
    weights: CostWeights
    allow_cross_county: bool
    seconds: float
    _child_columns: _ChildColumns = field(repr=False)
    _volunteer_columns: _VolunteerColumns = field(repr=False)
    _former_pairs: Array = field(repr=False)  # sorted pair codes

    @property
    def edges(self) -> int:
        return int(self.edge_child.size)


def candidate_graph(
    *,
    children: Sequence[ChildNode],
    volunteers: Sequence[VolunteerNode],
    k: int = DEFAULT_CANDIDATES,
    weights: CostWeights = DEFAULT_WEIGHTS,
    allow_cross_county: bool = False,
) -> CandidateGraph:
    """Each eligible child's k nearest eligible volunteers and eligible former volunteers, in its county
    (in its city, when `allow_cross_county` and the county has none — for a city-wide proposal)."""
    if k < 1:
        raise ValueError("k must be at least 1")
    started = time.perf_counter()
    all_children = tuple(sorted(children, key=attrgetter("id")))
    all_volunteers = tuple(sorted(volunteers, key=attrgetter("id")))
    for nodes in (all_children, all_volunteers):
        ids = [node.id for node in nodes]
        if len(set(ids)) != len(ids):
            raise ValueError("ids must be unique")
    eligible_children = tuple(child for child in all_children if child_ineligibility(child) is None)
    eligible_volunteers = tuple(volunteer for volunteer in all_volunteers if volunteer_may_pair(volunteer))
    child_columns = _ChildColumns(eligible_children, weights)
    volunteer_columns = _VolunteerColumns(eligible_volunteers, weights)
    volunteer_index = {volunteer.id: index for index, volunteer in enumerate(eligible_volunteers)}
    volunteer_count = len(eligible_volunteers)
    conflicts = _listed_pairs(eligible_children, "conflict_volunteer_ids", volunteer_index, volunteer_count)
    former = _listed_pairs(eligible_children, "former_volunteer_ids", volunteer_index, volunteer_count)

    search = _CandidateSearch(
        children=child_columns,
        volunteers=volunteer_columns,
        k=k,
        weights=weights,
        allow_cross_county=allow_cross_county,
        conflicts=conflicts,
    )
    rows, columns = search.run()
    # Former volunteers join as candidates (continuity), inside the county.
    former_rows, former_columns = former // max(volunteer_count, 1), former % max(volunteer_count, 1)
    in_county = child_columns.county[former_rows] == volunteer_columns.county[former_columns]
    rows = np.concatenate((rows, former_rows[in_county]))
    columns = np.concatenate((columns, former_columns[in_county]))

    # The hard rules, once more, on every edge: they are decided here and nowhere else in the solve.
    same_county = child_columns.county[rows] == volunteer_columns.county[columns]
    same_city = child_columns.city[rows] == volunteer_columns.city[columns]
    allowed = (
        (same_county | (allow_cross_county & same_city))
        & (volunteer_columns.mentor[columns] | ~child_columns.special[rows])
        & ~_contains(conflicts, _pair_codes(rows, columns, volunteer_count))
    )
    codes = _distinct(_pair_codes(rows[allowed], columns[allowed], volunteer_count))
    rows = codes // max(volunteer_count, 1)
    columns = codes % max(volunteer_count, 1)

    costs = np.empty(codes.size, dtype=np.int64)
    keys = np.empty(codes.size, dtype=np.int64)
    cost_offset = search.cost_offset + weights.continuity_bonus
    step = BLOCK_PAIRS
    for start in range(0, codes.size, step):
        part = slice(start, start + step)
        terms = _pair_terms(child_columns, rows[part], volunteer_columns, columns[part], weights)
        is_former = _contains(former, codes[part])
        costs[part] = terms.cost - weights.continuity_bonus * is_former
        keys[part] = _rank_keys(
            terms.distance_cost,
            costs[part],
            cost_offset,
            child_columns.spread[rows[part]] ^ volunteer_columns.spread[columns[part]],
        )
    order = np.lexsort((keys, rows))
    return CandidateGraph(
        children=all_children,
        volunteers=all_volunteers,
        eligible_children=eligible_children,
        eligible_volunteers=eligible_volunteers,
        edge_child=rows[order].astype(np.int32),
        edge_volunteer=columns[order].astype(np.int32),
        edge_cost=costs[order],
        k=k,
        weights=weights,
        allow_cross_county=allow_cross_county,
        seconds=time.perf_counter() - started,
        _child_columns=child_columns,
        _volunteer_columns=volunteer_columns,
        _former_pairs=former,
    )


class _Pools:
    """The volunteers one kind of child may have (everyone, or mentors only), grouped for the search."""

    def __init__(self, volunteers: _VolunteerColumns, members: Array, cells: Array) -> None:
        def grouped(keys: Array, subset: Array) -> dict[int, Array]:
            return dict(_groups(keys[subset], subset))

        located = members[volunteers.has_coordinates[members]]
        unlocated = members[~volunteers.has_coordinates[members]]
        self.by_township = grouped(volunteers.township, members)
        self.by_county = grouped(volunteers.county, members)
        self.by_city = grouped(volunteers.city, members)
        self.unlocated_by_township = grouped(volunteers.township, unlocated)
        self.by_cell = grouped(cells, located)


class _CandidateSearch:
    """Finds each child's k nearest allowed volunteers (see the module's docstring for the method)."""

    def __init__(
        self,
        *,
        children: _ChildColumns,
        volunteers: _VolunteerColumns,
        k: int,
        weights: CostWeights,
        allow_cross_county: bool,
        conflicts: Array,
    ) -> None:
        self.children = children
        self.volunteers = volunteers
        self.k = k
        self.weights = weights
        self.allow_cross_county = allow_cross_county
        self.conflicts = conflicts
        conflicted_rows = _distinct(conflicts // max(volunteers.ids.size, 1))
        self.has_conflicts = np.zeros(children.ids.size, dtype=np.bool_)
        self.has_conflicts[conflicted_rows] = True
        # The largest total of bonuses: the pair cost plus this is never negative.
        self.cost_offset = len(NEED_SPECIALTY) * weights.fit_bonus + weights.same_gender_bonus
        county_cost = round(weights.county_km * weights.per_km)
        # Outside a child's township, a volunteer is a county away: costlier than this.
        self.township_threshold = county_cost - 1
        # Outside the 3 × 3 cells, a volunteer with coordinates is more than GRID_SAFETY cells away.
        self.grid_threshold = min(
            math.floor(GRID_SAFETY * GRID_CELL_KM * weights.per_km) - 1, county_cost - 1
        )
        self.child_cells, volunteer_cells = self._cells()
        everyone = np.arange(volunteers.ids.size, dtype=np.int64)
        self.pools = {
            False: _Pools(volunteers, everyone, volunteer_cells),
            True: _Pools(volunteers, everyone[volunteers.mentor], volunteer_cells),
        }
        self.rows: list[Array] = []
        self.columns: list[Array] = []

    def run(self) -> tuple[Array, Array]:
        children = self.children
        for special, pools in self.pools.items():
            of_kind = children.special == special
            unresolved: list[Array] = []
            unlocated = np.flatnonzero(of_kind & ~children.has_coordinates)
            for township, rows in _groups(children.township[unlocated], unlocated):
                pool = pools.by_township.get(township, _EMPTY)
                unresolved.append(self._select(rows, pool, self.township_threshold))
            located = np.flatnonzero(of_kind & children.has_coordinates)
            for cell, rows in _groups(self.child_cells[located], located):
                nearby = [
                    pools.by_cell.get(cell + dx * _CELL_X + dy, _EMPTY)
                    for dx in (-1, 0, 1)
                    for dy in (-1, 0, 1)
                ]
                nearby += [
                    pools.unlocated_by_township.get(township, _EMPTY)
                    for township in _distinct(children.township[rows]).tolist()
                ]
                unresolved.append(self._select(rows, np.concatenate(nearby), self.grid_threshold))
            rest = np.concatenate(unresolved) if unresolved else _EMPTY
            for county, rows in _groups(children.county[rest], rest):
                self._select(rows, pools.by_county.get(county, _EMPTY), None)
        if self.allow_cross_county:
            found = np.bincount(np.concatenate(self.rows or [_EMPTY]), minlength=children.ids.size)
            for special, pools in self.pools.items():
                lonely = np.flatnonzero((found == 0) & (children.special == special))
                for city, rows in _groups(children.city[lonely], lonely):
                    self._select(rows, pools.by_city.get(city, _EMPTY), None)
        if not self.rows:
            return _EMPTY, _EMPTY
        return np.concatenate(self.rows), np.concatenate(self.columns)

    def _cells(self) -> tuple[Array, Array]:
        """Grid cells (under the county code) of children and volunteers with coordinates. Longitude is
        scaled by the smallest cosine of latitude in the county, so a projected distance never exceeds
        the true one."""
        children, volunteers = self.children, self.volunteers
        counties = np.concatenate(
            (children.county[children.has_coordinates], volunteers.county[volunteers.has_coordinates])
        )
        cosines = np.concatenate(
            (
                children.cos_latitude[children.has_coordinates],
                volunteers.cos_latitude[volunteers.has_coordinates],
            )
        )
        known = np.zeros(0, dtype=np.int64)
        smallest = np.zeros(0, dtype=np.float64)
        if counties.size:
            order = np.argsort(counties, kind="stable")
            sorted_counties = counties[order]
            starts = np.flatnonzero(np.concatenate(([True], sorted_counties[1:] != sorted_counties[:-1])))
            known = sorted_counties[starts]
            smallest = np.maximum(np.minimum.reduceat(cosines[order], starts), 0.1)

        def cells(places: _Places) -> Array:
            if known.size == 0:
                return np.zeros(places.ids.size, dtype=np.int64)
            scale = smallest[np.minimum(np.searchsorted(known, places.county), known.size - 1)]
            x = np.floor(places.longitude_degrees * scale * KM_PER_DEGREE / GRID_CELL_KM).astype(np.int64)
            y = np.floor(places.latitude_degrees * KM_PER_DEGREE / GRID_CELL_KM).astype(np.int64)
            keys = (places.county << 42) | ((x + _CELL_OFFSET) << 21) | (y + _CELL_OFFSET)
            return np.where(places.has_coordinates, keys, -1)

        return cells(children), cells(volunteers)

    def _select(self, rows: Array, pool: Array, threshold: int | None) -> Array:
        """Adds the candidates of `rows` found in `pool` and returns the rows whose k nearest may lie
        outside it: fewer than k allowed there, or the k-th costs more than `threshold` in distance
        (None: the pool is the whole search area, every row is settled)."""
        if pool.size == 0:
            return _EMPTY if threshold is None else rows
        children, volunteers = self.children, self.volunteers
        width = min(self.k, pool.size)
        step = max(1, BLOCK_PAIRS // pool.size)
        unresolved: list[Array] = []
        for start in range(0, rows.size, step):
            chunk = rows[start : start + step]
            terms = _pair_terms(children, chunk[:, None], volunteers, pool[None, :], self.weights)
            keys = _rank_keys(
                terms.distance_cost,
                terms.cost,
                self.cost_offset,
                children.spread[chunk][:, None] ^ volunteers.spread[pool][None, :],
            )
            for position in np.flatnonzero(self.has_conflicts[chunk]).tolist():
                codes = _pair_codes(np.full(pool.size, chunk[position]), pool, volunteers.ids.size)
                keys[position, _contains(self.conflicts, codes)] = _NOT_ALLOWED
            if pool.size > width:
                chosen = np.argpartition(keys, width - 1, axis=1)[:, :width]
            else:
                chosen = np.broadcast_to(np.arange(pool.size), keys.shape)
            chosen_keys = np.take_along_axis(keys, chosen, axis=1)
            allowed = chosen_keys != _NOT_ALLOWED
            if threshold is None:
                settled = np.ones(chunk.size, dtype=np.bool_)
            else:
                farthest = np.max(np.where(allowed, chosen_keys, 0), axis=1) >> _DISTANCE_SHIFT
                settled = (width == self.k) & allowed.all(axis=1) & (farthest <= threshold)
            taken = allowed & settled[:, None]
            self.rows.append(np.broadcast_to(chunk[:, None], chosen.shape)[taken])
            self.columns.append(pool[chosen[taken]])
            unresolved.append(chunk[~settled])
        return np.concatenate(unresolved)


# Solving --------------------------------------------------------------------------------------------------


def _solve_flow(payload: tuple[Array, Array, Array, Array, Array]) -> Array:
    """The min-cost flow of one independent part; returns which edges carry a child (bool per edge).

    payload: edge tails (child, 0..n-1), edge heads (volunteer, 0..m-1), edge costs, the volunteers'
    places, the children's risk priorities."""
    tails, heads, costs, places, priorities = payload
    children, volunteers, edges = priorities.size, places.size, tails.size
    if edges == 0:
        return np.zeros(0, dtype=np.bool_)
    arc_costs = costs - costs.min()  # the same shift for every matched child leaves the optimum
    cost_range = int(arc_costs.max())
    largest_priority = int(priorities.max())
    matchable = min(children, int(places.sum()))
    penalty = (matchable + 1) * (cost_range + largest_priority) + 1
    sink = children + volunteers
    if (penalty + largest_priority) * (sink + 2) >= _COST_LIMIT:
        raise ValueError("pair costs too large for an exact flow: split the region or lower the weights")
    child_nodes = np.arange(children, dtype=np.int32)
    volunteer_nodes = np.arange(volunteers, dtype=np.int32) + children
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        np.concatenate((tails.astype(np.int32), volunteer_nodes, child_nodes)),
        np.concatenate(
            (heads.astype(np.int32) + children, np.full(volunteers + children, sink, dtype=np.int32))
        ),
        np.concatenate(
            (np.ones(edges, dtype=np.int64), places.astype(np.int64), np.ones(children, dtype=np.int64))
        ),
        np.concatenate(
            (arc_costs, np.zeros(volunteers, dtype=np.int64), penalty + priorities.astype(np.int64))
        ),
    )
    flow.set_nodes_supplies(
        np.concatenate((child_nodes, np.array([sink], dtype=np.int32))),
        np.concatenate((np.ones(children, dtype=np.int64), np.array([-children], dtype=np.int64))),
    )
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"the min-cost flow was not solved: status {status}")
    return flow.flows(np.arange(edges, dtype=np.int32)) > 0


def _payload(graph: CandidateGraph, edges: Array) -> tuple[Array, Array, Array, Array, Array]:
    child_rows, tails = np.unique(graph.edge_child[edges], return_inverse=True)
    volunteer_rows, heads = np.unique(graph.edge_volunteer[edges], return_inverse=True)
    return (
        tails.astype(np.int32),
        heads.astype(np.int32),
        graph.edge_cost[edges],
        graph._volunteer_columns.capacity[volunteer_rows],
        graph._child_columns.priority[child_rows],
    )


def _independent_parts(graph: CandidateGraph) -> list[Array]:
    """Edge indices of each part that shares no volunteer with another: a county, or the counties a
    cross-county edge joins. Largest first, so that the workers finish together."""
    child_county = graph._child_columns.county[graph.edge_child]
    volunteer_county = graph._volunteer_columns.county[graph.edge_volunteer]
    parent: dict[int, int] = {}

    def root(county: int) -> int:
        while parent.get(county, county) != county:
            county = parent[county]
        return county

    crossing = child_county != volunteer_county
    for a, b in zip(child_county[crossing].tolist(), volunteer_county[crossing].tolist(), strict=True):
        root_a, root_b = root(a), root(b)
        if root_a != root_b:
            parent[max(root_a, root_b)] = min(root_a, root_b)
    counties = _distinct(child_county)
    roots = np.array([root(county) for county in counties.tolist()], dtype=np.int64)
    part_of_edge = roots[np.searchsorted(counties, child_county)]
    parts = [edges for _, edges in _groups(part_of_edge, np.arange(graph.edges))]
    return sorted(parts, key=lambda edges: -edges.size)


def solve_whole(graph: CandidateGraph) -> MatchResult:
    """The whole candidate graph as one min-cost flow."""
    started = time.perf_counter()
    chosen = _solve_flow(_payload(graph, np.arange(graph.edges)))
    return _result(graph, np.flatnonzero(chosen), started)


def solve_split(graph: CandidateGraph, *, workers: int = DEFAULT_WORKERS) -> MatchResult:
    """The independent parts (counties) solved in `workers` processes and merged: the same optimum as
    `solve_whole`."""
    started = time.perf_counter()
    parts = _independent_parts(graph)
    payloads = [_payload(graph, edges) for edges in parts]
    if workers <= 1 or len(parts) <= 1:
        flows = [_solve_flow(payload) for payload in payloads]
    else:
        # Fresh interpreters rather than forks: safe in a threaded server, and each worker holds only
        # its parts (a fork would carry the caller's whole memory).
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(workers, len(parts)), mp_context=context) as executor:
            flows = list(executor.map(_solve_flow, payloads))
    chosen = np.concatenate([edges[flow] for edges, flow in zip(parts, flows, strict=True)] or [_EMPTY])
    return _result(graph, np.sort(chosen), started)


def greedy_baseline(graph: CandidateGraph) -> MatchResult:
    """For comparison: each child in id order takes its nearest candidate with a place left."""
    started = time.perf_counter()
    places = graph._volunteer_columns.capacity.tolist()
    chosen: list[int] = []
    current_child = -1
    for edge, (child, volunteer) in enumerate(
        zip(graph.edge_child.tolist(), graph.edge_volunteer.tolist(), strict=True)
    ):
        if child == current_child:
            continue
        if places[volunteer] > 0:
            places[volunteer] -= 1
            chosen.append(edge)
            current_child = child
    return _result(graph, np.array(chosen, dtype=np.int64), started)


def propose(
    *,
    children: Sequence[ChildNode],
    volunteers: Sequence[VolunteerNode],
    k: int = DEFAULT_CANDIDATES,
    weights: CostWeights = DEFAULT_WEIGHTS,
    allow_cross_county: bool = False,
    workers: int = 1,
) -> MatchResult:
    """Proposals for a region: the candidate graph, solved (split over `workers` processes when > 1)."""
    graph = candidate_graph(
        children=children, volunteers=volunteers, k=k, weights=weights, allow_cross_county=allow_cross_county
    )
    return solve_split(graph, workers=workers) if workers > 1 else solve_whole(graph)


# Explaining ---------------------------------------------------------------------------------------------


class _Texts:
    """The explanations' phrases, translated once per result."""

    def __init__(self) -> None:
        self.level = {
            TreeLevel.VILLAGE: _("同村"),
            TreeLevel.TOWNSHIP: _("同乡镇（街道）"),
            TreeLevel.COUNTY: _("同县（市、区）"),
            TreeLevel.CITY: _("同市，跨县（市、区）"),
        }
        self.kilometres = _("约 %(km).1f 公里")
        self.fit_template = _("专长匹配：%(specialties)s")
        self.unanswered_template = _("需求未匹配专长：%(needs)s")
        self.same_gender = _("同性别")
        self.other_gender = _("异性别（10 岁及以上宜同性别）")
        self.former = _("曾结对")
        self.no_pairing = _("当前无结对")
        self.load_template = _("当前结对 %(count)d 人")
        specialty_of_need = {int(specialty): need for need, specialty in NEED_SPECIALTY.items()}
        self.fit: dict[int, str] = {}
        self.unanswered: dict[int, str] = {}
        for value in range(1, _ANSWERING_SPECIALTIES + 1):
            bits = [int(specialty) for specialty in Specialty if value & int(specialty)]
            self.fit[value] = self.fit_template % {
                "specialties": "、".join(str(SPECIALTY_LABELS[Specialty(bit)]) for bit in bits)
            }
            self.unanswered[value] = self.unanswered_template % {
                "needs": "、".join(str(NEED_LABELS[specialty_of_need[bit]]) for bit in bits)
            }

    def explain(
        self,
        *,
        level: int,
        km: float,
        fit: int,
        unanswered: int,
        gender: bool | None,
        former: bool,
        load: int,
    ) -> tuple[str, ...]:
        parts = [self.level[TreeLevel(level)]]
        if not math.isnan(km):
            parts.append(self.kilometres % {"km": km})
        if fit:
            parts.append(self.fit[fit])
        if unanswered:
            parts.append(self.unanswered[unanswered])
        if gender is not None:
            parts.append(self.same_gender if gender else self.other_gender)
        if former:
            parts.append(self.former)
        parts.append(self.load_template % {"count": load} if load else self.no_pairing)
        return tuple(parts)


def _proposals(
    children: Sequence[ChildNode],
    child_columns: _ChildColumns,
    volunteers: Sequence[VolunteerNode],
    volunteer_columns: _VolunteerColumns,
    rows: Array,
    columns: Array,
    is_former: Array,
    weights: CostWeights,
) -> list[Proposal]:
    texts = _Texts()
    terms = _pair_terms(child_columns, rows, volunteer_columns, columns, weights)
    costs = terms.cost - weights.continuity_bonus * is_former
    answered = child_columns.wanted[rows] & volunteer_columns.specialties[columns]
    unanswered = child_columns.wanted[rows] & ~answered
    # The gender is compared for a child of 10 and over when both genders are known.
    compared = (
        child_columns.older[rows]
        & (child_columns.gender[rows] >= 0)
        & (volunteer_columns.gender[columns] >= 0)
    )
    same_gender = child_columns.gender[rows] == volunteer_columns.gender[columns]
    proposals = []
    for row, column, cost, level, km, fit, missing, compares, same, former in zip(
        rows.tolist(),
        columns.tolist(),
        costs.tolist(),
        terms.level.tolist(),
        terms.km.tolist(),
        answered.tolist(),
        unanswered.tolist(),
        compared.tolist(),
        same_gender.tolist(),
        is_former.tolist(),
        strict=True,
    ):
        volunteer = volunteers[column]
        rounded = round(km, 1)
        proposals.append(
            Proposal(
                child_id=children[row].id,
                volunteer_id=volunteer.id,
                cost=cost,
                tree_level=TreeLevel(level),
                distance_km=None if math.isnan(km) else rounded,
                fit=fit,
                load=volunteer.load,
                is_former_volunteer=former,
                explanation=texts.explain(
                    level=level,
                    km=rounded,
                    fit=fit,
                    unanswered=missing,
                    gender=same if compares else None,
                    former=former,
                    load=volunteer.load,
                ),
            )
        )
    return proposals


def _result(graph: CandidateGraph, chosen: Array, started: float) -> MatchResult:
    """The result of solving `graph` (begun at `started`, a perf_counter reading) by choosing the edges
    `chosen` (indices, ascending)."""
    rows = graph.edge_child[chosen].astype(np.int64)
    columns = graph.edge_volunteer[chosen].astype(np.int64)
    volunteer_count = len(graph.eligible_volunteers)
    is_former = _contains(graph._former_pairs, _pair_codes(rows, columns, volunteer_count))
    proposals = _proposals(
        graph.eligible_children,
        graph._child_columns,
        graph.eligible_volunteers,
        graph._volunteer_columns,
        rows,
        columns,
        is_former,
        graph.weights,
    )
    has_candidates = np.zeros(len(graph.eligible_children), dtype=np.bool_)
    has_candidates[graph.edge_child] = True
    matched = np.zeros(len(graph.eligible_children), dtype=np.bool_)
    matched[rows] = True
    unassigned: dict[int, UnassignedReason] = {}
    eligible = iter(zip(graph.eligible_children, has_candidates.tolist(), matched.tolist(), strict=True))
    for child in graph.children:
        reason = child_ineligibility(child)
        if reason is None:
            _, candidates, is_matched = next(eligible)
            if is_matched:
                continue
            if candidates:
                reason = UnassignedReason.PLACES_TAKEN
            else:
                reason = UnassignedReason.NO_MENTOR if child.is_special else UnassignedReason.NO_VOLUNTEER
        unassigned[child.id] = reason
    return MatchResult(
        proposals=tuple(proposals),
        unassigned=unassigned,
        total_cost=int(graph.edge_cost[chosen].sum()),
        objective=int(graph.edge_cost[chosen].sum() - graph._child_columns.priority[rows].sum()),
        children=len(graph.children),
        volunteers=len(graph.volunteers),
        seconds=graph.seconds + time.perf_counter() - started,
    )


# One child -------------------------------------------------------------------------------------------------


def pair_cost(child: ChildNode, volunteer: VolunteerNode, *, weights: CostWeights = DEFAULT_WEIGHTS) -> int:
    """The cost of one pair (see the module's docstring); it says nothing about whether it is allowed."""
    child_columns = _ChildColumns([child], weights)
    volunteer_columns = _VolunteerColumns([volunteer], weights)
    zero = np.zeros(1, dtype=np.int64)
    terms = _pair_terms(child_columns, zero, volunteer_columns, zero, weights)
    former = volunteer.id in child.former_volunteer_ids
    return int(terms.cost[0]) - weights.continuity_bonus * former


def suggest_for_child(
    *,
    child: ChildNode,
    volunteers: Sequence[VolunteerNode],
    limit: int = DEFAULT_SUGGESTIONS,
    weights: CostWeights = DEFAULT_WEIGHTS,
    allow_cross_county: bool = False,
) -> list[Proposal]:
    """For "推荐": the `limit` cheapest allowed volunteers for one child, cheapest first (then nearest, then
    by id), from the child's county (its city when `allow_cross_county` and the county has none). Empty
    when the child may not be paired (`child_ineligibility`) or nobody is allowed."""
    if child_ineligibility(child) is not None or limit < 1:
        return []
    allowed = sorted(
        (volunteer for volunteer in volunteers if pair_allowed(child, volunteer)), key=attrgetter("id")
    )
    candidates = [volunteer for volunteer in allowed if volunteer.region_code[:6] == child.region_code[:6]]
    if not candidates and allow_cross_county:
        candidates = [
            volunteer for volunteer in allowed if volunteer.region_code[:4] == child.region_code[:4]
        ]
    if not candidates:
        return []
    child_columns = _ChildColumns([child], weights)
    volunteer_columns = _VolunteerColumns(candidates, weights)
    columns = np.arange(len(candidates), dtype=np.int64)
    rows = np.zeros(len(candidates), dtype=np.int64)
    terms = _pair_terms(child_columns, rows, volunteer_columns, columns, weights)
    is_former = np.fromiter(
        (volunteer.id in child.former_volunteer_ids for volunteer in candidates),
        dtype=np.bool_,
        count=columns.size,
    )
    costs = terms.cost - weights.continuity_bonus * is_former
    best = np.lexsort((volunteer_columns.ids, terms.distance_cost, costs))[:limit]
    return _proposals(
        [child],
        child_columns,
        candidates,
        volunteer_columns,
        rows[best],
        columns[best],
        is_former[best],
        weights,
    )
