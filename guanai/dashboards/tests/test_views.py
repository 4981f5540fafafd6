"""The dashboards' pages against a hand-counted fixture (see `world`): the overview of a county and of a
township (figures, small-number protection, drill-down, errors, charts, queries) and the reports page
(queue, run, download, refusals)."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from guanai.audit.models import AuditEvent
from guanai.committees.tests.factories import CommitteeFactory
from guanai.core.testing import count_queries
from guanai.dashboards.models import ReportJob
from guanai.mentoring.models import MentoringCase
from guanai.minors.tests.factories import COMMUNITY_A, COMMUNITY_B, VILLAGE_A, ConsentFactory, MinorFactory
from guanai.pairings.tests.factories import MandatoryReportFactory, PairingFactory, VisitFactory
from guanai.regions.models import Region
from guanai.volunteers.tests.factories import TeamFactory, VolunteerFactory

OVERVIEW = "/dashboards/"
REPORTS = "/dashboards/reports/"
JOBS = "/dashboards/reports/jobs/"
COUNTY_A = "330127000000"  # 淳安县
COUNTY_B = "330182000000"  # 建德市
TOWNSHIP_1 = "330127100000"  # 千岛湖镇: VILLAGE_A (富城村), COMMUNITY_A (青城社区)
TOWNSHIP_2 = "330127101000"  # added: 测试镇
VILLAGE_2 = "330127101001"  # added: 测试村
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- Reading the HTML -----------------------------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(child if isinstance(child, str) else child.text() for child in self.children).strip()

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.walk()

    def find_all(self, test: Callable[[Node], bool]) -> list[Node]:
        return [node for node in self.walk() if test(node)]

    def by_id(self, element_id: str) -> Node | None:
        return next((node for node in self.walk() if node.attrs.get("id") == element_id), None)

    def elements(self, tag: str) -> list[Node]:
        return [child for child in self.children if isinstance(child, Node) and child.tag == tag]


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {name: value or "" for name, value in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(content: bytes) -> Node:
    builder = _TreeBuilder()
    builder.feed(content.decode("utf-8"))
    builder.close()
    return builder.root


@dataclass
class TableRow:
    label: str
    cells: list[str]
    link: str


def table_rows(page: Node, table_id: str) -> list[TableRow]:
    table = page.by_id(table_id)
    assert table is not None, f"no #{table_id}"
    body = table.elements("tbody")[0]
    rows = []
    for row in body.elements("tr"):
        header = row.elements("th")[0]
        links = header.find_all(lambda node: node.tag == "a")
        rows.append(
            TableRow(
                label=header.text(),
                cells=[cell.text() for cell in row.elements("td")],
                link=links[0].attrs["href"] if links else "",
            )
        )
    return rows


def cards(page: Node) -> dict[str, str]:
    return {
        node.attrs["data-figure"]: node.text() for node in page.find_all(lambda n: "data-figure" in n.attrs)
    }


def charts(page: Node) -> dict[str, Any]:
    script = page.by_id("dashboard-charts")
    assert script is not None
    loaded: dict[str, Any] = json.loads(script.text())
    return loaded


# --- The world ------------------------------------------------------------------------------------------


def _month(day: datetime.date) -> str:
    return f"{day:%Y-%m}"


@pytest.fixture
def world(personas: dict[str, Any]) -> dict[str, Any]:
    """淳安县 (county A) as counted by hand, this month:

    千岛湖镇 (TOWNSHIP_1)
      富城村 (VILLAGE_A): 5 children at low risk, each with a pairing consent and paired with the same elder;
        2 pairings overdue (the factory's default due day), 3 not; 2 visits this month; 1 open mandatory
        report; 1 elder; 1 team; and 1 sealed record (counted only at county level).
      青城社区 (COMMUNITY_A): 6 children, groups 1 and 2, 1 at high risk and 5 at low; no consent.
    测试镇 (TOWNSHIP_2) / 测试村 (VILLAGE_2): 5 children at medium risk, no consent; 2 elders.
    One open mentoring case in county A. County B (建德市, 白沙社区) has 7 children and 1 elder, which
    county A's pages must never show.
    """
    Region.objects.create(code=TOWNSHIP_2, name="测试镇", short_name="测试", level=4, parent_id=COUNTY_A)
    Region.objects.create(code=VILLAGE_2, name="测试村", short_name="测试", level=5, parent_id=TOWNSHIP_2)
    today = timezone.localdate()
    first = today.replace(day=1)
    elder = VolunteerFactory.create(region_id=VILLAGE_A, hours_total=Decimal("0"))
    village_a = [MinorFactory.create(region_id=VILLAGE_A, categories=1, risk_level="low") for _ in range(5)]
    pairings = []
    for index, minor in enumerate(village_a):
        ConsentFactory.create(minor=minor, given_on=today - datetime.timedelta(days=400))
        if index < 2:
            pairings.append(PairingFactory.create(minor=minor, volunteer=elder))  # overdue
        else:
            pairings.append(
                PairingFactory.create(
                    minor=minor, volunteer=elder, next_contact_due=today + datetime.timedelta(days=5)
                )
            )
    visit = VisitFactory.create(pairing=pairings[0], visited_on=first)
    VisitFactory.create(pairing=pairings[1], visited_on=first)
    MandatoryReportFactory.create(visit=visit, minor=village_a[0])
    TeamFactory.create(committee=CommitteeFactory.create(region_id=VILLAGE_A))
    sealed = MinorFactory.create(
        region_id=VILLAGE_A, categories=128, is_sealed=True, special_kind="misconduct"
    )
    MentoringCase.objects.create(
        reference="BJ-VIEW-1", minor=sealed, region_id=COUNTY_A, officer=personas["county_a_admin"]
    )
    for index in range(6):
        MinorFactory.create(
            region_id=COMMUNITY_A, categories=3, needs=1, risk_level="high" if index == 0 else "low"
        )
    for _ in range(5):
        MinorFactory.create(region_id=VILLAGE_2, categories=1, risk_level="medium")
    VolunteerFactory.create_batch(2, region_id=VILLAGE_2)
    for _ in range(7):
        MinorFactory.create(region_id=COMMUNITY_B, categories=1, risk_level="low")
    VolunteerFactory.create(region_id=COMMUNITY_B)
    return {"period": _month(today), "personas": personas}


def _overview(client: Client, region: str, period: str) -> Node:
    response = client.get(OVERVIEW, {"region": region, "period": period})
    assert response.status_code == 200
    return parse(response.content)


# --- The overview ---------------------------------------------------------------------------------------


def test_county_overview_shows_the_hand_counted_figures(
    clients: dict[str, Client], world: dict[str, Any]
) -> None:
    page = _overview(clients["county_a_admin"], COUNTY_A, world["period"])
    title = page.by_id("dashboard-title")
    assert title is not None
    assert title.text() == "淳安县工作指标"
    rows = table_rows(page, "table-regions")
    # children, eligible, paired, visits, overdue, open reports, volunteers, teams, coverage. Township rows
    # are below county level: the single open report (1) is "<5", with no other to withhold.
    assert [(row.label, row.cells) for row in rows] == [
        ("千岛湖镇", ["11", "5", "5", "2", "2", "<5", "1", "1", "100.0%"]),
        ("测试镇", ["5", "0", "0", "0", "0", "0", "2", "0", "—"]),  # nothing to divide by
        ("合计", ["16", "5", "5", "2", "2", "1", "3", "1", "100.0%"]),
    ]
    assert cards(page) == {
        "children": "16",
        "paired": "5",
        "coverage": "100.0%",
        "visits": "2",
        "overdue": "2",
        "open_reports": "1",
        "volunteers": "3",
        "teams": "1",
        "sealed_children": "1",
        "mentoring_cases": "1",
    }
    # The county's own total of risks is never suppressed.
    assert [row.cells[0] for row in table_rows(page, "table-risks")] == ["10", "5", "1"]
    body = page.text()
    assert "建德市" not in body
    assert "白沙社区" not in body


def test_township_overview_protects_small_counts_and_hides_sealed_records(
    clients: dict[str, Client], world: dict[str, Any]
) -> None:
    page = _overview(clients["township_worker"], TOWNSHIP_1, world["period"])
    assert [(row.label, row.cells) for row in table_rows(page, "table-regions")] == [
        ("青城社区", ["6", "0", "0", "0", "0", "0", "0", "0", "—"]),
        ("富城村村民委员会", ["5", "5", "5", "2", "2", "<5", "1", "1", "100.0%"]),
        ("合计", ["11", "5", "5", "2", "2", "<5", "1", "1", "100.0%"]),
    ]
    # The one open report is "<5" on its card too; the sealed record and the mentoring case have no card.
    assert cards(page) == {
        "children": "11",
        "paired": "5",
        "coverage": "100.0%",
        "visits": "2",
        "overdue": "2",
        "open_reports": "<5",
        "volunteers": "1",
        "teams": "1",
    }
    # Risks low 10, medium 0, high 1: the 1 is "<5" and the 10 withheld, or 11 − 10 would give it away.
    assert [row.cells[0] for row in table_rows(page, "table-risks")] == ["—", "0", "<5"]
    assert page.by_id("card-sealed_children") is None
    assert page.by_id("card-mentoring_cases") is None


def test_the_charts_plot_nothing_where_the_table_protects_a_count(
    clients: dict[str, Client], world: dict[str, Any]
) -> None:
    page = _overview(clients["county_a_admin"], TOWNSHIP_1, world["period"])
    data = charts(page)
    assert [point["value"] for point in data["risks"]["series"][0]["data"]] == [None, 0, None]
    compared = 0
    for key in ("categories", "needs", "risks", "elders", "specialties", "stars"):
        rows = table_rows(page, f"table-{key}")
        series = data[key]["series"][0]["data"]
        values = [point["value"] if isinstance(point, dict) else point for point in series]
        assert len(values) == len(rows)
        for row, value in zip(rows, values, strict=True):
            shown = row.cells[0]
            assert value == (None if shown in {"<5", "—"} else int(shown)), (key, row.label)
            compared += 1
    # The chart of the villages draws children and paired, as the table's first and third columns.
    regions = [row for row in table_rows(page, "table-regions") if row.label != "合计"]
    assert data["regions"]["categories"] == [row.label for row in regions]
    assert data["regions"]["series"][0]["data"] == [int(row.cells[0]) for row in regions]
    assert data["regions"]["series"][1]["data"] == [int(row.cells[2]) for row in regions]
    assert compared > 20


def test_drill_down_links_point_to_the_child_regions(
    clients: dict[str, Client], world: dict[str, Any]
) -> None:
    period = world["period"]
    page = _overview(clients["county_a_admin"], COUNTY_A, period)
    links = {row.label: row.link for row in table_rows(page, "table-regions")}
    assert links["合计"] == ""
    for label, code in (("千岛湖镇", TOWNSHIP_1), ("测试镇", TOWNSHIP_2)):
        address = urlsplit(links[label])
        assert address.path == OVERVIEW
        assert parse_qs(address.query) == {"region": [code], "period": [period]}
    township = _overview(clients["county_a_admin"], TOWNSHIP_1, period)
    village_links = [
        parse_qs(urlsplit(row.link).query)["region"] for row in table_rows(township, "table-regions")[:2]
    ]
    assert village_links == [[COMMUNITY_A], [VILLAGE_A]]
    breadcrumbs = township.by_id("dashboard-breadcrumbs")
    assert breadcrumbs is not None
    assert [item.text() for item in breadcrumbs.elements("li")] == ["淳安县", "千岛湖镇"]


@pytest.mark.parametrize(
    ("persona", "region"),
    [
        ("county_a_admin", COUNTY_B),  # a sibling county
        ("county_a_admin", "330100000000"),  # the county's own city, above it
        ("township_worker", COUNTY_A),  # the township's own county
        ("county_b_admin", TOWNSHIP_1),
    ],
)
def test_a_region_outside_the_actors_subtree_answers_404(
    clients: dict[str, Client], world: dict[str, Any], persona: str, region: str
) -> None:
    response = clients[persona].get(OVERVIEW, {"region": region, "period": world["period"]})
    assert response.status_code == 404
    body = response.content.decode()
    assert "data-figure" not in body
    assert "dashboard-charts" not in body


@pytest.mark.parametrize(
    ("region", "period", "message"),
    [
        ("12345", None, "区划代码应为 2、4、6、9 或 12 位数字"),
        (TOWNSHIP_1, "2026-13", "统计期应为 YYYY-MM（月）或 YYYY（年）格式"),
        (TOWNSHIP_1, "1999-05", "统计期应为 YYYY-MM（月）或 YYYY（年）格式"),
        (TOWNSHIP_1, "2025", "请选择月份（YYYY-MM）"),
    ],
)
def test_a_malformed_region_or_period_shows_the_error_and_the_actors_own_region(
    clients: dict[str, Client], world: dict[str, Any], region: str, period: str | None, message: str
) -> None:
    page = _overview(clients["township_worker"], region, period or world["period"])
    error = page.by_id("dashboard-error")
    assert error is not None
    assert error.text() == message
    title = page.by_id("dashboard-title")
    assert title is not None
    assert title.text() == "千岛湖镇工作指标"
    assert cards(page)["children"] == "11"
    month = page.by_id("id_period")
    assert month is not None
    assert month.attrs["value"] == world["period"]


def test_the_overview_makes_as_many_queries_whatever_the_number_of_child_regions(
    clients: dict[str, Client], world: dict[str, Any]
) -> None:
    client = clients["county_a_admin"]
    arguments = {"region": COUNTY_A, "period": world["period"]}
    assert client.get(OVERVIEW, arguments).status_code == 200  # warm the per-process caches
    with count_queries() as before:
        first = client.get(OVERVIEW, arguments)
    for number in range(2, 6):
        township = f"3301271{number:02d}000"
        Region.objects.create(
            code=township, name=f"新镇{number}", short_name="新", level=4, parent_id=COUNTY_A
        )
        village = f"{township[:9]}001"
        Region.objects.create(
            code=village, name=f"新村{number}", short_name="新", level=5, parent_id=township
        )
        MinorFactory.create_batch(5, region_id=village)
        VolunteerFactory.create(region_id=village)
    with count_queries() as after:
        second = client.get(OVERVIEW, arguments)
    assert first.status_code == second.status_code == 200
    assert (
        len(table_rows(parse(second.content), "table-regions"))
        == len(table_rows(parse(first.content), "table-regions")) + 4
    )
    assert len(after) == len(before)


# --- The reports page -----------------------------------------------------------------------------------


@pytest.fixture
def private_media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _last_year() -> str:
    return str(timezone.localdate().year - 1)


@pytest.mark.parametrize(
    ("kind", "period", "content_type", "magic"),
    [
        ("returns_xlsx", "current-month", XLSX, b"PK"),
        ("annual_xlsx", "last-year", XLSX, b"PK"),
        ("annual_pdf", "last-year", "application/pdf", b"%PDF"),
    ],
)
def test_a_requested_report_runs_and_downloads(
    clients: dict[str, Client],
    world: dict[str, Any],
    private_media: Path,
    django_capture_on_commit_callbacks: Any,
    kind: str,
    period: str,
    content_type: str,
    magic: bytes,
) -> None:
    client = clients["county_a_admin"]
    chosen = world["period"] if period == "current-month" else _last_year()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(REPORTS, {"kind": kind, "period": chosen, "region": COUNTY_A})
    assert response.status_code == 302
    assert response["Location"] == f"{REPORTS}?region={COUNTY_A}"
    assert len(callbacks) == 1
    job = ReportJob.objects.get()
    assert (job.kind, job.region_id, job.period, job.requested_by) == (
        kind,
        COUNTY_A,
        chosen,
        world["personas"]["county_a_admin"],
    )
    assert (job.status, job.progress, job.message) == (ReportJob.Status.SUCCEEDED, 100, "")
    stored = private_media / "reports" / job.file_name
    assert stored.is_file()

    page = parse(client.get(REPORTS, {"region": COUNTY_A}).content)
    links = page.find_all(lambda node: node.attrs.get("data-download") == str(job.pk))
    assert [link.attrs["href"] for link in links] == [f"/dashboards/reports/{job.pk}/download/"]

    download = client.get(f"/dashboards/reports/{job.pk}/download/")
    assert download.status_code == 200
    assert download["Content-Type"] == content_type
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["Cache-Control"] == "private, no-store"
    content = b"".join(download.streaming_content)  # type: ignore[attr-defined]
    assert content == stored.read_bytes()
    assert content.startswith(magic)
    events = AuditEvent.objects.filter(target_id=str(job.pk), action__startswith="dashboard.")
    assert sorted(events.values_list("action", flat=True)) == [
        "dashboard.report_downloaded",
        "dashboard.report_generated",
        "dashboard.report_requested",
    ]
    downloaded = events.get(action="dashboard.report_downloaded")
    assert downloaded.actor_username == world["personas"]["county_a_admin"].username


@pytest.mark.parametrize(
    ("kind", "period", "message"),
    [
        ("annual_pdf", "2025-13", "统计期应为 YYYY-MM（月）或 YYYY（年）格式"),
        ("annual_pdf", "2025-05", "年度工作统计按年度生成，请填写年份（YYYY）"),
        ("returns_xlsx", "2999-01", "统计期尚未开始"),
    ],
)
def test_a_bad_period_shows_a_field_error_and_creates_no_job(
    clients: dict[str, Client],
    world: dict[str, Any],
    private_media: Path,
    django_capture_on_commit_callbacks: Any,
    kind: str,
    period: str,
    message: str,
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = clients["county_a_admin"].post(
            REPORTS, {"kind": kind, "period": period, "region": COUNTY_A}
        )
    assert response.status_code == 422
    slot = parse(response.content).by_id("error-period")
    assert slot is not None
    assert slot.text() == message
    assert callbacks == []
    assert ReportJob.objects.count() == 0
    assert not AuditEvent.objects.filter(action__startswith="dashboard.").exists()
    assert not (private_media / "reports").exists() or not any((private_media / "reports").iterdir())


def test_a_fourth_unfinished_report_is_refused_and_nothing_is_stored(
    clients: dict[str, Client],
    world: dict[str, Any],
    private_media: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    user = world["personas"]["county_a_admin"]
    for status in (ReportJob.Status.PENDING, ReportJob.Status.RUNNING, ReportJob.Status.PENDING):
        ReportJob.objects.create(
            kind="annual_pdf", region_id=COUNTY_A, period="2024", requested_by=user, status=status
        )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = clients["county_a_admin"].post(
            REPORTS, {"kind": "returns_xlsx", "period": world["period"], "region": COUNTY_A}
        )
    assert response.status_code == 422
    errors = parse(response.content).by_id("form-errors")
    assert errors is not None
    assert errors.text() == "已有 3 份报表正在生成，请稍候再申请"
    assert callbacks == []
    assert ReportJob.objects.count() == 3
    assert not AuditEvent.objects.filter(action="dashboard.report_requested").exists()
    # The page polls while reports are unfinished.
    assert b'hx-trigger="every 2s"' in response.content


def test_a_finished_report_does_not_count_against_the_limit(
    clients: dict[str, Client],
    world: dict[str, Any],
    private_media: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    user = world["personas"]["county_a_admin"]
    for status in (ReportJob.Status.PENDING, ReportJob.Status.FAILED, ReportJob.Status.SUCCEEDED):
        ReportJob.objects.create(
            kind="annual_pdf", region_id=COUNTY_A, period="2024", requested_by=user, status=status
        )
    ReportJob.objects.create(
        kind="annual_pdf",
        region_id=TOWNSHIP_1,
        period="2024",
        requested_by=world["personas"]["township_worker"],
        status=ReportJob.Status.PENDING,
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = clients["county_a_admin"].post(
            REPORTS, {"kind": "returns_xlsx", "period": world["period"], "region": COUNTY_A}
        )
    assert response.status_code == 302
    assert ReportJob.objects.filter(requested_by=user).count() == 4


def test_another_users_report_is_neither_listed_nor_downloadable(
    clients: dict[str, Client],
    world: dict[str, Any],
    private_media: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        clients["county_a_admin"].post(
            REPORTS, {"kind": "returns_xlsx", "period": world["period"], "region": TOWNSHIP_1}
        )
    job = ReportJob.objects.get()
    assert job.status == ReportJob.Status.SUCCEEDED
    download = f"/dashboards/reports/{job.pk}/download/"
    assert clients["county_a_admin"].get(download).status_code == 200
    for persona in ("township_worker", "county_b_admin", "province_admin"):
        before = AuditEvent.objects.filter(action="dashboard.report_downloaded").count()
        assert clients[persona].get(download).status_code == 404
        assert AuditEvent.objects.filter(action="dashboard.report_downloaded").count() == before
        partial = clients[persona].get(JOBS)
        assert partial.status_code == 200
        assert f'data-job="{job.pk}"'.encode() not in partial.content
        assert "还没有生成过报表。" in partial.content.decode()
    mine = clients["county_a_admin"].get(JOBS)
    assert f'data-job="{job.pk}"'.encode() in mine.content
    assert b"hx-trigger" not in mine.content  # nothing unfinished: no polling


def test_a_report_whose_file_was_purged_is_listed_as_expired_and_answers_404(
    clients: dict[str, Client], world: dict[str, Any], private_media: Path
) -> None:
    job = ReportJob.objects.create(
        kind="annual_pdf",
        region_id=COUNTY_A,
        period="2024",
        requested_by=world["personas"]["county_a_admin"],
        status=ReportJob.Status.SUCCEEDED,
        progress=100,
    )
    client = clients["county_a_admin"]
    assert client.get(f"/dashboards/reports/{job.pk}/download/").status_code == 404
    partial = client.get(JOBS).content.decode()
    assert f'data-job="{job.pk}"' in partial
    assert "文件已过期" in partial
    assert "data-download" not in partial


def test_the_jobs_partial_shows_the_progress_of_a_running_report(
    clients: dict[str, Client], world: dict[str, Any]
) -> None:
    ReportJob.objects.create(
        kind="annual_pdf",
        region_id=COUNTY_A,
        period="2024",
        requested_by=world["personas"]["county_a_admin"],
        status=ReportJob.Status.RUNNING,
        progress=42,
        step="统计全年指标",
    )
    page = parse(clients["county_a_admin"].get(JOBS).content)
    progress = page.find_all(lambda node: "data-progress" in node.attrs)
    assert [(node.attrs["data-progress"], node.text()) for node in progress] == [
        ("42", "42% · 生成中：统计全年指标")
    ]
    container = page.by_id("report-jobs")
    assert container is not None
    assert container.attrs["hx-trigger"] == "every 2s"
