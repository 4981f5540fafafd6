"""The pairings' API: proposals and their acceptance, suggestions, pairings and their lifecycle,
conflicts; masking; the authorization matrix of every operation."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from guanai.core.testing import Check, assert_authorization_matrix, count_queries
from guanai.minors.models import Consent
from guanai.pairings.models import ConflictDeclaration, Pairing, ProposalRun, ProposedPair
from guanai.pairings.services import pairing_create, proposal_run_create
from guanai.pairings.tests.pairing_world import (
    TODAY,
    TOWNSHIP_A,
    World,
    actor,
    child,
    elder,
    paired_count,
)
from guanai.pairings.vocabulary import PairingState

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def post(client: Client, path: str, data: Any = None) -> Any:
    kwargs: dict[str, Any] = {}
    if data is not None:
        kwargs = {"data": json.dumps(data), "content_type": "application/json"}
    return client.post(path, **kwargs)


# --- Proposals ----------------------------------------------------------------------------------------


def test_a_run_is_created_previewed_and_accepted(clients: dict[str, Client], world: World) -> None:
    client = clients["township_worker"]

    created = post(client, "/api/v1/pairings/proposals", {"region": "330127100"})

    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["region_code"], body["region_name"]) == (TOWNSHIP_A, "千岛湖镇")
    assert body["summary"]["proposed"] == 2
    assert body["summary"]["total_cost"] == -180
    assert body["unassigned"] == []
    proposals = {item["minor"]["name"]: item for item in body["proposals"]}
    zhang = proposals["张三明"]  # the township admin may unmask: names in full
    assert (zhang["volunteer"]["name"], zhang["cost"], zhang["accepted_at"], zhang["pairing_id"]) == (
        "王建国",
        -90,
        None,
        None,
    )
    assert zhang["explanation"] == [
        "同村",
        "专长匹配：教学辅导",
        "异性别（10 岁及以上宜同性别）",
        "当前无结对",
    ]
    assert zhang["minor"] == {
        "id": world.zhang.pk,
        "name": "张三明",
        "gender": "male",
        "age": 12,
        "region_code": "330127100219",
        "region_name": "富城村村民委员会",
        "risk_level": "low",
    }
    assert client.get(f"/api/v1/pairings/proposals/{body['id']}").json() == body

    accepted = post(client, f"/api/v1/pairings/proposals/{body['id']}/accept", {"pair_ids": [zhang["id"]]})

    assert accepted.status_code == 200, accepted.content
    result = accepted.json()
    assert result["refused"] == []
    [pairing] = result["accepted"]
    assert (pairing["state"], pairing["state_label"], pairing["started_on"]) == (
        "active",
        "结对中",
        "2026-11-30",
    )
    assert (pairing["next_contact_due"], pairing["proposed_pair_id"]) == ("2026-12-30", zhang["id"])
    assert pairing["volunteer"]["paired_count"] == 1
    preview = client.get(f"/api/v1/pairings/proposals/{body['id']}").json()
    accepted_now = {item["minor"]["id"]: item["pairing_id"] for item in preview["proposals"]}
    assert accepted_now == {world.zhang.pk: pairing["id"], world.li.pk: None}

    # No body at all: every proposal not yet accepted.
    rest = client.post(f"/api/v1/pairings/proposals/{body['id']}/accept", content_type="application/json")
    assert rest.status_code == 200, rest.content
    assert [item["minor"]["id"] for item in rest.json()["accepted"]] == [world.li.pk]


def test_accepting_reports_each_stale_proposal_with_its_reasons(
    clients: dict[str, Client], world: World
) -> None:
    client = clients["county_a_admin"]
    run = post(client, "/api/v1/pairings/proposals", {"region": "330127"}).json()
    Consent.objects.filter(minor=world.li).update(withdrawn_on=TODAY)

    result = post(client, f"/api/v1/pairings/proposals/{run['id']}/accept", {"activate": False}).json()

    assert [(p["minor"]["id"], p["state"]) for p in result["accepted"]] == [(world.zhang.pk, "proposed")]
    li_pair = ProposedPair.objects.get(run_id=run["id"], minor=world.li)
    assert result["refused"] == [
        {
            "pair_id": li_pair.pk,
            "minor_id": world.li.pk,
            "volunteer_id": world.counsellor.pk,
            "reasons": ["没有监护人对结对关爱的同意记录"],
        }
    ]


def test_a_bad_region_is_a_field_error(clients: dict[str, Client], world: World) -> None:
    response = post(clients["county_a_admin"], "/api/v1/pairings/proposals", {"region": "330127100219"})
    assert response.status_code == 422
    assert response.json()["fields"] == {"region": ["请选择市、县（市、区）或乡镇（街道）"]}
    assert ProposalRun.objects.count() == 0


def test_suggestions_for_a_child(clients: dict[str, Client], world: World) -> None:
    response = clients["county_a_admin"].get(f"/api/v1/minors/{world.zhang.pk}/volunteer-suggestions")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["minor"]["id"], body["has_pairing_consent"], body["open_pairing_id"]) == (
        world.zhang.pk,
        True,
        None,
    )
    assert [(s["volunteer"]["name"], s["cost"], s["is_former_volunteer"]) for s in body["suggestions"]] == [
        ("王建国", -90, False),
        ("陈秀英", 30, False),  # same township 80, same gender −50
    ]
    assert body["suggestions"][0]["explanation"] == [
        "同村",
        "专长匹配：教学辅导",
        "异性别（10 岁及以上宜同性别）",
        "当前无结对",
    ]


# --- Pairings -----------------------------------------------------------------------------------------


def test_a_pairing_is_created_started_and_closed_with_a_rematch(
    clients: dict[str, Client], world: World
) -> None:
    client = clients["county_a_admin"]

    created = post(
        client,
        "/api/v1/pairings/",
        {"minor_id": world.zhang.pk, "volunteer_id": world.teacher.pk, "activate": False},
    )

    assert created.status_code == 201, created.content
    pairing = created.json()
    assert (pairing["state"], pairing["started_on"], pairing["next_contact_due"]) == ("proposed", None, None)
    again = post(
        client, "/api/v1/pairings/", {"minor_id": world.zhang.pk, "volunteer_id": world.counsellor.pk}
    )
    assert again.status_code == 409
    assert again.json() == {
        "code": "pairing_refused",
        "message": "不能结对：该儿童已有未解除的结对",
        "fields": {"__all__": ["该儿童已有未解除的结对"]},
    }

    started = client.post(f"/api/v1/pairings/{pairing['id']}/activate")
    assert started.status_code == 200, started.content
    assert (started.json()["state"], started.json()["next_contact_due"]) == ("active", "2026-12-30")
    assert client.post(f"/api/v1/pairings/{pairing['id']}/activate").status_code == 409

    closed = post(
        client, f"/api/v1/pairings/{pairing['id']}/close", {"reason": "volunteer_unable", "note": "生病"}
    )

    assert closed.status_code == 200, closed.content
    body = closed.json()
    assert (body["pairing"]["state"], body["pairing"]["close_reason_label"]) == ("closed", "志愿者无法继续")
    assert [s["volunteer"]["id"] for s in body["rematch"]] == [world.counsellor.pk]
    assert paired_count(world.teacher) == 0
    assert client.get(f"/api/v1/pairings/{pairing['id']}").json()["close_note"] == "生病"


@pytest.mark.parametrize(
    ("data", "status", "field"),
    [
        ({"reason": "finished"}, 422, "reason"),
        ({"reason": "other"}, 422, "note"),
        ({"reason": "other", "note": "x" * 301}, 422, "note"),
    ],
)
def test_closing_needs_a_known_reason(
    clients: dict[str, Client],
    personas: dict[str, Any],
    world: World,
    data: dict[str, Any],
    status: int,
    field: str,
) -> None:
    pairing = pairing_create(
        actor=actor(personas, "county_a_admin"), minor_id=world.zhang.pk, volunteer_id=world.teacher.pk
    )
    response = post(clients["county_a_admin"], f"/api/v1/pairings/{pairing.pk}/close", data)
    assert response.status_code == status
    assert list(response.json()["fields"]) == [field]
    assert Pairing.objects.get(pk=pairing.pk).state == PairingState.ACTIVE


def test_conflicts_are_declared_once(clients: dict[str, Client], world: World) -> None:
    client = clients["county_a_admin"]
    data = {"minor_id": world.zhang.pk, "volunteer_id": world.teacher.pk, "reason": "亲属关系"}

    created = post(client, "/api/v1/pairings/conflicts", data)

    assert created.status_code == 201, created.content
    declaration = ConflictDeclaration.objects.get()
    assert created.json()["id"] == declaration.pk
    assert created.json()["reason"] == "亲属关系"
    assert post(client, "/api/v1/pairings/conflicts", data).status_code == 409
    refused = post(
        client, "/api/v1/pairings/", {"minor_id": world.zhang.pk, "volunteer_id": world.teacher.pk}
    )
    assert refused.json()["fields"] == {"__all__": ["已申报该志愿者与该儿童存在利益冲突"]}


def test_the_list_filters_and_masks_by_role(
    clients: dict[str, Client], personas: dict[str, Any], world: World, liaison: Client
) -> None:
    county_a = actor(personas, "county_a_admin")
    zhang = pairing_create(actor=county_a, minor_id=world.zhang.pk, volunteer_id=world.teacher.pk)
    li = pairing_create(
        actor=county_a, minor_id=world.li.pk, volunteer_id=world.counsellor.pk, activate=False
    )
    wang = pairing_create(
        actor=actor(personas, "county_b_admin"), minor_id=world.wang.pk, volunteer_id=world.jiande.pk
    )

    def ids(client: Client, query: str = "") -> list[int]:
        response = client.get(f"/api/v1/pairings/{query}")
        assert response.status_code == 200, response.content
        return [item["id"] for item in response.json()["items"]]

    admin = clients["county_a_admin"]
    assert ids(admin) == [li.pk, zhang.pk]
    assert ids(clients["county_b_admin"]) == [wang.pk]
    assert sorted(ids(clients["province_admin"])) == sorted([zhang.pk, li.pk, wang.pk])
    assert ids(admin, "?state=proposed") == [li.pk]
    assert ids(admin, "?region=330127100001") == [li.pk]
    assert ids(admin, f"?volunteer={world.teacher.pk}") == [zhang.pk]
    assert ids(admin, f"?minor={world.li.pk}") == [li.pk]
    assert admin.get("/api/v1/pairings/?region=330182").status_code == 404
    assert admin.get("/api/v1/pairings/?state=ended").status_code == 422
    # The village liaison of 富城村 sees its own child's pairing, the name masked.
    items = liaison.get("/api/v1/pairings/").json()["items"]
    assert [(item["id"], item["minor"]["name"]) for item in items] == [(zhang.pk, "张*明")]
    assert liaison.get(f"/api/v1/pairings/{zhang.pk}").json()["minor"]["name"] == "张*明"
    assert liaison.get(f"/api/v1/pairings/{li.pk}").status_code == 404


def test_the_list_takes_a_constant_number_of_queries(
    clients: dict[str, Client], personas: dict[str, Any], world: World
) -> None:
    county_a = actor(personas, "county_a_admin")
    client = clients["county_a_admin"]
    pairing_create(actor=county_a, minor_id=world.zhang.pk, volunteer_id=world.teacher.pk)
    client.get("/api/v1/pairings/")
    with count_queries() as few:
        client.get("/api/v1/pairings/")
    for sequence in range(40, 46):
        minor = child(f"儿童{sequence}", sequence=sequence)
        volunteer = elder(f"五老{sequence}", sequence=sequence)
        pairing_create(actor=county_a, minor_id=minor.pk, volunteer_id=volunteer.pk)
    with count_queries() as many:
        response = client.get("/api/v1/pairings/")
    assert response.json()["count"] == 7
    assert len(many) == len(few)


# --- Who may call what -------------------------------------------------------------------------------


def test_authorization_matrix(
    clients: dict[str, Client], personas: dict[str, Any], world: World, liaison: Client
) -> None:
    county_a = actor(personas, "county_a_admin")
    run = proposal_run_create(actor=county_a, region_code="330127")
    active = pairing_create(actor=county_a, minor_id=world.zhang.pk, volunteer_id=world.teacher.pk)
    proposed = pairing_create(
        actor=county_a, minor_id=world.li.pk, volunteer_id=world.counsellor.pk, activate=False
    )
    other = child("冯另一", sequence=88)
    clients = {**clients, "liaison": liaison}
    operations: list[tuple[str, str, dict[str, Any] | None]] = [
        ("POST", "/api/v1/pairings/proposals", {"region": "330127"}),
        ("GET", f"/api/v1/pairings/proposals/{run.pk}", None),
        ("POST", f"/api/v1/pairings/proposals/{run.pk}/accept", {"pair_ids": None}),
        ("GET", f"/api/v1/minors/{other.pk}/volunteer-suggestions", None),
        ("GET", "/api/v1/pairings/", None),
        ("POST", "/api/v1/pairings/", {"minor_id": other.pk, "volunteer_id": world.counsellor.pk}),
        ("GET", f"/api/v1/pairings/{active.pk}", None),
        ("POST", f"/api/v1/pairings/{proposed.pk}/activate", None),
        ("POST", f"/api/v1/pairings/{active.pk}/close", {"reason": "goal_reached"}),
        (
            "POST",
            "/api/v1/pairings/conflicts",
            {"minor_id": other.pk, "volunteer_id": world.teacher.pk, "reason": "x"},
        ),
    ]
    manage = {0, 2, 5, 7, 8, 9}
    checks: list[Check] = []
    for index, (method, path, data) in enumerate(operations):
        checks.append(Check("anonymous", method, path, 401, data=data))
        for persona in ("volunteer", "lawyer", "counsellor", "auditor", "system_admin"):
            checks.append(Check(persona, method, path, 403, data=data, must_not_contain=("张三明", "王建国")))
        # Another county's administrator: county A's records do not exist for them.
        if path != "/api/v1/pairings/":
            checks.append(Check("county_b_admin", method, path, 404, data=data, must_not_contain=("张三明",)))
        if index in manage:  # the village liaison reads but does not manage
            checks.append(Check("liaison", method, path, 403, data=data))
    checks += [
        Check("county_b_admin", "GET", "/api/v1/pairings/", 200, must_not_contain=("张三明", "李四妹")),
        Check("county_b_admin", "GET", "/api/v1/pairings/?region=330127", 404),
        Check("township_worker", "POST", "/api/v1/pairings/proposals", 404, data={"region": "330127"}),
        Check("liaison", "GET", f"/api/v1/pairings/proposals/{run.pk}", 404),  # a county's run
        Check("liaison", "GET", f"/api/v1/pairings/{proposed.pk}", 404),  # a child of another village
        Check("liaison", "GET", f"/api/v1/pairings/{active.pk}", 200, must_not_contain=("张三明",)),
        Check("county_a_admin", "GET", "/api/v1/pairings/999999", 404),
        Check("county_a_admin", "GET", "/api/v1/pairings/proposals/999999", 404),
    ]
    # Allowed, last (they change the records the denials above were checked against).
    checks += [
        Check("township_worker", "GET", f"/api/v1/minors/{other.pk}/volunteer-suggestions", 200),
        Check("township_worker", "GET", f"/api/v1/pairings/{active.pk}", 200),
        Check("county_a_admin", "GET", f"/api/v1/pairings/proposals/{run.pk}", 200),
        Check("county_a_admin", "POST", f"/api/v1/pairings/{proposed.pk}/activate", 200),
        Check(
            "county_a_admin",
            "POST",
            f"/api/v1/pairings/{active.pk}/close",
            200,
            data={"reason": "goal_reached"},
        ),
        Check("township_worker", "POST", "/api/v1/pairings/proposals", 201, data={"region": "330127100"}),
    ]
    assert assert_authorization_matrix(clients, checks) == len(checks)
