"""The statistical returns against a hand-counted world (see `world`), read back from the workbook.

淳安县 (county A):
- 千岛湖镇 (township 1)
  - 富城村 (VILLAGE_A): 6 left-behind children at low risk with a study need, each with a pairing
    consent; 3 paired (2 overdue, 1 not); 3 visits this month, 1 a year earlier; 1 open mandatory report.
    A teacher volunteer (teaching, 150 hours: one star), a team, and a legal request (on time, rated 4).
  - 青城社区 (COMMUNITY_A): 2 left-behind children of migrant residents at high risk with a psychological
    need; a cadre-and-veteran volunteer (law, no hours); 2 psychological requests (one on time rated 5,
    one late rated 2) and a legal request a year earlier (on time, rated 3).
- 测试镇 (township 2) / 测试村: 7 children of hardship families at medium risk; 1 psychological request.
建德市 (county B) / 新安江街道 / 白沙社区: 5 left-behind children at low risk, 2 sealed records, one open
mentoring case and one closed since (open a year earlier); a teacher volunteer.
"""

from __future__ import annotations

import datetime
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from guanai.accounts.selectors import actor_for_user
from guanai.committees.tests.factories import CommitteeFactory
from guanai.consultations.tests.factories import ConsultationFactory
from guanai.core.errors import NotFoundError
from guanai.dashboards.indicators import parse_period
from guanai.dashboards.returns import (
    FIRST_DATA_ROW,
    LEADING_COLUMNS,
    ReturnColumn,
    ReturnTable,
    cell_text,
    returns_tables,
    statistical_returns_xlsx,
)
from guanai.mentoring.models import MentoringCase
from guanai.minors.tests.factories import COMMUNITY_A, COMMUNITY_B, VILLAGE_A, ConsentFactory, MinorFactory
from guanai.pairings.tests.factories import MandatoryReportFactory, PairingFactory, VisitFactory
from guanai.regions.models import Region
from guanai.volunteers.tests.factories import TeamFactory, VolunteerFactory

PROVINCE = "330000000000"
CITY = "330100000000"
COUNTY_A = "330127000000"
COUNTY_B = "330182000000"
TOWNSHIP_1 = "330127100000"
TOWNSHIP_2 = "330127101000"
VILLAGE_2 = "330127101001"
TOWNSHIP_B = "330182001000"
EVIL_NAME = '=HYPERLINK("http://evil.example/","点击")'

SHEETS = ["表1 困难青少年基本情况", "表2 结对帮扶与走访", "表3 五老志愿者队伍", "表4 网上法律与心理服务"]
MENTORING_SHEET = "表5 特殊青少年帮教"


@pytest.fixture
def world(personas: dict[str, Any]) -> dict[str, Any]:
    Region.objects.create(code=TOWNSHIP_2, name="测试镇", short_name="测试", level=4, parent_id=COUNTY_A)
    Region.objects.create(code=VILLAGE_2, name="测试村", short_name="测试", level=5, parent_id=TOWNSHIP_2)
    CommitteeFactory.create(region_id=COUNTY_A, name="淳安县关心下一代工作委员会")
    today = timezone.localdate()
    first = today.replace(day=1)
    year_earlier = first.replace(year=first.year - 1)
    period = parse_period(f"{today:%Y-%m}")

    teacher = VolunteerFactory.create(region_id=VILLAGE_A, hours_total=Decimal("150"))
    VolunteerFactory.create(region_id=COMMUNITY_A, categories=1 | 2, specialties=1)
    VolunteerFactory.create(region_id=COMMUNITY_B)
    TeamFactory.create(committee=CommitteeFactory.create(region_id=VILLAGE_A))

    village_a = [
        MinorFactory.create(region_id=VILLAGE_A, categories=1, needs=1, risk_level="low") for _ in range(6)
    ]
    for minor in village_a:
        ConsentFactory.create(minor=minor, given_on=year_earlier)
    overdue = [PairingFactory.create(minor=minor, volunteer=teacher) for minor in village_a[:2]]
    kept = PairingFactory.create(
        minor=village_a[2],
        volunteer=teacher,
        started_on=year_earlier - datetime.timedelta(days=30),
        next_contact_due=today + datetime.timedelta(days=5),
    )
    visit = VisitFactory.create(pairing=overdue[0], visited_on=first)
    VisitFactory.create(pairing=overdue[1], visited_on=first)
    VisitFactory.create(pairing=kept, visited_on=first)
    VisitFactory.create(pairing=kept, visited_on=year_earlier)
    MandatoryReportFactory.create(visit=visit, minor=village_a[0])

    for _ in range(2):
        MinorFactory.create(region_id=COMMUNITY_A, categories=1 | 32, needs=2, risk_level="high")
    for _ in range(7):
        MinorFactory.create(region_id=VILLAGE_2, categories=64, risk_level="medium")
    for _ in range(5):
        MinorFactory.create(region_id=COMMUNITY_B, categories=1, risk_level="low")
    sealed = [
        MinorFactory.create(region_id=COMMUNITY_B, categories=128, is_sealed=True, special_kind="misconduct")
        for _ in range(2)
    ]
    officer = personas["county_b_admin"]
    MentoringCase.objects.create(reference="BJ-T-1", minor=sealed[0], region_id=COUNTY_B, officer=officer)
    MentoringCase.objects.create(
        reference="BJ-T-2",
        minor=sealed[1],
        region_id=COUNTY_B,
        officer=officer,
        state="closed",
        outcome="reintegrated",
        opened_at=timezone.now() - datetime.timedelta(days=500),
        closed_at=timezone.now() - datetime.timedelta(days=200),
    )

    now = timezone.now()
    ConsultationFactory.create(region_id=COMMUNITY_A, first_reply_at=now, reply_breached=False, rating=5)
    ConsultationFactory.create(region_id=COMMUNITY_A, first_reply_at=now, reply_breached=True, rating=2)
    ConsultationFactory.create(region_id=VILLAGE_2)
    ConsultationFactory.create(
        region_id=VILLAGE_A, topic="school_bullying", first_reply_at=now, reply_breached=False, rating=4
    )
    earlier = ConsultationFactory.create(
        region_id=COMMUNITY_A, topic="school_bullying", first_reply_at=now, reply_breached=False, rating=3
    )
    type(earlier).objects.filter(pk=earlier.pk).update(
        created_at=period.year_earlier().start + datetime.timedelta(hours=12)
    )
    return {"personas": personas, "today": today, "period": str(period)}


def _actor(world: dict[str, Any], persona: str) -> Any:
    return actor_for_user(world["personas"][persona])


def _workbook(world: dict[str, Any], persona: str, region: str, period: str | None = None) -> Any:
    content = statistical_returns_xlsx(
        actor=_actor(world, persona), region_code=region, period=period or world["period"]
    )
    return load_workbook(io.BytesIO(content))


def _last_data_row(sheet: Worksheet) -> int:
    """The row before the note on the symbols."""
    row = FIRST_DATA_ROW
    while not str(sheet.cell(row=row, column=1).value or "").startswith("注："):
        row += 1
    return row - 1


def _rows(sheet: Worksheet) -> dict[str, list[Any]]:
    """The table's rows read back: label → the values of the figure columns."""
    return {
        str(line[0]): list(line[LEADING_COLUMNS:])
        for line in sheet.iter_rows(min_row=FIRST_DATA_ROW, max_row=_last_data_row(sheet), values_only=True)
    }


def _by_label(sheet: Worksheet, row: str) -> dict[str, Any]:
    """One row by its column labels (the second heading row, or the first for a lone column)."""
    labels = []
    for column in range(LEADING_COLUMNS + 1, sheet.max_column + 1):
        lower = sheet.cell(row=FIRST_DATA_ROW - 2, column=column).value
        labels.append(lower or sheet.cell(row=FIRST_DATA_ROW - 3, column=column).value)
    return dict(zip(labels, _rows(sheet)[row], strict=True))


def test_county_return_matches_the_hand_count(world: dict[str, Any]) -> None:
    book = _workbook(world, "county_a_admin", COUNTY_A)
    assert book.sheetnames == [*SHEETS, MENTORING_SHEET]

    children = _by_label(book[SHEETS[0]], "合计")
    assert children == {
        "在册关爱对象": 15,
        "农村留守儿童": 8,
        "困境儿童（家庭贫困）": 0,
        "困境儿童（自身残疾）": 0,
        "困境儿童（监护缺失或不当）": 0,
        "事实无人抚养儿童": 0,
        "新居民子女": 2,
        "困难家庭": 7,
        "学业需求": 6,
        "心理需求": 2,
        "法律需求": 0,
        "经济需求": 0,
        "健康需求": 0,
        "安全需求": 0,
        "其他需求": 0,
        "低风险": 6,
        "中风险": 7,
        "高风险": 2,
    }
    assert _rows(book[SHEETS[0]])["上年同期"][0] == 0  # every child was registered this month
    assert _rows(book[SHEETS[0]])["比上年同期增减"][0] == 15

    pairing = book[SHEETS[1]]
    assert _rows(pairing)["合计"] == [6, 3, 0.5, 3, 2, 1]
    # A year earlier: one visit; the children were not registered; overdue has no history.
    assert _rows(pairing)["上年同期"] == [0, 0, "—", 1, "—", 0]
    assert _rows(pairing)["比上年同期增减"] == [6, 3, "—", 2, "—", 1]
    assert pairing.cell(row=FIRST_DATA_ROW, column=LEADING_COLUMNS + 3).number_format == "0.0%"

    volunteers = _by_label(book[SHEETS[2]], "合计")
    assert volunteers["在岗五老志愿者"] == 2
    assert [volunteers[name] for name in ("老干部", "老战士", "老专家", "老教师", "老模范")] == [
        1,
        1,
        0,
        1,
        0,
    ]
    assert volunteers["专长·法律"] == 1
    assert volunteers["专长·教学辅导"] == 1
    assert volunteers["专长·心理"] == 0
    assert _rows(book[SHEETS[2]])["合计"][-7:] == [1, 1, 0, 0, 0, 0, 1]  # stars 0–5, then teams
    assert _rows(book[SHEETS[2]])["上年同期"][-7:] == ["—"] * 6 + [0]
    assert _rows(book[SHEETS[2]])["上年同期"][0] == 2  # both joined in 2024

    # Legal, then psychological: requests, on-time share, average rating.
    service = _rows(book[SHEETS[3]])
    assert service["合计"] == [1, 1.0, 4.0, 3, 0.5, 3.5]
    assert service["上年同期"] == [1, 1.0, 3.0, 0, "—", "—"]
    assert service["比上年同期增减"] == [0, 0.0, 1.0, 3, "—", "—"]

    mentoring = _rows(book[MENTORING_SHEET])
    assert mentoring == {"合计": [0, 0], "上年同期": [0, 0], "比上年同期增减": [0, 0]}


def test_rows_follow_the_child_regions(world: dict[str, Any]) -> None:
    sheet = _workbook(world, "county_a_admin", COUNTY_A)[SHEETS[0]]
    rows = list(
        sheet.iter_rows(min_row=FIRST_DATA_ROW, max_row=_last_data_row(sheet), max_col=2, values_only=True)
    )
    assert rows == [
        ("合计", COUNTY_A),
        ("上年同期", None),
        ("比上年同期增减", None),
        ("千岛湖镇", TOWNSHIP_1),
        ("测试镇", TOWNSHIP_2),
    ]
    assert _rows(sheet)["测试镇"][0] == 7


@pytest.mark.parametrize("period_kind", ["month", "year"])
def test_totals_equal_the_sum_of_the_rows_when_nothing_is_suppressed(
    world: dict[str, Any], period_kind: str
) -> None:
    period = world["period"] if period_kind == "month" else world["period"][:4]
    actor = _actor(world, "province_admin")
    tables = returns_tables(actor=actor, region_code=CITY, period=period)
    book = load_workbook(io.BytesIO(statistical_returns_xlsx(actor=actor, region_code=CITY, period=period)))
    assert book.sheetnames == [*SHEETS, MENTORING_SHEET]
    checked = 0
    for table in tables:
        rows = _rows(book[table.sheet_name])
        areas = [label for label in rows if label not in ("合计", "上年同期", "比上年同期增减")]
        assert areas == ["淳安县", "建德市"]
        for index, column in enumerate(table.columns):
            if not column.is_additive:
                continue
            cells = [rows[label][index] for label in areas]
            assert all(isinstance(cell, int) for cell in cells), (table.title, column.key)
            assert rows["合计"][index] == sum(cells), (table.title, column.key)
            checked += 1
    assert checked == 18 + 5 + 20 + 2 + 2
    assert _rows(book[SHEETS[0]])["合计"][0] == 20
    assert _rows(book[MENTORING_SHEET]) == {
        "合计": [2, 1],
        "上年同期": [0, 1],
        "比上年同期增减": [2, 0],
        "淳安县": [0, 0],
        "建德市": [2, 1],
    }


def test_township_return_shows_a_small_count_as_fewer_than_five_and_withholds_its_complement(
    world: dict[str, Any],
) -> None:
    book = _workbook(world, "township_worker", TOWNSHIP_1)
    children = book[SHEETS[0]]
    community = _by_label(children, "青城社区")
    village = _by_label(children, "富城村村民委员会")
    # 8 = 6 + 2: with the community's 2 shown as "<5", the village's 6 is withheld too.
    assert (community["在册关爱对象"], village["在册关爱对象"]) == ("<5", "—")
    assert (community["农村留守儿童"], village["农村留守儿童"]) == ("<5", "—")
    assert community["新居民子女"] == "<5"
    assert community["高风险"] == "<5"
    assert village["低风险"] == 6
    total = _by_label(children, "合计")
    assert total["在册关爱对象"] == 8
    # The township's own total is below county level: its small counts are suppressed as well, and the
    # only other non-zero risk cell is withheld so that 8 − low cannot give the high count.
    assert (total["高风险"], total["低风险"], total["中风险"]) == ("<5", "—", 0)
    pairing = _rows(book[SHEETS[1]])
    assert pairing["合计"][:3] == [6, "<5", "—"]  # eligible, paired, coverage withheld
    assert pairing["比上年同期增减"][1] == "—"


def test_mentoring_table_is_absent_below_county_and_present_for_a_county(world: dict[str, Any]) -> None:
    assert _workbook(world, "township_worker", TOWNSHIP_1).sheetnames == SHEETS
    assert _workbook(world, "county_b_admin", TOWNSHIP_B).sheetnames == SHEETS
    book = _workbook(world, "county_b_admin", COUNTY_B)
    assert book.sheetnames == [*SHEETS, MENTORING_SHEET]
    sheet = book[MENTORING_SHEET]
    # Sealed records and open cases for the county only: no township row.
    assert _by_label(sheet, "合计") == {"封存（特殊青少年）记录": 2, "在办帮教案件": 1}
    assert _rows(sheet) == {"合计": [2, 1], "上年同期": [0, 1], "比上年同期增减": [2, 0]}
    # And the sealed records are in no children's figure of the county.
    assert _rows(book[SHEETS[0]])["合计"][0] == 5


def test_no_cell_is_a_formula_even_for_a_region_named_like_one(world: dict[str, Any]) -> None:
    Region.objects.create(code="330127102000", name=EVIL_NAME, short_name="x", level=4, parent_id=COUNTY_A)
    CommitteeFactory.create(region_id=TOWNSHIP_1, name="=1+1")
    book = _workbook(world, "county_a_admin", COUNTY_A)
    found = []
    for sheet in book.worksheets:
        for line in sheet.iter_rows():
            for cell in line:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if cell.value == EVIL_NAME:
                    found.append(cell)
    assert len(found) == 4  # a township row in 表1–表4; 表5 has none below county level
    assert all(cell.data_type == "s" and cell.quotePrefix for cell in found)
    township = _workbook(world, "township_worker", TOWNSHIP_1)[SHEETS[0]]
    assert township.cell(row=3, column=1).value == "填报单位：=1+1"


def test_form_layout(world: dict[str, Any]) -> None:
    today = world["today"]
    sheet = _workbook(world, "county_a_admin", COUNTY_A)[SHEETS[1]]
    width = LEADING_COLUMNS + 6
    assert sheet["A1"].value == "表2 结对帮扶与走访统计表"
    assert "A1:H1" in {str(merged) for merged in sheet.merged_cells.ranges}
    assert sheet["A2"].value == "表　　号：关统2表　　制表机关：浙江省关工委"
    assert sheet["A3"].value == "填报单位：淳安县关心下一代工作委员会"
    texts = [sheet.cell(row=3, column=column).value for column in range(2, width + 1)]
    assert f"统计期：{today.year}年{today.month}月" in texts
    assert [sheet.cell(row=FIRST_DATA_ROW - 1, column=column).value for column in range(1, width + 1)] == [
        "甲",
        "乙",
        *(str(number) for number in range(1, 7)),
    ]
    last = _last_data_row(sheet)
    assert str(sheet.cell(row=last + 2, column=1).value).startswith("单位负责人：")
    assert "报出日期：" in str(sheet.cell(row=last + 2, column=1).value)
    assert sheet.freeze_panes == "C7"
    assert sheet.page_setup.orientation == "landscape"
    assert int(sheet.page_setup.paperSize) == 9  # A4
    assert int(sheet.page_setup.fitToWidth) == 1
    assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
    assert sheet.column_dimensions["A"].width == 22
    assert sheet.cell(row=FIRST_DATA_ROW, column=3).border.left.style == "thin"
    # A region with no committee registered reports as "<region>关工委".
    township = _workbook(world, "township_worker", TOWNSHIP_1)[SHEETS[0]]
    assert township["A3"].value == "填报单位：千岛湖镇关工委"


def test_year_period_counts_flows_over_the_year(world: dict[str, Any]) -> None:
    year = world["today"].year
    book = _workbook(world, "county_a_admin", COUNTY_A, period=str(year))
    texts = [book[SHEETS[0]].cell(row=3, column=column).value for column in range(1, 21)]
    assert f"统计期：{year}年度" in texts
    pairing = _rows(book[SHEETS[1]])
    assert pairing["合计"][3] == 3  # visits this year
    assert pairing["上年同期"][3] == 1  # visits last year
    # Stocks as of the year's last day: every child registered this year.
    assert _rows(book[SHEETS[0]])["合计"][0] == 15
    assert _rows(book[SHEETS[3]])["上年同期"][0] == 1


def test_tables_are_the_data_of_the_workbook(world: dict[str, Any]) -> None:
    tables = returns_tables(
        actor=_actor(world, "county_a_admin"), region_code=COUNTY_A, period=world["period"]
    )
    assert [table.number for table in tables] == [1, 2, 3, 4, 5]
    first: ReturnTable = tables[0]
    assert first.reporting_unit == "淳安县关心下一代工作委员会"
    assert first.row("total").cells[0] == 15
    assert [row.label for row in first.area_rows] == ["千岛湖镇", "测试镇"]
    assert tables[1].row("total").cells[2] == 0.5


def test_command_writes_the_returns(world: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "returns.xlsx"
    output = io.StringIO()
    call_command("statistical_returns", region=COUNTY_B, period=world["period"], out=str(out), stdout=output)
    assert str(out) in output.getvalue()
    book = load_workbook(out)
    assert book.sheetnames == [*SHEETS, MENTORING_SHEET]
    assert _rows(book[MENTORING_SHEET])["合计"] == [2, 1]


@pytest.mark.parametrize(
    ("region", "period", "message"),
    [
        ("330127999000", "2026-05", "区划 330127999000 不存在"),
        ("12345", "2026-05", "区划代码应为 2、4、6、9 或 12 位数字"),
        (COUNTY_A, "2026-13", "统计期应为 YYYY-MM（月）或 YYYY（年）格式"),
        (COUNTY_A, "26", "统计期应为 YYYY-MM（月）或 YYYY（年）格式"),
    ],
)
def test_command_refuses_a_bad_region_or_period(
    world: dict[str, Any], tmp_path: Path, region: str, period: str, message: str
) -> None:
    out = tmp_path / "returns.xlsx"
    with pytest.raises(CommandError) as raised:
        call_command("statistical_returns", region=region, period=period, out=str(out))
    assert str(raised.value) == message
    assert not out.exists()


def test_region_outside_the_actor_is_not_found(world: dict[str, Any]) -> None:
    with pytest.raises(NotFoundError):
        _workbook(world, "county_a_admin", COUNTY_B)
    with pytest.raises(NotFoundError):
        _workbook(world, "township_worker", COUNTY_A)  # an ancestor of the actor's region
    with pytest.raises(NotFoundError):
        returns_tables(actor=_actor(world, "county_a_admin"), region_code=PROVINCE, period=world["period"])


def test_progress_reaches_100(world: dict[str, Any]) -> None:
    calls: list[tuple[int, str]] = []
    statistical_returns_xlsx(
        actor=_actor(world, "county_a_admin"),
        region_code=COUNTY_A,
        period=world["period"],
        progress=lambda percent, step: calls.append((percent, step)),
    )
    percents = [percent for percent, _ in calls]
    assert percents == sorted(percents)
    assert percents == [20, 35, 50, 65, 80, 95, 100]
    assert calls[1][1] == "已生成表1 困难青少年基本情况统计表"
    assert calls[-1] == (100, "统计报表已生成")


def test_cell_text_shows_a_cell_as_the_workbook_does() -> None:
    count = ReturnColumn(key="children", label="在册关爱对象")
    share = ReturnColumn(key="coverage", label="结对覆盖率", kind="share")
    rating = ReturnColumn(key="consultations.legal.average_rating", label="平均满意度", kind="rating")
    assert [cell_text(value, count) for value in (1234, "<5", None)] == ["1,234", "<5", "—"]
    assert cell_text(0.6667, share) == "66.7%"
    assert cell_text(3.5, rating) == "3.50"
    assert cell_text(2, count, is_change=True) == "+2"
    assert cell_text(-0.05, share, is_change=True) == "-5.0%"
    assert cell_text(0, count, is_change=True) == "0"


def test_village_and_province_returns(world: dict[str, Any]) -> None:
    village = returns_tables(actor=None, region_code=VILLAGE_2, period=world["period"])
    assert [table.number for table in village] == [1, 2, 3, 4]
    assert [row.kind for row in village[0].rows] == ["total", "year_earlier", "change"]
    assert village[0].row("total").cells[0] == 7
    assert village[0].reporting_unit == "测试村关工委"
    province = returns_tables(actor=None, region_code="33", period=world["period"])
    assert [row.label for row in province[4].area_rows] == ["杭州市", "宁波市"]
    assert province[4].row("total").cells == (2, 1)
    assert province[0].issuer == "浙江省关工委"
