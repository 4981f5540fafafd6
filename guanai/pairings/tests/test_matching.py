"""The matching engine: hard rules, optimality against brute force, the candidate search, explanations,
suggestions for one child, and splitting by county. Pure computation: no database."""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from guanai.minors.vocabulary import Need
from guanai.pairings.matching import (
    ChildNode,
    CostWeights,
    MatchResult,
    TreeLevel,
    UnassignedReason,
    VolunteerNode,
    candidate_graph,
    greedy_baseline,
    pair_cost,
    propose,
    solve_split,
    solve_whole,
    suggest_for_child,
)
from guanai.volunteers.vocabulary import Specialty

# A made-up region tree: two counties of one city and a county of another city.
COUNTY = "330127"
NEIGHBOUR_COUNTY = "330122"  # same city (3301)
OTHER_CITY_COUNTY = "330203"
VILLAGE = COUNTY + "100" + "001"
SAME_TOWNSHIP = COUNTY + "100" + "002"
OTHER_TOWNSHIP = COUNTY + "101" + "001"
NEIGHBOUR_VILLAGE = NEIGHBOUR_COUNTY + "100" + "001"
OTHER_CITY_VILLAGE = OTHER_CITY_COUNTY + "100" + "001"
NO_PRIORITY = CostWeights(medium_risk_priority=0, high_risk_priority=0)


def child(child_id: int, region_code: str = VILLAGE, **fields: Any) -> ChildNode:
    values: dict[str, Any] = {"gender": "female", "age": 8, "has_pairing_consent": True}
    values.update(fields)
    return ChildNode(id=child_id, region_code=region_code, **values)


def volunteer(volunteer_id: int, region_code: str = VILLAGE, **fields: Any) -> VolunteerNode:
    values: dict[str, Any] = {"gender": "female", "capacity_left": 1, "is_active": True, "check_valid": True}
    values.update(fields)
    return VolunteerNode(id=volunteer_id, region_code=region_code, **values)


def pairs(result: MatchResult) -> dict[int, int]:
    return {proposal.child_id: proposal.volunteer_id for proposal in result.proposals}


# Hard rules -------------------------------------------------------------------------------------------


def test_child_without_pairing_consent_is_never_proposed() -> None:
    result = propose(
        children=[child(1, has_pairing_consent=False), child(2)],
        volunteers=[volunteer(10, capacity_left=2)],
    )

    assert pairs(result) == {2: 10}
    assert result.unassigned == {1: UnassignedReason.NO_CONSENT}
    assert result.unassigned_labels() == {1: "没有监护人对结对关爱的同意记录"}


@pytest.mark.parametrize(
    "unfit",
    [
        pytest.param({"check_valid": False}, id="background check expired or missing"),
        pytest.param({"capacity_left": 0}, id="no place left"),
        pytest.param({"is_active": False}, id="not 在岗"),
    ],
)
def test_volunteer_who_may_not_pair_is_never_proposed_even_when_nearest(unfit: dict[str, Any]) -> None:
    nearest = volunteer(10, VILLAGE, specialties=int(Specialty.TEACHING), **unfit)
    farther = volunteer(11, OTHER_TOWNSHIP)

    result = propose(children=[child(1, needs=int(Need.STUDY))], volunteers=[nearest, farther])

    assert pairs(result) == {1: 11}


def test_volunteer_who_may_not_pair_leaves_the_child_unassigned_when_alone() -> None:
    result = propose(children=[child(1)], volunteers=[volunteer(10, check_valid=False)])

    assert result.proposals == ()
    assert result.unassigned == {1: UnassignedReason.NO_VOLUNTEER}


def test_declared_conflict_is_never_proposed_even_with_a_former_volunteer() -> None:
    conflicted = volunteer(10)
    result = propose(
        children=[child(1, former_volunteer_ids=frozenset({10}), conflict_volunteer_ids=frozenset({10}))],
        volunteers=[conflicted, volunteer(11, OTHER_TOWNSHIP)],
    )

    assert pairs(result) == {1: 11}
    assert (
        suggest_for_child(child=child(1, conflict_volunteer_ids=frozenset({10})), volunteers=[conflicted])
        == []
    )


def test_special_youth_is_paired_only_with_a_mentoring_team_member() -> None:
    special = child(1, age=15, is_special=True, former_volunteer_ids=frozenset({10}))
    non_mentor = volunteer(10, VILLAGE)
    mentor = volunteer(11, OTHER_TOWNSHIP, is_mentoring_team_member=True)

    assert pairs(propose(children=[special], volunteers=[non_mentor, mentor])) == {1: 11}
    alone = propose(children=[special], volunteers=[non_mentor])
    assert alone.proposals == ()
    assert alone.unassigned == {1: UnassignedReason.NO_MENTOR}
    assert [
        proposal.volunteer_id
        for proposal in suggest_for_child(child=special, volunteers=[non_mentor, mentor])
    ] == [11]


def test_no_volunteer_takes_more_children_than_places_left() -> None:
    children = [child(index) for index in range(1, 6)]

    result = propose(children=children, volunteers=[volunteer(10, capacity_left=2, load=1)])

    assert len(result.proposals) == 2
    assert {proposal.volunteer_id for proposal in result.proposals} == {10}
    assert set(result.unassigned.values()) == {UnassignedReason.PLACES_TAKEN}
    assert len(result.unassigned) == 3


def test_pairs_stay_in_the_county_unless_a_city_wide_proposal_finds_nothing_closer() -> None:
    lonely = child(1)
    neighbour = volunteer(10, NEIGHBOUR_VILLAGE)
    other_city = volunteer(11, OTHER_CITY_VILLAGE)

    assert propose(children=[lonely], volunteers=[neighbour, other_city]).unassigned == {
        1: UnassignedReason.NO_VOLUNTEER
    }
    city_wide = propose(children=[lonely], volunteers=[neighbour, other_city], allow_cross_county=True)
    assert pairs(city_wide) == {1: 10}
    assert city_wide.proposals[0].tree_level == TreeLevel.CITY
    assert city_wide.proposals[0].explanation[0] == "同市，跨县（市、区）"
    # Something eligible in the county, however far, comes before the neighbouring county.
    in_county = volunteer(12, OTHER_TOWNSHIP, load=3)
    assert pairs(propose(children=[lonely], volunteers=[neighbour, in_county], allow_cross_county=True)) == {
        1: 12
    }


# Optimality -------------------------------------------------------------------------------------------

REGIONS = [
    county + township + village
    for county in (COUNTY, NEIGHBOUR_COUNTY, OTHER_CITY_COUNTY)
    for township in ("100", "101")
    for village in ("001", "002")
]


@st.composite
def coordinates(draw: st.DrawFn) -> dict[str, float | None]:
    if draw(st.booleans()):
        return {"latitude": None, "longitude": None}
    # A box of about 30 × 30 km, in steps of about 100 m.
    return {
        "latitude": 29.5 + draw(st.integers(0, 300)) / 1000,
        "longitude": 119.0 + draw(st.integers(0, 300)) / 1000,
    }


@st.composite
def instances(draw: st.DrawFn) -> tuple[list[ChildNode], list[VolunteerNode]]:
    mostly = st.sampled_from([True, True, True, False])
    volunteers = [
        VolunteerNode(
            id=100 + index,
            region_code=draw(st.sampled_from(REGIONS)),
            gender=draw(st.sampled_from(["male", "female"])),
            capacity_left=draw(st.integers(0, 2)),
            is_active=draw(mostly),
            check_valid=draw(mostly),
            specialties=draw(st.integers(0, 127)),
            load=draw(st.integers(0, 3)),
            is_mentoring_team_member=draw(st.booleans()),
            **draw(coordinates()),
        )
        for index in range(draw(st.integers(0, 4)))
    ]
    listed = (
        st.sets(st.sampled_from([v.id for v in volunteers]), max_size=1) if volunteers else st.just(set())
    )
    children = [
        ChildNode(
            id=1 + index,
            region_code=draw(st.sampled_from(REGIONS)),
            gender=draw(st.sampled_from(["male", "female"])),
            age=draw(st.integers(3, 17)),
            has_pairing_consent=draw(mostly),
            needs=draw(st.integers(0, 127)),
            risk=draw(st.sampled_from(["low", "medium", "high"])),
            is_special=draw(st.sampled_from([False, False, True])),
            former_volunteer_ids=frozenset(draw(listed)),
            conflict_volunteer_ids=frozenset(draw(listed)),
            **draw(coordinates()),
        )
        for index in range(draw(st.integers(0, 5)))
    ]
    return children, volunteers


def rules_allow(child_node: ChildNode, volunteer_node: VolunteerNode) -> bool:
    """The hard rules, restated independently of the engine (the county rule apart)."""
    return (
        child_node.has_pairing_consent
        and volunteer_node.is_active
        and volunteer_node.check_valid
        and volunteer_node.capacity_left > 0
        and volunteer_node.id not in child_node.conflict_volunteer_ids
        and (volunteer_node.is_mentoring_team_member or not child_node.is_special)
    )


def oracle_allows(
    child_node: ChildNode, volunteer_node: VolunteerNode, volunteers: Sequence[VolunteerNode], city_wide: bool
) -> bool:
    if not rules_allow(child_node, volunteer_node):
        return False
    if volunteer_node.region_code[:6] == child_node.region_code[:6]:
        return True
    nothing_in_county = not any(
        rules_allow(child_node, other) and other.region_code[:6] == child_node.region_code[:6]
        for other in volunteers
    )
    return city_wide and nothing_in_county and volunteer_node.region_code[:4] == child_node.region_code[:4]


def brute_force(
    children: Sequence[ChildNode], volunteers: Sequence[VolunteerNode], weights: CostWeights, city_wide: bool
) -> tuple[int, int]:
    """(−matched, Σ pair cost − risk priority) of the best feasible assignment, by enumeration."""
    options = [
        [None] + [v for v in volunteers if oracle_allows(c, v, volunteers, city_wide)] for c in children
    ]
    best = (0, 0)
    for choice in itertools.product(*options):
        used = Counter(v.id for v in choice if v is not None)
        if any(used[v.id] > v.capacity_left for v in volunteers):
            continue
        matched = [(c, v) for c, v in zip(children, choice, strict=True) if v is not None]
        score = sum(pair_cost(c, v, weights=weights) - weights.risk_priority(c.risk) for c, v in matched)
        best = min(best, (-len(matched), score))
    return best


def check_against_brute_force(
    children: list[ChildNode], volunteers: list[VolunteerNode], weights: CostWeights, city_wide: bool
) -> None:
    result = propose(children=children, volunteers=volunteers, weights=weights, allow_cross_county=city_wide)

    by_id = {v.id: v for v in volunteers}
    children_by_id = {c.id: c for c in children}
    for proposal in result.proposals:
        pair = children_by_id[proposal.child_id], by_id[proposal.volunteer_id]
        assert oracle_allows(*pair, volunteers, city_wide)
        assert proposal.cost == pair_cost(*pair, weights=weights)
    taken = Counter(proposal.volunteer_id for proposal in result.proposals)
    assert all(taken[v.id] <= v.capacity_left for v in volunteers)
    assert set(result.unassigned) | set(pairs(result)) == set(children_by_id)
    assert not set(result.unassigned) & set(pairs(result))
    score = sum(
        proposal.cost - weights.risk_priority(children_by_id[proposal.child_id].risk)
        for proposal in result.proposals
    )
    assert (-len(result.proposals), score) == brute_force(children, volunteers, weights, city_wide)
    assert result.total_cost == sum(proposal.cost for proposal in result.proposals)
    assert result.objective == score


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instance=instances(), city_wide=st.booleans())
def test_proposals_are_optimal_and_within_the_rules_on_small_instances(
    instance: tuple[list[ChildNode], list[VolunteerNode]], city_wide: bool
) -> None:
    children, volunteers = instance
    check_against_brute_force(children, volunteers, CostWeights(), city_wide)


@hypothesis_settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instance=instances())
def test_without_risk_priorities_the_most_children_are_matched_at_the_least_total_cost(
    instance: tuple[list[ChildNode], list[VolunteerNode]],
) -> None:
    children, volunteers = instance
    check_against_brute_force(children, volunteers, NO_PRIORITY, False)


def test_matching_more_children_comes_before_a_lower_cost() -> None:
    # Child 1's cheapest volunteer is the only one child 2 may have: the optimum gives child 1 the
    # farther one so that both are matched; greedy, nearest first, leaves child 2 out.
    children = [child(1), child(2, conflict_volunteer_ids=frozenset({11}))]
    volunteers = [volunteer(10), volunteer(11, OTHER_TOWNSHIP)]
    graph = candidate_graph(children=children, volunteers=volunteers)

    assert pairs(solve_whole(graph)) == {1: 11, 2: 10}
    greedy = greedy_baseline(graph)
    assert pairs(greedy) == {1: 10}
    assert greedy.unassigned == {2: UnassignedReason.PLACES_TAKEN}


def test_when_places_are_too_few_the_high_risk_child_goes_first() -> None:
    children = [child(1, VILLAGE, risk="low"), child(2, SAME_TOWNSHIP, risk="high")]
    volunteers = [volunteer(10, VILLAGE)]

    assert pairs(propose(children=children, volunteers=volunteers)) == {2: 10}
    assert pairs(propose(children=children, volunteers=volunteers, weights=NO_PRIORITY)) == {1: 10}


# Costs and explanations -------------------------------------------------------------------------------


def test_pair_cost_adds_distance_and_load_and_subtracts_the_bonuses() -> None:
    girl = child(1, age=12, needs=int(Need.LEGAL | Need.PSYCHOLOGICAL), former_volunteer_ids=frozenset({10}))
    lawyer = volunteer(10, specialties=int(Specialty.LAW | Specialty.HEALTH), load=2)

    # 1 km (same village, no coordinates) + 2 × 30 − 100 (法律) − 50 (same gender) − 200 (former)
    assert pair_cost(girl, lawyer) == 10 + 60 - 100 - 50 - 200
    assert pair_cost(child(2), volunteer(11, SAME_TOWNSHIP)) == 80
    assert pair_cost(child(2), volunteer(11, OTHER_TOWNSHIP)) == 250
    # Under 10, gender does not count; of 10 and over, the other gender misses the bonus.
    assert pair_cost(child(3, age=9), volunteer(12)) == pair_cost(
        child(3, age=9), volunteer(12, gender="male")
    )
    assert pair_cost(child(4, age=10), volunteer(12)) == 10 - 50
    assert pair_cost(child(4, age=10), volunteer(12, gender="male")) == 10
    # With both coordinates, the great-circle distance (here 3.2 km) replaces the tree's.
    located = child(5, latitude=29.6, longitude=119.0)
    assert pair_cost(located, volunteer(13, OTHER_TOWNSHIP, latitude=29.6288, longitude=119.0)) == 32


def test_proposals_explain_distance_fit_gender_continuity_and_load() -> None:
    girl = child(
        1,
        age=12,
        needs=int(Need.LEGAL | Need.STUDY),
        latitude=29.6,
        longitude=119.0,
        former_volunteer_ids=frozenset({10}),
    )
    lawyer = volunteer(10, specialties=int(Specialty.LAW), load=1, latitude=29.6288, longitude=119.0)

    (proposal,) = propose(children=[girl], volunteers=[lawyer]).proposals

    assert proposal.explanation == (
        "同村",
        "约 3.2 公里",
        "专长匹配：法律",
        "需求未匹配专长：学业",
        "同性别",
        "曾结对",
        "当前结对 1 人",
    )
    assert (proposal.tree_level, proposal.distance_km, proposal.fit, proposal.load) == (
        TreeLevel.VILLAGE,
        3.2,
        int(Specialty.LAW),
        1,
    )
    assert proposal.is_former_volunteer is True
    assert proposal.cost == 32 + 30 - 100 - 50 - 200


def test_explanation_without_coordinates_names_the_region_and_says_when_nothing_is_shared() -> None:
    boy = child(1, gender="male", age=11)
    (proposal,) = propose(children=[boy], volunteers=[volunteer(10, OTHER_TOWNSHIP)]).proposals

    assert proposal.explanation == ("同县（市、区）", "异性别（10 岁及以上宜同性别）", "当前无结对")
    assert proposal.distance_km is None


def test_cost_weights_are_checked() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        CostWeights(fit_bonus=-1)
    with pytest.raises(ValueError, match="grow from village to city"):
        CostWeights(township_km=30.0)


def test_summary_has_the_command_s_keys() -> None:
    result = propose(children=[child(1), child(2, has_pairing_consent=False)], volunteers=[volunteer(10)])

    summary = result.summary()

    assert {
        key: summary[key] for key in ("children", "volunteers", "proposed", "unassigned", "total_cost")
    } == {
        "children": 2,
        "volunteers": 1,
        "proposed": 1,
        "unassigned": 1,
        "total_cost": 10,
    }
    assert isinstance(summary["seconds"], float)


# The candidate search ---------------------------------------------------------------------------------


def random_region(
    seed: int, *, children: int, volunteers: int, counties: int = 3, located_share: float = 0.6
) -> tuple[list[ChildNode], list[VolunteerNode]]:
    """Villages in townships in counties of one city, people around their village's centre."""
    rng = random.Random(seed)
    villages = []
    for county in range(counties):
        county_lat, county_lon = 29.0 + rng.uniform(0, 1), 119.0 + rng.uniform(0, 1)
        for township in range(4):
            township_lat, township_lon = county_lat + rng.gauss(0, 0.08), county_lon + rng.gauss(0, 0.08)
            for village in range(5):
                code = f"3301{county + 1:02d}{township + 100:03d}{village + 1:03d}"
                villages.append((code, township_lat + rng.gauss(0, 0.02), township_lon + rng.gauss(0, 0.02)))

    def place() -> dict[str, Any]:
        code, lat, lon = rng.choice(villages)
        if rng.random() < located_share:
            return {
                "region_code": code,
                "latitude": lat + rng.gauss(0, 0.005),
                "longitude": lon + rng.gauss(0, 0.005),
            }
        return {"region_code": code}

    volunteer_nodes = [
        VolunteerNode(
            id=1000 + index,
            gender=rng.choice(["male", "female"]),
            capacity_left=rng.choice([0, 1, 1, 2, 3]),
            is_active=rng.random() < 0.95,
            check_valid=rng.random() < 0.9,
            specialties=rng.randrange(8),
            load=rng.randrange(3),
            is_mentoring_team_member=rng.random() < 0.15,
            **place(),
        )
        for index in range(volunteers)
    ]
    ids = [v.id for v in volunteer_nodes]
    child_nodes = [
        ChildNode(
            id=1 + index,
            gender=rng.choice(["male", "female"]),
            age=rng.randrange(3, 18),
            has_pairing_consent=rng.random() < 0.9,
            needs=rng.randrange(8),
            risk=rng.choice(["low", "low", "medium", "high"]),
            is_special=rng.random() < 0.05,
            conflict_volunteer_ids=frozenset(rng.sample(ids, 1)) if rng.random() < 0.1 else frozenset(),
            **place(),
        )
        for index in range(children)
    ]
    return child_nodes, volunteer_nodes


def distance_cost(child_node: ChildNode, volunteer_node: VolunteerNode) -> int:
    """The distance part of the cost, computed independently: haversine or the tree's kilometres."""
    points = (child_node.latitude, child_node.longitude, volunteer_node.latitude, volunteer_node.longitude)
    if all(value is not None for value in points):
        lat1, lon1, lat2, lon2 = (math.radians(value or 0.0) for value in points)
        a = (
            math.sin((lat2 - lat1) / 2) ** 2
            + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
        )
        km = 2 * 6371.0088 * math.asin(math.sqrt(a))
    elif child_node.region_code == volunteer_node.region_code:
        km = 1.0
    elif child_node.region_code[:9] == volunteer_node.region_code[:9]:
        km = 8.0
    else:
        km = 25.0
    return round(km * 10)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("k", [1, 3, 10])
def test_each_child_s_candidates_are_its_k_nearest_allowed_volunteers_in_the_county(
    seed: int, k: int
) -> None:
    children, volunteers = random_region(seed, children=150, volunteers=120)

    graph = candidate_graph(children=children, volunteers=volunteers, k=k)

    for row, child_node in enumerate(graph.eligible_children):
        candidates = [
            graph.eligible_volunteers[column] for column in graph.edge_volunteer[graph.edge_child == row]
        ]
        allowed = [v for v in volunteers if oracle_allows(child_node, v, volunteers, city_wide=False)]
        assert all(v in allowed for v in candidates)
        assert len(candidates) == min(k, len(allowed))
        found = sorted(distance_cost(child_node, v) for v in candidates)
        nearest = sorted(distance_cost(child_node, v) for v in allowed)[:k]
        assert found == nearest


def test_children_of_one_village_are_spread_over_equally_near_volunteers() -> None:
    children = [child(index) for index in range(1, 21)]
    volunteers = [volunteer(100 + index, SAME_TOWNSHIP) for index in range(40)]

    graph = candidate_graph(children=children, volunteers=volunteers, k=5)

    assert graph.edges == 100
    assert len(set(graph.edge_volunteer.tolist())) > 20


# Determinism, splitting, the baseline --------------------------------------------------------------------


def test_the_same_question_gets_the_same_answer_whatever_the_order() -> None:
    children, volunteers = random_region(7, children=200, volunteers=60)
    first = propose(children=children, volunteers=volunteers)

    shuffled_children, shuffled_volunteers = children[:], volunteers[:]
    random.Random(1).shuffle(shuffled_children)
    random.Random(2).shuffle(shuffled_volunteers)
    second = propose(children=shuffled_children, volunteers=shuffled_volunteers)

    assert first.proposals == second.proposals
    assert list(first.unassigned.items()) == list(second.unassigned.items())
    assert first.total_cost == second.total_cost


@pytest.mark.parametrize("city_wide", [False, True])
def test_counties_solved_apart_in_worker_processes_reach_the_whole_graph_optimum(city_wide: bool) -> None:
    # Six counties; with city-wide proposals a county without mentors borrows its neighbours'.
    children, volunteers = random_region(11, children=600, volunteers=90, counties=6)
    graph = candidate_graph(children=children, volunteers=volunteers, allow_cross_county=city_wide)

    whole = solve_whole(graph)
    split = solve_split(graph, workers=2)

    # Between optima of equal cost the chosen pairs may differ; the optimum's value may not.
    assert (split.proposed, split.objective) == (whole.proposed, whole.objective)
    assert len(split.unassigned) == len(whole.unassigned)
    assert split.proposed > 0


def test_greedy_baseline_keeps_the_rules_and_never_beats_the_optimum() -> None:
    children, volunteers = random_region(3, children=300, volunteers=50)
    graph = candidate_graph(children=children, volunteers=volunteers)

    optimum, greedy = solve_whole(graph), greedy_baseline(graph)

    taken = Counter(proposal.volunteer_id for proposal in greedy.proposals)
    by_id = {v.id: v for v in volunteers}
    assert all(count <= by_id[volunteer_id].capacity_left for volunteer_id, count in taken.items())
    assert greedy.proposed <= optimum.proposed
    if greedy.proposed == optimum.proposed:
        assert greedy.total_cost >= optimum.total_cost


# Suggestions for one child ----------------------------------------------------------------------------


def test_suggestions_list_the_five_cheapest_allowed_volunteers_cheapest_first() -> None:
    girl = child(1, age=12, needs=int(Need.PSYCHOLOGICAL))
    volunteers = [
        volunteer(10, OTHER_TOWNSHIP),  # 250 − 50 = 200
        volunteer(11, SAME_TOWNSHIP),  # 80 − 50 = 30
        volunteer(12, VILLAGE, gender="male", load=2),  # 10 + 60 = 70
        volunteer(13, SAME_TOWNSHIP, specialties=int(Specialty.PSYCHOLOGY)),  # 80 − 100 − 50 = −70
        volunteer(14, VILLAGE),  # 10 − 50 = −40
        volunteer(15, VILLAGE, is_active=False),
        volunteer(16, VILLAGE, capacity_left=0),
        volunteer(17, NEIGHBOUR_VILLAGE),
        volunteer(18, SAME_TOWNSHIP, gender="male"),  # 80
        volunteer(19, OTHER_TOWNSHIP),  # 200, after 10 by id
    ]

    suggestions = suggest_for_child(child=girl, volunteers=volunteers)

    assert [(s.volunteer_id, s.cost) for s in suggestions] == [
        (13, -70),
        (14, -40),
        (11, 30),
        (12, 70),
        (18, 80),
    ]
    assert suggestions[0].explanation == ("同乡镇（街道）", "专长匹配：心理", "同性别", "当前无结对")
    assert [s.volunteer_id for s in suggest_for_child(child=girl, volunteers=volunteers, limit=7)][5:] == [
        10,
        19,
    ]


def test_no_suggestions_without_consent() -> None:
    assert suggest_for_child(child=child(1, has_pairing_consent=False), volunteers=[volunteer(10)]) == []
