import pytest
from hypothesis import given
from hypothesis import strategies as st

from guanai.core import region_codes
from guanai.core.region_codes import RegionLevel


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("330000000000", RegionLevel.PROVINCE),
        ("330100000000", RegionLevel.CITY),
        ("330127000000", RegionLevel.COUNTY),
        ("330127100000", RegionLevel.TOWNSHIP),
        ("330127100219", RegionLevel.VILLAGE),
    ],
)
def test_level_is_read_from_the_code(code: str, level: RegionLevel) -> None:
    assert region_codes.level_of(code) == level


def test_parent_and_ancestors_of_a_village() -> None:
    assert region_codes.parent_code("330127100219") == "330127100000"
    assert region_codes.ancestor_codes("330127100219") == [
        "330000000000",
        "330100000000",
        "330127000000",
        "330127100000",
    ]
    assert region_codes.parent_code("330000000000") is None


@pytest.mark.parametrize(
    ("short", "full"),
    [
        ("33", "330000000000"),
        ("3301", "330100000000"),
        ("330127", "330127000000"),
        ("330127100", "330127100000"),
    ],
)
def test_short_codes_are_padded(short: str, full: str) -> None:
    assert region_codes.normalise_code(short) == full


@pytest.mark.parametrize("bad", ["", "3", "330", "33012710021", "33a127", "３３"])
def test_malformed_codes_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match=r".*"):
        region_codes.normalise_code(bad)


def test_subtree_range_at_every_level() -> None:
    assert region_codes.subtree_range("330000000000") == ("330000000000", "339999999999")
    assert region_codes.subtree_range("330127000000") == ("330127000000", "330127999999")
    assert region_codes.subtree_range("330127100000") == ("330127100000", "330127100999")
    assert region_codes.subtree_range("330127100219") == ("330127100219", "330127100219")


@given(st.from_regex(r"\A33[0-9]{10}\Z"))
def test_every_zhejiang_code_is_inside_the_province_and_inside_its_own_ancestors(code: str) -> None:
    assert region_codes.is_within(code, "330000000000")
    for ancestor in region_codes.ancestor_codes(code):
        assert region_codes.is_within(code, ancestor)


def test_a_sibling_county_is_not_inside() -> None:
    assert not region_codes.is_within("330182001020", "330127000000")
    assert not region_codes.is_within("330127100219", "330182000000")
