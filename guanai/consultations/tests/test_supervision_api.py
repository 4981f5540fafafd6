"""The supervisors' JSON API: GET /api/v1/consultations/statistics and /api/v1/consultations/supervision."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from guanai.consultations.tests.test_statistics import at, make, minutes
from guanai.consultations.tests.test_supervision_views import PRIVATE, Desk, build_desk
from guanai.consultations.vocabulary import Topic
from guanai.core.testing import COUNTY_A, Check, assert_authorization_matrix, count_queries
from guanai.minors.tests.factories import VILLAGE_A
from guanai.volunteers.models import Volunteer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

STATISTICS = "/api/v1/consultations/statistics"
SUPERVISION = "/api/v1/consultations/supervision"


@pytest.fixture
def desk(persona_professionals: dict[str, Volunteer]) -> Desk:
    return build_desk(persona_professionals)


def test_statistics_of_the_county(clients: dict[str, Client], desk: Desk) -> None:
    response = clients["county_a_admin"].get(STATISTICS)

    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    assert (body["region_code"], body["region_name"], body["date_from"], body["date_to"]) == (
        COUNTY_A,
        "淳安县",
        "2026-11-01",
        "2026-11-30",
    )
    assert (body["accept_limit_minutes"], body["reply_limit_hours"]) == (10, 24)
    overall = body["overall"]
    assert (overall["total"], overall["urgent"]) == (2, 1)
    assert overall["accept_minutes"] == {"count": 1, "median": 30.0, "p90": 30.0}
    assert overall["first_reply_minutes"] == {"count": 1, "median": 45.0, "p90": 45.0}
    assert overall["urgent_accept_minutes"] == {"count": 0, "median": None, "p90": None}
    assert (overall["crisis_decided"], overall["crisis_on_time"], overall["crisis_compliance"]) == (1, 0, 0.0)
    assert (overall["reply_measured"], overall["reply_compliance"]) == (1, 1.0)
    assert (overall["ratings"], overall["average_rating"], overall["satisfied_share"]) == (1, 5.0, 1.0)
    assert body["open_now"] == {"waiting": 1, "accepted": 0, "unrouted": 0, "urgent_waiting": 1, "overdue": 1}
    assert [(row["kind"], row["figures"]["total"]) for row in body["by_kind"]] == [
        ("legal", 0),
        ("psychological", 2),
    ]
    assert [row["topic"] for row in body["by_topic"]][:3] == [
        "school_bullying",
        "guardianship",
        "domestic_violence",
    ]
    assert [
        (row["code"], row["name"], row["figures"]["total"], row["open_now"]["waiting"])
        for row in body["by_region"]
    ] == [("330127100000", "千岛湖镇", 2, 1)]


def test_statistics_of_a_region_and_period_asked_for(clients: dict[str, Client], desk: Desk) -> None:
    response = clients["province_admin"].get(
        STATISTICS, {"region": "3301", "date_from": "2026-11-15", "date_to": "2026-11-30"}
    )
    body = response.json()
    assert response.status_code == 200
    assert [(row["name"], row["figures"]["total"]) for row in body["by_region"]] == [
        ("淳安县", 1),
        ("建德市", 1),
    ]

    inverted = clients["province_admin"].get(STATISTICS, {"date_from": "2026-11-15", "date_to": "2026-11-01"})
    assert inverted.status_code == 422
    assert inverted.json()["fields"] == {"date_to": ["结束日期不能早于开始日期"]}
    malformed = clients["province_admin"].get(STATISTICS, {"region": "33012"})
    assert (malformed.status_code, malformed.json()["code"]) == (422, "validation_failed")
    outside = clients["county_b_admin"].get(STATISTICS, {"region": COUNTY_A})
    assert (outside.status_code, outside.json()["code"]) == (404, "not_found")


def test_the_supervision_list_gives_metadata(clients: dict[str, Client], desk: Desk) -> None:
    response = clients["county_a_admin"].get(SUPERVISION)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    first = body["items"][0]
    assert first == {
        "id": desk.urgent.pk,
        "reference": desk.urgent.reference,
        "kind": "psychological",
        "kind_label": "心理咨询",
        "topic": "self_harm",
        "topic_label": "自伤或轻生念头",
        "requester": "self",
        "region_code": "330127100001",
        "region_name": "青城社区",
        "created_at": "2026-11-30T01:40:00Z",
        "state": "waiting",
        "state_label": "待受理",
        "is_urgent": True,
        "escalation_level": 0,
        "escalation_label": "本地值班",
        "assigned_to_name": None,
        "assigned_at": None,
        "accepted_at": None,
        "first_reply_at": None,
        "closed_at": None,
        "accept_due_at": "2026-11-30T01:50:00Z",
        "reply_due_at": None,
        "accept_breached": True,
        "reply_breached": False,
        "is_overdue": True,
        "outcome": "",
        "rating": None,
    }
    assert body["items"][1]["assigned_to_name"] == "专业p-counsellor"


def test_the_supervision_list_filters_and_pages(clients: dict[str, Client], desk: Desk) -> None:
    client = clients["province_admin"]
    for day in range(1, 6):
        make(at(11, day, 8), region_id=VILLAGE_A, topic=Topic.ONLINE_HARM)

    def ids(**query: Any) -> tuple[int, list[int]]:
        body = client.get(SUPERVISION, query).json()
        return body["count"], [item["id"] for item in body["items"]]

    assert ids(urgent="true") == (1, [desk.urgent.pk])
    assert ids(state="closed") == (1, [desk.answered.pk])
    assert ids(kind="legal", limit=2, offset=1)[0] == 5
    assert len(ids(kind="legal", limit=2, offset=4)[1]) == 1
    assert ids(region="330182", overdue="false") == (1, [desk.county_b.pk])
    assert ids(breached="true", date_from="2026-11-30", date_to="2026-11-30") == (1, [desk.urgent.pk])
    assert client.get(SUPERVISION, {"state": "lost"}).status_code == 422
    assert client.get(SUPERVISION, {"limit": "500"}).status_code == 422


def test_the_list_takes_as_many_queries_for_many_requests(clients: dict[str, Client], desk: Desk) -> None:
    client = clients["province_admin"]
    with count_queries() as few:
        assert client.get(SUPERVISION).status_code == 200
    for day in range(1, 9):
        created = at(11, day, 8)
        make(created, region_id=VILLAGE_A, topic=Topic.ONLINE_HARM, reply_due_at=created + minutes(60))
    with count_queries() as many:
        assert len(client.get(SUPERVISION).json()["items"]) == 11
    assert len(many) == len(few)


def test_authorization_matrix_of_the_supervision_api(clients: dict[str, Client], desk: Desk) -> None:
    reads = [STATISTICS, SUPERVISION]
    checks = [Check("anonymous", "GET", path, 401) for path in reads]
    for persona in ("volunteer", "lawyer", "counsellor", "township_worker", "auditor", "system_admin"):
        checks += [Check(persona, "GET", path, 403, must_not_contain=PRIVATE) for path in reads]
    for persona in ("county_a_admin", "province_admin"):
        checks += [Check(persona, "GET", path, 200, must_not_contain=PRIVATE) for path in reads]
        checks += [Check(persona, "POST", path, 405, data={}) for path in reads]
    county_a = (desk.urgent.reference, desk.answered.reference, *PRIVATE)
    checks += [Check("county_b_admin", "GET", path, 200, must_not_contain=county_a) for path in reads]
    checks += [
        Check("county_b_admin", "GET", f"{path}?region={COUNTY_A}", 404, must_not_contain=county_a)
        for path in reads
    ]

    assert assert_authorization_matrix(clients, checks) == len(checks)
