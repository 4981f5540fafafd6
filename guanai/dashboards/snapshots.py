"""Daily snapshots of the indicators (issue 8, point 5): the dashboards read stored counts instead of
grouping a province's records on every request.

A build counts each province once, by village (`_count` at 12 digits), and rolls the counts up in Python to
every shorter prefix (9, 6, 4 and 2 digits): counts are additive, and the prefix of a 12-digit code is what
`Substr(region_id, 1, length)` gives, so the rows of one depth partition the records exactly as a live
count grouped at that length does. Counts of sealed records (`COUNTY_ONLY`) are stored only at depths 2, 4
and 6 (county and above), never per township or village, so that they are not kept at rest where they
would point at a child. Only non-zero counts are stored; every province always gets its depth-2 row, which
marks the period as built (and carries the day it was built for) even when it holds nothing.

The reader returns a `Counts` as `_count` would for the same code and length, with one difference: for a
county asked by township (length 9), the sealed figures, kept at county depth only, are filed under the
county's own code. `indicators_for` leaves them out of the rows below county level anyway and adds them to
the total, where they belong.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanai.core import region_codes
from guanai.core.access import Actor
from guanai.core.errors import ValidationFailed
from guanai.core.region_codes import PREFIX_LENGTH, RegionLevel
from guanai.dashboards.indicators import (
    COUNTY_ONLY,
    Cell,
    Counts,
    Period,
    _count,
    _protected_rows,
    _summed,
    figure_keys,
    indicator_region,
    is_county_or_above,
    parse_period,
)
from guanai.dashboards.models import IndicatorSnapshot
from guanai.regions.models import Region

DEPTHS = (2, 4, 6, 9, 12)
COUNTY_DEPTH = PREFIX_LENGTH[RegionLevel.COUNTY]
BATCH_SIZE = 2000
SNAPSHOT_LOCK = 0x5A4E  # the advisory lock namespace of snapshot builds (any other use picks another)
# Days at the start of a month during which the previous month is rebuilt too (late corrections).
LATE_CORRECTION_DAYS = 3
# Figures that depend on today's due days and hours: a period read as "a year earlier" has none.
WITHOUT_HISTORY = frozenset({"overdue", *(f"volunteers.star.{stars}" for stars in range(6))})


@dataclass(frozen=True)
class SnapshotCounts:
    counts: Counts
    computed_for: datetime.date


# --- Building -------------------------------------------------------------------------------------------


def _padded(code: str, depth: int) -> str:
    return code[:depth].ljust(region_codes.CODE_LENGTH, "0")


def _rolled_up(by_village: Counts) -> dict[int, Counts]:
    """The village counts summed by every prefix length; sealed figures only at county depth and above,
    zeros left out."""
    by_depth: dict[int, Counts] = {depth: {} for depth in DEPTHS}
    for area, figures in by_village.items():
        for depth in DEPTHS:
            kept = {
                key: value
                for key, value in figures.items()
                if value and (depth <= COUNTY_DEPTH or key not in COUNTY_ONLY)
            }
            if not kept:
                continue
            target = by_depth[depth].setdefault(_padded(area, depth), {})
            for key, value in kept.items():
                target[key] = target.get(key, 0) + value
    return by_depth


def snapshot_build(*, period: Period, today: datetime.date | None = None) -> int:
    """Count every province for a month and replace that month's snapshot in one transaction; the number
    of rows written."""
    if period.is_year:
        raise ValueError("snapshots are built by month")
    today = today or timezone.localdate()
    computed_at = timezone.now()
    rows: list[IndicatorSnapshot] = []
    for province in (
        Region.objects.filter(parent__isnull=True).order_by("code").values_list("code", flat=True)
    ):
        by_depth = _rolled_up(
            _count(province, region_codes.CODE_LENGTH, period, is_current=True, today=today)
        )
        by_depth[2].setdefault(_padded(province, 2), {})  # the marker row: this province was built
        rows += [
            IndicatorSnapshot(
                period=str(period),
                depth=depth,
                area=area,
                counts=counts,
                computed_at=computed_at,
                computed_for=today,
            )
            for depth, areas in by_depth.items()
            for area, counts in sorted(areas.items())
        ]
    with transaction.atomic():
        _lock_period(period)
        IndicatorSnapshot.objects.filter(period=str(period)).delete()
        IndicatorSnapshot.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    return len(rows)


def _lock_period(period: Period) -> None:
    """Two builds of one period at once (the hourly task and a backfill) take turns: without the lock the
    second one's delete, blind to the rows the first has just inserted, would collide with them on the
    unique index. SQLite writes one transaction at a time anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)",
                [SNAPSHOT_LOCK, period.year * 100 + (period.month or 0)],
            )


def _previous_month(period: Period) -> Period:
    assert period.month is not None
    return Period(period.year - 1, 12) if period.month == 1 else Period(period.year, period.month - 1)


def snapshot_refresh(*, today: datetime.date | None = None) -> dict[str, int]:
    """Rebuild the current month, and the previous one too during the first days of a month (records of
    the month that ended are still being entered): rows written by period. Running it twice writes the
    same rows."""
    today = today or timezone.localdate()
    current = Period(today.year, today.month)
    periods = [current]
    if today.day <= LATE_CORRECTION_DAYS:
        periods.insert(0, _previous_month(current))
    return {str(period): snapshot_build(period=period, today=today) for period in periods}


def month_range(first: Period, last: Period) -> list[Period]:
    """The months from `first` to `last`, both included."""
    months: list[Period] = []
    month = last
    while (month.year, month.month or 0) >= (first.year, first.month or 0):
        months.append(month)
        month = _previous_month(month)
    return list(reversed(months))


# --- Reading --------------------------------------------------------------------------------------------


def snapshot_counts_for(
    *, code: str, length: int, periods: Mapping[Period, bool]
) -> dict[Period, SnapshotCounts]:
    """The counts of `code`'s subtree grouped by `length` digits, for each of `periods` (each marked
    whether it is read as the current period) whose snapshot was built, in one query. A period read as
    not current has no figures that lack a history (`WITHOUT_HISTORY`), as `_count(is_current=False)`."""
    months = {str(period): period for period in periods if not period.is_year}
    if not months:
        return {}
    low, high = region_codes.subtree_range(code)
    province = _padded(code, 2)
    # Each branch is a range on the unique index (period, depth, area).
    wanted = Q(depth=length, area__gte=low, area__lte=high) | Q(depth=2, area=province)
    needs_county_figures = is_county_or_above(code) and length > COUNTY_DEPTH
    if needs_county_figures:
        wanted |= Q(depth=COUNTY_DEPTH, area__gte=low, area__lte=high)
    rows = IndicatorSnapshot.objects.filter(wanted, period__in=list(months)).values_list(
        "period", "depth", "area", "counts", "computed_for"
    )
    built: dict[str, datetime.date] = {}
    counts: dict[str, Counts] = {name: {} for name in months}
    for name, depth, area, figures, computed_for in rows:
        if depth == 2 and area == province:
            built[name] = computed_for
        if depth == length and low <= area <= high:
            target = counts[name].get(area)
            if target is None:
                counts[name][area] = dict(figures)
            else:
                for key, value in figures.items():
                    target[key] = target.get(key, 0) + value
        if needs_county_figures and depth == COUNTY_DEPTH:
            own = counts[name].setdefault(code, {})
            for key in COUNTY_ONLY:
                if figures.get(key):
                    own[key] = own.get(key, 0) + figures[key]
    result: dict[Period, SnapshotCounts] = {}
    for name, computed_for in built.items():
        period = months[name]
        found = counts[name]
        if not periods[period]:
            found = _without_history(found)
        result[period] = SnapshotCounts(
            counts={area: figures for area, figures in found.items() if figures}, computed_for=computed_for
        )
    return result


def snapshot_counts(
    *, code: str, length: int, period: Period, is_current: bool = True
) -> SnapshotCounts | None:
    """The counts of one period from its snapshot, or None when that period was not built."""
    return snapshot_counts_for(code=code, length=length, periods={period: is_current}).get(period)


def _without_history(counts: Counts) -> Counts:
    return {
        area: {key: value for key, value in figures.items() if key not in WITHOUT_HISTORY}
        for area, figures in counts.items()
    }


# --- The trend ------------------------------------------------------------------------------------------


def indicator_trend(
    *,
    actor: Actor | None,
    region_code: str,
    period: str,
    months: int = 12,
    today: datetime.date | None = None,
) -> list[tuple[str, dict[str, Cell | None]]]:
    """The region's own totals for the `months` months ending with `period` (oldest first), protected as
    the totals of `indicators_for`: from the snapshots where they were built, counted live otherwise.
    `period` is read as the current period (with overdue pairings and star levels); the months before it
    as history, without them (None), as the year-earlier column of the dashboard."""
    code = indicator_region(actor=actor, region_code=region_code)
    last = parse_period(period)
    if last.is_year:
        raise ValidationFailed(fields={"period": [_("走势按月统计，统计期应为 YYYY-MM 格式")]})
    if not 1 <= months <= 120:
        raise ValidationFailed(fields={"months": [_("月数应在 1 到 120 之间")]})
    today = today or timezone.localdate()
    level = region_codes.level_of(code)
    length = PREFIX_LENGTH[level]
    series = month_range(_months_before(last, months - 1), last)
    stored = snapshot_counts_for(code=code, length=length, periods={month: month == last for month in series})
    keys = figure_keys(code=code, is_current=True)
    trend: list[tuple[str, dict[str, Cell | None]]] = []
    for month in series:
        is_current = month == last
        snapshot = stored.get(month)
        counts = (
            snapshot.counts
            if snapshot is not None
            else _count(code, length, month, is_current=is_current, today=today)
        )
        cells = _protected_rows([_summed(counts, keys)], [level], keys)[0]
        if not is_current:
            cells = {key: None if key in WITHOUT_HISTORY else value for key, value in cells.items()}
        trend.append((str(month), cells))
    return trend


def _months_before(period: Period, count: int) -> Period:
    for _step in range(count):
        period = _previous_month(period)
    return period
