from __future__ import annotations

import pytest

from guanai.core.region_codes import RegionLevel
from guanai.regions.names import name_variants, short_name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("富城村村民委员会", "富城村"),
        ("富城子村民委员会", "富城子村"),
        ("竹湖村委会", "竹湖村"),
        ("梵村委会", "梵村"),
        ("周垟村村委员会", "周垟村"),
        ("清波门社区居民委员会", "清波门社区"),
        ("墨香湖社区居委会", "墨香湖社区"),
        ("下涯居民委员会", "下涯社区"),
        ("邓家居委会", "邓家社区"),
        ("航海北街社区委员会", "航海北街社区"),
        ("蔚蓝社区居民管理委员会", "蔚蓝社区"),
        ("青城社区", "青城社区"),
        ("慈江村", "慈江村"),
        ("围垦生活区", "围垦生活区"),
        (" 富城村村民委员会 ", "富城村"),
    ],
)
def test_a_village_is_called_by_its_village_or_community_not_its_committee(name: str, expected: str) -> None:
    assert short_name(name, RegionLevel.VILLAGE) == expected


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("浙江省", RegionLevel.PROVINCE),
        ("杭州市", RegionLevel.CITY),
        ("市辖区", RegionLevel.CITY),
        ("淳安县", RegionLevel.COUNTY),
        ("景宁畲族自治县", RegionLevel.COUNTY),
        ("千岛湖镇", RegionLevel.TOWNSHIP),
        ("湖滨街道", RegionLevel.TOWNSHIP),
    ],
)
def test_other_levels_keep_their_name(name: str, level: RegionLevel) -> None:
    assert short_name(name, level) == name


def test_the_level_may_be_given_as_the_stored_integer() -> None:
    assert short_name("富城村村民委员会", 5) == "富城村"
    assert short_name("富城村村民委员会", 4) == "富城村村民委员会"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("淳安县", ("淳安县", "淳安")),
        ("千岛湖镇", ("千岛湖镇", "千岛湖")),
        ("杭州市", ("杭州市", "杭州")),
        ("西湖区", ("西湖区", "西湖")),
        ("湖滨街道", ("湖滨街道", "湖滨")),
        ("里商乡", ("里商乡", "里商")),
        ("富城村村民委员会", ("富城村村民委员会", "富城村", "富城")),
        ("富城子村民委员会", ("富城子村民委员会", "富城子村", "富城子")),
        ("富城村委会", ("富城村委会", "富城村", "富城")),
        ("富城村", ("富城村", "富城")),
        ("清波门社区居委会", ("清波门社区居委会", "清波门社区", "清波门")),
        ("邓家居委会", ("邓家居委会", "邓家社区", "邓家")),
        ("景宁畲族自治县", ("景宁畲族自治县", "景宁县", "景宁", "景宁畲族")),
        ("恩施土家族苗族自治州", ("恩施土家族苗族自治州", "恩施州", "恩施", "恩施土家族苗族")),
        ("察布查尔锡伯自治县", ("察布查尔锡伯自治县", "察布查尔县", "察布查尔", "察布查尔锡伯")),
        ("广西壮族自治区", ("广西壮族自治区", "广西", "广西壮族")),
        ("内蒙古自治区", ("内蒙古自治区", "内蒙古")),
        ("神农架林区", ("神农架林区", "神农架")),
        ("淳安", ("淳安",)),
        ("千岛湖", ("千岛湖",)),
    ],
)
def test_name_variants(name: str, expected: tuple[str, ...]) -> None:
    assert name_variants(name) == expected


@pytest.mark.parametrize(
    "name",
    ["赵县", "温州", "梵村", "围垦生活区", "井陉矿区", "市辖区", "县"],
)
def test_no_stem_of_one_character_and_none_from_a_suffix_that_belongs_to_the_name(name: str) -> None:
    assert name_variants(name) == (name,)


def test_a_blank_name_has_no_variants() -> None:
    assert name_variants("  ") == ()
