"""The indicators against a hand-counted fixture spread over two counties, three townships and four
villages (see `world`)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from guanai.accounts.selectors import actor_for_user
from guanai.committees.tests.factories import CommitteeFactory
from guanai.consultations.tests.factories import ConsultationFactory
from guanai.core.errors import NotFoundError, ValidationFailed
from guanai.core.region_codes import RegionLevel
from guanai.core.testing import count_queries
from guanai.dashboards.indicators import (
    COUNTY_ONLY,
    RISK_KEYS,
    Figure,
    Indicators,
    _count,
    _protected_rows,
    _summed,
    figure_keys,
    indicators_for,
    parse_period,
)
from guanai.mentoring.models import MentoringCase
from guanai.minors.tests.factories import (
    COMMUNITY_A,
    COMMUNITY_B,
    VILLAGE_A,
    ConsentFactory,
    MinorFactory,
)
from guanai.pairings.models import MandatoryReport
from guanai.pairings.tests.factories import MandatoryReportFactory, PairingFactory, VisitFactory
from guanai.regions.models import Region
from guanai.volunteers.tests.factories import TeamFactory, VolunteerFactory

COUNTY_A = "330127000000"
COUNTY_B = "330182000000"
CITY = "330100000000"
TOWNSHIP_1 = "330127100000"  # 千岛湖镇: VILLAGE_A, COMMUNITY_A
TOWNSHIP_2 = "330127101000"  # added for the tests
VILLAGE_2 = "330127101001"
TOWNSHIP_B = "330182001000"


def _month(day: datetime.date) -> str:
    return f"{day:%Y-%m}"


@pytest.fixture
def world(personas: dict[str, Any]) -> dict[str, Any]:
    Region.objects.create(code=TOWNSHIP_2, name="测试镇", short_name="测试", level=4, parent_id=COUNTY_A)
    Region.objects.create(code=VILLAGE_2, name="测试村", short_name="测试", level=5, parent_id=TOWNSHIP_2)
    today = timezone.localdate()
    first = today.replace(day=1)
    year_earlier = first.replace(year=first.year - 1)
    elder = VolunteerFactory.create(region_id=VILLAGE_A, hours_total=Decimal("150"))
    VolunteerFactory.create(region_id=COMMUNITY_B)

    # VILLAGE_A: 3 left-behind children at low risk with a pairing consent, 2 of them paired (overdue).
    village_a = [MinorFactory.create(region_id=VILLAGE_A, categories=1, risk_level="low") for _ in range(3)]
    for minor in village_a:
        ConsentFactory.create(minor=minor, given_on=year_earlier)
    pairings = [PairingFactory.create(minor=minor, volunteer=elder) for minor in village_a[:2]]
    visit = VisitFactory.create(pairing=pairings[0], visited_on=first)
    VisitFactory.create(pairing=pairings[1], visited_on=first)
    MandatoryReportFactory.create(visit=visit, minor=village_a[0])
    MinorFactory.create(region_id=VILLAGE_A, status="closed", closed_reason="moved_away")

    # COMMUNITY_A: 6 children, groups 1 and 2, need 1, 5 at low risk and 1 at high risk; no consent.
    for index in range(6):
        MinorFactory.create(
            region_id=COMMUNITY_A, categories=3, needs=1, risk_level="high" if index == 0 else "low"
        )

    # VILLAGE_2: 2 children at medium risk with consent, 1 paired (not overdue), visited a year earlier.
    village_2 = [
        MinorFactory.create(region_id=VILLAGE_2, categories=1, risk_level="medium") for _ in range(2)
    ]
    for minor in village_2:
        ConsentFactory.create(minor=minor, given_on=year_earlier)
    pairing_2 = PairingFactory.create(
        minor=village_2[0],
        volunteer=elder,
        started_on=year_earlier - datetime.timedelta(days=30),
        next_contact_due=today + datetime.timedelta(days=5),
    )
    VisitFactory.create(pairing=pairing_2, visited_on=year_earlier)

    # COMMUNITY_B: 4 children at low risk and one sealed record.
    for _ in range(4):
        MinorFactory.create(region_id=COMMUNITY_B, categories=1, risk_level="low")
    sealed = MinorFactory.create(
        region_id=COMMUNITY_B, categories=128, is_sealed=True, special_kind="misconduct"
    )
    # One open mentoring case of the sealed record, and one that was open a year earlier, closed since.
    officer = personas["county_b_admin"]
    MentoringCase.objects.create(reference="BJ-TEST-1", minor=sealed, region_id=COUNTY_B, officer=officer)
    MentoringCase.objects.create(
        reference="BJ-TEST-2",
        minor=sealed,
        region_id=COUNTY_B,
        officer=officer,
        state="closed",
        outcome="reintegrated",
        opened_at=timezone.now() - datetime.timedelta(days=500),
        closed_at=timezone.now() - datetime.timedelta(days=200),
    )

    TeamFactory.create(committee=CommitteeFactory.create(region_id=VILLAGE_A))
    return {"period": _month(today), "personas": personas, "today": today}


def _indicators(world: dict[str, Any], persona: str, region: str, period: str | None = None) -> Indicators:
    actor = actor_for_user(world["personas"][persona])
    return indicators_for(actor=actor, region_code=region, period=period or world["period"])


def _row(result: Indicators, code: str) -> dict[str, Any]:
    item = next(item for item in result.children if item.code == code)
    return {key: figure.current for key, figure in item.figures.items()}


def _total(result: Indicators) -> dict[str, Any]:
    return {key: figure.current for key, figure in result.total.figures.items()}


def test_county_figures_match_the_hand_count(world: dict[str, Any]) -> None:
    result = _indicators(world, "county_a_admin", COUNTY_A)
    total = _total(result)
    assert total["children"] == 11
    assert total["children.category.1"] == 11
    assert total["children.category.2"] == 6
    assert total["children.need.1"] == 6
    assert total["children.risk.low"] == 8
    assert total["children.risk.medium"] == 2
    assert total["children.risk.high"] == 1
    assert total["eligible"] == 5
    assert total["paired"] == 3
    assert result.total.coverage.current == 0.6
    assert total["visits"] == 2
    assert total["overdue"] == 2
    assert total["open_reports"] == 1
    assert total["volunteers"] == 1
    assert total["volunteers.star.1"] == 1
    assert total["volunteers.star.0"] == 0
    assert total["teams"] == 1
    assert total["sealed_children"] == 0
    assert [item.code for item in result.children] == [TOWNSHIP_1, TOWNSHIP_2]


def test_year_earlier_values(world: dict[str, Any]) -> None:
    result = _indicators(world, "county_a_admin", COUNTY_A)
    earlier = {key: figure.year_earlier for key, figure in result.total.figures.items()}
    assert result.year_earlier_period == f"{world['today'].year - 1}-{world['today'].month:02d}"
    assert earlier["children"] == 0  # every child was registered this year
    assert earlier["visits"] == 1
    assert earlier["paired"] == 0  # the children were not on the register yet
    assert earlier["open_reports"] == 0
    assert earlier["overdue"] is None
    assert earlier["volunteers.star.0"] is None
    assert earlier["volunteers"] == 1  # joined in 2024


def test_open_report_of_a_year_earlier_counts_in_both_periods(world: dict[str, Any]) -> None:
    earlier = timezone.now() - datetime.timedelta(days=366)
    MandatoryReport.objects.update(opened_at=earlier)
    result = _indicators(world, "province_admin", "330000000000")
    assert result.total.figures["open_reports"].current == 1
    assert result.total.figures["open_reports"].year_earlier == 1


def test_small_counts_below_county_show_as_fewer_than_five(world: dict[str, Any]) -> None:
    result = _indicators(world, "county_a_admin", COUNTY_A)
    township_1 = _row(result, TOWNSHIP_1)
    township_2 = _row(result, TOWNSHIP_2)
    assert township_1["children"] is None  # withheld: 11 − 9 would give township 2's "<5"
    assert township_1["children.risk.high"] == "<5"
    # The only other non-zero risk cell of the row is withheld, so 9 − low cannot give the high count.
    assert township_1["children.risk.low"] is None
    assert township_2["children"] == "<5"
    assert township_2["children.risk.medium"] == "<5"
    assert township_1["open_reports"] == "<5"
    assert township_1["eligible"] == "<5"
    # Not sensitive: shown as counted.
    assert township_1["visits"] == 2
    assert township_1["overdue"] == 2
    # The share of a row whose counts are suppressed is withheld.
    assert next(item for item in result.children if item.code == TOWNSHIP_1).coverage.current is None


def test_children_rows_withhold_a_complement_so_no_subtraction_recovers_a_small_cell(
    world: dict[str, Any],
) -> None:
    result = _indicators(world, "county_a_admin", COUNTY_A)
    # County total 11 = township 1 (9) + township 2 (2): with 2 shown as "<5", the 9 is withheld too.
    assert _row(result, TOWNSHIP_1)["children.category.1"] is None
    assert _row(result, TOWNSHIP_2)["children.category.1"] == "<5"


def test_counts_at_county_level_are_not_suppressed(world: dict[str, Any]) -> None:
    result = _indicators(world, "province_admin", CITY)
    county_b = _row(result, COUNTY_B)
    assert county_b["children"] == 4
    assert county_b["children.risk.low"] == 4
    assert county_b["sealed_children"] == 1
    assert _row(result, COUNTY_A)["children.risk.high"] == 1


def test_sealed_records_are_never_counted_below_county(world: dict[str, Any]) -> None:
    county = _indicators(world, "county_b_admin", COUNTY_B)
    assert county.total.figures["sealed_children"].current == 1
    assert county.total.figures["children"].current == 4
    assert all("sealed_children" not in item.figures for item in county.children)
    township = _indicators(world, "county_b_admin", TOWNSHIP_B)
    assert "sealed_children" not in township.total.figures
    assert township.total.figures["children.category.128"].current == 0


def test_mentoring_cases_are_counted_at_county_level_and_above_only(world: dict[str, Any]) -> None:
    county = _indicators(world, "county_b_admin", COUNTY_B)
    assert county.total.figures["mentoring_cases"] == Figure(current=1, year_earlier=1)
    assert all("mentoring_cases" not in item.figures for item in county.children)
    city = _indicators(world, "province_admin", CITY)
    by_code = {item.code: item for item in city.children}
    assert by_code[COUNTY_B].figures["mentoring_cases"].current == 1
    assert by_code[COUNTY_A].figures["mentoring_cases"].current == 0
    assert "mentoring_cases" not in _indicators(world, "county_b_admin", TOWNSHIP_B).total.figures


@pytest.mark.parametrize("region", [COUNTY_A, TOWNSHIP_1, CITY])
def test_parent_equals_the_sum_of_its_children(world: dict[str, Any], region: str) -> None:
    parent = _indicators(world, "province_admin", region)
    additive = [key for key in figure_keys(code=region, is_current=True) if key not in COUNTY_ONLY]
    for key in additive:
        expected = parent.total.figures[key].current
        rows = [
            _indicators(world, "province_admin", item.code).total.figures[key].current
            for item in parent.children
            if not item.is_own_level
        ]
        unsuppressed = [value for value in rows if isinstance(value, int)]
        if len(unsuppressed) == len(rows) and isinstance(expected, int):
            assert expected == sum(unsuppressed), key


def test_parent_equals_the_sum_of_its_children_before_suppression(world: dict[str, Any]) -> None:
    period = parse_period(world["period"])
    keys = figure_keys(code=COUNTY_A, is_current=True)
    for parent, level in ((CITY, RegionLevel.COUNTY), (COUNTY_A, RegionLevel.TOWNSHIP)):
        length = {RegionLevel.COUNTY: 6, RegionLevel.TOWNSHIP: 9}[level]
        by_child = _count(parent, length, period, is_current=True, today=world["today"])
        total = _summed(by_child, keys)
        for child in by_child:
            child_length = length + 3 if length == 6 else 12
            of_child = _count(child, child_length, period, is_current=True, today=world["today"])
            assert _summed(of_child, keys) == {key: by_child[child].get(key, 0) for key in keys}
        assert total["children"] == (15 if parent == CITY else 11)


def test_region_outside_the_actor_is_not_found(world: dict[str, Any]) -> None:
    with pytest.raises(NotFoundError):
        _indicators(world, "county_a_admin", COUNTY_B)
    with pytest.raises(NotFoundError):
        _indicators(world, "county_a_admin", CITY)  # an ancestor: visible, but not inside the actor's


def test_bad_period_is_refused(world: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed):
        _indicators(world, "county_a_admin", COUNTY_A, period="2026-13")


def test_query_count_does_not_grow_with_the_child_regions(world: dict[str, Any]) -> None:
    actor = actor_for_user(world["personas"]["province_admin"])
    with count_queries() as few:
        indicators_for(actor=actor, region_code=COUNTY_A, period=world["period"])
    for index in range(3):
        code = f"33012710{index + 2}000"
        Region.objects.create(code=code, name=f"新镇{index}", short_name="新", level=4, parent_id=COUNTY_A)
        MinorFactory.create(region_id=code)
    with count_queries() as more:
        indicators_for(actor=actor, region_code=COUNTY_A, period=world["period"])
    # The regions, the snapshot lookup (none built: counted live), 9 grouped counts now and 8 a year earlier.
    assert len(few) == len(more) == 19


def test_consultations_by_kind_with_service_levels_and_satisfaction(world: dict[str, Any]) -> None:
    now = timezone.now()
    ConsultationFactory.create(region_id=COMMUNITY_A, first_reply_at=now, reply_breached=False, rating=5)
    ConsultationFactory.create(region_id=COMMUNITY_A, first_reply_at=now, reply_breached=True, rating=2)
    ConsultationFactory.create(region_id=VILLAGE_2)
    result = _indicators(world, "county_a_admin", COUNTY_A)
    total = _total(result)
    assert total["consultations.psychological"] == 3
    assert total["consultations.legal"] == 0
    assert total["consultations.psychological.reply_measured"] == 2
    assert total["consultations.psychological.reply_on_time"] == 1
    assert total["consultations.psychological.rating_sum"] == 7
    assert result.total.service["psychological"].reply_on_time_share == 0.5
    assert result.total.service["psychological"].average_rating == 3.5
    assert result.total.service["legal"].average_rating is None
    assert _row(result, TOWNSHIP_1)["consultations.psychological"] == 2
    assert _row(result, TOWNSHIP_2)["consultations.psychological"] == 1


def test_protected_rows_hide_small_cells_and_their_complements_only_below_county() -> None:
    low, medium, high = "children.risk.low", "children.risk.medium", "children.risk.high"
    keys = ["children", *RISK_KEYS, "visits"]
    assert set(RISK_KEYS) == {low, medium, high}
    rows = [
        # Township: one small risk cell, so the smallest other non-zero risk cell is withheld as well.
        {"children": 9, high: 2, medium: 0, low: 7, "visits": 3},
        # Township: a small total; visits are not sensitive and stay shown.
        {"children": 3, high: 0, medium: 3, low: 0, "visits": 1},
        # The county's own row: its small cells are not hidden for being small, but its cells take part
        # in the groups of the rows (whose sum is the shown total).
        {"children": 6, high: 1, medium: 0, low: 5, "visits": 2},
    ]
    levels = [RegionLevel.TOWNSHIP, RegionLevel.TOWNSHIP, RegionLevel.COUNTY]
    protected = _protected_rows(rows, levels, keys)
    assert [list(row) for row in protected] == [keys] * 3
    assert protected == [
        {"children": 9, high: "<5", medium: 0, low: None, "visits": 3},
        {"children": "<5", high: 0, medium: "<5", low: 0, "visits": 1},
        # Each column with exactly one hidden non-zero cell loses its smallest shown non-zero cell too:
        # children 3 → the 6; low 7 → the 5; high 2 → the 1 ("<5"); medium has no other non-zero cell.
        {"children": None, high: "<5", medium: 0, low: None, "visits": 2},
    ]


def test_summed_adds_each_key_over_the_areas_and_ignores_other_keys() -> None:
    counts = {"a": {"children": 2, "visits": 1, "unknown": 9}, "b": {"children": 3}}
    assert _summed(counts, ["children", "visits", "teams"]) == {"children": 5, "visits": 1, "teams": 0}
