"""The annual report against a hand-counted fixture of last year (see `world`): two counties of 杭州市,
three townships and four villages, with records dated in the report's year and the year before."""

from __future__ import annotations

import datetime
import io
import re
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from openpyxl import load_workbook

from guanai.committees.tests.factories import CommitteeFactory
from guanai.consultations.models import Consultation
from guanai.consultations.tests.factories import ConsultationFactory
from guanai.consultations.vocabulary import Topic
from guanai.core.errors import NotFoundError, ValidationFailed
from guanai.dashboards.indicators import figure_keys
from guanai.dashboards.labels import figure_label, figure_sections
from guanai.dashboards.reports import (
    AnnualReport,
    _css_string,
    _printed_table,
    annual_report_data,
    annual_report_pdf,
    annual_report_xlsx,
    report_charts,
)
from guanai.mentoring.models import MentoringCase
from guanai.minors.models import Minor
from guanai.minors.tests.factories import COMMUNITY_A, COMMUNITY_B, VILLAGE_A, ConsentFactory, MinorFactory
from guanai.pairings.tests.factories import PairingFactory, VisitFactory
from guanai.regions.models import Region
from guanai.volunteers.models import Team
from guanai.volunteers.tests.factories import TeamFactory, VolunteerFactory

PROVINCE = "330000000000"
CITY = "330100000000"
COUNTY_A = "330127000000"  # 淳安县
COUNTY_B = "330182000000"  # 建德市
TOWNSHIP_1 = "330127100000"  # 千岛湖镇: VILLAGE_A, COMMUNITY_A
TOWNSHIP_2 = "330127101000"  # 测试镇, added for the tests
VILLAGE_2 = "330127101001"
TOWNSHIP_B = "330182001000"  # 新安江街道: COMMUNITY_B

YEAR = timezone.localdate().year - 1
PREVIOUS = YEAR - 1

needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext is not installed")


def _at(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime.datetime:
    """An instant in Asia/Shanghai (the project's time zone)."""
    return timezone.make_aware(datetime.datetime(year, month, day, hour, minute))


def _minors(count: int, *, created: datetime.datetime, **fields: Any) -> list[Minor]:
    minors = [MinorFactory.create(**fields) for _ in range(count)]
    Minor.objects.filter(pk__in=[minor.pk for minor in minors]).update(created_at=created)
    return minors


@pytest.fixture
def world(personas: dict[str, Any]) -> dict[str, Any]:
    """Hand count, for YEAR (and PREVIOUS):

    千岛湖镇 (TOWNSHIP_1)
      VILLAGE_A: 6 left-behind children at low risk, 2 registered in PREVIOUS; 4 with a pairing consent,
                 3 of them paired since YEAR-04-01; visits in YEAR: April 2, May, June, August,
                 December (6), and one in PREVIOUS-11. One team (YEAR-03-01).
      COMMUNITY_A: 3 children of group 2 (1 at high risk), registered YEAR-05-01.
    测试镇 (TOWNSHIP_2) / VILLAGE_2: 2 children at medium risk, registered YEAR-07-01 → "<5".
    新安江街道 (TOWNSHIP_B) / COMMUNITY_B: 5 children at low risk and one sealed record with an open
      mentoring case, all registered YEAR-02-01.
    Volunteers: one in VILLAGE_A (joined PREVIOUS-01-01), one in COMMUNITY_B (joined YEAR-06-01).
    Requests for help: COMMUNITY_A 2 psychological in March, 1 legal in September; COMMUNITY_B one on
      YEAR-02-01 00:30 and one on YEAR-12-31 23:30 (Shanghai), one on YEAR+1-01-01 00:30 (not counted).

    淳安县: children 11 (PREVIOUS 2), visits 6 (PREVIOUS 1). 建德市: children 5, sealed 1.
    """
    Region.objects.create(code=TOWNSHIP_2, name="测试镇", short_name="测试", level=4, parent_id=COUNTY_A)
    Region.objects.create(code=VILLAGE_2, name="测试村", short_name="测试", level=5, parent_id=TOWNSHIP_2)

    elder = VolunteerFactory.create(
        region_id=VILLAGE_A, joined_on=datetime.date(PREVIOUS, 1, 1), hours_total=Decimal("150")
    )
    VolunteerFactory.create(region_id=COMMUNITY_B, joined_on=datetime.date(YEAR, 6, 1))

    village_a = _minors(4, created=_at(YEAR, 3, 1), region_id=VILLAGE_A, categories=1, risk_level="low")
    village_a += _minors(2, created=_at(PREVIOUS, 6, 1), region_id=VILLAGE_A, categories=1, risk_level="low")
    for minor in village_a[:4]:
        ConsentFactory.create(minor=minor, given_on=datetime.date(YEAR, 2, 1))
    pairings = [
        PairingFactory.create(
            minor=minor,
            volunteer=elder,
            started_on=datetime.date(YEAR, 4, 1),
            next_contact_due=timezone.localdate() + datetime.timedelta(days=10),
        )
        for minor in village_a[:3]
    ]
    for pairing, month in (
        (pairings[0], 4),
        (pairings[1], 4),
        (pairings[0], 5),
        (pairings[0], 6),
        (pairings[1], 8),
        (pairings[2], 12),
    ):
        VisitFactory.create(pairing=pairing, visited_on=datetime.date(YEAR, month, 10))
    VisitFactory.create(pairing=pairings[0], visited_on=datetime.date(PREVIOUS, 11, 10))

    _minors(1, created=_at(YEAR, 5, 1), region_id=COMMUNITY_A, categories=2, risk_level="high")
    _minors(2, created=_at(YEAR, 5, 1), region_id=COMMUNITY_A, categories=2, risk_level="low")
    _minors(2, created=_at(YEAR, 7, 1), region_id=VILLAGE_2, categories=1, risk_level="medium")
    _minors(5, created=_at(YEAR, 2, 1), region_id=COMMUNITY_B, categories=1, risk_level="low")
    [sealed] = _minors(
        1,
        created=_at(YEAR, 2, 1),
        region_id=COMMUNITY_B,
        categories=128,
        is_sealed=True,
        special_kind="misconduct",
    )
    MentoringCase.objects.create(
        reference="BJ-REPORT-1",
        minor=sealed,
        region_id=COUNTY_B,
        officer=personas["county_b_admin"],
        opened_at=_at(YEAR, 3, 1),
    )

    team = TeamFactory.create(committee=CommitteeFactory.create(region_id=VILLAGE_A))
    Team.objects.filter(pk=team.pk).update(created_at=_at(YEAR, 3, 1))

    for region, topic, moment in (
        (COMMUNITY_A, Topic.STUDY_PRESSURE, _at(YEAR, 3, 15)),
        (COMMUNITY_A, Topic.PARENT_CHILD, _at(YEAR, 3, 20)),
        (COMMUNITY_A, Topic.GUARDIANSHIP, _at(YEAR, 9, 1)),
        (COMMUNITY_B, Topic.STUDY_PRESSURE, _at(YEAR, 2, 1, 0, 30)),
        (COMMUNITY_B, Topic.STUDY_PRESSURE, _at(YEAR, 12, 31, 23, 30)),
        (COMMUNITY_B, Topic.STUDY_PRESSURE, _at(YEAR + 1, 1, 1, 0, 30)),
    ):
        consultation = ConsultationFactory.create(region_id=region, topic=topic)
        Consultation.objects.filter(pk=consultation.pk).update(created_at=moment)
    return {"personas": personas}


def _pdf_text(document: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(document)
    pdftotext = shutil.which("pdftotext")
    assert pdftotext is not None
    result = subprocess.run(  # noqa: S603 - a fixed binary on a file the test wrote
        [pdftotext, "-layout", str(path), "-"], capture_output=True, check=True, text=True
    )
    return result.stdout


def _county_a(progress: Any = None) -> AnnualReport:
    return annual_report_data(actor=None, region_code=COUNTY_A, year=YEAR, progress=progress)


# --- Labels ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [PROVINCE, COUNTY_A, TOWNSHIP_1, VILLAGE_A])
def test_every_figure_key_has_its_own_chinese_label_and_section(code: str) -> None:
    keys = figure_keys(code=code, is_current=True)
    labels = [figure_label(key) for key in keys]
    assert all(label != key for label, key in zip(labels, keys, strict=True))
    assert len(set(labels)) == len(labels)
    assert sorted(key for _title, items in figure_sections(keys) for key in items) == sorted(keys)


def test_labels_and_sections_read_as_the_brief_says() -> None:
    assert figure_label("sealed_children") == "封存（特殊青少年）记录"
    assert figure_label("mentoring_cases") == "在办帮教案件"
    assert figure_label("children.category.1") == "农村留守儿童"
    assert figure_label("volunteers.star.3") == "三星志愿者"
    assert figure_label("consultations.legal") == "法律咨询请求数"
    assert figure_label("no.such.key") == "no.such.key"
    sections = figure_sections(figure_keys(code=COUNTY_A, is_current=True))
    assert [title for title, _keys in sections] == [
        "关爱对象",
        "结对与走访",
        "五老志愿者",
        "五老队伍",
        "网上咨询服务",
        "特殊青少年（封存）",
    ]
    assert dict(sections)["特殊青少年（封存）"] == ["sealed_children", "mentoring_cases"]


# --- The data -------------------------------------------------------------------------------------------


def test_county_report_matches_the_hand_count(world: dict[str, Any]) -> None:
    report = _county_a()
    lines = {line.key: line for _title, section in report.summary for line in section}
    assert (lines["children"].current, lines["children"].previous) == (11, 2)
    assert (lines["children"].change.absolute, lines["children"].change.share) == (9, 4.5)
    assert (lines["visits"].current, lines["visits"].previous) == (6, 1)
    assert (lines["paired"].current, lines["eligible"].current) == (3, 4)
    assert report.coverage.current == 0.75
    assert lines["teams"].current == 1
    assert lines["volunteers"].current == 1
    assert lines["consultations.psychological"].current == 2
    assert lines["consultations.legal"].current == 1
    assert lines["sealed_children"].current == 0
    assert report.subregions is not None
    assert [row.name for row in report.subregions.rows] == ["千岛湖镇", "测试镇"]
    township_1, township_2 = report.subregions.rows
    assert township_2.figures["children"].current == "<5"
    assert township_1.figures["children"].current is None  # withheld: 11 − 9 would reveal the "<5"
    assert township_1.figures["visits"].current == 6
    assert report.counties == []


def test_monthly_trend_counts_in_local_time_and_adds_up_to_the_year(world: dict[str, Any]) -> None:
    report = _county_a()
    assert [point.visits for point in report.months] == [0, 0, 0, 2, 1, 1, 0, 1, 0, 0, 0, 1]
    assert [point.consultations for point in report.months] == [0, 0, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0]
    county_b = annual_report_data(actor=None, region_code=COUNTY_B, year=YEAR)
    # 00:30 on 1 February in Shanghai is still 31 January in UTC: months are counted in Shanghai time.
    assert [point.consultations for point in county_b.months] == [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    province = annual_report_data(actor=None, region_code=PROVINCE, year=YEAR)
    total = province.indicators.total.figures
    assert sum(point.visits or 0 for point in province.months) == total["visits"].current == 6
    assert (total["consultations.legal"].current, total["consultations.psychological"].current) == (1, 4)
    assert sum(point.consultations or 0 for point in province.months) == 1 + 4


def test_months_of_the_current_year_that_have_not_begun_are_empty(world: dict[str, Any]) -> None:
    today = timezone.localdate()
    report = annual_report_data(actor=None, region_code=COUNTY_A, year=today.year)
    assert [point.visits is None for point in report.months] == [
        month > today.month for month in range(1, 13)
    ]


def test_province_report_tables_every_county_by_city(world: dict[str, Any]) -> None:
    report = annual_report_data(actor=None, region_code=PROVINCE, year=YEAR)
    assert report.subregions is not None
    assert [row.name for row in report.subregions.rows] == ["杭州市", "宁波市"]
    assert [table.title for table in report.counties] == ["杭州市", "宁波市"]
    hangzhou = {row.name: row for row in report.counties[0].rows}
    assert list(hangzhou) == ["淳安县", "建德市"]
    assert hangzhou["淳安县"].figures["children"].current == 11
    assert hangzhou["建德市"].figures["children"].current == 5
    assert hangzhou["建德市"].figures["sealed_children"].current == 1
    assert [row.name for row in report.counties[1].rows] == ["鄞州区"]
    assert report.indicators.total.figures["children"].current == 16


def test_progress_is_monotonic_and_reaches_one_hundred(world: dict[str, Any]) -> None:
    seen: list[tuple[int, str]] = []
    annual_report_pdf(
        actor=None,
        region_code=PROVINCE,
        year=YEAR,
        progress=lambda percent, step: seen.append((percent, step)),
    )
    percents = [percent for percent, _step in seen]
    assert percents[0] == 0
    assert percents[-1] == 100
    assert percents == sorted(percents)
    assert len(set(percents)) >= 5  # it advances through the cities, not in one jump
    assert all(step for _percent, step in seen)
    seen.clear()
    annual_report_xlsx(
        actor=None,
        region_code=COUNTY_A,
        year=YEAR,
        progress=lambda percent, step: seen.append((percent, step)),
    )
    percents = [percent for percent, _step in seen]
    assert percents[-1] == 100
    assert percents == sorted(percents)


def test_region_outside_the_actor_is_not_found(world: dict[str, Any]) -> None:
    from guanai.accounts.selectors import actor_for_user

    actor = actor_for_user(world["personas"]["county_a_admin"])
    with pytest.raises(NotFoundError):
        annual_report_data(actor=actor, region_code=COUNTY_B, year=YEAR)
    assert annual_report_data(actor=actor, region_code=COUNTY_A, year=YEAR).region_name == "淳安县"


def test_year_out_of_range_is_refused(world: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed):
        annual_report_data(actor=None, region_code=COUNTY_A, year=timezone.localdate().year + 1)
    with pytest.raises(ValidationFailed):
        annual_report_data(actor=None, region_code=COUNTY_A, year=1999)


# --- PDF ------------------------------------------------------------------------------------------------


@needs_pdftotext
def test_pdf_shows_the_region_year_figures_and_suppressed_cells(
    world: dict[str, Any], tmp_path: Path
) -> None:
    document = annual_report_pdf(actor=None, region_code=COUNTY_A, year=YEAR)
    assert document.startswith(b"%PDF")
    text = _pdf_text(document, tmp_path)
    assert "淳安县" in text
    assert "年度工作统计" in text
    assert f"{YEAR} 年" in text
    assert re.search(r"在册关爱对象\s+11\s+2\s+\+9\s+\+450\.0%", text)
    assert re.search(r"走访次数\s+6\s+1\s+\+5\s+\+500\.0%", text)
    assert re.search(r"结对覆盖率\s+75\.0%", text)
    # The township table (children, eligible, paired, coverage, visits, overdue, open reports, volunteers,
    # teams, legal, psychological): 测试镇's two children are "<5", so 千岛湖镇's nine are withheld.
    assert re.search(r"千岛湖镇\s+—\s+<5\s+<5\s+—\s+6\s+0\s+0\s+1\s+1\s+1\s+2\n", text)
    assert re.search(r"测试镇\s+<5\s+0\s+0\s+—\s+0\s+0\s+0\s+0\s+0\s+0\s+0\n", text)
    assert re.search(r"合计\s+11\s+4\s+3\s+75\.0%\s+6\s+0\s+0\s+1\s+1\s+1\s+2\n", text)
    assert "县级以下 1–4 的敏感计数显示为 <5" in text
    assert re.search(r"第 1 页，共 \d+ 页", text)


@needs_pdftotext
def test_township_report_never_shows_a_sealed_count(world: dict[str, Any], tmp_path: Path) -> None:
    text = _pdf_text(annual_report_pdf(actor=None, region_code=TOWNSHIP_B, year=YEAR), tmp_path)
    assert "新安江街道" in text
    assert re.search(r"在册关爱对象\s+5\s", text)
    assert "封存" not in text
    assert "帮教" not in text


def test_county_tables_of_townships_have_no_sealed_column(world: dict[str, Any]) -> None:
    report = annual_report_data(actor=None, region_code=COUNTY_B, year=YEAR)
    lines = {line.key: line for _title, section in report.summary for line in section}
    assert lines["sealed_children"].current == 1  # the county's own total: allowed
    assert report.subregions is not None
    printed = _printed_table(report.subregions)
    assert not {"sealed_children", "mentoring_cases"} & set(report.subregions.keys)
    assert not any("封存" in header or "帮教" in header for header in printed["headers"])


def test_every_chart_is_well_formed_svg_without_a_protected_number(world: dict[str, Any]) -> None:
    Region.objects.filter(code=TOWNSHIP_2).update(name='测试<镇>&"')
    for code in (COUNTY_A, TOWNSHIP_1, PROVINCE):
        report = annual_report_data(actor=None, region_code=code, year=YEAR)
        charts = report_charts(report)
        assert len(charts) == (3 if report.subregions else 2)
        for chart in charts:
            root = ElementTree.fromstring(chart.svg)  # noqa: S314 - our own output, parsed to check it
            assert root.tag == "{http://www.w3.org/2000/svg}svg"
            assert chart.data_uri.startswith("data:image/svg+xml;base64,")
    # 测试镇 has 2 children of group 1: drawn at height 0 and labelled "<5", never "2".
    report = annual_report_data(actor=None, region_code=TOWNSHIP_2, year=YEAR)
    [categories, *_rest] = report_charts(report)
    texts = [element.text for element in ElementTree.fromstring(categories.svg).iter() if element.text]  # noqa: S314
    assert "<5" in [text.strip() for text in texts]
    assert "2" not in [text.strip() for text in texts]
    assert "<5" in categories.note


def test_css_strings_cannot_break_out_of_the_style_element() -> None:
    assert _css_string('a"b</style>\\') == '"a\\22 b\\3c \\2f style\\3e \\5c "'
    assert _css_string("县级以下 1–4") == '"县级以下 1–4"'


# --- Excel ----------------------------------------------------------------------------------------------


def test_xlsx_has_the_exact_figures_suppressed_cells_and_no_formulas(world: dict[str, Any]) -> None:
    Region.objects.filter(code=TOWNSHIP_2).update(name='=HYPERLINK("http://example.com")')
    workbook = load_workbook(io.BytesIO(annual_report_xlsx(actor=None, region_code=COUNTY_A, year=YEAR)))
    assert workbook.sheetnames == ["汇总", "各乡镇（街道）", "各月走访与咨询"]
    summary = workbook["汇总"]
    assert [cell.value for cell in summary[1]] == [
        "类别",
        "指标",
        f"{YEAR}年",
        f"{PREVIOUS}年",
        "增减",
        "增减幅度",
    ]
    assert summary.freeze_panes == "A2"
    rows = {row[1]: row[2:6] for row in summary.iter_rows(min_row=2, values_only=True) if row[1]}
    assert rows["在册关爱对象"] == (11, 2, 9, 4.5)
    assert rows["走访次数"] == (6, 1, 5, 5.0)
    assert rows["逾期未联系的结对"][1] == "—"  # no history
    assert rows["结对覆盖率"][:2] == (0.75, "—")  # no consent on record a year earlier

    townships = workbook["各乡镇（街道）"]
    header = [cell.value for cell in townships[1]]
    assert header[:4] == ["区划代码", "名称", "结对覆盖率", "在册关爱对象"]
    assert "封存（特殊青少年）记录" not in header
    by_code = {row[0].value: row for row in townships.iter_rows(min_row=2)}
    injected = by_code[TOWNSHIP_2]
    assert injected[1].value == '=HYPERLINK("http://example.com")'
    assert injected[1].data_type == "s"
    assert injected[3].value == "<5"
    assert by_code[TOWNSHIP_1][3].value == "—"
    visits = header.index("走访次数")
    assert by_code[TOWNSHIP_1][visits].value == 6
    assert isinstance(by_code[TOWNSHIP_1][visits].value, int)

    months = workbook["各月走访与咨询"]
    assert [row[1] for row in months.iter_rows(min_row=2, values_only=True)] == [
        0,
        0,
        0,
        2,
        1,
        1,
        0,
        1,
        0,
        0,
        0,
        1,
    ]
    assert len(months._charts) == 1  # openpyxl keeps a loaded sheet's charts here only
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate)


def test_province_xlsx_has_a_sheet_of_counties_by_city(world: dict[str, Any]) -> None:
    workbook = load_workbook(io.BytesIO(annual_report_xlsx(actor=None, region_code=PROVINCE, year=YEAR)))
    assert workbook.sheetnames == ["汇总", "各市", "各县（市、区）", "各月走访与咨询"]
    counties = workbook["各县（市、区）"]
    header = [cell.value for cell in counties[1]]
    rows = list(counties.iter_rows(min_row=2, values_only=True))
    children = header.index("在册关爱对象")
    sealed = header.index("封存（特殊青少年）记录")
    named = {(row[0], row[2]): row for row in rows}
    assert named[("杭州市", "淳安县")][children] == 11
    assert named[("杭州市", "建德市")][children] == 5
    assert named[("杭州市", "建德市")][sealed] == 1
    assert named[("杭州市", "合计")][children] == 16
    assert ("宁波市", "鄞州区") in named


# --- The command ----------------------------------------------------------------------------------------


def test_command_writes_both_formats(world: dict[str, Any], tmp_path: Path) -> None:
    pdf = tmp_path / "report.pdf"
    xlsx = tmp_path / "report.xlsx"
    call_command("annual_report", region="330127", year=str(YEAR), format="pdf", out=str(pdf))
    call_command("annual_report", region=COUNTY_A, year=str(YEAR), format="xlsx", out=str(xlsx))
    assert pdf.read_bytes().startswith(b"%PDF")
    summary = load_workbook(xlsx)["汇总"]
    assert summary["B2"].value == "在册关爱对象"
    assert summary["C2"].value == 11


@pytest.mark.parametrize(
    ("region", "year", "message"),
    [
        ("339999", str(YEAR), "不存在"),
        ("33x", str(YEAR), "区划代码"),
        (COUNTY_A, "1999", "年份"),
        (COUNTY_A, "二〇二五", "年份"),
        (COUNTY_A, str(timezone.localdate().year + 1), "年份"),
    ],
)
def test_command_refuses_a_bad_region_or_year(
    world: dict[str, Any], tmp_path: Path, region: str, year: str, message: str
) -> None:
    out = tmp_path / "report.pdf"
    with pytest.raises(CommandError, match=message):
        call_command("annual_report", region=region, year=year, format="pdf", out=str(out))
    assert not out.exists()
