"""The queue, accept, decline, reassign and duty-slot operations of the JSON API
(guanai.consultations.duty_api), with the authorization matrix of every operation. The clock stands still on
Monday 30 November 2026 at 10:00 (a morning part)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from guanai.consultations.models import Consultation, DutySlot
from guanai.consultations.routing import consultation_route
from guanai.consultations.tests.factories import ConsultationFactory, make_professional, on_duty_all_week
from guanai.consultations.vocabulary import Kind, State, Topic
from guanai.core.testing import COUNTY_A, Check, assert_authorization_matrix, verified_client
from guanai.volunteers.models import Volunteer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

SECRETS = ("小林", "13900001111", "1390000", "考试压力", "睡不着")
TOWNSHIP_A = "330127100000"


@dataclass
class Desk:
    counsellor: Volunteer
    lawyer: Volunteer
    ordinary: Consultation
    crisis: Consultation


def routed(**fields: Any) -> Consultation:
    consultation: Consultation = ConsultationFactory.create(**fields)
    consultation_route(consultation=consultation)
    consultation.refresh_from_db()
    return consultation


@pytest.fixture
def desk(persona_professionals: dict[str, Volunteer]) -> Desk:
    counsellor = persona_professionals["counsellor"]
    lawyer = persona_professionals["lawyer"]
    on_duty_all_week(counsellor, kind=Kind.PSYCHOLOGICAL)
    on_duty_all_week(lawyer, kind=Kind.LEGAL)
    return Desk(
        counsellor=counsellor,
        lawyer=lawyer,
        ordinary=routed(),
        crisis=routed(topic=Topic.SELF_HARM, is_urgent=True, crisis_signals=["suicide"]),
    )


def post(client: Client, path: str, data: dict[str, Any]) -> Any:
    return client.post(path, data, content_type="application/json")


def test_the_queue_lists_metadata_urgent_first(clients: dict[str, Client], desk: Desk) -> None:
    response = clients["counsellor"].get("/api/v1/consultations/queue")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["count"], body["urgent"]) == (2, 1)
    assert body["items"][0] == {
        "id": desk.crisis.pk,
        "reference": desk.crisis.reference,
        "kind": "psychological",
        "kind_label": "心理咨询",
        "topic": "self_harm",
        "topic_label": "自伤或轻生念头",
        "requester": "self",
        "requester_label": "本人",
        "region_code": "330127100001",
        "region_name": "青城社区",
        "is_urgent": True,
        "escalation_level": 0,
        "created_at": "2026-11-30T02:00:00Z",
        "waiting_minutes": 0,
        "accept_due_at": "2026-11-30T02:10:00Z",
        "is_assigned_to_me": False,
    }
    assert body["items"][1]["id"] == desk.ordinary.pk
    assert body["items"][1]["is_assigned_to_me"] is True
    for secret in SECRETS:
        assert secret not in response.content.decode()


def test_accepting_needs_the_declaration(clients: dict[str, Client], desk: Desk) -> None:
    path = f"/api/v1/consultations/{desk.ordinary.pk}/accept"

    refused = post(clients["counsellor"], path, {})
    assert refused.status_code == 422
    assert refused.json() == {
        "code": "validation_failed",
        "message": "提交的内容有误，请检查后重试",
        "fields": {"declares_no_conflict": ["请确认与求助人不存在利益冲突"]},
    }

    accepted = post(clients["counsellor"], path, {"declares_no_conflict": True})
    assert accepted.status_code == 200
    body = accepted.json()
    assert (body["state"], body["assigned_to_id"], body["accepted_at"]) == (
        "accepted",
        desk.counsellor.pk,
        "2026-11-30T02:00:00Z",
    )
    for secret in SECRETS:
        assert secret not in accepted.content.decode()


def test_the_first_accept_wins_and_the_second_gets_409(clients: dict[str, Client], desk: Desk) -> None:
    other = make_professional(username="c-other", kind=Kind.PSYCHOLOGICAL)
    on_duty_all_week(other, kind=Kind.PSYCHOLOGICAL)
    path = f"/api/v1/consultations/{desk.crisis.pk}/accept"

    assert post(verified_client(other.user), path, {"declares_no_conflict": True}).status_code == 200
    second = post(clients["counsellor"], path, {"declares_no_conflict": True})

    assert second.status_code == 409
    assert second.json() == {
        "code": "consultation_taken",
        "message": "这件求助已由其他志愿者受理",
        "fields": {},
    }


def test_declining_and_reassigning(clients: dict[str, Client], desk: Desk) -> None:
    other = make_professional(username="c-other", kind=Kind.PSYCHOLOGICAL)
    on_duty_all_week(other, kind=Kind.PSYCHOLOGICAL)

    declined = post(
        clients["counsellor"], f"/api/v1/consultations/{desk.ordinary.pk}/decline", {"reason": "unavailable"}
    )
    assert declined.json() == {"id": desk.ordinary.pk, "declined": True}
    desk.ordinary.refresh_from_db()
    assert desk.ordinary.assigned_to == other

    bad = post(clients["counsellor"], f"/api/v1/consultations/{desk.crisis.pk}/decline", {"reason": "tired"})
    assert bad.status_code == 422

    # The one who declined cannot be given it back.
    path = f"/api/v1/consultations/{desk.ordinary.pk}/reassign"
    refused = post(clients["county_a_admin"], path, {"volunteer_id": desk.counsellor.pk, "reason": "调整"})
    assert refused.status_code == 422
    assert list(refused.json()["fields"]) == ["volunteer_id"]

    third = make_professional(username="c-third", kind=Kind.PSYCHOLOGICAL)
    on_duty_all_week(third, kind=Kind.PSYCHOLOGICAL)
    reassigned = post(clients["county_a_admin"], path, {"volunteer_id": third.pk, "reason": "均衡工作量"})
    assert reassigned.status_code == 200
    assert (reassigned.json()["assigned_to_id"], reassigned.json()["state"]) == (third.pk, State.WAITING)


def test_duty_slots_are_read_replaced_and_listed_on_duty(clients: dict[str, Client], desk: Desk) -> None:
    path = f"/api/v1/duty-slots/{desk.counsellor.pk}"
    replaced = clients["county_a_admin"].put(
        path,
        {
            "kind": "psychological",
            "region": TOWNSHIP_A,
            "slots": [{"weekday": 0, "part": 0}, {"weekday": 6, "part": 3}],
        },
        content_type="application/json",
    )

    assert replaced.status_code == 200, replaced.content
    assert [(row["weekday"], row["part"], row["region_code"]) for row in replaced.json()] == [
        (0, 0, TOWNSHIP_A),
        (6, 3, TOWNSHIP_A),
    ]
    assert replaced.json()[0] == {
        "id": replaced.json()[0]["id"],
        "volunteer_id": desk.counsellor.pk,
        "volunteer_name": desk.counsellor.name,
        "kind": "psychological",
        "kind_label": "心理咨询",
        "weekday": 0,
        "part": 0,
        "part_label": "上午 8:00–12:00",
        "region_code": TOWNSHIP_A,
        "region_name": "千岛湖镇",
        "is_lead": False,
    }

    mine = clients["counsellor"].get("/api/v1/duty-slots").json()
    assert mine["count"] == 2
    supervised = clients["county_a_admin"].get("/api/v1/duty-slots?kind=legal").json()
    assert supervised["count"] == 28
    assert clients["county_b_admin"].get("/api/v1/duty-slots").json() == {"count": 0, "items": []}

    on_duty = clients["county_a_admin"].get("/api/v1/duty-slots/on-duty").json()
    assert {(row["volunteer_id"], row["kind"]) for row in on_duty} == {
        (desk.counsellor.pk, "psychological"),
        (desk.lawyer.pk, "legal"),
    }
    on_duty = (
        clients["county_a_admin"].get(f"/api/v1/duty-slots/on-duty?region={TOWNSHIP_A}&kind=legal").json()
    )
    assert [row["volunteer_id"] for row in on_duty] == [desk.lawyer.pk]
    assert clients["county_a_admin"].get("/api/v1/duty-slots/on-duty?region=330182000000").status_code == 404

    lead = clients["county_a_admin"].put(
        path,
        {"kind": "psychological", "region": COUNTY_A, "slots": [{"weekday": 0, "part": 0, "is_lead": True}]},
        content_type="application/json",
    )
    assert lead.status_code == 422
    assert lead.json()["fields"] == {"is_lead": ["只有省级管理员可以指定值班负责人"]}
    out_of_range = clients["county_a_admin"].put(
        path,
        {"kind": "psychological", "region": COUNTY_A, "slots": [{"weekday": 7, "part": 0}]},
        content_type="application/json",
    )
    assert out_of_range.status_code == 422


def test_authorization_matrix_of_the_operations(clients: dict[str, Client], desk: Desk) -> None:
    queue = "/api/v1/consultations/queue"
    accept = f"/api/v1/consultations/{desk.crisis.pk}/accept"
    decline = f"/api/v1/consultations/{desk.ordinary.pk}/decline"
    reassign = f"/api/v1/consultations/{desk.ordinary.pk}/reassign"
    slots = "/api/v1/duty-slots"
    on_duty = "/api/v1/duty-slots/on-duty"
    replace = f"/api/v1/duty-slots/{desk.counsellor.pk}"
    yes = {"declares_no_conflict": True}
    why = {"reason": "conflict"}
    give = {"volunteer_id": desk.counsellor.pk, "reason": "调整"}
    grid = {"kind": "psychological", "region": COUNTY_A, "slots": [{"weekday": 0, "part": 0}]}

    def writes(
        persona: str, status: int, *, answer: int | None = None, supervise: int | None = None
    ) -> list[Check]:
        return [
            Check(persona, "POST", accept, answer or status, data=yes),
            Check(persona, "POST", decline, answer or status, data=why),
            Check(persona, "POST", reassign, supervise or status, data=give),
            Check(persona, "PUT", replace, supervise or status, data=grid),
        ]

    checks = [Check("anonymous", "GET", path, 401) for path in (queue, slots, on_duty)]
    checks += writes("anonymous", 401)
    for persona in ("volunteer", "township_worker", "auditor", "system_admin"):
        checks += [
            Check(persona, "GET", path, 403, must_not_contain=SECRETS) for path in (queue, slots, on_duty)
        ]
        checks += writes(persona, 403)
    for persona in ("lawyer", "counsellor"):
        checks += [
            Check(persona, "GET", queue, 200, must_not_contain=SECRETS),
            Check(persona, "GET", slots, 200),
            Check(persona, "GET", on_duty, 403),
            Check(persona, "POST", reassign, 403, data=give),
            Check(persona, "PUT", replace, 403, data=grid),
        ]
    checks += [
        Check("lawyer", "POST", accept, 404, data=yes),
        Check("lawyer", "POST", decline, 404, data=why),
        Check("counsellor", "POST", "/api/v1/consultations/999999/accept", 404, data=yes),
    ]
    for persona in ("county_a_admin", "province_admin", "county_b_admin"):
        checks += [
            Check(persona, "GET", queue, 403),
            Check(persona, "GET", slots, 200),
            Check(persona, "GET", on_duty, 200),
            Check(persona, "POST", accept, 403, data=yes),
            Check(persona, "POST", decline, 403, data=why),
        ]
    checks += [
        Check("county_b_admin", "POST", reassign, 404, data=give),
        Check("county_b_admin", "PUT", replace, 404, data=grid),
        Check("county_a_admin", "POST", "/api/v1/consultations/999999/reassign", 404, data=give),
        Check("county_a_admin", "PUT", "/api/v1/duty-slots/999999", 404, data=grid),
        # Already assigned to the counsellor: nothing to do, refused.
        Check("county_a_admin", "POST", reassign, 422, data=give),
    ]
    assert assert_authorization_matrix(clients, checks) == len(checks)
    assert DutySlot.objects.filter(volunteer=desk.counsellor).count() == 28
