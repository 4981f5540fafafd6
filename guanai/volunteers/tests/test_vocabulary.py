"""The volunteers' vocabulary: availability bits, star levels, check validity and status changes."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guanai.volunteers.vocabulary import (
    ALL_AVAILABILITY,
    AVAILABILITY_BITS,
    CHECK_VALIDITY_DAYS,
    STATUS_CHANGES,
    ElderCategory,
    Specialty,
    Status,
    availability_bit,
    availability_label,
    availability_slots,
    check_expires_on,
    star_level,
    star_thresholds,
)

SLOTS = [(day, part) for day in range(7) for part in range(3)]
COMMON = tuple(Decimal(hours) for hours in ("100", "300", "600", "1000", "1500"))
BEIJING = tuple(Decimal(hours) for hours in ("100", "200", "500", "800", "1000"))


def test_every_slot_has_its_own_bit_inside_the_column() -> None:
    bits = [availability_bit(day, part) for day, part in SLOTS]
    assert len(set(bits)) == AVAILABILITY_BITS == 21
    assert sum(bits) == ALL_AVAILABILITY == (1 << 21) - 1
    assert availability_bit(0, 0) == 1
    assert availability_bit(6, 2) == 1 << 20


@pytest.mark.parametrize(("day", "part"), [(-1, 0), (7, 0), (0, -1), (0, 3)])
def test_a_slot_outside_the_week_has_no_bit(day: int, part: int) -> None:
    with pytest.raises(ValueError, match=r"day must be 0\.\.6 and part 0\.\.2"):
        availability_bit(day, part)


@given(st.sets(st.sampled_from(SLOTS)))
def test_slots_and_bits_round_trip(slots: set[tuple[int, int]]) -> None:
    value = sum(availability_bit(day, part) for day, part in slots)
    assert availability_slots(value) == sorted(slots)


@given(st.integers(min_value=0, max_value=ALL_AVAILABILITY))
def test_bits_and_slots_round_trip(value: int) -> None:
    assert sum(availability_bit(day, part) for day, part in availability_slots(value)) == value


@pytest.mark.parametrize(
    ("value", "label"),
    [
        (0, ""),
        (availability_bit(0, 0), "周一上午"),
        (
            availability_bit(0, 0) | availability_bit(5, 1) | availability_bit(6, 2),
            "周一上午、周六下午、周日晚上",
        ),
        (ALL_AVAILABILITY, "不限"),
        (ALL_AVAILABILITY | (1 << 21), "不限"),
    ],
)
def test_availability_reads_in_chinese(value: int, label: str) -> None:
    assert availability_label(value) == label


def test_the_bit_sets_are_as_documented() -> None:
    assert sum(int(category) for category in ElderCategory) == 31
    assert sum(int(specialty) for specialty in Specialty) == 127


@pytest.mark.parametrize(
    ("hours", "common", "beijing"),
    [
        ("0", 0, 0),
        ("99.9", 0, 0),
        ("100", 1, 1),
        ("200", 1, 2),
        ("299.9", 1, 2),
        ("300", 2, 2),
        ("999.9", 3, 4),
        ("1000", 4, 5),
        ("1500", 5, 5),
        ("99999", 5, 5),
    ],
)
def test_star_level_at_the_thresholds(hours: str, common: int, beijing: int) -> None:
    assert star_level(Decimal(hours), COMMON) == common
    assert star_level(Decimal(hours), BEIJING) == beijing


def test_star_thresholds_come_from_the_settings(settings: Any) -> None:
    assert star_thresholds() == COMMON
    assert star_level(Decimal("200")) == 1
    settings.GUANAI_STAR_THRESHOLDS = [100, 200, 500, 800, 1000]
    assert star_thresholds() == BEIJING
    assert star_level(Decimal("200")) == 2


hours = st.decimals(min_value=0, max_value=5000, places=1, allow_nan=False, allow_infinity=False)
thresholds = st.lists(st.integers(min_value=1, max_value=3000), min_size=5, max_size=5, unique=True).map(
    lambda values: tuple(Decimal(value) for value in sorted(values))
)


@given(hours, hours, thresholds)
def test_star_level_never_falls_as_hours_grow(
    first: Decimal, second: Decimal, limits: tuple[Decimal, ...]
) -> None:
    low, high = sorted((first, second))
    assert star_level(low, limits) <= star_level(high, limits)


@given(hours, thresholds)
def test_star_level_is_the_number_of_thresholds_reached(value: Decimal, limits: tuple[Decimal, ...]) -> None:
    level = star_level(value, limits)
    assert 0 <= level <= 5
    assert level == len([limit for limit in limits if value >= limit])
    if level < 5:
        assert value < limits[level]
    if level > 0:
        assert value >= limits[level - 1]


@given(st.dates(min_value=datetime.date(2000, 1, 1), max_value=datetime.date(2100, 1, 1)))
def test_a_check_expires_a_year_after_its_date(checked_on: datetime.date) -> None:
    assert (check_expires_on(checked_on) - checked_on).days == CHECK_VALIDITY_DAYS == 365


def test_status_changes() -> None:
    assert set(STATUS_CHANGES) == set(Status.values)
    assert STATUS_CHANGES[Status.DECEASED] == frozenset()  # final
    assert all(Status.APPLYING not in targets for targets in STATUS_CHANGES.values())  # no way back
    assert all(status not in targets for status, targets in STATUS_CHANGES.items())  # no change to itself
    assert all(Status.DECEASED in STATUS_CHANGES[status] for status in (Status.ACTIVE, Status.SUSPENDED))
