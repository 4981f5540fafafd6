from __future__ import annotations

import gzip
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanai.core.errors import ValidationFailed
from guanai.core.region_codes import RegionLevel, normalise_code
from guanai.regions.models import Region
from guanai.regions.services import (
    LoadResult,
    read_package_csv_rows,
    read_packaged_rows,
    regions_load,
)

pytestmark = pytest.mark.django_db

PACKAGED_TOTAL = 30282

STREETS_HEADER = "code,name,areaCode,provinceCode,cityCode\n"
VILLAGES_HEADER = "code,name,streetCode,provinceCode,cityCode,areaCode\n"
# A tiny copy of the package's CSV files: two townships and villages of 广东 (44), one of them in
# 东莞市, which has no counties, and a line of another province that must be left out.
STREETS = (
    STREETS_HEADER
    + '330127100,"千岛湖镇",330127,33,3301\n'
    + '440103001,"沙面街道",440103,44,4401\n'
    + '441900003,"东城街道",441900,44,4419\n'
)
VILLAGES = (
    VILLAGES_HEADER
    + '330127100219,"富城村村民委员会",330127100,33,3301,330127\n'
    + '440103001101,"翠洲社区居民委员会",440103001,44,4401,440103\n'
    + '441900003001,"岗贝社区居民委员会",441900003,44,4419,441900\n'
)


def write_dist(directory: Path, *, streets: str = STREETS, villages: str = VILLAGES) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "streets.csv").write_text(streets, encoding="utf-8")
    (directory / "villages.csv").write_text(villages, encoding="utf-8")
    return directory


def level_counts(code: str) -> dict[RegionLevel, int]:
    within = Region.objects.within(normalise_code(code))
    return {level: within.filter(level=level).count() for level in RegionLevel}


def writes_in(queries: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in queries if query["sql"].split()[0] in {"INSERT", "UPDATE", "DELETE"}]


def province_rows(province: str) -> list[tuple[str, str]]:
    """The shipped rows of one province: enough parents for a province's townships, and quick."""
    return [(code, name) for code, name in read_packaged_rows() if code.startswith(province)]


# --- The shipped file ----------------------------------------------------------------------------


def test_the_shipped_file_is_sorted_and_holds_every_region_once() -> None:
    rows = read_packaged_rows()
    codes = [code for code, _ in rows]
    assert len(rows) == PACKAGED_TOTAL
    assert codes == sorted(set(codes))
    assert rows[0] == ("110000000000", "北京市")
    assert ("330127100219", "富城村村民委员会") in rows


def test_loading_the_shipped_file_gives_china_to_county_level_and_zhejiang_to_village_level() -> None:
    result = regions_load(rows=read_packaged_rows())

    assert result == LoadResult(created=PACKAGED_TOTAL, updated=0, unchanged=0)
    assert Region.objects.count() == PACKAGED_TOTAL
    assert Region.objects.filter(level=RegionLevel.PROVINCE).count() == 31
    assert Region.objects.filter(level=RegionLevel.CITY).count() == 342
    assert Region.objects.filter(level=RegionLevel.COUNTY).count() == 2975
    assert level_counts("33") == {
        RegionLevel.PROVINCE: 1,
        RegionLevel.CITY: 11,
        RegionLevel.COUNTY: 90,
        RegionLevel.TOWNSHIP: 1387,
        RegionLevel.VILLAGE: 25547,
    }
    assert level_counts("44") == {
        RegionLevel.PROVINCE: 1,
        RegionLevel.CITY: 21,
        RegionLevel.COUNTY: 122,
        RegionLevel.TOWNSHIP: 0,
        RegionLevel.VILLAGE: 0,
    }
    village = Region.objects.get(code="330127100219")
    assert (village.name, village.short_name, village.level, village.parent_id) == (
        "富城村村民委员会",
        "富城村",
        RegionLevel.VILLAGE,
        "330127100000",
    )
    assert Region.objects.filter(parent=None).count() == 31


def test_the_placeholder_cities_of_the_code_list_are_kept_as_cities() -> None:
    regions_load(rows=province_rows("11") + province_rows("41") + province_rows("44"))

    beijing_districts = Region.objects.get(code="110100000000")
    assert (beijing_districts.name, beijing_districts.level, beijing_districts.parent_id) == (
        "市辖区",
        RegionLevel.CITY,
        "110000000000",
    )
    assert Region.objects.get(code="410000000000").children.filter(name="省直辖县级行政区划").count() == 1
    assert Region.objects.get(code="419001000000").parent_id == "419000000000"
    # 东莞市 has no counties: the package repeats it as county 441900, which is the city's own code.
    dongguan = Region.objects.get(code="441900000000")
    assert (dongguan.name, dongguan.level, dongguan.children.count()) == ("东莞市", RegionLevel.CITY, 0)


def test_a_second_load_writes_nothing() -> None:
    rows = read_packaged_rows()
    regions_load(rows=rows)

    with CaptureQueriesContext(connection) as queries:
        result = regions_load(rows=rows)

    assert result == LoadResult(created=0, updated=0, unchanged=PACKAGED_TOTAL)
    assert writes_in(queries) == []


# --- Loading rows --------------------------------------------------------------------------------

TREE = [
    ("330000000000", "浙江省"),
    ("330100000000", "杭州市"),
    ("330127000000", "淳安县"),
    ("330127100000", "千岛湖镇"),
    ("330127100219", "富城村村民委员会"),
]


def test_rows_may_come_in_any_order_and_with_short_codes() -> None:
    rows = [("330127100219", "富城村村民委员会"), ("330127100", "千岛湖镇"), ("330127", "淳安县")]
    rows += [("3301", "杭州市"), ("33", "浙江省")]

    result = regions_load(rows=rows, batch_size=2)

    assert result == LoadResult(created=5, updated=0, unchanged=0)
    assert list(Region.objects.values_list("code", "short_name", "level", "parent_id")) == [
        ("330000000000", "浙江省", 1, None),
        ("330100000000", "杭州市", 2, "330000000000"),
        ("330127000000", "淳安县", 3, "330100000000"),
        ("330127100000", "千岛湖镇", 4, "330127000000"),
        ("330127100219", "富城村", 5, "330127100000"),
    ]


def test_a_renamed_region_is_updated_and_nothing_else() -> None:
    regions_load(rows=TREE)
    renamed = [*TREE[:4], ("330127100219", "富城新村村民委员会")]

    with CaptureQueriesContext(connection) as queries:
        result = regions_load(rows=renamed)

    assert result == LoadResult(created=0, updated=1, unchanged=4)
    assert len(writes_in(queries)) == 1
    village = Region.objects.get(code="330127100219")
    assert (village.name, village.short_name) == ("富城新村村民委员会", "富城新村")


def test_a_load_adds_to_what_is_there_and_deletes_nothing() -> None:
    regions_load(rows=TREE)

    result = regions_load(rows=[*TREE[:4], ("330127100231", "淡竹村村民委员会")])

    assert result == LoadResult(created=1, updated=0, unchanged=4)
    assert Region.objects.count() == 6


def test_a_region_whose_parent_is_missing_is_refused_and_nothing_is_stored() -> None:
    with pytest.raises(ValidationFailed) as caught:
        regions_load(rows=[("330000000000", "浙江省"), ("330127000000", "淳安县")])

    assert (
        caught.value.message == "区划 330127000000（淳安县）的上级 330100000000 尚未导入，请先导入上级区划。"
    )
    assert Region.objects.count() == 0


def test_a_parent_already_in_the_database_is_enough() -> None:
    regions_load(rows=TREE[:3])

    result = regions_load(rows=[("330127100000", "千岛湖镇")])

    assert result == LoadResult(created=1, updated=0, unchanged=0)
    assert Region.objects.get(code="330127100000").parent_id == "330127000000"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("3301270", "淳安县")], "区划代码“3301270”无效，应为 2、4、6、9 或 12 位数字。"),
        ([("33", " ")], "区划 330000000000 的名称应为 1 至 100 个字。"),
        (
            [("33", "浙江省"), ("330000000000", "浙江")],
            "区划 330000000000 出现两次，名称不同：浙江省、浙江。",
        ),
    ],
)
def test_bad_rows_are_refused(rows: list[tuple[str, str]], message: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        regions_load(rows=rows)

    assert caught.value.message == message
    assert Region.objects.count() == 0


def test_a_damaged_shipped_file_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "regions.tsv.gz"
    path.write_bytes(gzip.compress("# header\n330000000000\t浙江省\n3301\t杭州市\n".encode()))

    with pytest.raises(ValidationFailed) as caught:
        read_packaged_rows(path=path)

    assert caught.value.message == "regions.tsv.gz 第 3 行有误：应为“12 位区划代码<制表符>名称”。"


# --- The package's CSV files ----------------------------------------------------------------------


def test_the_townships_and_villages_of_one_province_are_read_from_the_package(tmp_path: Path) -> None:
    assert read_package_csv_rows(write_dist(tmp_path), "44") == [
        ("440103001000", "沙面街道"),
        ("441900003000", "东城街道"),
        ("440103001101", "翠洲社区居民委员会"),
        ("441900003001", "岗贝社区居民委员会"),
    ]


def test_a_line_repeating_the_region_above_it_is_left_out(tmp_path: Path) -> None:
    dist = write_dist(
        tmp_path,
        streets=STREETS_HEADER
        + '350527000,"金门县",350527,35,3505\n'
        + '350102001,"东街街道",350102,35,3501\n',
        villages=VILLAGES_HEADER + '350527000000,"金门县",350527000,35,3505,350527\n',
    )

    assert read_package_csv_rows(dist, "35") == [("350102001000", "东街街道")]


def test_loading_another_province_from_the_package_is_idempotent(tmp_path: Path) -> None:
    rows = province_rows("44") + read_package_csv_rows(write_dist(tmp_path), "44")

    first = regions_load(rows=rows)
    second = regions_load(rows=rows)

    assert first == LoadResult(created=len(rows), updated=0, unchanged=0)
    assert second == LoadResult(created=0, updated=0, unchanged=len(rows))
    assert level_counts("44")[RegionLevel.TOWNSHIP] == 2
    assert level_counts("44")[RegionLevel.VILLAGE] == 2
    # A township of 东莞市, which has no counties, hangs from the city.
    assert Region.objects.get(code="441900003000").parent_id == "441900000000"
    assert Region.objects.get(code="440103001101").short_name == "翠洲社区"


@pytest.mark.parametrize(
    ("streets", "villages", "message"),
    [
        (
            STREETS,
            VILLAGES_HEADER
            + '440103001101,"翠洲社区居民委员会",440103001,44,4401,440103\n'
            + '44010300110,"沙面社区居民委员会",440103001,44,4401,440103\n',
            "villages.csv 第 3 行有误：区划代码“44010300110”应为 12 位数字。",
        ),
        (
            STREETS_HEADER + '440103001,"沙面街道",440103,44\n',
            VILLAGES,
            "streets.csv 第 2 行有误：应有 5 列，实有 4 列。",
        ),
        (
            STREETS_HEADER + '440103001,"沙面街道",440104,44,4401\n',
            VILLAGES,
            "streets.csv 第 2 行有误：上级代码“440104”与区划代码“440103001”不符。",
        ),
        (
            STREETS_HEADER + '440103001,"沙面街道",440103,45,4401\n',
            VILLAGES,
            "streets.csv 第 2 行有误：省级代码“45”与区划代码“440103001”不符。",
        ),
        (
            STREETS_HEADER + '440103001,"",440103,44,4401\n',
            VILLAGES,
            "streets.csv 第 2 行有误：名称为空。",
        ),
        (
            "code,name,provinceCode\n",
            VILLAGES,
            "streets.csv 第 1 行有误：缺少列 areaCode。",
        ),
    ],
)
def test_a_damaged_package_file_is_refused_naming_file_and_line(
    tmp_path: Path, streets: str, villages: str, message: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        read_package_csv_rows(write_dist(tmp_path, streets=streets, villages=villages), "44")

    assert caught.value.message == message


def test_a_missing_package_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed) as caught:
        read_package_csv_rows(tmp_path, "44")

    assert caught.value.message.startswith(f"无法读取 {tmp_path / 'streets.csv'}：")


def test_a_province_is_named_by_two_digits(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed) as caught:
        read_package_csv_rows(write_dist(tmp_path), "4401")

    assert caught.value.message == "省级区划代码“4401”无效，应为 2 位数字，例如 44。"


# --- The command ---------------------------------------------------------------------------------


def test_the_command_loads_the_shipped_file_and_another_province_and_is_idempotent(tmp_path: Path) -> None:
    dist = write_dist(tmp_path)
    first, second = StringIO(), StringIO()

    call_command("load_regions", "--package-dist", str(dist), "--province", "44", stdout=first)
    call_command("load_regions", "--package-dist", str(dist), "--province", "44", stdout=second)

    levels = "  省：31\n  市：342\n  县(市、区)：2975\n  乡镇(街道)：1389\n  村(社区)：25549\n"
    assert first.getvalue() == f"区划数据已导入：新增 30286 条，更新 0 条，未变 0 条。\n{levels}"
    assert second.getvalue() == f"区划数据已导入：新增 0 条，更新 0 条，未变 30286 条。\n{levels}"


def test_the_command_refuses_a_damaged_package_and_stores_nothing(tmp_path: Path) -> None:
    dist = write_dist(tmp_path, villages=VILLAGES_HEADER + '4401030011,"翠洲",440103001,44,4401,440103\n')

    with pytest.raises(CommandError) as caught:
        call_command("load_regions", "--package-dist", str(dist), "--province", "44", stdout=StringIO())

    assert str(caught.value) == "villages.csv 第 2 行有误：区划代码“4401030011”应为 12 位数字。"
    assert Region.objects.count() == 0


def test_the_command_needs_both_package_options() -> None:
    with pytest.raises(CommandError) as caught:
        call_command("load_regions", "--province", "44", stdout=StringIO())

    assert str(caught.value) == "--package-dist 与 --province 须同时给出。"
