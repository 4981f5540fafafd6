"""The roster import: every pattern of real township rosters, the rules per cell, matching and
re-import, the cross-county answer, all-or-nothing, dry runs and the audit event."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine

from guanai.accounts.selectors import actor_for_user
from guanai.audit.models import AuditEvent
from guanai.core.access import Actor
from guanai.core.crypto import blind_index
from guanai.core.errors import NotFoundError, PermissionDeniedError
from guanai.imports import reading
from guanai.imports.models import ImportBatch
from guanai.imports.reading import RosterReadError
from guanai.minors import importing
from guanai.minors.importing import ImportResult, RowError, minor_roster_import, parse_categories, parse_date
from guanai.minors.models import Guardian, Minor
from guanai.minors.tests.ids import id_number
from guanai.minors.tests.rosters import (
    FIRST_DATA_ROW,
    XLS_HEADER_MERGES,
    child,
    township_roster,
    write_csv,
    write_xls,
    write_xlsx,
)
from guanai.minors.validation import FieldError
from guanai.minors.vocabulary import Category, Need, SpecialKind
from guanai.regions.models import Region

pytestmark = pytest.mark.django_db

COUNTY = "330127"  # 淳安县
FUCHENG = "330127100219"  # 富城村村民委员会
QINGCHENG = "330127100001"  # 青城社区
BAISHA = "330182001020"  # 白沙社区 in 建德市
TODAY = datetime.date(2026, 6, 1)


@pytest.fixture(autouse=True)
def frozen_today() -> Iterator[None]:
    with time_machine.travel(datetime.datetime(2026, 6, 1, 10, 0, tzinfo=datetime.UTC), tick=True):
        yield


Writer = Callable[[Path, list[list[Any]]], Path]


def as_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    return write_xlsx(path.with_suffix(".xlsx"), rows)


def as_xls(path: Path, rows: list[list[Any]]) -> Path:
    pytest.importorskip("xlwt")
    return write_xls(path.with_suffix(".xls"), rows, merges=XLS_HEADER_MERGES)


def as_csv_utf8(path: Path, rows: list[list[Any]]) -> Path:
    return write_csv(path.with_suffix(".csv"), rows)


def as_csv_bom(path: Path, rows: list[list[Any]]) -> Path:
    return write_csv(path.with_suffix(".csv"), rows, bom=True)


def as_csv_gb18030(path: Path, rows: list[list[Any]]) -> Path:
    return write_csv(path.with_suffix(".csv"), rows, encoding="gb18030")


WRITERS: dict[str, Writer] = {
    "xlsx": as_xlsx,
    "xls": as_xls,
    "csv-utf8": as_csv_utf8,
    "csv-utf8-bom": as_csv_bom,
    "csv-gb18030": as_csv_gb18030,
}


@pytest.fixture(params=[*sorted(WRITERS), "xlsx-streamed"])
def writer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Writer:
    """Every format; "xlsx-streamed" reads the .xlsx with the streaming reader that large sheets get."""
    if request.param == "xlsx-streamed":
        monkeypatch.setattr(reading, "CALAMINE_SHEET_XML_LIMIT", 0)
        return as_xlsx
    return WRITERS[request.param]


def run(path: Path, *, region: str = COUNTY, dry_run: bool = False, **options: Any) -> ImportResult:
    return minor_roster_import(actor=None, path_or_file=path, region_code=region, dry_run=dry_run, **options)


def errors_of(result: ImportResult) -> list[tuple[int, str, str]]:
    return [(error.row, error.column, error.code) for error in result.errors]


def minor_with(id_value: str) -> Minor:
    return Minor.objects.get(id_number_index=blind_index(Minor, "id_number", id_value))


# --- The roster patterns, in every file format ------------------------------------------------------------


def test_township_roster_imports_in_every_format(regions: None, tmp_path: Path, writer: Writer) -> None:
    """Title and 填报单位 above, a two-row merged header, 序号, footer lines: the children are imported,
    nothing else, and the guardian comes from the 监护人情况 columns."""
    rows = township_roster(
        [
            child("张三明", id_number=id_number(sequence=1)),
            child("李小红", id_number=id_number(sequence=2), gender="女", village="青城社区"),
        ]
    )
    result = run(writer(tmp_path / "roster", rows))

    assert (result.rows, result.created, result.updated, result.unchanged, result.errors) == (2, 2, 0, 0, [])
    assert result.columns["guardian_phone"] == "监护人情况/联系电话"
    assert result.header is not None
    assert result.header.rows == (3, 4)
    boy = minor_with(id_number(sequence=1))
    assert (boy.name, boy.gender, boy.birth_date, boy.region_id) == (
        "张三明",
        "male",
        datetime.date(2012, 7, 21),
        FUCHENG,
    )
    assert (boy.name_pinyin, boy.name_initials) == ("zhangsanming", "zsm")
    assert (boy.categories, boy.needs) == (Category.LEFT_BEHIND, Need.STUDY)
    assert list(boy.guardians.values_list("name", "relationship", "phone", "is_entrusted_carer")) == [
        ("王大明", "父亲", "13905710001", False)
    ]
    assert minor_with(id_number(sequence=2)).region_id == QINGCHENG


def test_refused_rows_carry_excel_row_number_and_header_text(
    regions: None, tmp_path: Path, writer: Writer
) -> None:
    rows = township_roster(
        [
            child("张三明", id_number=id_number(sequence=1)),
            child("李四", id_number="330127201207210010"),  # wrong check digit
            child("王五", id_number=id_number(sequence=3), guardian=("王大明", "父亲", "12345")),
            child("赵六", id_number=id_number(sequence=5)),
        ]
    )
    result = run(writer(tmp_path / "roster", rows))

    assert errors_of(result) == [
        (FIRST_DATA_ROW + 1, "公民身份号码", "id_number_invalid"),
        (FIRST_DATA_ROW + 2, "监护人情况/联系电话", "phone_invalid"),
    ]
    assert result.errors[0].message == "身份证号校验位不正确"
    assert (result.rows, result.created) == (4, 2)
    assert Minor.objects.count() == 2


def test_the_same_id_twice_refuses_the_later_row(regions: None, tmp_path: Path, writer: Writer) -> None:
    rows = township_roster(
        [
            child("张三明", id_number=id_number(sequence=1)),
            child("李小红", id_number=id_number(sequence=2), gender="女"),
            child("张三明", id_number=id_number(sequence=1).lower() if False else id_number(sequence=1)),
        ]
    )
    result = run(writer(tmp_path / "roster", rows))

    assert errors_of(result) == [(FIRST_DATA_ROW + 2, "公民身份号码", "duplicate_in_file")]
    assert result.created == 2


def test_reimporting_the_same_file_creates_nothing(regions: None, tmp_path: Path, writer: Writer) -> None:
    rows = township_roster(
        [
            child("张三明", id_number=id_number(sequence=1)),
            child("钱七", birth="2013-01-02", gender="男", village="青城社区"),  # no ID number
        ]
    )
    path = writer(tmp_path / "roster", rows)
    first = run(path)
    second = run(path)

    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    assert (second.created, second.updated, second.unchanged, second.errors) == (0, 0, 2, [])
    assert Minor.objects.count() == 2
    assert Guardian.objects.count() == 2


def test_reimport_updates_changed_values_and_replaces_the_guardian(regions: None, tmp_path: Path) -> None:
    first = township_roster([child("张三明", id_number=id_number(sequence=1), needs="学业")])
    run(write_xlsx(tmp_path / "first.xlsx", first))
    version = minor_with(id_number(sequence=1)).version
    second = township_roster(
        [
            child(
                "张三明",
                id_number=id_number(sequence=1),
                needs="学业、心理",
                village="青城社区",
                guardian=("李秀英", "祖母", "0571-65012345"),
            )
        ]
    )
    result = run(write_xlsx(tmp_path / "second.xlsx", second))

    assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
    minor = minor_with(id_number(sequence=1))
    assert (minor.needs, minor.region_id, minor.version) == (
        Need.STUDY | Need.PSYCHOLOGICAL,
        QINGCHENG,
        version + 1,
    )
    assert list(minor.guardians.values_list("name", "relationship", "phone")) == [
        ("李秀英", "祖母", "0571-65012345")
    ]


def test_a_row_with_an_id_completes_the_record_imported_without_one(regions: None, tmp_path: Path) -> None:
    run(
        write_xlsx(
            tmp_path / "first.xlsx", township_roster([child("张三明", birth="2012-07-21", gender="男")])
        )
    )
    result = run(
        write_xlsx(
            tmp_path / "second.xlsx", township_roster([child("张三明", id_number=id_number(sequence=1))])
        )
    )

    assert (result.created, result.updated) == (0, 1)
    assert Minor.objects.get().id_number == id_number(sequence=1)


# --- ID numbers as people type them ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param("３３０１２７２０１２０７２１００１７", id="full-width digits"),
        pytest.param(" 330127 20120721 0017 ", id="spaces"),
        pytest.param("'330127201207210017", id="leading apostrophe"),
    ],
)
def test_id_numbers_as_typed_are_cleaned(regions: None, tmp_path: Path, typed: str) -> None:
    assert id_number(sequence=1) == "330127201207210017"
    result = run(write_xlsx(tmp_path / "r.xlsx", township_roster([child("张三明", id_number=typed)])))

    assert (result.created, result.errors) == (1, [])
    assert Minor.objects.get().id_number == "330127201207210017"


def test_lowercase_x_is_the_check_character(regions: None, tmp_path: Path) -> None:
    with_x = next(
        value for value in (id_number(sequence=number) for number in range(1, 999)) if value.endswith("X")
    )
    result = run(
        write_xlsx(tmp_path / "r.xlsx", township_roster([child("张三明", id_number=with_x.lower())]))
    )

    assert (result.created, result.errors) == (1, [])
    assert Minor.objects.get().id_number == with_x


@pytest.mark.parametrize(
    "stored",
    [
        pytest.param(330127201207210017, id="number"),
        pytest.param(3.30127201207210e17, id="float"),
        pytest.param("3.30127E+17", id="scientific text"),
    ],
)
def test_id_number_stored_as_a_number_is_refused_never_guessed(
    regions: None, tmp_path: Path, stored: Any
) -> None:
    result = run(write_xlsx(tmp_path / "r.xlsx", township_roster([child("张三明", id_number=stored)])))

    assert errors_of(result) == [(FIRST_DATA_ROW, "公民身份号码", "id_number_scientific")]
    assert "科学计数法" in result.errors[0].message
    assert Minor.objects.count() == 0


def test_id_number_in_scientific_notation_in_a_csv_is_refused(regions: None, tmp_path: Path) -> None:
    result = run(write_csv(tmp_path / "r.csv", township_roster([child("张三明", id_number="3.30127E+17")])))

    assert errors_of(result) == [(FIRST_DATA_ROW, "公民身份号码", "id_number_scientific")]


# --- Dates and gender -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        pytest.param(datetime.date(2012, 7, 21), id="Excel date"),
        pytest.param(datetime.datetime(2012, 7, 21, 0, 0), id="Excel datetime"),
        pytest.param(41111, id="Excel serial"),
        pytest.param("2012年7月21日", id="Chinese"),
        pytest.param("2012.7.21", id="dots"),
        pytest.param("2012/07/21", id="slashes"),
        pytest.param("2012-07-21", id="ISO"),
        pytest.param("20120721", id="compact"),
        pytest.param(20120721, id="compact number"),
        pytest.param("２０１２年７月２１日", id="full-width"),
        pytest.param("2012年7月", id="year and month"),
        pytest.param("", id="empty: from the ID"),
    ],
)
def test_birth_dates_as_rosters_write_them(regions: None, tmp_path: Path, written: Any) -> None:
    rows = township_roster([child("张三明", id_number=id_number(sequence=1), birth=written)])
    result = run(write_xlsx(tmp_path / "r.xlsx", rows))

    assert (result.created, result.errors) == (1, [])
    assert Minor.objects.get().birth_date == datetime.date(2012, 7, 21)


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("2012年7月22日", "birth_date_mismatch"),
        ("2012年8月", "birth_date_mismatch"),
        ("去年", "birth_date_invalid"),
    ],
)
def test_a_birth_date_that_is_not_the_ids_is_an_error_on_that_column(
    regions: None, tmp_path: Path, written: str, code: str
) -> None:
    rows = township_roster([child("张三明", id_number=id_number(sequence=1), birth=written)])
    result = run(write_xlsx(tmp_path / "r.xlsx", rows))

    assert errors_of(result) == [(FIRST_DATA_ROW, "出生日期", code)]


def test_without_an_id_the_birth_date_must_be_complete(regions: None, tmp_path: Path) -> None:
    result = run(
        write_xlsx(tmp_path / "r.xlsx", township_roster([child("张三明", birth="2012年7月", gender="男")]))
    )

    assert errors_of(result) == [(FIRST_DATA_ROW, "出生日期", "birth_date_incomplete")]


@pytest.mark.parametrize(("written", "stored"), [("男", "male"), ("男性", "male"), ("", "male")])
def test_gender_as_written_or_from_the_id(regions: None, tmp_path: Path, written: str, stored: str) -> None:
    rows = township_roster([child("张三明", id_number=id_number(sequence=1), gender=written)])
    run(write_xlsx(tmp_path / "r.xlsx", rows))

    assert Minor.objects.get().gender == stored


def test_female_and_mismatched_gender(regions: None, tmp_path: Path) -> None:
    rows = township_roster(
        [
            child("李小红", id_number=id_number(sequence=2), gender="女性"),
            child("李小兰", id_number=id_number(sequence=4), gender="男"),
            child("李小芳", id_number=id_number(sequence=6), gender="未知"),
        ]
    )
    result = run(write_xlsx(tmp_path / "r.xlsx", rows))

    assert minor_with(id_number(sequence=2)).gender == "female"
    assert errors_of(result) == [
        (FIRST_DATA_ROW + 1, "性别", "gender_mismatch"),
        (FIRST_DATA_ROW + 2, "性别", "gender_invalid"),
    ]


def test_without_an_id_birth_date_and_gender_are_required(regions: None, tmp_path: Path) -> None:
    rows = township_roster([child("张三明", birth="2012-07-21"), child("李四", gender="男")])
    result = run(write_xlsx(tmp_path / "r.xlsx", rows))

    assert errors_of(result) == [
        (FIRST_DATA_ROW, "性别", "gender_required"),
        (FIRST_DATA_ROW + 1, "出生日期", "birth_date_required"),
    ]


def test_age_rules(regions: None, tmp_path: Path) -> None:
    rows = township_roster(
        [
            child("成年人", id_number=id_number(birth="20080101", sequence=1)),  # 18 on 2026-06-01
            child("大孩子", id_number=id_number(birth="20090101", sequence=1), categories="留守儿童"),  # 17
            child("未出生", birth="2027-01-01", gender="男"),
        ]
    )
    result = run(write_xlsx(tmp_path / "r.xlsx", rows))

    assert errors_of(result) == [
        (FIRST_DATA_ROW, "公民身份号码", "not_a_minor"),
        (FIRST_DATA_ROW + 1, "儿童类别", "left_behind_too_old"),
        (FIRST_DATA_ROW + 2, "出生日期", "birth_date_future"),
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime.date(2012, 7, 21), (datetime.date(2012, 7, 21), True)),
        (41111.0, (datetime.date(2012, 7, 21), True)),
        ("2012年7月21号", (datetime.date(2012, 7, 21), True)),
        ("二〇一二年七月", (datetime.date(2012, 7, 1), False)),
        ("某年", None),
        ("2012-07-21 00:00:00", (datetime.date(2012, 7, 21), True)),
        (2012.07, (datetime.date(2012, 7, 1), False)),
        ("201207", (datetime.date(2012, 7, 1), False)),
        ("", None),
    ],
)
def test_parse_date(value: Any, expected: tuple[datetime.date, bool] | None) -> None:
    if value == "某年":
        with pytest.raises(FieldError):
            parse_date(value, field="birth_date")
        return
    assert parse_date(value, field="birth_date") == expected


# --- Categories and needs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "bits", "kind"),
    [
        ("留守儿童", Category.LEFT_BEHIND, ""),
        ("农村留守儿童、困境儿童（三类）", Category.LEFT_BEHIND | Category.PLIGHT_GUARDIANSHIP, ""),
        ("困境儿童（一类、二类）", Category.PLIGHT_POVERTY | Category.PLIGHT_DISABILITY, ""),
        ("困境儿童-贫困;困境儿童（残疾）", Category.PLIGHT_POVERTY | Category.PLIGHT_DISABILITY, ""),
        ("困境儿童（监护缺失或不当）", Category.PLIGHT_GUARDIANSHIP, ""),
        ("事实无人抚养儿童，新居民子女", Category.UNSUPPORTED | Category.MIGRANT, ""),
        ("困难家庭(低保)", Category.HARDSHIP, ""),
        ("特殊青少年（失足失范）", Category.SPECIAL, SpecialKind.MISCONDUCT),
        ("涉罪涉毒", Category.SPECIAL, SpecialKind.OFFENCE_OR_DRUGS),
        ("留守儿童 困难家庭", Category.LEFT_BEHIND | Category.HARDSHIP, ""),
        ("", 0, ""),
    ],
)
def test_categories_as_rosters_write_them(written: str, bits: int, kind: str) -> None:
    assert parse_categories(written) == (bits, kind)


@pytest.mark.parametrize(
    ("written", "code"), [("困境儿童", "plight_class_missing"), ("孤儿", "category_unknown")]
)
def test_unclear_categories_are_refused(written: str, code: str) -> None:
    with pytest.raises(FieldError) as caught:
        parse_categories(written)
    assert caught.value.code == code


def test_categories_needs_and_facts_are_stored(regions: None, tmp_path: Path) -> None:
    rows = township_roster(
        [
            child(
                "张三明",
                id_number=id_number(sequence=1),
                categories="困难家庭（低保）、困境儿童（二类）",
                needs="学业辅导、心理疏导、陪伴",
            )
        ]
    )
    run(write_xlsx(tmp_path / "r.xlsx", rows))

    minor = Minor.objects.get()
    assert minor.categories == Category.HARDSHIP | Category.PLIGHT_DISABILITY
    assert minor.needs == Need.STUDY | Need.PSYCHOLOGICAL | Need.OTHER
    assert minor.facts == {"hardship_type": "低保"}


def test_special_youth_is_sealed_and_needs_a_kind(regions: None, tmp_path: Path) -> None:
    rows = township_roster(
        [
            child("张三明", id_number=id_number(sequence=1), categories="特殊青少年（涉罪涉毒）"),
            child("李四", id_number=id_number(sequence=3), categories="特殊青少年"),
        ]
    )
    result = run(write_xlsx(tmp_path / "r.xlsx", rows))

    sealed = minor_with(id_number(sequence=1))
    assert (sealed.is_sealed, sealed.special_kind) == (True, SpecialKind.OFFENCE_OR_DRUGS)
    assert errors_of(result) == [(FIRST_DATA_ROW + 1, "儿童类别", "special_kind_missing")]


# --- Villages -------------------------------------------------------------------------------------------


def test_short_village_names_and_codes_are_found_in_the_region(regions: None, tmp_path: Path) -> None:
    rows = township_roster(
        [
            child("甲", id_number=id_number(sequence=1), village="富城村"),
            child("乙", id_number=id_number(sequence=3), village="富城村村民委员会"),
            child("丙", id_number=id_number(sequence=5), village="富城村委会"),
            child("丁", id_number=id_number(sequence=7), village=FUCHENG),
            child("戊", id_number=id_number(sequence=9), village="白沙社区"),  # in 建德市
            child("己", id_number=id_number(sequence=11), village=BAISHA),
            child("庚", id_number=id_number(sequence=13), village=""),
        ]
    )
    result = run(write_xlsx(tmp_path / "r.xlsx", rows))

    assert set(Minor.objects.values_list("region_id", flat=True)) == {FUCHENG}
    assert errors_of(result) == [
        (FIRST_DATA_ROW + 4, "所在村（社区）", "village_not_found"),
        (FIRST_DATA_ROW + 5, "所在村（社区）", "village_outside_region"),
        (FIRST_DATA_ROW + 6, "所在村（社区）", "village_required"),
    ]
    assert result.errors[0].message == "在淳安县找不到“白沙社区”"


def test_an_ambiguous_village_name_lists_the_candidates(regions: None, tmp_path: Path) -> None:
    Region.objects.create(
        code="330127101000", name="文昌镇", short_name="文昌镇", level=4, parent_id="330127000000"
    )
    Region.objects.create(
        code="330127101201", name="富城村村民委员会", short_name="富城村", level=5, parent_id="330127101000"
    )
    rows = township_roster([child("甲", id_number=id_number(sequence=1), village="富城村")])
    result = run(write_xlsx(tmp_path / "r.xlsx", rows))

    assert errors_of(result) == [(FIRST_DATA_ROW, "所在村（社区）", "village_ambiguous")]
    assert "330127100219" in result.errors[0].message
    assert "330127101201" in result.errors[0].message
    # A township import, or a 乡镇 column, settles it.
    assert run(write_xlsx(tmp_path / "r.xlsx", rows), region="330127100").created == 1


def test_a_township_column_narrows_the_village(regions: None, tmp_path: Path) -> None:
    Region.objects.create(
        code="330127101000", name="文昌镇", short_name="文昌镇", level=4, parent_id="330127000000"
    )
    Region.objects.create(
        code="330127101201", name="富城村村民委员会", short_name="富城村", level=5, parent_id="330127101000"
    )
    rows = [
        ["姓名", "公民身份号码", "乡镇（街道）", "村（社区）"],
        ["甲", id_number(sequence=1), "文昌", "富城村"],
        ["乙", id_number(sequence=3), "千岛湖镇", "富城村"],
    ]
    result = run(write_xlsx(tmp_path / "r.xlsx", rows, merges=()))

    assert result.errors == []
    assert minor_with(id_number(sequence=1)).region_id == "330127101201"
    assert minor_with(id_number(sequence=3)).region_id == FUCHENG


def test_a_village_import_needs_no_village_column(regions: None, tmp_path: Path) -> None:
    rows = [["学生姓名", "身份证号码"], ["甲", id_number(sequence=1)]]
    result = run(write_xlsx(tmp_path / "r.xlsx", rows, merges=()), region=FUCHENG)

    assert (result.created, result.errors) == (1, [])
    assert Minor.objects.get().region_id == FUCHENG


# --- Header aliases and the other columns ----------------------------------------------------------------


def test_header_aliases_and_a_single_row_header(regions: None, tmp_path: Path) -> None:
    rows: list[list[Any]] = [
        ["花名册"],
        [
            "序号", "儿童姓名", "身份证号", "出生年月", "村（社区）", "困境类型", "户籍性质", "家庭住址",
            "学校", "年级", "风险等级", "风险原因", "民族", "父亲情况", "监护人姓名", "与儿童关系",
            "监护人电话", "被委托人姓名", "被委托人与儿童关系", "被委托人联系电话",
        ],
        [
            1, "张三明", id_number(sequence=1), "2012.07", "富城", "留守儿童", "农业户口", "富城村12号",
            "千岛湖小学", "五年级", "高", "独自在家", "汉", "在宁波务工", "张建国", "父亲", "13905710001",
            "李秀英", "邻居", "0571-65012345",
        ],
    ]  # fmt: skip
    result = run(write_xlsx(tmp_path / "r.xlsx", rows, merges=()))

    assert result.errors == []
    minor = Minor.objects.get()
    assert (minor.household_type, minor.address, minor.school, minor.grade) == (
        "rural", "富城村12号", "千岛湖小学", "五年级",
    )  # fmt: skip
    assert (minor.risk_level, minor.risk_reason, minor.ethnicity) == ("high", "独自在家", "汉族")
    assert minor.facts == {"father_situation": "在宁波务工"}
    assert sorted(minor.guardians.values_list("name", "relationship", "phone", "is_entrusted_carer")) == [
        ("张建国", "父亲", "13905710001", False),
        ("李秀英", "邻居", "0571-65012345", True),
    ]


def test_left_behind_children_need_a_rural_household(regions: None, tmp_path: Path) -> None:
    rows = [
        ["姓名", "身份证号", "村", "类别", "户口性质"],
        ["甲", id_number(sequence=1), "富城村", "留守儿童", "城镇户口"],
    ]
    result = run(write_xlsx(tmp_path / "r.xlsx", rows, merges=()))

    assert errors_of(result) == [(2, "户口性质", "left_behind_urban")]


def test_a_guardian_needs_name_and_relationship(regions: None, tmp_path: Path) -> None:
    rows = township_roster(
        [child("张三明", id_number=id_number(sequence=1), guardian=("", "", "13905710001"))]
    )
    result = run(write_xlsx(tmp_path / "r.xlsx", rows))

    assert errors_of(result) == [(FIRST_DATA_ROW, "监护人情况/姓名", "guardian_incomplete")]


def test_without_a_relationship_column_the_guardian_is_recorded_as_guardian(
    regions: None, tmp_path: Path
) -> None:
    rows = [
        ["姓名", "身份证号", "村", "监护人姓名", "联系电话"],
        ["甲", id_number(sequence=1), "富城村", "王大明", "13905710001"],
    ]
    result = run(write_xlsx(tmp_path / "r.xlsx", rows, merges=()))

    assert result.errors == []
    assert list(Guardian.objects.values_list("name", "relationship", "phone")) == [
        ("王大明", "监护人", "13905710001")
    ]


def test_a_row_reports_every_problem_it_has(regions: None, tmp_path: Path) -> None:
    rows = township_roster(
        [
            child(
                "张三明", id_number="123", gender="X", categories="孤儿", guardian=("王大明", "父亲", "12345")
            )
        ]
    )
    result = run(write_xlsx(tmp_path / "r.xlsx", rows))

    assert errors_of(result) == [
        (FIRST_DATA_ROW, "公民身份号码", "id_number_invalid"),
        (FIRST_DATA_ROW, "性别", "gender_invalid"),
        (FIRST_DATA_ROW, "儿童类别", "category_unknown"),
        (FIRST_DATA_ROW, "监护人情况/联系电话", "phone_invalid"),
    ]
    assert result.refused_rows == [FIRST_DATA_ROW]


def test_an_adjusted_mapping_is_used(regions: None, tmp_path: Path) -> None:
    rows = [["名", "证号", "地方"], ["张三明", id_number(sequence=1), "富城村"]]
    path = write_xlsx(tmp_path / "r.xlsx", rows, merges=())
    with pytest.raises(RosterReadError):
        run(path)
    result = run(path, mapping={"name": 0, "id_number": 1, "village": 2})

    assert (result.created, result.columns) == (1, {"name": "名", "id_number": "证号", "village": "地方"})


# --- Across counties ------------------------------------------------------------------------------------


def test_an_id_registered_in_another_county_names_only_the_county(regions: None, tmp_path: Path) -> None:
    jiande = township_roster([child("张三明", id_number=id_number(sequence=1), village="白沙社区")])
    run(write_xlsx(tmp_path / "jiande.xlsx", jiande), region="330182")
    rows = township_roster(
        [child("张小明", id_number=id_number(sequence=1)), child("李四", id_number=id_number(sequence=3))]
    )
    result = run(write_xlsx(tmp_path / "chunan.xlsx", rows))

    assert result.errors == [
        RowError(FIRST_DATA_ROW, "公民身份号码", "registered_elsewhere", "已在建德市登记")
    ]
    assert result.created == 1
    assert minor_with(id_number(sequence=1)).name == "张三明"


def test_a_township_import_does_not_take_a_child_of_another_township(regions: None, tmp_path: Path) -> None:
    run(write_xlsx(tmp_path / "a.xlsx", township_roster([child("张三明", id_number=id_number(sequence=1))])))
    Region.objects.create(
        code="330127101000", name="文昌镇", short_name="文昌镇", level=4, parent_id="330127000000"
    )
    Region.objects.create(
        code="330127101201", name="王家村村民委员会", short_name="王家村", level=5, parent_id="330127101000"
    )
    rows = township_roster([child("张三明", id_number=id_number(sequence=1), village="王家村")])
    result = run(write_xlsx(tmp_path / "b.xlsx", rows), region="330127101")

    assert errors_of(result) == [(FIRST_DATA_ROW, "公民身份号码", "registered_elsewhere")]
    assert minor_with(id_number(sequence=1)).region_id == FUCHENG


# --- All or nothing, dry runs, audit --------------------------------------------------------------------


def test_a_crash_mid_way_leaves_nothing_and_a_rerun_completes(
    regions: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    children = [child(f"儿童{number}", id_number=id_number(sequence=number)) for number in range(1, 12)]
    path = write_xlsx(tmp_path / "r.xlsx", township_roster(children))
    real_write = importing.BatchWriter.write
    chunks: list[int] = []

    def crash_on_third_chunk(self: importing.BatchWriter, chunk: list[Any]) -> None:
        chunks.append(len(chunk))
        if len(chunks) == 3:
            raise ConnectionError("the database went away")
        real_write(self, chunk)

    monkeypatch.setattr(importing.BatchWriter, "write", crash_on_third_chunk)
    with pytest.raises(ConnectionError):
        run(path, chunk_size=4)

    assert chunks == [4, 4, 3]
    assert Minor.objects.count() == 0
    assert Guardian.objects.count() == 0
    assert not AuditEvent.objects.filter(action="minors.import").exists()
    failed = ImportBatch.objects.get()
    assert (failed.status, failed.created, failed.message) == (
        "failed",
        0,
        "导入中断，未写入任何数据，可重新导入。",
    )

    monkeypatch.setattr(importing.BatchWriter, "write", real_write)
    result = run(path, chunk_size=4)
    assert (result.created, Minor.objects.count()) == (11, 11)


def test_a_dry_run_counts_what_would_happen_and_writes_nothing(regions: None, tmp_path: Path) -> None:
    run(write_xlsx(tmp_path / "a.xlsx", township_roster([child("张三明", id_number=id_number(sequence=1))])))
    rows = township_roster(
        [
            child("张三明", id_number=id_number(sequence=1)),  # unchanged
            child("李小红", id_number=id_number(sequence=2), gender="女"),  # new
            child("王五", id_number=id_number(sequence=3)),  # new
            child("坏", id_number="1"),  # refused
        ]
    )
    before = Minor.objects.count(), AuditEvent.objects.count()
    result = run(write_xlsx(tmp_path / "b.xlsx", rows), dry_run=True)

    assert (result.rows, result.created, result.updated, result.unchanged, len(result.errors)) == (
        4,
        2,
        0,
        1,
        1,
    )
    assert (Minor.objects.count(), AuditEvent.objects.count()) == before
    batch = ImportBatch.objects.get(pk=result.batch_id or 0)
    assert (batch.is_dry_run, batch.status, batch.created, batch.error_count) == (True, "succeeded", 2, 1)


def test_one_audit_event_per_committed_batch(regions: None, tmp_path: Path) -> None:
    children = [child(f"儿童{number}", id_number=id_number(sequence=number)) for number in range(1, 6)]
    children.append(child("坏", id_number="1"))
    result = run(write_xlsx(tmp_path / "r.xlsx", township_roster(children)), chunk_size=2)

    event = AuditEvent.objects.get(action="minors.import")
    assert (event.target_type, event.target_id, event.region_code) == (
        "imports.importbatch", str(result.batch_id), "330127000000",
    )  # fmt: skip
    assert event.detail == {"rows": 6, "created": 5, "updated": 0, "unchanged": 0, "errors": 1}
    assert event.actor_user_id is None
    assert AuditEvent.objects.filter(action__startswith="minor").count() == 1


def test_the_batch_record_says_who_where_which_file_and_how(
    regions: None, personas: dict[str, Any], tmp_path: Path
) -> None:
    actor = actor_for_user(personas["county_a_admin"])
    path = write_xlsx(
        tmp_path / "花名册.xlsx",
        township_roster([child("张三明", id_number=id_number(sequence=1)), child("坏", id_number="1")]),
    )
    result = minor_roster_import(actor=actor, path_or_file=path, region_code=COUNTY, dry_run=False)

    batch = ImportBatch.objects.get(pk=result.batch_id or 0)
    assert (batch.kind, batch.region_id, batch.created_by, batch.file_name) == (
        "minors", "330127000000", personas["county_a_admin"], "花名册.xlsx",
    )  # fmt: skip
    assert (batch.status, batch.rows, batch.created, batch.error_count) == ("succeeded", 2, 1, 1)
    assert batch.errors == [
        {
            "row": FIRST_DATA_ROW + 1,
            "column": "公民身份号码",
            "code": "id_number_invalid",
            "message": "身份证号应为 18 位",
        }
    ]
    assert len(batch.file_digest) == 64
    assert Minor.objects.get().created_by == personas["county_a_admin"]
    assert ImportBatch.objects.visible_to(actor_for_user(personas["county_b_admin"])).count() == 0


# --- Who may import where ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "region", "refusal"),
    [
        ("county_b_admin", COUNTY, NotFoundError),  # another county
        ("township_worker", COUNTY, NotFoundError),  # above the actor's township
        ("volunteer", FUCHENG, PermissionDeniedError),  # no import permission
    ],
)
def test_an_actor_imports_only_into_their_region(
    regions: None,
    personas: dict[str, Any],
    tmp_path: Path,
    persona: str,
    region: str,
    refusal: type[Exception],
) -> None:
    actor: Actor = actor_for_user(personas[persona])
    path = write_xlsx(
        tmp_path / "r.xlsx", township_roster([child("张三明", id_number=id_number(sequence=1))])
    )
    with pytest.raises(refusal):
        minor_roster_import(actor=actor, path_or_file=path, region_code=region, dry_run=False)
    assert Minor.objects.count() == 0
    assert ImportBatch.objects.count() == 0


def test_a_township_worker_imports_into_the_township(
    regions: None, personas: dict[str, Any], tmp_path: Path
) -> None:
    actor = actor_for_user(personas["township_worker"])
    path = write_xlsx(
        tmp_path / "r.xlsx", township_roster([child("张三明", id_number=id_number(sequence=1))])
    )
    result = minor_roster_import(actor=actor, path_or_file=path, region_code="330127100", dry_run=False)

    assert result.created == 1


# --- Broken files --------------------------------------------------------------------------------------


def test_a_file_that_cannot_be_read_writes_nothing(regions: None, tmp_path: Path) -> None:
    good = write_xlsx(
        tmp_path / "good.xlsx", township_roster([child("张三明", id_number=id_number(sequence=1))])
    )
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(good.read_bytes()[:2000])
    with pytest.raises(RosterReadError) as caught:
        run(truncated)

    assert caught.value.code == "damaged_file"
    assert Minor.objects.count() == 0
    assert ImportBatch.objects.get().status == "failed"


def test_an_upload_file_object_is_read_like_a_path(regions: None, tmp_path: Path) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    path = write_xlsx(
        tmp_path / "r.xlsx", township_roster([child("张三明", id_number=id_number(sequence=1))])
    )
    upload = SimpleUploadedFile("花名册.xlsx", path.read_bytes())
    result = minor_roster_import(actor=None, path_or_file=upload, region_code=COUNTY, dry_run=False)

    assert result.created == 1
    assert ImportBatch.objects.get().file_name == "花名册.xlsx"


def test_progress_is_reported_per_chunk(regions: None, tmp_path: Path) -> None:
    children = [child(f"儿童{number}", id_number=id_number(sequence=number)) for number in range(1, 6)]
    calls: list[tuple[int, int | None]] = []
    run(
        write_xlsx(tmp_path / "r.xlsx", township_roster(children)),
        chunk_size=2,
        progress=lambda done, total: calls.append((done, total)),
    )

    assert [done for done, total in calls] == [2, 4, 5, 5]
    assert calls[-1] == (5, 5)
