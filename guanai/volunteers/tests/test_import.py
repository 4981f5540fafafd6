"""The roster import of 五老 volunteers: every file format, the rules per cell (each refusal names its
column), matching and re-import, the cross-county answer, all-or-nothing, dry runs, broken files, the
batch record and the audit event."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from decimal import Decimal
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
from guanai.minors.importing import ImportResult
from guanai.minors.validation import FieldError
from guanai.volunteers import importing
from guanai.volunteers.importing import (
    parse_availability,
    parse_categories,
    parse_max_children,
    parse_specialties,
    volunteer_roster_import,
)
from guanai.volunteers.models import Volunteer
from guanai.volunteers.tests.factories import VolunteerFactory
from guanai.volunteers.tests.rosters import (
    FIRST_DATA_ROW,
    HEADER_MERGES,
    XLS_HEADER_MERGES,
    elder,
    elder_id,
    roster,
    write_csv,
    write_xls,
    write_xlsx,
)
from guanai.volunteers.vocabulary import (
    ALL_AVAILABILITY,
    ElderCategory,
    Source,
    Specialty,
    Status,
    availability_bit,
)

pytestmark = pytest.mark.django_db

COUNTY = "330127"  # 淳安县
FUCHENG = "330127100219"  # 富城村村民委员会
QINGCHENG = "330127100001"  # 青城社区
BAISHA = "330182001020"  # 白沙社区 in 建德市
TODAY = datetime.date(2026, 6, 1)
SATURDAY_MORNING_SUNDAY = (
    availability_bit(5, 0) | availability_bit(6, 0) | availability_bit(6, 1) | (availability_bit(6, 2))
)


@pytest.fixture(autouse=True)
def frozen_today() -> Iterator[None]:
    with time_machine.travel(datetime.datetime(2026, 6, 1, 10, 0, tzinfo=datetime.UTC), tick=True):
        yield


Writer = Callable[[Path, list[list[Any]]], Path]


def as_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    return write_xlsx(path.with_suffix(".xlsx"), rows, merges=HEADER_MERGES)


def as_xls(path: Path, rows: list[list[Any]]) -> Path:
    pytest.importorskip("xlwt")
    return write_xls(path.with_suffix(".xls"), rows, merges=XLS_HEADER_MERGES)


def as_csv_utf8(path: Path, rows: list[list[Any]]) -> Path:
    return write_csv(path.with_suffix(".csv"), rows)


def as_csv_gb18030(path: Path, rows: list[list[Any]]) -> Path:
    return write_csv(path.with_suffix(".csv"), rows, encoding="gb18030")


WRITERS: dict[str, Writer] = {
    "xlsx": as_xlsx,
    "xls": as_xls,
    "csv-utf8": as_csv_utf8,
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
    return volunteer_roster_import(
        actor=None, path_or_file=path, region_code=region, dry_run=dry_run, **options
    )


def run_rows(tmp_path: Path, volunteers: list[list[Any]], **options: Any) -> ImportResult:
    return run(as_xlsx(tmp_path / "roster", roster(volunteers)), **options)


def errors_of(result: ImportResult) -> list[tuple[int, str, str]]:
    return [(error.row, error.column, error.code) for error in result.errors]


def volunteer_with(id_value: str) -> Volunteer:
    return Volunteer.objects.get(id_number_index=blind_index(Volunteer, "id_number", id_value))


# --- The roster, in every file format -----------------------------------------------------------------


def test_a_committee_roster_imports_in_every_format(regions: None, tmp_path: Path, writer: Writer) -> None:
    """Title and 填报单位 above, a two-row header with 背景审查 merged over three columns, 序号, footer
    lines: the volunteers are imported, nothing else."""
    rows = roster(
        [
            elder(
                "王建国", id_number=elder_id(1), categories="老教师、老干部", specialties="教学、红色历史教育"
            ),
            elder(
                "李秀英",
                id_number=elder_id(2, birth="19580704"),
                gender="女",
                village="青城社区",
                categories="老模范",
                specialties="心理",
                certificate="国家二级心理咨询师 1911000000200123",
                availability="不限",
                max_children="2人",
                status="暂停",
            ),
        ]
    )
    result = run(writer(tmp_path / "roster", rows))

    assert (result.rows, result.created, result.updated, result.unchanged, result.errors) == (2, 2, 0, 0, [])
    assert result.header is not None
    assert result.header.rows == (3, 4)
    assert result.columns["check_date"] == "背景审查/审查日期"
    man = volunteer_with(elder_id(1))
    assert (man.name, man.gender, man.birth_date, man.region_id, man.phone) == (
        "王建国",
        "male",
        datetime.date(1956, 3, 12),
        FUCHENG,
        "13905710001",
    )
    assert (man.name_pinyin, man.name_initials) == ("wangjianguo", "wjg")
    assert man.categories == ElderCategory.TEACHER | ElderCategory.CADRE
    assert man.specialties == Specialty.TEACHING | Specialty.RED_HISTORY
    assert (man.former_unit, man.former_title, man.teaching_subjects) == (
        "千岛湖镇中心小学",
        "小学高级教师",
        "语文",
    )
    assert (man.availability, man.max_children, man.health_note, man.dialects) == (
        SATURDAY_MORNING_SUNDAY,
        3,
        "良好",
        "淳安话",
    )
    assert (man.check_date, man.check_result, man.check_by) == (
        datetime.date(2026, 3, 1),
        "clear",
        "千岛湖镇派出所",
    )
    assert (man.status, man.status_reason, man.source, man.joined_on, man.created_by) == (
        Status.ACTIVE,
        "",
        Source.IMPORT,
        TODAY,
        None,
    )
    assert man.check_valid_on(TODAY)
    woman = volunteer_with(elder_id(2, birth="19580704"))
    assert (woman.gender, woman.region_id, woman.categories, woman.specialties) == (
        "female",
        QINGCHENG,
        ElderCategory.MODEL_WORKER,
        Specialty.PSYCHOLOGY,
    )
    assert (woman.psychology_certificate, woman.law_licence_number) == (
        "国家二级心理咨询师 1911000000200123",
        "",
    )
    assert (woman.availability, woman.max_children) == (ALL_AVAILABILITY, 2)
    assert (woman.status, woman.status_reason, woman.status_changed_on) == (
        Status.SUSPENDED,
        "名册导入时登记为暂停",
        TODAY,
    )
    assert ImportBatch.objects.get().kind == "volunteers"


def test_a_lawyer_with_a_licence_number_is_imported(regions: None, tmp_path: Path) -> None:
    result = run_rows(
        tmp_path,
        [elder("赵律", id_number=elder_id(3), specialties="法律、教学辅导", licence="13301199810123456")],
    )
    assert (result.created, result.errors) == (1, [])
    lawyer = volunteer_with(elder_id(3))
    assert (lawyer.specialties, lawyer.law_licence_number) == (
        Specialty.LAW | Specialty.TEACHING,
        "13301199810123456",
    )


def test_a_single_row_header_with_synonyms_imports(regions: None, tmp_path: Path) -> None:
    rows: list[list[Any]] = [
        ["五老志愿者名册"],
        ["序号", "志愿者姓名", "公民身份号码", "手机", "类别", "特长", "所在村（社区）", "服务时间",
         "可结对人数", "审查日期", "审查结果", "审查机关", "备注"],
        [1, "王建国", elder_id(1), "13905710001", "老战士", "红色教育", "富城村", "工作日晚上", 4,
         datetime.date(2026, 1, 5), "通过", "淳安县公安局", "党员"],
    ]  # fmt: skip
    result = run(write_csv(tmp_path / "r.csv", rows))

    assert (result.created, result.errors) == (1, [])
    assert result.columns["village"] == "所在村（社区）"
    volunteer = volunteer_with(elder_id(1))
    assert (volunteer.categories, volunteer.specialties, volunteer.max_children) == (
        ElderCategory.VETERAN,
        Specialty.RED_HISTORY,
        4,
    )
    assert volunteer.availability == sum(availability_bit(day, 2) for day in range(5))
    assert (volunteer.check_date, volunteer.check_result, volunteer.check_by) == (
        datetime.date(2026, 1, 5),
        "clear",
        "淳安县公安局",
    )


def test_a_roster_without_an_id_number_column_is_refused_whole(regions: None, tmp_path: Path) -> None:
    rows = [["姓名", "性别", "村（社区）"], ["王建国", "男", "富城村"]]
    with pytest.raises(RosterReadError) as caught:
        run(write_csv(tmp_path / "r.csv", rows))
    assert caught.value.code == "header_not_found"
    assert "“身份证号”" in caught.value.message
    assert Volunteer.objects.count() == 0


# --- Matching and re-import ----------------------------------------------------------------------------


def test_reimporting_the_same_file_creates_and_changes_nothing(regions: None, tmp_path: Path) -> None:
    path = as_xlsx(
        tmp_path / "r", roster([elder("王建国", id_number=elder_id(1)), elder("李四", id_number=elder_id(3))])
    )
    first = run(path)
    versions = list(Volunteer.objects.order_by("id").values_list("version", flat=True))
    second = run(path)

    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    assert (second.rows, second.created, second.updated, second.unchanged, second.errors) == (2, 0, 0, 2, [])
    assert Volunteer.objects.count() == 2
    assert list(Volunteer.objects.order_by("id").values_list("version", flat=True)) == versions


def test_reimport_updates_changed_values_and_their_blind_index(regions: None, tmp_path: Path) -> None:
    run_rows(tmp_path, [elder("王建国", id_number=elder_id(1)), elder("李四", id_number=elder_id(3))])
    result = run_rows(
        tmp_path,
        [
            elder("王建国", id_number=elder_id(1), phone="13900000000", categories="老干部", max_children=5),
            elder("李四", id_number=elder_id(3)),
        ],
    )

    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    volunteer = volunteer_with(elder_id(1))
    assert (volunteer.phone, volunteer.categories, volunteer.max_children, volunteer.version) == (
        "13900000000",
        ElderCategory.CADRE,
        5,
        2,
    )
    assert (
        Volunteer.objects.get(phone_index=blind_index(Volunteer, "phone", "13900000000")).pk == volunteer.pk
    )
    assert volunteer.source == Source.IMPORT


def test_empty_cells_keep_what_is_on_record(regions: None, tmp_path: Path) -> None:
    existing = VolunteerFactory.create(
        name="王建国", id_number=elder_id(1), phone="13800000000", health_note="高血压", source=Source.STAFF
    )
    result = run_rows(tmp_path, [elder("王建国", id_number=elder_id(1), phone="", health="", status="")])

    existing.refresh_from_db()
    assert (result.updated, result.errors) == (1, [])  # the roster's other values differ from the factory's
    assert (existing.phone, existing.health_note, existing.status, existing.source) == (
        "13800000000",
        "高血压",
        Status.ACTIVE,
        Source.STAFF,
    )


def test_a_record_without_an_id_number_gets_it_from_the_roster(regions: None, tmp_path: Path) -> None:
    existing = VolunteerFactory.create(
        name="王建国", id_number=None, birth_date=datetime.date(1956, 3, 12), gender="male", region_id=FUCHENG
    )
    result = run_rows(tmp_path, [elder("王建国", id_number=elder_id(1))])

    assert (result.created, result.updated) == (0, 1)
    assert volunteer_with(elder_id(1)).pk == existing.pk


def test_a_volunteer_of_another_county_names_only_the_county(regions: None, tmp_path: Path) -> None:
    VolunteerFactory.create(id_number=elder_id(1), region_id=BAISHA)
    result = run_rows(tmp_path, [elder("王建国", id_number=elder_id(1))])

    assert errors_of(result) == [(FIRST_DATA_ROW, "身份证号", "registered_elsewhere")]
    assert result.errors[0].message == "已在建德市登记"
    assert volunteer_with(elder_id(1)).region_id == BAISHA


def test_the_same_id_twice_refuses_the_later_row(regions: None, tmp_path: Path) -> None:
    result = run_rows(
        tmp_path, [elder("王建国", id_number=elder_id(1)), elder("王建国", id_number=elder_id(1))]
    )

    assert result.created == 1
    assert errors_of(result) == [(FIRST_DATA_ROW + 1, "身份证号", "duplicate_in_file")]


def test_a_status_change_the_record_may_not_make_is_refused(regions: None, tmp_path: Path) -> None:
    VolunteerFactory.create(id_number=elder_id(1), status=Status.DECEASED, status_reason="病故")
    VolunteerFactory.create(id_number=elder_id(3), status=Status.ACTIVE)
    result = run_rows(
        tmp_path,
        [
            elder("王建国", id_number=elder_id(1), status="在岗"),
            elder("李四", id_number=elder_id(3), status="退出"),
        ],
    )

    assert errors_of(result) == [(FIRST_DATA_ROW, "状态", "status_change_not_allowed")]
    assert result.errors[0].message == "状态不能从“已故”改为“在岗”"
    withdrawn = volunteer_with(elder_id(3))
    assert (withdrawn.status, withdrawn.status_reason, withdrawn.status_changed_on) == (
        Status.WITHDRAWN,
        "名册导入时登记为退出",
        TODAY,
    )


def test_fewer_places_than_paired_children_is_refused(regions: None, tmp_path: Path) -> None:
    VolunteerFactory.create(id_number=elder_id(1), paired_count=3, max_children=4)
    result = run_rows(tmp_path, [elder("王建国", id_number=elder_id(1), max_children=2)])

    assert errors_of(result) == [(FIRST_DATA_ROW, "最多结对人数", "max_children_below_paired")]
    assert volunteer_with(elder_id(1)).max_children == 4


# --- Every refusal, naming its column -------------------------------------------------------------------

REFUSALS: list[tuple[str, dict[str, Any], str, str, str]] = [
    ("no name", {"name": ""}, "姓名", "name_required", "请填写姓名"),
    ("no ID", {"id_number": ""}, "身份证号", "id_number_required",
     "请填写身份证号：导入的志愿者以身份证号识别"),
    ("bad checksum", {"id_number": "330127195603120010"}, "身份证号", "id_number_invalid",
     "身份证号校验位不正确"),
    ("birth date", {"birth": "1956-03-13"}, "出生日期", "birth_date_mismatch",
     "出生日期与身份证号不一致（身份证号为 1956-03-12）"),
    ("gender", {"gender": "女"}, "性别", "gender_mismatch", "性别与身份证号不一致（身份证号为男）"),
    ("unknown gender", {"gender": "未知"}, "性别", "gender_invalid", "无法识别“未知”，应为：男、女"),
    ("too young", {"id_number": elder_id(1, birth="20100101")}, "身份证号", "too_young",
     "志愿者须年满 18 周岁"),
    ("phone", {"phone": "1390571000"}, "联系电话", "phone_invalid",
     "电话号码格式不正确：手机为 11 位数字，固定电话须带区号"),
    ("category", {"categories": "老干部、老工人"}, "五老类别", "category_unknown",
     "无法识别的五老类别“老工人”，可填：老干部、老战士、老专家、老教师、老模范"),
    ("specialty", {"specialties": "钓鱼"}, "专长", "specialty_unknown",
     "无法识别的专长“钓鱼”，可填：法律、心理、教学辅导、农业科技、医疗健康、文化艺术、红色历史教育"),
    ("lawyer", {"specialties": "法律"}, "律师执业证号", "law_licence_missing", "法律专长须填写律师执业证号"),
    ("counsellor", {"specialties": "心理咨询"}, "心理咨询资质证书", "psychology_certificate_missing",
     "心理专长须填写心理咨询资质证书"),
    ("availability", {"availability": "看情况"}, "可服务时间", "availability_invalid",
     "可服务时间“看情况”无法识别，请写成“周六上午、周日全天”“工作日晚上”或“不限”"),
    ("capacity", {"max_children": "25"}, "最多结对人数", "max_children_invalid",
     "最多结对人数应为 0 到 20 的整数"),
    ("capacity text", {"max_children": "若干"}, "最多结对人数", "max_children_invalid",
     "最多结对人数应为 0 到 20 的整数"),
    ("check date", {"check_date": "2026年13月1日"}, "背景审查/审查日期", "check_date_invalid",
     "日期“2026年13月1日”无法识别，请写成 2012-07-21 或 2012年7月21日"),
    ("check in future", {"check_date": "2026-07-01"}, "背景审查/审查日期", "check_in_future",
     "背景审查日期不能晚于今天"),
    ("check month only", {"check_date": "2026年3月"}, "背景审查/审查日期", "check_date_incomplete",
     "背景审查日期须写到日"),
    ("result without date", {"check_date": ""}, "背景审查/审查日期", "check_incomplete",
     "背景审查日期与结果须同时填写"),
    ("date without result", {"check_result": ""}, "背景审查/审查结果", "check_incomplete",
     "背景审查日期与结果须同时填写"),
    ("unknown result", {"check_result": "待定"}, "背景审查/审查结果", "check_result_invalid",
     "无法识别“待定”，应为：无不良记录、有不良记录"),
    ("status", {"status": "休假"}, "状态", "status_invalid",
     "无法识别“休假”，应为：申请中、在岗、暂停、退出、已故"),
    ("village", {"village": "不存在村"}, "村（社区）", "village_not_found", "在淳安县找不到“不存在村”"),
    ("village outside", {"village": BAISHA}, "村（社区）", "village_outside_region",
     "“330182001020”不在淳安县范围内"),
    ("township", {"township": "不存在镇"}, "乡镇（街道）", "township_not_found", "在淳安县找不到“不存在镇”"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "column", "code", "message"),
    [pytest.param(*refusal[1:], id=refusal[0]) for refusal in REFUSALS],
)
def test_a_row_is_refused_with_its_column_and_a_reason(
    regions: None, tmp_path: Path, changes: dict[str, Any], column: str, code: str, message: str
) -> None:
    cells: dict[str, Any] = {"id_number": elder_id(1), **changes}
    name = cells.pop("name", "王建国")
    result = run_rows(tmp_path, [elder("李四", id_number=elder_id(3)), elder(name, **cells)])

    assert (result.rows, result.created) == (2, 1)
    assert [(error.row, error.column, error.code, error.message) for error in result.errors] == [
        (FIRST_DATA_ROW + 1, column, code, message)
    ]
    assert Volunteer.objects.count() == 1


def test_an_id_number_stored_as_a_number_is_refused_never_guessed(regions: None, tmp_path: Path) -> None:
    result = run_rows(tmp_path, [elder("王建国", id_number=int(elder_id(1)))])
    assert errors_of(result) == [(FIRST_DATA_ROW, "身份证号", "id_number_scientific")]


def test_a_row_reports_every_problem_it_has(regions: None, tmp_path: Path) -> None:
    result = run_rows(
        tmp_path,
        [elder("王建国", id_number=elder_id(1), phone="123", categories="老农", availability="有时")],
    )
    assert [column for _row, column, _code in errors_of(result)] == ["联系电话", "五老类别", "可服务时间"]


def test_formula_looking_cells_are_kept_as_the_text_they_are(regions: None, tmp_path: Path) -> None:
    """A CSV cell is text whatever it starts with; it is stored as such, and neutralised wherever it is
    written into a workbook again (see the error report's test)."""
    rows = roster(
        [elder("王建国", id_number=elder_id(1), former_unit='=HYPERLINK("http://x")', dialects="@SUM(1)")]
    )
    result = run(write_csv(tmp_path / "r.csv", rows))
    assert result.errors == []
    volunteer = volunteer_with(elder_id(1))
    assert (volunteer.former_unit, volunteer.dialects) == ('=HYPERLINK("http://x")', "@SUM(1)")


# --- Reading the cells -------------------------------------------------------------------------------------


def slots(*pairs: tuple[int, int]) -> int:
    return sum(availability_bit(day, part) for day, part in pairs)


WEEK = range(7)


@pytest.mark.parametrize(
    ("written", "bits"),
    [
        ("不限", ALL_AVAILABILITY),
        ("随时", ALL_AVAILABILITY),
        ("周六上午、周日全天、不限", ALL_AVAILABILITY),
        ("周六上午", slots((5, 0))),
        ("周六上午、周日全天", slots((5, 0), (6, 0), (6, 1), (6, 2))),
        ("周六、周日上午", slots((5, 0), (6, 0))),
        ("周一上午、下午", slots((0, 0), (0, 1))),
        ("周二、四下午", slots((1, 1), (3, 1))),
        ("星期三", slots((2, 0), (2, 1), (2, 2))),
        ("每周五晚上", slots((4, 2))),
        ("周一至周五下午", slots(*((day, 1) for day in range(5)))),
        ("周一到五上午", slots(*((day, 0) for day in range(5)))),
        ("工作日晚上", slots(*((day, 2) for day in range(5)))),
        ("周末", slots(*((day, part) for day in (5, 6) for part in range(3)))),
        ("周末白天均可", slots(*((day, part) for day in (5, 6) for part in range(2)))),
        ("上午", slots(*((day, 0) for day in WEEK))),
        ("每天下午", slots(*((day, 1) for day in WEEK))),
        ("周六上午 周日下午", slots((5, 0), (6, 1))),
        ("", 0),
    ],
)
def test_availability_as_rosters_write_it(written: str, bits: int) -> None:
    assert parse_availability(written) == bits


@pytest.mark.parametrize("written", ["看情况", "周八", "周五至周一", "四下午", "周六上午有事", "全天候待命"])
def test_unreadable_availability_is_refused(written: str) -> None:
    with pytest.raises(FieldError) as caught:
        parse_availability(written)
    assert caught.value.code == "availability_invalid"


@pytest.mark.parametrize(
    ("written", "bits"),
    [
        ("老干部", ElderCategory.CADRE),
        ("老干部、老教师", ElderCategory.CADRE | ElderCategory.TEACHER),
        ("老干部老教师", ElderCategory.CADRE | ElderCategory.TEACHER),
        ("退役军人/老专家", ElderCategory.VETERAN | ElderCategory.EXPERT),
        ("劳模，老战士", ElderCategory.MODEL_WORKER | ElderCategory.VETERAN),
        ("", 0),
    ],
)
def test_categories_as_rosters_write_them(written: str, bits: int) -> None:
    assert parse_categories(written) == bits


@pytest.mark.parametrize(
    ("written", "bits"),
    [
        ("法律", Specialty.LAW),
        ("心理健康", Specialty.PSYCHOLOGY),
        ("教学、红色历史教育", Specialty.TEACHING | Specialty.RED_HISTORY),
        ("教学辅导；农业科技", Specialty.TEACHING | Specialty.AGRICULTURE_TECHNOLOGY),
        ("医疗健康、书法", Specialty.HEALTH | Specialty.CULTURE_ARTS),
        ("文化艺术", Specialty.CULTURE_ARTS),
    ],
)
def test_specialties_as_rosters_write_them(written: str, bits: int) -> None:
    assert parse_specialties(written) == bits


@pytest.mark.parametrize(
    ("written", "number"), [(3, 3), (3.0, 3), ("3", 3), ("3人", 3), ("三", 3), (0, 0), ("", None)]
)
def test_capacity_as_rosters_write_it(written: Any, number: int | None) -> None:
    assert parse_max_children(written) == number


# --- All or nothing, dry runs, audit, the batch ---------------------------------------------------------


def test_a_dry_run_counts_what_would_happen_and_writes_nothing(regions: None, tmp_path: Path) -> None:
    run_rows(tmp_path, [elder("王建国", id_number=elder_id(1))])
    rows = [
        elder("王建国", id_number=elder_id(1)),  # unchanged
        elder("王建国", id_number=elder_id(3), max_children=5),  # new
        elder("李秀英", id_number=elder_id(4), gender="女"),  # new
        elder("坏", id_number="1"),  # refused
    ]
    before = Volunteer.objects.count(), AuditEvent.objects.count()
    result = run_rows(tmp_path, rows, dry_run=True)

    assert (result.rows, result.created, result.updated, result.unchanged, len(result.errors)) == (
        4,
        2,
        0,
        1,
        1,
    )
    assert (Volunteer.objects.count(), AuditEvent.objects.count()) == before
    batch = ImportBatch.objects.get(pk=result.batch_id or 0)
    assert (batch.kind, batch.is_dry_run, batch.status, batch.created, batch.error_count) == (
        "volunteers",
        True,
        "succeeded",
        2,
        1,
    )


def test_a_crash_mid_way_leaves_nothing_and_a_rerun_completes(
    regions: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = as_xlsx(tmp_path / "r", roster([elder(f"志愿者{n}", id_number=elder_id(n)) for n in range(1, 12)]))
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
    assert Volunteer.objects.count() == 0
    assert not AuditEvent.objects.filter(action="volunteers.import").exists()
    failed = ImportBatch.objects.get()
    assert (failed.status, failed.created, failed.message) == (
        "failed",
        0,
        "导入中断，未写入任何数据，可重新导入。",
    )

    monkeypatch.setattr(importing.BatchWriter, "write", real_write)
    result = run(path, chunk_size=4)
    assert (result.created, Volunteer.objects.count()) == (11, 11)


def test_one_audit_event_per_committed_batch(regions: None, tmp_path: Path) -> None:
    rows = [elder(f"志愿者{n}", id_number=elder_id(n)) for n in range(1, 6)] + [elder("坏", id_number="1")]
    result = run_rows(tmp_path, rows, chunk_size=2)

    event = AuditEvent.objects.get(action="volunteers.import")
    assert (event.target_type, event.target_id, event.region_code, event.actor_user_id) == (
        "imports.importbatch",
        str(result.batch_id),
        "330127000000",
        None,
    )
    assert event.detail == {"rows": 6, "created": 5, "updated": 0, "unchanged": 0, "errors": 1}
    assert AuditEvent.objects.count() == 1


def test_the_batch_record_says_who_where_which_file_and_how(
    regions: None, personas: dict[str, Any], tmp_path: Path
) -> None:
    actor = actor_for_user(personas["county_a_admin"])
    path = as_xlsx(
        tmp_path / "五老花名册", roster([elder("王建国", id_number=elder_id(1)), elder("坏", id_number="1")])
    )
    result = volunteer_roster_import(actor=actor, path_or_file=path, region_code=COUNTY, dry_run=False)

    batch = ImportBatch.objects.get(pk=result.batch_id or 0)
    assert (batch.kind, batch.region_id, batch.created_by, batch.file_name) == (
        "volunteers",
        "330127000000",
        personas["county_a_admin"],
        "五老花名册.xlsx",
    )
    assert (batch.status, batch.rows, batch.created, batch.error_count) == ("succeeded", 2, 1, 1)
    assert batch.errors == [
        {
            "row": FIRST_DATA_ROW + 1,
            "column": "身份证号",
            "code": "id_number_invalid",
            "message": "身份证号应为 18 位",
        }
    ]
    assert len(batch.file_digest) == 64
    assert Volunteer.objects.get().created_by == personas["county_a_admin"]
    assert AuditEvent.objects.get(action="volunteers.import").actor_user_id == personas["county_a_admin"].pk


def test_progress_is_reported_per_chunk(regions: None, tmp_path: Path) -> None:
    calls: list[tuple[int, int | None]] = []
    run_rows(
        tmp_path,
        [elder(f"志愿者{n}", id_number=elder_id(n)) for n in range(1, 6)],
        chunk_size=2,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert [done for done, _total in calls] == [2, 4, 5, 5]


# --- Who may import where ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "region", "refusal"),
    [
        ("county_b_admin", COUNTY, NotFoundError),  # another county
        ("township_worker", COUNTY, NotFoundError),  # above the actor's township
        ("volunteer", FUCHENG, PermissionDeniedError),  # no import permission
        ("lawyer", COUNTY, PermissionDeniedError),
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
    path = as_xlsx(tmp_path / "r", roster([elder("王建国", id_number=elder_id(1))]))
    with pytest.raises(refusal):
        volunteer_roster_import(actor=actor, path_or_file=path, region_code=region, dry_run=False)
    assert Volunteer.objects.count() == 0
    assert ImportBatch.objects.count() == 0


def test_a_township_worker_imports_into_the_township(
    regions: None, personas: dict[str, Any], tmp_path: Path
) -> None:
    actor = actor_for_user(personas["township_worker"])
    path = as_xlsx(tmp_path / "r", roster([elder("王建国", id_number=elder_id(1))]))
    result = volunteer_roster_import(actor=actor, path_or_file=path, region_code="330127100", dry_run=False)
    assert (result.created, result.errors) == (1, [])


def test_a_village_import_needs_no_village_column(regions: None, tmp_path: Path) -> None:
    rows = [["姓名", "身份证号", "五老类别"], ["王建国", elder_id(1), "老教师"]]
    result = run(write_csv(tmp_path / "r.csv", rows), region=FUCHENG)
    assert (result.created, result.errors) == (1, [])
    assert volunteer_with(elder_id(1)).region_id == FUCHENG


# --- Broken files --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "code"),
    [
        pytest.param(b"", "empty_file", id="empty"),
        pytest.param(b"PK\x03\x04" + b"\x00" * 100, "damaged_file", id="not a zip"),
        pytest.param(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "unsupported_type", id="not a roster"),
    ],
)
def test_a_file_that_cannot_be_read_writes_nothing(
    regions: None, tmp_path: Path, content: bytes, code: str
) -> None:
    path = tmp_path / "花名册.xlsx"
    path.write_bytes(content)
    with pytest.raises(RosterReadError) as caught:
        run(path)
    assert caught.value.code == code
    assert Volunteer.objects.count() == 0
    assert ImportBatch.objects.get().status == "failed"
    assert not AuditEvent.objects.exists()


def test_a_truncated_workbook_writes_nothing(regions: None, tmp_path: Path) -> None:
    good = as_xlsx(tmp_path / "good", roster([elder("王建国", id_number=elder_id(1))]))
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(good.read_bytes()[:2000])
    with pytest.raises(RosterReadError) as caught:
        run(truncated)
    assert caught.value.code == "damaged_file"
    assert Volunteer.objects.count() == 0
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.message) == ("failed", caught.value.message)


def test_an_upload_file_object_is_read_like_a_path(regions: None, tmp_path: Path) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    path = as_xlsx(tmp_path / "r", roster([elder("王建国", id_number=elder_id(1))]))
    upload = SimpleUploadedFile("五老花名册.xlsx", path.read_bytes())
    result = volunteer_roster_import(actor=None, path_or_file=upload, region_code=COUNTY, dry_run=False)

    assert result.created == 1
    assert ImportBatch.objects.get().file_name == "五老花名册.xlsx"
    assert volunteer_with(elder_id(1)).hours_total == Decimal("0")
