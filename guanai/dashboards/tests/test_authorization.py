"""The authorization matrix of every dashboards page and API operation × every persona. The operations are
discovered from the URL configuration and the OpenAPI document, so that a new one cannot be left out."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone

from guanai.accounts.services import role_assign, user_create
from guanai.audit.models import AuditEvent
from guanai.core.access import Role
from guanai.core.testing import Check, assert_authorization_matrix, persona_clients, verified_client
from guanai.dashboards import jobs
from guanai.dashboards.models import ReportJob
from guanai.minors.tests.factories import COMMUNITY_A, VILLAGE_A, MinorFactory
from guanai.regions.models import Region

COUNTY_A = "330127000000"  # 淳安县
TOWNSHIP_1 = "330127100000"  # 千岛湖镇
TOWNSHIP_2 = "330127101000"  # 测试镇, added: seen only from county A and above
VILLAGE_2 = "330127101001"
API = "/api/v1/dashboards"
# What only a page or answer about county A shows: its name as a title, a township only county A's
# page lists, and the figures' markup.
COUNTY_A_ONLY = ("淳安县工作指标", "测试镇", "data-figure", '"region_name"', "dashboard-charts")

PERSONAS = (
    "anonymous",
    "volunteer",
    "lawyer",
    "counsellor",
    "auditor",
    "system_admin",
    "village_liaison",
    "township_worker",
    "county_a_admin",
    "county_b_admin",
    "province_admin",
)
# Signed in without the dashboards' permissions.
WITHOUT_DASHBOARDS = ("volunteer", "lawyer", "counsellor", "auditor", "system_admin")


@pytest.fixture
def setting(personas: dict[str, Any], settings: Any, tmp_path: Path) -> tuple[dict[str, Client], int]:
    """County A with two townships, a village liaison, and a compiled report of county A's admin."""
    settings.MEDIA_ROOT = tmp_path
    Region.objects.create(code=TOWNSHIP_2, name="测试镇", short_name="测试", level=4, parent_id=COUNTY_A)
    Region.objects.create(code=VILLAGE_2, name="测试村", short_name="测试", level=5, parent_id=TOWNSHIP_2)
    for region in (COMMUNITY_A, VILLAGE_A, VILLAGE_2):
        MinorFactory.create_batch(5, region_id=region)
    liaison = user_create(username="p-liaison", password=None, display_name="village_liaison")
    role_assign(
        user=liaison,
        role=Role.VILLAGE_LIAISON,
        region=Region.objects.get(code=VILLAGE_A),
        valid_from=datetime.date(2020, 1, 1),
    )
    clients = persona_clients(personas)
    clients["village_liaison"] = verified_client(liaison)
    job = ReportJob.objects.create(
        kind="returns_xlsx", region_id=COUNTY_A, period="2025", requested_by=personas["county_a_admin"]
    )
    jobs.report_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ReportJob.Status.SUCCEEDED, job.message
    return clients, job.pk


# --- Discovery ------------------------------------------------------------------------------------------


def _dashboard_pages(patterns: list[Any], namespaces: tuple[str, ...] = ()) -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _dashboard_pages(
                pattern.url_patterns, (*namespaces, pattern.namespace) if pattern.namespace else namespaces
            )
        elif isinstance(pattern, URLPattern) and namespaces == ("dashboards",):
            assert pattern.name, f"a dashboards page without a name: {pattern.pattern}"
            yield pattern.name


def _dashboard_operations() -> set[tuple[str, str]]:
    document = Client().get("/api/v1/openapi.json").json()
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        if path.startswith(API)
        for method in item
    }


# --- The matrix -----------------------------------------------------------------------------------------


def _operations(job_id: int) -> dict[str, tuple[str, str, dict[str, Any] | None, dict[str, str] | None]]:
    """Each operation by its name (a page's URL name, or METHOD + the OpenAPI path), as county A's admin
    would call it about county A: method, path, JSON body, form."""
    month = f"{timezone.localdate():%Y-%m}"
    query = f"region={COUNTY_A}&period={month}"
    report = {"kind": "returns_xlsx", "region": COUNTY_A, "period": "2025"}
    return {
        "overview": ("GET", f"/dashboards/?{query}", None, None),
        "reports": ("GET", f"/dashboards/reports/?region={COUNTY_A}", None, None),
        "reports POST": ("POST", "/dashboards/reports/", None, report),
        "report_jobs": ("GET", "/dashboards/reports/jobs/", None, None),
        "report_download": ("GET", f"/dashboards/reports/{job_id}/download/", None, None),
        f"GET {API}/indicators": ("GET", f"{API}/indicators?{query}", None, None),
        f"GET {API}/trend": ("GET", f"{API}/trend?{query}", None, None),
        f"POST {API}/reports": ("POST", f"{API}/reports", report, None),
        f"GET {API}/reports": ("GET", f"{API}/reports", None, None),
        f"GET {API}/reports/{{job_id}}": ("GET", f"{API}/reports/{job_id}", None, None),
        f"GET {API}/reports/{{job_id}}/file": ("GET", f"{API}/reports/{job_id}/file", None, None),
    }


def _expected(persona: str, operation: str) -> int:
    is_api = operation.startswith(("GET /api", "POST /api"))
    is_export = "report" in operation
    writes = operation in ("reports POST", f"POST {API}/reports")
    if persona == "anonymous":
        return 401 if is_api else 302  # the API asks for credentials, a page sends to the sign-in page
    if persona in WITHOUT_DASHBOARDS:
        return 403
    if persona == "village_liaison":
        # Views the dashboards of the village only; compiles no report.
        return 403 if is_export else 404
    if persona == "county_a_admin":
        if writes:
            return 202 if is_api else 302
        return 200
    # The township worker (below county A), county B's admin (beside it) and the province admin (above).
    own_lists = operation in ("report_jobs", f"GET {API}/reports")
    others_job = operation in (
        "report_download",
        f"GET {API}/reports/{{job_id}}",
        f"GET {API}/reports/{{job_id}}/file",
    )
    if own_lists:
        return 200
    if persona == "province_admin":
        if others_job:
            return 404  # county A admin's report, not theirs
        if writes:
            return 202 if is_api else 302
        return 200
    return 404  # county A is outside their region: as if it did not exist


def test_the_matrix_names_every_dashboards_page_and_operation(setting: tuple[dict[str, Client], int]) -> None:
    _clients, job_id = setting
    names = set(_operations(job_id))
    pages = set(_dashboard_pages(get_resolver().url_patterns))
    assert pages == {"overview", "reports", "report_jobs", "report_download"}
    assert pages <= names
    operations = {f"{method} {path}" for method, path in _dashboard_operations()}
    assert len(operations) == 6
    assert operations <= names
    # And nothing in the matrix that is neither.
    assert names - pages - operations == {"reports POST"}
    # Each page path resolves to the page it names.
    for name, (_method, path, _body, _form) in _operations(job_id).items():
        if not name.startswith(("GET ", "POST ")):
            assert resolve(path.split("?")[0]).url_name == name.removesuffix(" POST")


def test_authorization_matrix_of_every_page_and_operation(setting: tuple[dict[str, Client], int]) -> None:
    clients, job_id = setting
    operations = _operations(job_id)
    count = 0
    for persona in PERSONAS:
        for name, (method, path, body, form) in operations.items():
            status = _expected(persona, name)
            # A denial shows nothing of county A; the township worker and the liaison see their own
            # region's name in the page shell, never county A's title or its other township.
            hidden = COUNTY_A_ONLY if status >= 400 else ()
            check = Check(persona, method, path, status, data=body, form=form, must_not_contain=hidden)
            before = _dashboard_events()
            if status == 200 and name in FILES:
                count += _assert_file(clients[persona], check)
            else:
                count += assert_authorization_matrix(clients, [check])
            after = _dashboard_events()
            if status >= 400:
                assert after == before, f"{persona} {method} {path}: denied but audited {after - before}"
    assert count == len(PERSONAS) * len(operations)
    # What the allowed calls did: two requests each by county A's admin and the province admin (still
    # pending: on-commit callbacks do not fire in a test's transaction), and two downloads.
    requested = ReportJob.objects.exclude(pk=job_id)
    assert sorted(requested.values_list("requested_by__username", "status")) == [
        ("p-county-a", "pending"),
        ("p-county-a", "pending"),
        ("p-province", "pending"),
        ("p-province", "pending"),
    ]
    assert AuditEvent.objects.filter(action="dashboard.report_downloaded").count() == 2


FILES = ("report_download", f"GET {API}/reports/{{job_id}}/file")


def _assert_file(client: Client, check: Check) -> int:
    """A file is streamed: `assert_authorization_matrix` reads `response.content`, which a FileResponse
    does not have, so an allowed download is checked here."""
    response = client.get(check.path)
    assert response.status_code == check.status, f"{check.persona} GET {check.path}"
    content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert content.startswith(b"PK")
    return 1


def _dashboard_events() -> set[int]:
    return set(AuditEvent.objects.filter(action__startswith="dashboard.").values_list("pk", flat=True))


@pytest.mark.parametrize(
    ("persona", "region", "visible", "hidden"),
    [
        ("village_liaison", VILLAGE_A, "富城村", "青城社区"),
        ("township_worker", TOWNSHIP_1, "青城社区", "测试镇"),
        ("county_b_admin", "330182000000", "新安江街道", "千岛湖镇"),
    ],
)
def test_each_persona_sees_the_dashboards_of_its_own_region(
    setting: tuple[dict[str, Client], int], persona: str, region: str, visible: str, hidden: str
) -> None:
    clients, _job_id = setting
    month = f"{timezone.localdate():%Y-%m}"
    page = clients[persona].get("/dashboards/", {"region": region, "period": month})
    assert page.status_code == 200
    assert visible in page.content.decode()
    assert hidden not in page.content.decode()
    for operation in ("indicators", "trend"):
        answer = clients[persona].get(f"{API}/{operation}", {"region": region, "period": month})
        assert answer.status_code == 200
        assert hidden not in answer.content.decode()


def test_the_village_liaison_has_no_link_to_the_reports(setting: tuple[dict[str, Client], int]) -> None:
    clients, _job_id = setting
    month = f"{timezone.localdate():%Y-%m}"
    liaison = clients["village_liaison"].get("/dashboards/", {"region": VILLAGE_A, "period": month})
    assert 'id="reports-link"' not in liaison.content.decode()
    township = clients["township_worker"].get("/dashboards/", {"region": TOWNSHIP_1, "period": month})
    assert 'id="reports-link"' in township.content.decode()
