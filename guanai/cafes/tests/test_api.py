"""The café API at /api/v1/cafes: what each operation answers, and who may call which (the authorization
matrix: personas × operations → status, nothing changed on a denial)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from guanai.cafes.models import CafeFinding, CafeInspection, CafeInspectionPhoto, InternetCafe
from guanai.cafes.services import inspection_record
from guanai.cafes.tests.conftest import World, inspection_input, jpeg_with_gps
from guanai.core.testing import ANONYMOUS, Check, assert_authorization_matrix, count_queries
from guanai.notifications.models import Notification
from guanai.volunteers.models import ServiceHours

pytestmark = pytest.mark.django_db

API = "/api/v1/cafes"


def post_json(client: Client, path: str, data: dict[str, Any]) -> Any:
    return client.post(path, json.dumps(data), content_type="application/json")


@pytest.fixture
def finding_a(world: World) -> CafeFinding:
    inspection = inspection_record(
        actor=world.actor("volunteer"),
        cafe_id=world.cafe_a.pk,
        data=inspection_input(minors_found=1),
        photos=[SimpleUploadedFile("a.jpg", jpeg_with_gps(), content_type="image/jpeg")],
    )
    return CafeFinding.objects.get(inspection=inspection)


def test_the_list_shows_each_cafe_with_its_last_inspection_and_open_findings(
    world: World, all_clients: dict[str, Client], finding_a: CafeFinding
) -> None:
    body = all_clients["county_a_admin"].get(f"{API}/").json()
    assert body["count"] == 2
    assert [
        (item["name"], item["region_name"], item["phone"], item["last_inspected_on"], item["open_findings"])
        for item in body["items"]
    ] == [
        ("星空网咖", "千岛湖镇", "138****0123", "2026-11-30", 1),
        ("极速网吧", "千岛湖镇", world.cafe_a2.phone[:3] + "****" + world.cafe_a2.phone[-4:], None, 0),
    ]
    due = all_clients["county_a_admin"].get(f"{API}/?inspection_due=true").json()
    assert [item["name"] for item in due["items"]] == ["极速网吧"]
    found = all_clients["county_a_admin"].get(f"{API}/?has_open_findings=true").json()
    assert [item["name"] for item in found["items"]] == ["星空网咖"]
    province = all_clients["province_admin"].get(f"{API}/?q=网咖").json()
    assert [item["name"] for item in province["items"]] == ["星空网咖", "建德网鱼网咖"]
    assert all_clients["county_b_admin"].get(f"{API}/").json()["count"] == 1
    # A liaison of 富城村 sees the cafés of the township.
    assert all_clients["village_liaison"].get(f"{API}/").json()["count"] == 2


def test_the_list_reads_in_a_constant_number_of_queries(
    world: World, all_clients: dict[str, Client], finding_a: CafeFinding
) -> None:
    client = all_clients["province_admin"]
    client.get(f"{API}/")  # warm the session
    with count_queries() as queries:
        assert client.get(f"{API}/?status=all").json()["count"] == 3
    baseline = len(queries)
    inspection_record(actor=world.actor("volunteer"), cafe_id=world.cafe_a2.pk, data=inspection_input())
    with count_queries() as queries:
        client.get(f"{API}/?status=all")
    assert len(queries) == baseline


def test_registering_updating_and_closing_a_cafe(world: World, all_clients: dict[str, Client]) -> None:
    client = all_clients["township_worker"]
    created = post_json(
        client,
        f"{API}/",
        {
            "region_code": "330127100",
            "name": "蓝海网咖",
            "address": "千岛湖镇梦姑路12号",
            "phone": "13957100456",
        },
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["region_code"], body["phone"], body["version"], body["inspections"]) == (
        "330127100000",
        "139****0456",
        1,
        [],
    )
    patched = client.patch(
        f"{API}/{body['id']}",
        json.dumps({"version": 1, "operator": "方志明"}),
        content_type="application/json",
    )
    assert (patched.status_code, patched.json()["operator"], patched.json()["name"]) == (
        200,
        "方志明",
        "蓝海网咖",
    )
    stale = client.patch(
        f"{API}/{body['id']}", json.dumps({"version": 1, "notes": "x"}), content_type="application/json"
    )
    assert (stale.status_code, stale.json()["code"]) == (409, "conflict")
    closed = post_json(client, f"{API}/{body['id']}/close", {"reason": "自行停业"})
    assert (closed.json()["is_open"], closed.json()["closed_reason"]) == (False, "自行停业")
    invalid = post_json(client, f"{API}/", {"region_code": "330182001", "name": "x", "address": "y"})
    assert (invalid.status_code, invalid.json()["fields"]) == (
        422,
        {"region_code": ["该乡镇（街道）不在您的管辖范围内"]},
    )


def test_an_inspector_records_an_inspection_with_photos_and_co_inspectors(
    world: World, all_clients: dict[str, Client]
) -> None:
    response = all_clients["volunteer"].post(
        f"{API}/{world.cafe_a.pk}/inspections",
        {
            "inspected_on": "2026-11-29",
            "duration_minutes": "60",
            "minors_found": "2",
            "id_checks_done": "false",
            "notices_posted": "true",
            "finding_description": "两名初中生在包间上网",
            "inspector_ids": [str(world.li.pk)],
            "photos": [
                SimpleUploadedFile("1.jpg", jpeg_with_gps(), content_type="image/jpeg"),
                SimpleUploadedFile("2.jpg", jpeg_with_gps(), content_type="image/jpeg"),
            ],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    finding = CafeFinding.objects.get()
    assert {key: body[key] for key in ("team_name", "minors_found", "has_finding", "photo_count")} == {
        "team_name": "千岛湖镇网吧义务监督员队",
        "minors_found": 2,
        "has_finding": True,
        "photo_count": 2,
    }
    assert (body["finding_id"], body["hours_per_inspector"]) == (finding.pk, "1.0")
    assert [person["name"] for person in body["inspectors"]] == ["王建国", "李秀英"]
    assert ServiceHours.objects.filter(source_key__startswith=f"cafe_inspection:{body['id']}:").count() == 2
    assert [n.user.username for n in Notification.objects.all()] == ["p-county-a"]


def test_the_api_refuses_a_bad_inspection_in_the_one_error_shape(
    world: World, all_clients: dict[str, Client]
) -> None:
    response = all_clients["volunteer"].post(
        f"{API}/{world.cafe_a.pk}/inspections",
        {
            "inspected_on": "2026-11-30",
            "duration_minutes": "900",
            "id_checks_done": "true",
            "notices_posted": "true",
        },
    )
    assert response.status_code == 422
    assert response.json() == {
        "code": "validation_failed",
        "message": "提交的内容有误，请检查后重试",
        "fields": {"duration_minutes": ["巡查时长应在 1 至 720 分钟之间"]},
    }
    assert not CafeInspection.objects.exists()


def test_findings_per_county_and_closing_one_with_its_outcome(
    world: World, all_clients: dict[str, Client], finding_a: CafeFinding
) -> None:
    inspection_record(
        actor=world.actor("county_b_admin"),
        cafe_id=world.cafe_b.pk,
        data=inspection_input(notices_posted=False, inspector_ids=[world.zhao.pk]),
    )
    province = all_clients["province_admin"].get(f"{API}/findings").json()
    assert province["counties"] == [
        {"county_code": "330127000000", "county_name": "淳安县", "open": 1, "overdue": 0},
        {"county_code": "330182000000", "county_name": "建德市", "open": 1, "overdue": 0},
    ]
    assert [(f["cafe_name"], f["problem_labels"], f["deadline"]) for f in province["items"]] == [
        ("星空网咖", ["接纳未成年人上网"], "2026-12-07"),
        ("建德网鱼网咖", ["未悬挂未成年人禁入标志"], "2026-12-15"),
    ]
    county_a = all_clients["county_a_admin"].get(f"{API}/findings").json()
    assert [f["id"] for f in county_a["items"]] == [finding_a.pk]
    client = all_clients["county_a_admin"]
    missing = post_json(client, f"{API}/findings/{finding_a.pk}/close", {"note": "已处理"})
    assert (missing.status_code, missing.json()["fields"]) == (422, {"outcome": ["请选择处理结果"]})
    followed = post_json(client, f"{API}/findings/{finding_a.pk}/follow-up", {"note": "已约谈经营者"})
    assert followed.json()["follow_up_note"] == "已约谈经营者"
    closed = post_json(
        client,
        f"{API}/findings/{finding_a.pk}/close",
        {"outcome": "rectification_ordered", "note": "限期整改"},
    )
    assert closed.status_code == 200
    assert {key: closed.json()[key] for key in ("state", "outcome", "outcome_label", "outcome_note")} == {
        "state": "closed",
        "outcome": "rectification_ordered",
        "outcome_label": "已责令整改",
        "outcome_note": "限期整改",
    }
    assert client.get(f"{API}/findings").json()["count"] == 0
    assert client.get(f"{API}/findings?state=all").json()["count"] == 1


def test_authorization_matrix(world: World, all_clients: dict[str, Client], finding_a: CafeFinding) -> None:
    a, a2, b, f = world.cafe_a.pk, world.cafe_a2.pk, world.cafe_b.pk, finding_a.pk
    new_cafe = {"region_code": "330127100", "name": "新网咖", "address": "千岛湖镇某路1号"}
    patch = {"version": 1, "notes": "x"}
    inspection = {
        "inspected_on": "2026-11-30",
        "duration_minutes": "60",
        "id_checks_done": "true",
        "notices_posted": "true",
    }
    outcome = {"outcome": "penalised"}
    staff_can_view = ("province_admin", "county_a_admin", "township_worker", "village_liaison")
    no_cafes = ("auditor", "system_admin")
    checks = [
        # Reading: staff of the region (the liaison of a village sees its township's cafés).
        *[Check(p, "GET", f"{API}/", 200) for p in (*staff_can_view, "county_b_admin")],
        *[Check(p, "GET", f"{API}/{a}", 200) for p in staff_can_view],
        *[Check(p, "GET", f"{API}/findings", 200) for p in (*staff_can_view, "county_b_admin")],
        Check("county_b_admin", "GET", f"{API}/{a}", 404, must_not_contain=("星空网咖",)),
        Check("township_worker", "GET", f"{API}/{b}", 404, must_not_contain=("建德网鱼网咖",)),
        Check("village_liaison", "GET", f"{API}/{b}", 404),
        Check("county_a_admin", "GET", f"{API}/?region=330182", 404),
        Check("county_a_admin", "GET", f"{API}/findings?region=330182001", 404),
        *[
            Check(p, "GET", path, 403)
            for p in ("volunteer", "lawyer", "counsellor", "outsider", *no_cafes)
            for path in (f"{API}/", f"{API}/{a}", f"{API}/findings")
        ],
        *[Check(ANONYMOUS, "GET", path, 401) for path in (f"{API}/", f"{API}/{a}", f"{API}/findings")],
        # Managing cafés: township admin and up, in their region.
        Check("county_b_admin", "PATCH", f"{API}/{a}", 404, data=patch),
        Check("county_b_admin", "POST", f"{API}/{a}/close", 404, data={"reason": "x"}),
        Check("county_b_admin", "POST", f"{API}/", 422, data=new_cafe),
        *[
            Check(p, method, path, 403, data=data)
            for p in ("village_liaison", "volunteer", "lawyer", "auditor", "system_admin")
            for method, path, data in (
                ("POST", f"{API}/", new_cafe),
                ("PATCH", f"{API}/{a}", patch),
                ("POST", f"{API}/{a}/close", {"reason": "x"}),
            )
        ],
        Check(ANONYMOUS, "POST", f"{API}/", 401, data=new_cafe),
        # Findings: handled by those who manage cafés in the café's region.
        Check("county_b_admin", "POST", f"{API}/findings/{f}/close", 404, data=outcome),
        Check("county_b_admin", "POST", f"{API}/findings/{f}/follow-up", 404, data={"note": "x"}),
        *[
            Check(p, "POST", f"{API}/findings/{f}/{action}", 403, data=data)
            for p in ("village_liaison", "volunteer", "lawyer", "auditor", "system_admin")
            for action, data in (("close", outcome), ("follow-up", {"note": "x"}))
        ],
        Check(ANONYMOUS, "POST", f"{API}/findings/{f}/close", 401, data=outcome),
        # Inspections: members of a supervision team covering the café, through the API.
        Check("outsider", "POST", f"{API}/{a}/inspections", 403, form=inspection),
        Check("lawyer", "POST", f"{API}/{a}/inspections", 403, form=inspection),
        Check("volunteer", "POST", f"{API}/{b}/inspections", 404, form=inspection),
        *[
            Check(p, "POST", f"{API}/{a}/inspections", 403, form=inspection)
            for p in ("township_worker", "county_a_admin", "village_liaison", "auditor", "system_admin")
        ],
        Check(ANONYMOUS, "POST", f"{API}/{a}/inspections", 401, form=inspection),
        # And what they may do, last (each changes what follows).
        Check("volunteer", "POST", f"{API}/{a2}/inspections", 201, form=inspection),
        Check("township_worker", "PATCH", f"{API}/{a}", 200, data=patch),
        Check("township_worker", "POST", f"{API}/", 201, data=new_cafe),
        Check("county_a_admin", "POST", f"{API}/findings/{f}/follow-up", 200, data={"note": "已约谈"}),
        Check("county_a_admin", "POST", f"{API}/findings/{f}/close", 200, data=outcome),
        Check("county_a_admin", "POST", f"{API}/findings/{f}/close", 409, data=outcome),
        Check("province_admin", "POST", f"{API}/{a2}/close", 200, data={"reason": "吊销许可证"}),
    ]
    assert assert_authorization_matrix(all_clients, checks) == len(checks)
    assert InternetCafe.objects.filter(name="新网咖").count() == 1
    assert CafeInspectionPhoto.objects.count() == 1
