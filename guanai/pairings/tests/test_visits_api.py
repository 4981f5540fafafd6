"""The visits API: recording (JSON), the photo (multipart), the mandatory reports and the overdue list, with
the authorization matrix of every operation."""

from __future__ import annotations

import datetime
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from guanai.accounts.selectors import actor_for_user
from guanai.core.testing import (
    Check,
    assert_authorization_matrix,
    count_queries,
    database_fingerprint,
    verified_client,
)
from guanai.pairings.models import MandatoryReport, Visit
from guanai.pairings.tests.factories import VisitWorld, jpeg_with_gps
from guanai.pairings.visits import visit_record
from guanai.volunteers.models import ServiceHours

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock", "private_media")]

TODAY = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
DAY = TODAY.date()


@pytest.fixture
def world(visit_world: VisitWorld) -> VisitWorld:
    return visit_world


def payload(pairing_id: int, **values: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "pairing_id": pairing_id,
        "visited_on": f"{DAY:%Y-%m-%d}",
        "mode": "phone",
        "duration_minutes": 25,
        "activities": 1,
        "note": "电话里孩子说想妈妈了",
        "emotion": "concern",
    }
    data.update(values)
    return data


def post(client: Client, path: str, data: dict[str, Any]) -> Any:
    return client.post(path, data, content_type="application/json")


def test_a_volunteer_records_a_visit(clients: dict[str, Client], world: VisitWorld) -> None:
    response = post(clients["volunteer"], "/api/v1/visits/", payload(world.pairing.pk))

    assert response.status_code == 201, response.content
    body = response.json()
    visit = Visit.objects.get()
    assert body == {
        "id": visit.pk,
        "pairing_id": world.pairing.pk,
        "minor_id": world.child.pk,
        "minor_name": "张*明",
        "region_code": "330127100219",
        "region_name": "富城村村民委员会",
        "volunteer_id": world.me.pk,
        "volunteer_name": "王建国",
        "visited_on": "2026-11-30",
        "mode": "phone",
        "mode_label": "电话",
        "duration_minutes": 25,
        "activities": 1,
        "activity_labels": ["谈心聊天"],
        "note": "****",
        "study": "good",
        "health": "good",
        "emotion": "concern",
        "safety": "good",
        "concerns": 0,
        "concern_labels": [],
        "mandatory_report_id": None,
        "photo_url": None,
        "created_at": body["created_at"],
    }
    assert str(ServiceHours.objects.get().hours) == "0.4"
    world.pairing.refresh_from_db()
    assert world.pairing.next_contact_due == datetime.date(2026, 12, 30)


def test_a_safety_concern_returns_the_report_it_opened(clients: dict[str, Client], world: VisitWorld) -> None:
    response = post(clients["volunteer"], "/api/v1/visits/", payload(world.pairing.pk, concerns=4))

    assert response.status_code == 201
    report = MandatoryReport.objects.get()
    assert (response.json()["mandatory_report_id"], response.json()["safety"]) == (report.pk, "concern")
    assert response.json()["concern_labels"] == ["有自伤或轻生风险"]


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": 1441}, "duration_minutes"),
        ({"mode": "letter"}, "mode"),
        ({"concerns": 16}, "concerns"),
        ({"activities": 128}, "activities"),
        ({"study": "bad"}, "study"),
    ],
)
def test_a_wrong_visit_is_refused_by_its_schema(
    clients: dict[str, Client], world: VisitWorld, values: dict[str, Any], field: str
) -> None:
    response = post(clients["volunteer"], "/api/v1/visits/", payload(world.pairing.pk, **values))

    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"
    assert list(response.json()["fields"]) == [field]
    assert not Visit.objects.exists()


def test_a_wrong_date_is_refused_by_the_service(clients: dict[str, Client], world: VisitWorld) -> None:
    response = post(
        clients["volunteer"], "/api/v1/visits/", payload(world.pairing.pk, visited_on="2026-12-01")
    )

    assert response.status_code == 422
    assert response.json()["fields"] == {"visited_on": ["走访日期不能晚于今天"]}


def test_the_same_visit_twice_is_a_conflict_and_is_credited_once(
    clients: dict[str, Client], world: VisitWorld
) -> None:
    assert post(clients["volunteer"], "/api/v1/visits/", payload(world.pairing.pk)).status_code == 201

    again = post(clients["volunteer"], "/api/v1/visits/", payload(world.pairing.pk))

    assert again.status_code == 409
    assert again.json()["code"] == "conflict"
    assert ServiceHours.objects.count() == 1


def test_the_visit_list_is_scoped(
    clients: dict[str, Client], personas: dict[str, Any], world: VisitWorld
) -> None:
    mine = visit_record(
        actor=actor_for_user(personas["volunteer"]),
        pairing_id=world.pairing.pk,
        visited_on=DAY,
        mode="home",
        duration_minutes=30,
        concerns=2,
    )
    other = visit_record(
        actor=actor_for_user(world.other_user),
        pairing_id=world.other_pairing.pk,
        visited_on=DAY,
        mode="home",
        duration_minutes=30,
    )

    def ids(client: Client, query: str = "") -> list[int]:
        response = client.get(f"/api/v1/visits/{query}")
        assert response.status_code == 200, response.content
        assert response.json()["count"] == len(response.json()["items"])
        return [item["id"] for item in response.json()["items"]]

    assert ids(clients["volunteer"]) == [mine.pk]
    assert ids(verified_client(world.other_user)) == [other.pk]
    assert ids(clients["township_worker"]) == [other.pk, mine.pk]
    assert ids(clients["county_a_admin"], "?with_concerns=true") == [mine.pk]
    assert ids(clients["county_a_admin"], "?region=330127100001") == [other.pk]
    assert ids(clients["county_b_admin"]) == []
    assert clients["county_b_admin"].get("/api/v1/visits/?region=330127000000").status_code == 404
    item = clients["county_a_admin"].get(f"/api/v1/visits/?pairing_id={world.pairing.pk}").json()["items"][0]
    assert (item["minor_name"], item["note"], item["mandatory_report_id"]) == (
        "张小明",
        "",
        MandatoryReport.objects.get().pk,
    )


@pytest.mark.parametrize("recorder", ["volunteer", "county_a_admin"])
@pytest.mark.parametrize(("concerns", "note"), [(0, "电话里孩子说想妈妈了"), (5, ""), (0, "")])
def test_a_recorded_visit_answers_as_the_list_shows_it(
    clients: dict[str, Client], world: VisitWorld, recorder: str, concerns: int, note: str
) -> None:
    response = post(
        clients[recorder], "/api/v1/visits/", payload(world.pairing.pk, concerns=concerns, note=note)
    )

    assert response.status_code == 201, response.content
    listed = clients[recorder].get(f"/api/v1/visits/?pairing_id={world.pairing.pk}").json()["items"]
    assert listed == [response.json()]
    assert (listed[0]["note"], listed[0]["mandatory_report_id"] is None) == (
        "****" if note else "",
        not concerns,
    )


def test_the_visit_list_decrypts_nothing_and_costs_the_same_queries_however_many(
    clients: dict[str, Client], personas: dict[str, Any], world: VisitWorld
) -> None:
    actor = actor_for_user(personas["volunteer"])

    def listed() -> tuple[int, list[str]]:
        with count_queries() as queries:
            response = clients["volunteer"].get("/api/v1/visits/")
        assert response.status_code == 200
        page = [query["sql"] for query in queries.captured_queries if 'FROM "pairings_visit"' in query["sql"]]
        return len(queries), page

    visit_record(actor=actor, pairing_id=world.pairing.pk, visited_on=DAY, mode="home", duration_minutes=30)
    few, _ = listed()
    for mode in ("phone", "school", "video"):
        visit_record(
            actor=actor,
            pairing_id=world.pairing.pk,
            visited_on=DAY,
            mode=mode,
            duration_minutes=30,
            note="好",
        )
    many, page_queries = listed()

    assert many == few
    # No encrypted column is read: not the note (shown as **** whatever it says), nor the child's ID
    # number or address, nor the volunteer's ID number, phone or health note; only the note's length.
    assert page_queries
    read = [sql.replace('LENGTH("pairings_visit"."note")', "") for sql in page_queries]
    assert not any(
        column in sql
        for sql in read
        for column in ('"note"', '"id_number"', '"address"', '"phone"', '"health_note"')
    )
    assert [item["note"] for item in clients["volunteer"].get("/api/v1/visits/").json()["items"]] == [
        "****",
        "****",
        "****",
        "",
    ]


def test_a_photo_is_uploaded_for_a_visit_without_its_exif(
    clients: dict[str, Client], world: VisitWorld, private_media: Path
) -> None:
    visit_id = post(clients["volunteer"], "/api/v1/visits/", payload(world.pairing.pk)).json()["id"]

    response = clients["volunteer"].post(
        f"/api/v1/visits/{visit_id}/photo",
        {"photo": SimpleUploadedFile("p.jpg", jpeg_with_gps(), content_type="image/jpeg")},
    )

    assert response.status_code == 200, response.content
    assert response.json()["photo_url"] == f"/visits/{visit_id}/photo"
    stored = (private_media / Visit.objects.get().photo).read_bytes()
    assert b"Exif" not in stored
    from PIL import Image

    with Image.open(io.BytesIO(stored)) as kept:
        assert len(kept.getexif()) == 0
    refused = clients["volunteer"].post(
        f"/api/v1/visits/{visit_id}/photo",
        {"photo": SimpleUploadedFile("p.jpg", b"GIF89a", content_type="image/gif")},
    )
    assert refused.status_code == 422
    assert refused.json()["fields"] == {"photo": ["请上传 JPG 或 PNG 格式的照片"]}


def test_mandatory_reports_are_listed_and_closed_with_an_outcome(
    clients: dict[str, Client], world: VisitWorld
) -> None:
    post(clients["volunteer"], "/api/v1/visits/", payload(world.pairing.pk, concerns=1))
    report = MandatoryReport.objects.get()
    client = clients["township_worker"]

    listed = client.get("/api/v1/mandatory-reports/").json()
    assert (listed["count"], listed["overdue"]) == (1, 0)
    item = listed["items"][0]
    assert (item["id"], item["state"], item["is_overdue"], item["concern_labels"]) == (
        report.pk,
        "open",
        False,
        ["疑似遭受虐待或暴力"],
    )
    assert item["deadline"] == "2026-12-01T02:00:00Z"

    missing = post(client, f"/api/v1/mandatory-reports/{report.pk}/close", {"note": "已报警"})
    assert missing.status_code == 422
    assert list(missing.json()["fields"]) == ["outcome"]
    assert MandatoryReport.objects.get().state == "open"

    closed = post(
        client, f"/api/v1/mandatory-reports/{report.pk}/close", {"outcome": "police", "note": "已报警"}
    )
    assert closed.status_code == 200
    assert (closed.json()["state"], closed.json()["outcome_label"], closed.json()["outcome_note"]) == (
        "closed",
        "已报告公安机关",
        "****",
    )
    assert (
        post(client, f"/api/v1/mandatory-reports/{report.pk}/close", {"outcome": "school"}).status_code == 409
    )
    assert client.get("/api/v1/mandatory-reports/?state=open").json()["count"] == 0


def test_overdue_reports_are_flagged(
    clients: dict[str, Client], personas: dict[str, Any], world: VisitWorld, time_machine: Any
) -> None:
    post(clients["volunteer"], "/api/v1/visits/", payload(world.pairing.pk, concerns=8))
    time_machine.move_to(TODAY + datetime.timedelta(hours=25), tick=False)

    # Signed in afresh: yesterday's session has long timed out.
    listed = verified_client(personas["county_a_admin"]).get("/api/v1/mandatory-reports/?overdue=true").json()

    assert (listed["count"], listed["overdue"], listed["items"][0]["is_overdue"]) == (1, 1, True)


def test_the_overdue_list_and_its_counts(clients: dict[str, Client], world: VisitWorld) -> None:
    response = clients["county_a_admin"].get("/api/v1/pairings/overdue")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["region_code"], body["day"], body["count"]) == ("330127000000", "2026-11-30", 2)
    assert body["by_region"] == [{"code": "330127100000", "name": "千岛湖镇", "overdue": 2}]
    assert [item["pairing_id"] for item in body["items"]] == [world.pairing.pk, world.other_pairing.pk]
    first = body["items"][0]
    assert (first["next_contact_due"], first["days_overdue"], first["contact_interval_days"]) == (
        "2026-10-31",
        30,
        30,
    )
    township = clients["township_worker"].get("/api/v1/pairings/overdue?region=330127100001").json()
    assert (township["count"], township["by_region"]) == (
        1,
        [{"code": "330127100001", "name": "青城社区", "overdue": 1}],
    )
    assert clients["county_b_admin"].get("/api/v1/pairings/overdue?region=330127000000").status_code == 404
    assert clients["county_a_admin"].get("/api/v1/pairings/overdue?region=3301x").status_code == 422


def test_authorization_matrix_of_the_visits_api(
    clients: dict[str, Client], personas: dict[str, Any], world: VisitWorld
) -> None:
    clients = {**clients, "other_volunteer": verified_client(world.other_user)}
    visit = visit_record(
        actor=actor_for_user(personas["volunteer"]),
        pairing_id=world.pairing.pk,
        visited_on=DAY - datetime.timedelta(days=1),
        mode="home",
        duration_minutes=30,
        concerns=2,
    )
    report = MandatoryReport.objects.get()
    new_visit = payload(world.pairing.pk)
    close = f"/api/v1/mandatory-reports/{report.pk}/close"
    outcome = {"outcome": "police"}
    reads = ["/api/v1/visits/", "/api/v1/mandatory-reports/", "/api/v1/pairings/overdue"]
    name = ("张小明", "张*明")

    checks = [Check("anonymous", "GET", path, 401) for path in reads]
    checks += [
        Check("anonymous", "POST", "/api/v1/visits/", 401, data=new_visit),
        Check("anonymous", "POST", close, 401, data=outcome),
    ]
    for persona in ("auditor", "system_admin"):
        checks += [Check(persona, "GET", path, 403, must_not_contain=name) for path in reads]
        checks += [
            Check(persona, "POST", "/api/v1/visits/", 403, data=new_visit),
            Check(persona, "POST", close, 403, data=outcome),
        ]
    # Volunteers: their own visits only; no report, no overdue list; someone else's pairing does not exist.
    for persona in ("volunteer", "other_volunteer", "lawyer", "counsellor"):
        checks += [
            Check(persona, "GET", "/api/v1/mandatory-reports/", 403, must_not_contain=name),
            Check(persona, "GET", "/api/v1/pairings/overdue", 403, must_not_contain=name),
            Check(persona, "POST", close, 403, data=outcome),
        ]
    checks += [
        Check("volunteer", "GET", "/api/v1/visits/", 200),
        Check("other_volunteer", "GET", "/api/v1/visits/", 200, must_not_contain=name),
        Check("lawyer", "GET", "/api/v1/visits/", 200, must_not_contain=name),
        Check("other_volunteer", "POST", "/api/v1/visits/", 404, data=new_visit),
        Check("lawyer", "POST", "/api/v1/visits/", 404, data=new_visit),
        Check("volunteer", "POST", "/api/v1/visits/", 404, data=payload(world.other_pairing.pk)),
        Check("volunteer", "POST", "/api/v1/visits/", 404, data=payload(world.pairing_b.pk)),
    ]
    for persona in ("province_admin", "county_a_admin", "township_worker"):
        checks += [Check(persona, "GET", path, 200) for path in reads]
    checks += [Check("county_b_admin", "GET", path, 200, must_not_contain=name) for path in reads]
    checks += [
        Check("county_b_admin", "POST", "/api/v1/visits/", 404, data=new_visit),
        Check("county_b_admin", "POST", close, 404, data=outcome),
        Check("county_a_admin", "POST", "/api/v1/mandatory-reports/999999/close", 404, data=outcome),
        Check("county_a_admin", "GET", close, 405),
    ]
    assert assert_authorization_matrix(clients, checks) == len(checks)

    # The photo upload (multipart) by those who may not record the visit: refused, nothing written.
    photo_path = f"/api/v1/visits/{visit.pk}/photo"
    expected = {
        "anonymous": 401,
        "auditor": 403,
        "other_volunteer": 404,
        "lawyer": 404,
        "county_b_admin": 404,
        "province_admin": 200,
    }
    for persona, status in expected.items():
        before = database_fingerprint()
        response = clients[persona].post(
            photo_path, {"photo": SimpleUploadedFile("p.jpg", jpeg_with_gps(), content_type="image/jpeg")}
        )
        assert (persona, response.status_code) == (persona, status)
        if status >= 400:
            assert database_fingerprint() == before
    assert Visit.objects.count() == 1
    assert MandatoryReport.objects.get().state == "open"
