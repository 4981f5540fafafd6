from __future__ import annotations

import functools
from collections.abc import Iterable

import pytest
from django.db.models import Count
from pytest_django import DjangoAssertNumQueries

from guanai.accounts.models import RoleAssignment, User
from guanai.core.access import ANONYMOUS, Actor, Role
from guanai.core.errors import NotFoundError, ValidationFailed
from guanai.core.region_codes import RegionLevel, level_of
from guanai.regions.models import Region
from guanai.regions.selectors import (
    region_breadcrumb,
    region_children,
    region_counts_by_level,
    region_find_by_name,
    region_get,
)
from guanai.regions.services import read_packaged_rows, regions_load

pytestmark = pytest.mark.django_db


@functools.cache
def zhejiang_rows() -> list[tuple[str, str]]:
    """Real rows of the shipped file: Zhejiang to county level, and all of 淳安县 and 建德市 (杭州市)."""
    return [
        (code, name)
        for code, name in read_packaged_rows()
        if code.startswith("33")
        and (level_of(code) <= RegionLevel.COUNTY or code[:6] in {"330127", "330182"})
    ]


@pytest.fixture
def zhejiang() -> None:
    regions_load(rows=zhejiang_rows())


def actor_at(code: str, role: Role = Role.COUNTY_ADMIN) -> Actor:
    assignment = RoleAssignment(role=role, region_id=code)
    return Actor(user=User(username=f"user-{code}"), assignment=assignment, assignments=(assignment,))


def codes(regions: Iterable[Region]) -> list[str]:
    return [region.code for region in regions]


def found_code(parent: str, name: str) -> str | None:
    found = region_find_by_name(parent=Region.objects.get(code=parent), name=name)
    return None if found is None else found.code


# --- Prefix scoping ------------------------------------------------------------------------------


@pytest.mark.usefixtures("zhejiang")
@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("330000000000", {1: 1, 2: 11, 3: 90, 4: 39, 5: 632}),
        ("330100000000", {2: 1, 3: 13, 4: 39, 5: 632}),
        ("330127000000", {3: 1, 4: 23, 5: 361}),
        ("330127100000", {4: 1, 5: 35}),
        ("330127100219", {5: 1}),
        ("330182000000", {3: 1, 4: 16, 5: 271}),
        ("330200000000", {2: 1, 3: 10}),
    ],
)
def test_within_takes_the_region_and_everything_below_it(code: str, expected: dict[int, int]) -> None:
    within = Region.objects.within(code)
    assert dict(within.order_by().values_list("level").annotate(total=Count("code"))) == expected


@pytest.mark.usefixtures("zhejiang")
def test_within_a_county_stops_at_its_siblings() -> None:
    assert codes(Region.objects.within("330127000000").filter(level=RegionLevel.COUNTY)) == ["330127000000"]
    assert "330182000000" not in codes(Region.objects.within("330127000000"))
    assert codes(Region.objects.within("330127100000")[:3]) == [
        "330127100000",
        "330127100001",
        "330127100002",
    ]


# --- Getting one region and its children ---------------------------------------------------------


@pytest.mark.usefixtures("zhejiang")
@pytest.mark.parametrize("code", ["330127", "330127000000", " 330127 "])
def test_a_county_admin_gets_their_county_by_any_form_of_its_code(code: str) -> None:
    assert region_get(actor=actor_at("330127000000"), code=code).name == "淳安县"


@pytest.mark.usefixtures("zhejiang")
@pytest.mark.parametrize("code", ["33", "3301", "330127100", "330127100219"])
def test_a_county_admin_sees_the_ancestors_and_the_subtree(code: str) -> None:
    assert region_get(actor=actor_at("330127000000"), code=code).code == code.ljust(12, "0")


@pytest.mark.usefixtures("zhejiang")
@pytest.mark.parametrize(
    ("actor", "code"),
    [
        (actor_at("330127000000"), "330182"),  # a sibling county
        (actor_at("330127000000"), "330182001"),  # inside a sibling county
        (actor_at("330127000000"), "3302"),  # another city
        (actor_at("330127100000", Role.TOWNSHIP_ADMIN), "330127101"),  # a sibling township
        (actor_at("330000000000", Role.PROVINCE_ADMIN), "110000000000"),  # not loaded
        (actor_at("330000000000", Role.PROVINCE_ADMIN), "3301270"),  # not a code
        (actor_at("330000000000", Role.PROVINCE_ADMIN), "abc"),
        (ANONYMOUS, "33"),
    ],
)
def test_what_an_actor_may_not_see_is_not_found(actor: Actor, code: str) -> None:
    with pytest.raises(NotFoundError):
        region_get(actor=actor, code=code)


@pytest.mark.usefixtures("zhejiang")
def test_children_of_a_township_are_its_villages(django_assert_num_queries: DjangoAssertNumQueries) -> None:
    actor = actor_at("330127100000", Role.TOWNSHIP_ADMIN)

    with django_assert_num_queries(2):
        children = list(region_children(actor=actor, code="330127100"))

    assert len(children) == 35
    assert [(r.code, r.short_name) for r in children[:2]] == [
        ("330127100001", "青城社区"),
        ("330127100002", "李家坞社区"),
    ]
    assert ("330127100219", "富城村") in [(r.code, r.short_name) for r in children]


@pytest.mark.usefixtures("zhejiang")
def test_children_of_an_ancestor_are_only_those_the_actor_may_see() -> None:
    assert codes(region_children(actor=actor_at("330127000000"), code="3301")) == ["330127000000"]
    assert len(region_children(actor=actor_at("330000000000", Role.PROVINCE_ADMIN), code="3301")) == 13


@pytest.mark.usefixtures("zhejiang")
def test_children_of_an_invisible_region_are_not_found() -> None:
    with pytest.raises(NotFoundError):
        region_children(actor=actor_at("330127000000"), code="330182")


# --- Breadcrumb ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("zhejiang")
def test_the_breadcrumb_runs_from_the_province_to_the_region_in_one_query(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    with django_assert_num_queries(1):
        chain = region_breadcrumb(code="330127100219")

    assert [(r.code, r.name) for r in chain] == [
        ("330000000000", "浙江省"),
        ("330100000000", "杭州市"),
        ("330127000000", "淳安县"),
        ("330127100000", "千岛湖镇"),
        ("330127100219", "富城村村民委员会"),
    ]
    assert codes(region_breadcrumb(code="33")) == ["330000000000"]
    assert codes(region_breadcrumb(code="330127")) == ["330000000000", "330100000000", "330127000000"]


def test_the_breadcrumb_of_a_township_of_a_city_without_counties_skips_the_county_level() -> None:
    regions_load(rows=[("44", "广东省"), ("4419", "东莞市"), ("441900003", "东城街道")])

    assert codes(region_breadcrumb(code="441900003")) == ["440000000000", "441900000000", "441900003000"]


@pytest.mark.usefixtures("zhejiang")
@pytest.mark.parametrize("code", ["110000000000", "330127100999", "x"])
def test_the_breadcrumb_of_a_region_not_loaded_is_not_found(code: str) -> None:
    with pytest.raises(NotFoundError):
        region_breadcrumb(code=code)


# --- Finding a child by the name people type -----------------------------------------------------


@pytest.mark.usefixtures("zhejiang")
@pytest.mark.parametrize(
    ("parent", "name", "expected"),
    [
        ("330100000000", "淳安县", "330127000000"),
        ("330100000000", "淳安", "330127000000"),
        ("330100000000", "建德市", "330182000000"),
        ("330100000000", "建德", "330182000000"),
        ("330100000000", "西湖区", "330106000000"),
        ("330127000000", "千岛湖镇", "330127100000"),
        ("330127000000", "千岛湖", "330127100000"),
        ("330127000000", " 里商乡 ", "330127200000"),
        ("330127100000", "富城村", "330127100219"),
        ("330127100000", "富城村村民委员会", "330127100219"),
        ("330127100000", "富城村委会", "330127100219"),
        ("330127100000", "富城", "330127100219"),
        ("330127100000", "青城社区", "330127100001"),
        ("330127100000", "青城社区居委会", "330127100001"),
        ("330127100000", "青城", "330127100001"),
        ("330127100000", "云村村", "330127100257"),
        ("330000000000", "杭州", "330100000000"),
        ("331100000000", "景宁县", "331127000000"),
        ("331100000000", "景宁", "331127000000"),
    ],
)
def test_a_child_is_found_by_full_name_short_name_or_variant(parent: str, name: str, expected: str) -> None:
    assert found_code(parent, name) == expected


@pytest.mark.usefixtures("zhejiang")
@pytest.mark.parametrize(
    ("parent", "name"),
    [
        ("330100000000", "淳安镇"),  # the stem with another suffix is another place
        ("330100000000", "千岛湖镇"),  # a grandchild, not a child
        ("330127100000", "富城子村"),
        ("330127100000", "富"),
        ("330127100000", ""),
        ("330127100000", "   "),
    ],
)
def test_no_child_matches(parent: str, name: str) -> None:
    assert found_code(parent, name) is None


def test_an_exact_full_name_wins_over_a_short_name() -> None:
    regions_load(
        rows=[
            ("33", "浙江省"),
            ("3301", "杭州市"),
            ("330127", "淳安县"),
            ("330127100", "千岛湖镇"),
            ("330127100001", "河西村"),
            ("330127100002", "河西村村民委员会"),
        ]
    )

    assert found_code("330127100000", "河西村") == "330127100001"
    assert found_code("330127100000", "河西村村民委员会") == "330127100002"


def test_a_short_name_wins_over_a_variant() -> None:
    regions_load(
        rows=[
            ("33", "浙江省"),
            ("3301", "杭州市"),
            ("330127", "淳安县"),
            ("330127100", "千岛湖镇"),
            ("330127100001", "三村村委会"),  # 三村
            ("330127100002", "三村村村民委员会"),  # 三村村, whose stem is 三村
        ]
    )

    assert found_code("330127100000", "三村") == "330127100001"
    assert found_code("330127100000", "三村村") == "330127100002"


def test_a_name_that_fits_several_children_is_refused_with_the_candidates(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    regions_load(
        rows=[
            ("33", "浙江省"),
            ("3301", "杭州市"),
            ("330127", "淳安县"),
            ("330127100", "千岛湖镇"),
            ("330127100001", "白沙社区居民委员会"),
            ("330127100002", "白沙村村民委员会"),
        ]
    )
    township = Region.objects.get(code="330127100000")

    with django_assert_num_queries(1), pytest.raises(ValidationFailed) as caught:
        region_find_by_name(parent=township, name="白沙")

    assert caught.value.message == (
        "“白沙”可指多个区划：白沙社区居民委员会（330127100001）、白沙村村民委员会（330127100002）。"
        "请填写完整名称或区划代码。"
    )
    assert found_code("330127100000", "白沙村") == "330127100002"


# --- Counts --------------------------------------------------------------------------------------


def test_counts_by_level_name_every_level() -> None:
    regions_load(rows=[("33", "浙江省"), ("3301", "杭州市"), ("3302", "宁波市")])

    assert region_counts_by_level() == {
        RegionLevel.PROVINCE: 1,
        RegionLevel.CITY: 2,
        RegionLevel.COUNTY: 0,
        RegionLevel.TOWNSHIP: 0,
        RegionLevel.VILLAGE: 0,
    }
