from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guanai.accounts.selectors import actor_for_user
from guanai.audit.models import AuditEvent
from guanai.core.testing import count_queries, persona_clients
from guanai.dashboards.indicators import AreaIndicators, indicators_for, parse_period
from guanai.dashboards.models import ReportJob
from guanai.dashboards.snapshots import snapshot_build
from guanai.minors.models import Minor
from guanai.minors.tests.factories import COMMUNITY_A, VILLAGE_A, MinorFactory
from guanai.pairings.tests.factories import PairingFactory, VisitFactory

URL = "/api/v1/dashboards/indicators"
TREND = "/api/v1/dashboards/trend"
REPORTS = "/api/v1/dashboards/reports"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COUNTY_A = "330127000000"
COUNTY_B = "330182000000"
TOWNSHIP_1 = "330127100000"


@pytest.fixture
def api_clients(personas: dict[str, Any]) -> dict[str, Client]:
    MinorFactory.create(region_id=COMMUNITY_A, risk_level="high")
    for _ in range(5):
        MinorFactory.create(region_id=COMMUNITY_A, risk_level="low")
    return persona_clients(personas)


def _period() -> str:
    return f"{timezone.localdate():%Y-%m}"


def test_county_admin_reads_the_indicators_of_their_county(api_clients: dict[str, Client]) -> None:
    response = api_clients["county_a_admin"].get(URL, {"region": COUNTY_A, "period": _period()})
    assert response.status_code == 200
    body = response.json()
    assert body["region_code"] == COUNTY_A
    assert body["total"]["figures"]["children"] == {"current": 6, "year_earlier": 0}
    assert body["total"]["figures"]["children.risk.high"]["current"] == 1
    township = next(item for item in body["children"] if item["code"] == TOWNSHIP_1)
    assert township["figures"]["children"]["current"] == 6


def test_indicators_response_carries_every_area_and_figure_of_the_selector(
    api_clients: dict[str, Client], personas: dict[str, Any]
) -> None:
    period = _period()
    response = api_clients["county_a_admin"].get(URL, {"region": TOWNSHIP_1, "period": period})
    assert response.status_code == 200
    body = response.json()
    actor = actor_for_user(personas["county_a_admin"])
    result = indicators_for(actor=actor, region_code=TOWNSHIP_1, period=period)

    def area(item: AreaIndicators) -> dict[str, Any]:
        return {
            "code": item.code,
            "name": item.name,
            "level": item.level,
            "is_own_level": item.is_own_level,
            "figures": {
                key: {"current": figure.current, "year_earlier": figure.year_earlier}
                for key, figure in item.figures.items()
            },
            "coverage": {"current": item.coverage.current, "year_earlier": item.coverage.year_earlier},
            "service": {
                kind: {
                    "reply_on_time_share": service.reply_on_time_share,
                    "average_rating": service.average_rating,
                }
                for kind, service in item.service.items()
            },
        }

    assert body == {
        "region_code": TOWNSHIP_1,
        "region_name": result.region_name,
        "level": result.level,
        "period": period,
        "year_earlier_period": result.year_earlier_period,
        "source": "live",
        "as_of": timezone.localdate().isoformat(),
        "total": area(result.total),
        "children": [area(item) for item in result.children],
    }
    assert body["total"]["figures"]["children.risk.high"] == {"current": "<5", "year_earlier": 0}
    assert [list(item["figures"]) for item in body["children"]] == [list(result.total.figures)] * len(
        result.children
    )


def test_small_cells_below_county_are_strings(api_clients: dict[str, Client]) -> None:
    response = api_clients["county_a_admin"].get(URL, {"region": TOWNSHIP_1, "period": _period()})
    assert response.status_code == 200
    body = response.json()
    assert body["total"]["figures"]["children.risk.high"]["current"] == "<5"
    assert body["total"]["figures"]["children"]["current"] == 6


def test_region_outside_the_actor_answers_404(api_clients: dict[str, Client]) -> None:
    response = api_clients["county_a_admin"].get(URL, {"region": COUNTY_B, "period": _period()})
    assert response.status_code == 404


def test_bad_period_answers_422(api_clients: dict[str, Client]) -> None:
    response = api_clients["county_a_admin"].get(URL, {"region": COUNTY_A, "period": "2026-1"})
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"


def test_volunteer_without_the_permission_is_refused(api_clients: dict[str, Client]) -> None:
    response = api_clients["volunteer"].get(URL, {"region": "330127100219", "period": _period()})
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


# --- The trend ------------------------------------------------------------------------------------------


def _months_back(day: datetime.date, count: int) -> datetime.date:
    """The first day of the month `count` months before `day`'s."""
    month = day.year * 12 + day.month - 1 - count
    return datetime.date(month // 12, month % 12 + 1, 1)


@pytest.fixture
def history(api_clients: dict[str, Client]) -> dict[str, Client]:
    """Besides the 6 children of today: one child registered two months ago in VILLAGE_A, paired, and
    visited last month."""
    today = timezone.localdate()
    early = MinorFactory.create(region_id=VILLAGE_A)
    registered = timezone.make_aware(
        datetime.datetime.combine(_months_back(today, 2).replace(day=15), datetime.time(12))
    )
    Minor.objects.filter(pk=early.pk).update(created_at=registered)
    pairing = PairingFactory.create(minor=early)
    VisitFactory.create(pairing=pairing, visited_on=_months_back(today, 1).replace(day=10))
    return api_clients


def test_the_trend_lists_the_months_oldest_first_with_exact_values(history: dict[str, Client]) -> None:
    today = timezone.localdate()
    response = history["county_a_admin"].get(TREND, {"region": COUNTY_A, "period": _period(), "months": "3"})
    assert response.status_code == 200
    body = response.json()
    assert [month["period"] for month in body] == [
        f"{_months_back(today, 2):%Y-%m}",
        f"{_months_back(today, 1):%Y-%m}",
        _period(),
    ]
    assert [month["figures"]["children"] for month in body] == [1, 1, 7]
    assert [month["figures"]["visits"] for month in body] == [0, 1, 0]
    assert [month["figures"]["children.risk.high"] for month in body] == [0, 0, 1]
    # Overdue pairings have no history: only the current month has a value.
    assert [month["figures"]["overdue"] for month in body][:2] == [None, None]
    assert isinstance(body[2]["figures"]["overdue"], int)
    assert "sealed_children" in body[2]["figures"]


def test_the_trend_has_twelve_months_by_default_and_protects_small_counts_below_county(
    history: dict[str, Client],
) -> None:
    response = history["county_a_admin"].get(TREND, {"region": TOWNSHIP_1, "period": _period()})
    assert response.status_code == 200
    body = response.json()
    assert len(body) == 12
    assert body[-1]["period"] == _period()
    assert body[-1]["figures"]["children.risk.high"] == "<5"
    assert body[-1]["figures"]["children"] == 7
    assert body[-2]["figures"]["children"] == "<5"  # the one child registered two months ago
    assert "sealed_children" not in body[-1]["figures"]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"period": "2025"}, "period"),
        ({"period": "2026-1"}, "period"),
        ({"months": 0}, "months"),
        ({"months": 121}, "months"),
    ],
)
def test_the_trend_refuses_a_year_or_months_out_of_range(
    api_clients: dict[str, Client], arguments: dict[str, Any], field: str
) -> None:
    query = {"region": COUNTY_A, "period": _period(), **arguments}
    response = api_clients["county_a_admin"].get(TREND, query)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_failed"
    assert list(body["fields"]) == [field]


def test_the_trend_of_a_region_outside_answers_404(api_clients: dict[str, Client]) -> None:
    response = api_clients["county_a_admin"].get(TREND, {"region": COUNTY_B, "period": _period()})
    assert response.status_code == 404


# --- The reports ----------------------------------------------------------------------------------------


@pytest.fixture
def private_media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_a_requested_report_is_accepted_followed_and_downloaded(
    api_clients: dict[str, Client], private_media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    client = api_clients["county_a_admin"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            REPORTS,
            {"kind": "returns_xlsx", "region": COUNTY_A, "period": "2025"},
            content_type="application/json",
        )
        # In the request's own transaction the run waits for the commit.
        assert response.status_code == 202
        accepted = response.json()
        assert {key: accepted[key] for key in ("kind", "region_code", "period", "status", "progress")} == {
            "kind": "returns_xlsx",
            "region_code": COUNTY_A,
            "period": "2025",
            "status": "pending",
            "progress": 0,
        }
        assert accepted["is_downloadable"] is False
        assert accepted["finished_at"] is None
    job_id = accepted["id"]
    followed = client.get(f"{REPORTS}/{job_id}")
    assert followed.status_code == 200
    assert {
        key: followed.json()[key] for key in ("id", "status", "progress", "message", "is_downloadable")
    } == {
        "id": job_id,
        "status": "succeeded",
        "progress": 100,
        "message": "",
        "is_downloadable": True,
    }
    listed = client.get(REPORTS)
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()] == [job_id]

    download = client.get(f"{REPORTS}/{job_id}/file")
    assert download.status_code == 200
    assert download["Content-Type"] == XLSX
    assert download["Cache-Control"] == "private, no-store"
    assert download["Content-Disposition"].startswith("attachment;")
    content = b"".join(download.streaming_content)  # type: ignore[attr-defined]
    job = ReportJob.objects.get(pk=job_id)
    assert content == (private_media / "reports" / job.file_name).read_bytes()
    assert content.startswith(b"PK")
    assert AuditEvent.objects.filter(action="dashboard.report_downloaded", target_id=str(job_id)).count() == 1


def test_the_list_holds_the_actors_own_reports_newest_first(
    personas: dict[str, Any], api_clients: dict[str, Client], private_media: Path
) -> None:
    mine = [
        ReportJob.objects.create(
            kind="annual_pdf", region_id=COUNTY_A, period=str(year), requested_by=personas["county_a_admin"]
        ).pk
        for year in (2023, 2024)
    ]
    ReportJob.objects.create(
        kind="annual_pdf", region_id=TOWNSHIP_1, period="2024", requested_by=personas["township_worker"]
    )
    body = api_clients["county_a_admin"].get(REPORTS).json()
    assert [(item["id"], item["period"], item["status"]) for item in body] == [
        (mine[1], "2024", "pending"),
        (mine[0], "2023", "pending"),
    ]


def test_another_users_report_answers_404(
    personas: dict[str, Any], api_clients: dict[str, Client], private_media: Path
) -> None:
    from guanai.dashboards.jobs import report_job_run

    job = ReportJob.objects.create(
        kind="returns_xlsx", region_id=TOWNSHIP_1, period="2025", requested_by=personas["county_a_admin"]
    )
    report_job_run(job_id=job.pk)
    assert api_clients["county_a_admin"].get(f"{REPORTS}/{job.pk}").status_code == 200
    for persona in ("township_worker", "county_b_admin", "province_admin"):
        assert api_clients[persona].get(f"{REPORTS}/{job.pk}").status_code == 404
        answer = api_clients[persona].get(f"{REPORTS}/{job.pk}/file")
        assert answer.status_code == 404
        assert answer.json()["code"] == "not_found"
        assert api_clients[persona].get(REPORTS).json() == []
    assert not AuditEvent.objects.filter(action="dashboard.report_downloaded").exists()


def test_an_annual_report_for_a_month_answers_422(
    api_clients: dict[str, Client], private_media: Path
) -> None:
    response = api_clients["county_a_admin"].post(
        REPORTS,
        {"kind": "annual_pdf", "region": COUNTY_A, "period": "2025-05"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["fields"] == {"period": ["年度工作统计按年度生成，请填写年份（YYYY）"]}
    assert ReportJob.objects.count() == 0


def test_a_fourth_unfinished_report_answers_429(
    personas: dict[str, Any], api_clients: dict[str, Client], private_media: Path
) -> None:
    for _ in range(3):
        ReportJob.objects.create(
            kind="annual_pdf", region_id=COUNTY_A, period="2024", requested_by=personas["county_a_admin"]
        )
    response = api_clients["county_a_admin"].post(
        REPORTS,
        {"kind": "returns_xlsx", "region": COUNTY_A, "period": "2025"},
        content_type="application/json",
    )
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert response.json()["message"] == "已有 3 份报表正在生成，请稍候再申请"
    assert ReportJob.objects.count() == 3


def test_a_report_of_a_region_outside_answers_404(
    api_clients: dict[str, Client], private_media: Path
) -> None:
    response = api_clients["county_a_admin"].post(
        REPORTS,
        {"kind": "returns_xlsx", "region": COUNTY_B, "period": "2025"},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert ReportJob.objects.count() == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", TREND),
        ("POST", REPORTS),
        ("GET", REPORTS),
        ("GET", f"{REPORTS}/1"),
        ("GET", f"{REPORTS}/1/file"),
    ],
)
def test_a_volunteer_is_refused_every_operation(
    api_clients: dict[str, Client], private_media: Path, method: str, path: str
) -> None:
    client = api_clients["volunteer"]
    if method == "POST":
        response = client.post(
            path,
            {"kind": "returns_xlsx", "region": VILLAGE_A, "period": "2025"},
            content_type="application/json",
        )
    else:
        response = client.get(path, {"region": VILLAGE_A, "period": _period()})
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert ReportJob.objects.count() == 0


def test_a_months_snapshot_figures_are_kept_until_the_snapshots_are_rebuilt(
    api_clients: dict[str, Client],
) -> None:
    """The response read from the snapshots is remembered (guanai.core.cached): a child registered since
    counts only once the snapshot is rebuilt, as before; figures counted live are never kept."""
    client = api_clients["county_a_admin"]
    today = timezone.localdate()
    month = parse_period(_period())

    def children(period: str = _period()) -> tuple[str, int]:
        body = client.get(URL, {"region": COUNTY_A, "period": period}).json()
        return body["source"], body["total"]["figures"]["children"]["current"]

    assert children() == ("live", 6)
    MinorFactory.create(region_id=COMMUNITY_A)
    assert children() == ("live", 7)  # live counts are not remembered
    snapshot_build(period=month, today=today)
    snapshot_build(period=month.year_earlier(), today=today)
    assert children() == ("snapshot", 7)
    MinorFactory.create(region_id=COMMUNITY_A)
    with count_queries() as cold:  # from an empty cache
        assert children() == ("snapshot", 7)  # the snapshot, as built
    with CaptureQueriesContext(connection) as warm:
        assert children() == ("snapshot", 7)
    snapshot_reads = [query for query in warm if "dashboards_indicatorsnapshot" in query["sql"]]
    assert any("dashboards_indicatorsnapshot" in query["sql"] for query in cold)
    assert snapshot_reads == []  # the second answer came from the cache
    snapshot_build(period=month, today=today)
    assert children() == ("snapshot", 8)  # rebuilding the snapshot is a write to its table
