"""The daily snapshots of the indicators against the live counts of the hand-counted world of
`test_indicators` (two counties, three townships, four villages), with a few records filed at a county's
and a township's own code."""

from __future__ import annotations

import dataclasses
import datetime
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from guanai.accounts.selectors import actor_for_user
from guanai.core.errors import NotFoundError, ValidationFailed
from guanai.core.testing import count_queries
from guanai.dashboards.indicators import COUNTY_ONLY, Indicators, Period, indicators_for
from guanai.dashboards.models import IndicatorSnapshot
from guanai.dashboards.snapshots import (
    indicator_trend,
    snapshot_build,
    snapshot_counts,
    snapshot_refresh,
)
from guanai.dashboards.tests import test_indicators
from guanai.dashboards.tests.test_indicators import (
    COUNTY_A,
    COUNTY_B,
    TOWNSHIP_1,
    TOWNSHIP_2,
    TOWNSHIP_B,
    VILLAGE_2,
)
from guanai.minors.tests.factories import COMMUNITY_A, VILLAGE_A, MinorFactory
from guanai.regions.models import Region
from guanai.volunteers.tests.factories import VolunteerFactory

PROVINCE = "330000000000"
world = test_indicators.world


@pytest.fixture
def more(world: dict[str, Any]) -> dict[str, Any]:
    """The world, plus a child filed at county A's own code, a volunteer at township 1's own code and a
    sealed record in a village of county A."""
    MinorFactory.create(region_id=COUNTY_A, categories=1, risk_level="low")
    VolunteerFactory.create(region_id=TOWNSHIP_1)
    MinorFactory.create(region_id=VILLAGE_2, categories=128, is_sealed=True, special_kind="misconduct")
    today = world["today"]
    world["month"] = Period(today.year, today.month)
    return world


def _province_admin(world: dict[str, Any]) -> Any:
    return actor_for_user(world["personas"]["province_admin"])


def _every_region() -> list[str]:
    return list(Region.objects.order_by("code").values_list("code", flat=True))


def _without_source(result: Indicators) -> Indicators:
    return dataclasses.replace(result, source="", as_of=None)


def _rows() -> list[tuple[str, int, str, dict[str, int], datetime.date]]:
    return list(
        IndicatorSnapshot.objects.order_by("period", "depth", "area").values_list(
            "period", "depth", "area", "counts", "computed_for"
        )
    )


def test_snapshot_gives_the_live_indicators_of_every_region_at_every_level(more: dict[str, Any]) -> None:
    # No actor (the operator's command line): every province of the tree, not only the admin's.
    actor, today, month = None, more["today"], more["month"]
    periods = [str(month), str(month.year_earlier())]
    codes = _every_region()
    assert {len(code.rstrip("0")) > 9 for code in codes} == {True, False}  # villages and the levels above
    live = {
        (code, period): indicators_for(actor=actor, region_code=code, period=period, today=today)
        for code in codes
        for period in periods
    }
    for built in (month, month.year_earlier(), month.year_earlier().year_earlier()):
        snapshot_build(period=built, today=today)
    for (code, period), expected in live.items():
        result = indicators_for(actor=actor, region_code=code, period=period, today=today)
        assert (expected.source, result.source) == ("live", "snapshot"), (code, period)
        assert result.as_of == today
        assert _without_source(result) == _without_source(expected), (code, period)
    # The rows of county A by township include its own level (the child filed at its own code).
    county = live[(COUNTY_A, str(month))]
    assert [item.code for item in county.children] == [TOWNSHIP_1, TOWNSHIP_2, COUNTY_A]
    assert county.total.figures["sealed_children"].current == 1
    # County B's only records at its own code are a mentoring case: no row (nothing of it is shown there).
    county_b = live[(COUNTY_B, str(month))]
    assert [item.code for item in county_b.children] == [TOWNSHIP_B]
    assert county_b.total.figures["mentoring_cases"].current == 1


def test_a_year_stays_live_and_a_missing_year_earlier_snapshot_means_live(more: dict[str, Any]) -> None:
    actor, today, month = _province_admin(more), more["today"], more["month"]
    snapshot_build(period=month, today=today)
    assert indicators_for(actor=actor, region_code=PROVINCE, period=str(month), today=today).source == "live"
    snapshot_build(period=month.year_earlier(), today=today)
    assert (
        indicators_for(actor=actor, region_code=PROVINCE, period=str(month), today=today).source == "snapshot"
    )
    assert (
        indicators_for(actor=actor, region_code=PROVINCE, period=str(month.year), today=today).source
        == "live"
    )


def test_rows_of_each_depth_partition_the_records(more: dict[str, Any]) -> None:
    rows_written = snapshot_build(period=more["month"], today=more["today"])
    rows = IndicatorSnapshot.objects.filter(period=str(more["month"]))
    assert rows.count() == rows_written
    by_depth: dict[int, dict[str, dict[str, int]]] = {}
    for row in rows:
        by_depth.setdefault(row.depth, {})[row.area] = row.counts
    for depth, areas in by_depth.items():
        # 11 + 1 children in county A (one at its own code), 4 in county B; sealed ones never among them.
        assert sum(counts.get("children", 0) for counts in areas.values()) == 16, depth
        assert sum(counts.get("volunteers", 0) for counts in areas.values()) == 3, depth
    assert by_depth[12][VILLAGE_A]["children"] == 3
    assert by_depth[12][COMMUNITY_A]["children"] == 6
    assert by_depth[9]["330127000000"]["children"] == 1  # filed at the county's own code
    assert by_depth[12][TOWNSHIP_1]["volunteers"] == 1  # filed at the township's own code
    assert by_depth[9][TOWNSHIP_1]["volunteers"] == 2
    assert by_depth[6][COUNTY_A]["children"] == 12
    assert by_depth[6][COUNTY_B]["sealed_children"] == 1
    assert by_depth[6][COUNTY_B]["mentoring_cases"] == 1
    assert by_depth[6][COUNTY_A]["sealed_children"] == 1
    assert by_depth[2][PROVINCE]["sealed_children"] == 2
    assert all(
        value != 0 for areas in by_depth.values() for counts in areas.values() for value in counts.values()
    )


def test_sealed_figures_are_never_stored_below_county(more: dict[str, Any]) -> None:
    snapshot_build(period=more["month"], today=more["today"])
    snapshot_build(period=more["month"].year_earlier(), today=more["today"])
    below = IndicatorSnapshot.objects.filter(depth__in=[9, 12])
    assert below.count() > 0
    assert [row.counts for row in below if set(row.counts) & set(COUNTY_ONLY)] == []
    above = IndicatorSnapshot.objects.filter(depth__lte=6)
    assert any("mentoring_cases" in row.counts for row in above)


def test_reader_files_the_sealed_figures_of_a_county_under_its_own_code(more: dict[str, Any]) -> None:
    snapshot_build(period=more["month"], today=more["today"])
    found = snapshot_counts(code=COUNTY_B, length=9, period=more["month"])
    assert found is not None
    assert found.computed_for == more["today"]
    assert found.counts[COUNTY_B] == {"sealed_children": 1, "mentoring_cases": 1}
    assert found.counts["330182001000"]["children"] == 4
    assert snapshot_counts(code=COUNTY_B, length=9, period=more["month"].year_earlier()) is None


def test_an_empty_period_is_still_marked_as_built(more: dict[str, Any]) -> None:
    empty = Period(2001, 1)
    provinces = Region.objects.filter(parent__isnull=True).count()
    assert provinces == 2
    assert snapshot_build(period=empty, today=more["today"]) == provinces  # one marker row each
    found = snapshot_counts(code=COUNTY_A, length=9, period=empty)
    assert found is not None
    assert found.counts == {}


def test_refresh_is_idempotent(more: dict[str, Any]) -> None:
    day = datetime.date(more["today"].year, more["today"].month, 15)
    first = snapshot_refresh(today=day)
    rows = _rows()
    second = snapshot_refresh(today=day)
    assert first == second == {f"{day:%Y-%m}": len(rows)}
    assert _rows() == rows


def test_refresh_rebuilds_the_previous_month_during_the_first_three_days(more: dict[str, Any]) -> None:
    assert list(snapshot_refresh(today=datetime.date(2026, 1, 3))) == ["2025-12", "2026-01"]
    assert list(snapshot_refresh(today=datetime.date(2026, 1, 4))) == ["2026-01"]
    assert list(snapshot_refresh(today=datetime.date(2026, 3, 1))) == ["2026-02", "2026-03"]
    assert set(IndicatorSnapshot.objects.values_list("period", flat=True)) == {
        "2025-12",
        "2026-01",
        "2026-02",
        "2026-03",
    }


def test_refresh_uses_the_local_day(more: dict[str, Any], time_machine: Any) -> None:
    # 2026-02-28 17:00 UTC is 2026-03-01 01:00 in Asia/Shanghai: the first day of March.
    time_machine.move_to(datetime.datetime(2026, 2, 28, 17, 0, tzinfo=datetime.UTC), tick=False)
    assert list(snapshot_refresh()) == ["2026-02", "2026-03"]
    assert set(IndicatorSnapshot.objects.values_list("computed_for", flat=True)) == {
        datetime.date(2026, 3, 1)
    }


def test_command_backfills_a_range_of_months(more: dict[str, Any]) -> None:
    out = StringIO()
    call_command("snapshot_indicators", "--from", "2025-11", "--to", "2026-02", stdout=out)
    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert all(" rows in " in line for line in lines)
    assert sorted(set(IndicatorSnapshot.objects.values_list("period", flat=True))) == [
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
    ]


def test_command_builds_one_month_or_the_current_one(more: dict[str, Any]) -> None:
    call_command("snapshot_indicators", "--period", "2025-07", stdout=StringIO())
    call_command("snapshot_indicators", stdout=StringIO())
    assert set(IndicatorSnapshot.objects.values_list("period", flat=True)) == {"2025-07", str(more["month"])}
    with pytest.raises(CommandError):
        call_command("snapshot_indicators", "--period", "2025", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("snapshot_indicators", "--from", "2026-02", "--to", "2026-01", stdout=StringIO())


def _trend(world: dict[str, Any], region: str, months: int = 13) -> list[tuple[str, dict[str, Any]]]:
    return indicator_trend(
        actor=_province_admin(world), region_code=region, period=str(world["month"]), months=months
    )


def test_trend_of_a_county_counted_by_hand(more: dict[str, Any]) -> None:
    month = more["month"]
    trend = _trend(more, COUNTY_A)
    assert trend[0][0] == str(month.year_earlier())
    assert trend[-1][0] == str(month)
    assert len(trend) == 13
    # Every child was registered this month; the visits: 1 a year earlier, 2 this month.
    assert [cells["children"] for _period, cells in trend] == [0] * 12 + [12]
    assert [cells["visits"] for _period, cells in trend] == [1] + [0] * 11 + [2]
    # The elder joined long ago; the township's volunteer has no joining day: both in every month.
    assert [cells["volunteers"] for _period, cells in trend] == [2] * 13
    # Overdue pairings and stars have no history: only the asked month has them.
    assert [cells["overdue"] for _period, cells in trend] == [None] * 12 + [2]
    assert trend[-1][1]["sealed_children"] == 1
    county_b = _trend(more, COUNTY_B)
    assert county_b[0][1]["mentoring_cases"] == 1  # the case closed since was open a year earlier
    assert county_b[-1][1]["mentoring_cases"] == 1


def test_trend_reads_the_snapshots_and_counts_the_missing_months_live(more: dict[str, Any]) -> None:
    live = _trend(more, COUNTY_A)
    snapshot_build(period=more["month"], today=more["today"])
    snapshot_build(period=more["month"].year_earlier(), today=more["today"])
    # A snapshot that differs from the records shows which months were read from it.
    row = IndicatorSnapshot.objects.get(period=str(more["month"].year_earlier()), depth=6, area=COUNTY_A)
    row.counts = {**row.counts, "teams": 7}
    row.save(update_fields=["counts"])
    mixed = _trend(more, COUNTY_A)
    assert [cells["teams"] for _period, cells in mixed] == [7] + [0] * 11 + [1]
    assert mixed[1:] == live[1:]
    assert {key: value for key, value in mixed[0][1].items() if key != "teams"} == {
        key: value for key, value in live[0][1].items() if key != "teams"
    }


def test_trend_ends_with_the_total_of_the_dashboard(more: dict[str, Any]) -> None:
    result = indicators_for(actor=_province_admin(more), region_code=TOWNSHIP_1, period=str(more["month"]))
    assert _trend(more, TOWNSHIP_1)[-1][1] == {
        key: figure.current for key, figure in result.total.figures.items()
    }


def test_trend_suppresses_small_numbers_below_county(more: dict[str, Any]) -> None:
    trend = _trend(more, TOWNSHIP_2, months=2)
    assert trend[-1][1]["children"] == "<5"
    assert trend[-1][1]["children.risk.medium"] == "<5"
    assert trend[-1][1]["visits"] == 0  # not sensitive
    assert trend[0][1]["children"] == 0
    assert "sealed_children" not in trend[-1][1]
    assert _trend(more, COUNTY_A, months=1)[0][1]["children.risk.high"] == 1  # counties are not suppressed


def test_trend_is_by_month_within_the_actor(more: dict[str, Any]) -> None:
    actor = actor_for_user(more["personas"]["county_a_admin"])
    with pytest.raises(ValidationFailed):
        indicator_trend(actor=actor, region_code=COUNTY_A, period=str(more["month"].year))
    with pytest.raises(NotFoundError):
        indicator_trend(actor=actor, region_code=COUNTY_B, period=str(more["month"]))


def test_province_dashboard_from_snapshots_makes_two_queries(more: dict[str, Any]) -> None:
    actor, today, month = _province_admin(more), more["today"], more["month"]
    snapshot_build(period=month, today=today)
    snapshot_build(period=month.year_earlier(), today=today)
    for code in (PROVINCE, COUNTY_A, TOWNSHIP_1):
        with count_queries() as queries:
            result = indicators_for(actor=actor, region_code=code, period=str(month), today=today)
        assert result.source == "snapshot"
        assert len(queries) == 2, code  # the regions, the snapshot rows of both periods
