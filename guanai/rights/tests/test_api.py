"""The JSON face of data-subject requests: the same rules as the pages, errors as {code, message, fields}."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client

from guanai.minors.models import Minor
from guanai.pairings.tests.factories import PairingFactory
from guanai.rights.models import DataSubjectRequest
from guanai.rights.tests.conftest import Family
from guanai.rights.tests.factories import DataSubjectRequestFactory
from guanai.rights.vocabulary import Status

pytestmark = pytest.mark.django_db

REQUEST = {
    "kind": "correction",
    "requester_role": "guardian",
    "requester_name": "张建华",
    "requester_contact": "13957154321",
    "verification": "guardian_on_record",
    "description": "孩子的年级应为九年级",
    "received_on": "2026-11-16",
}


def _post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, data=body, content_type="application/json")


def test_registering_through_the_api(family: Family, clients: dict[str, Client]) -> None:
    response = _post(clients["county_a_admin"], f"/api/v1/minors/{family.zhang.pk}/subject-requests", REQUEST)

    assert response.status_code == 201
    body = response.json()
    assert body["id"] == DataSubjectRequest.objects.get().pk
    assert (body["kind"], body["due_on"], body["is_overdue"], body["status"]) == (
        "correction",
        "2026-12-01",
        False,
        "received",
    )
    assert (body["requester_name"], body["requester_contact"]) == ("张建华", "139****4321")
    assert body["description"] == "孩子的年级应为九年级"


def test_the_overdue_filter(family: Family, clients: dict[str, Client]) -> None:
    late = DataSubjectRequestFactory.create(
        minor=family.zhang, received_on=datetime.date(2026, 11, 15), due_on=datetime.date(2026, 11, 30)
    )
    DataSubjectRequestFactory.create(
        minor=family.zhang, received_on=datetime.date(2026, 11, 16), due_on=datetime.date(2026, 12, 1)
    )

    body = clients["county_a_admin"].get("/api/v1/subject-requests?overdue=true").json()

    assert body["count"] == 1
    assert [(item["id"], item["is_overdue"]) for item in body["items"]] == [(late.pk, True)]


def test_another_countys_admin_gets_the_error_shape_of_not_found(
    family: Family, clients: dict[str, Client]
) -> None:
    subject_request = DataSubjectRequestFactory.create(minor=family.zhang)

    response = _post(
        clients["county_b_admin"], f"/api/v1/subject-requests/{subject_request.pk}/refuse", {"reasons": "无"}
    )

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert DataSubjectRequest.objects.get().status == Status.RECEIVED


def test_a_blocked_erasure_answers_409_with_its_reason(family: Family, clients: dict[str, Client]) -> None:
    PairingFactory.create(minor=family.zhang)
    subject_request = DataSubjectRequestFactory.create(minor=family.zhang, kind="deletion")

    response = _post(
        clients["county_a_admin"],
        f"/api/v1/subject-requests/{subject_request.pk}/erase",
        {"confirmation": str(family.zhang.pk)},
    )

    assert response.status_code == 409
    assert response.json() == {
        "code": "erasure_blocked",
        "message": "该儿童尚有未解除的结对，志愿者仍在关爱服务中；请先解除结对。",
        "fields": {},
    }
    assert Minor.objects.get(pk=family.zhang.pk).name == "张三明"


def test_refusing_through_the_api(family: Family, clients: dict[str, Client]) -> None:
    subject_request = DataSubjectRequestFactory.create(minor=family.zhang)

    response = _post(
        clients["county_a_admin"],
        f"/api/v1/subject-requests/{subject_request.pk}/refuse",
        {"reasons": "申请人无法证明监护关系"},
    )

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["refusal_reasons"]) == (
        "refused",
        "申请人无法证明监护关系",
    )


def test_a_village_liaison_gets_the_requests_texts_masked(family: Family, clients: dict[str, Client]) -> None:
    from guanai.core.access import Role
    from guanai.core.testing import create_persona, verified_client

    liaison = verified_client(
        create_persona("p-liaison", Role.VILLAGE_LIAISON, family.zhang.region_id, display_name="联络员")
    )
    refused = DataSubjectRequestFactory.create(
        minor=family.zhang,
        description="孩子张三明的学校写错了",
        status=Status.REFUSED,
        refusal_reasons="张三明的学校信息无误",
        outcome_note="已电话告知张建华",
        handled_at=datetime.datetime(2026, 11, 30, 9, 0, tzinfo=datetime.UTC),
    )
    texts = ("description", "outcome_note", "refusal_reasons")

    masked = liaison.get(f"/api/v1/subject-requests/{refused.pk}").json()
    listed = liaison.get("/api/v1/subject-requests").json()["items"][0]
    clear = clients["county_a_admin"].get(f"/api/v1/subject-requests/{refused.pk}").json()

    assert [masked[field] for field in texts] == ["****", "****", "****"]
    assert [listed[field] for field in texts] == ["****", "****", "****"]
    assert [clear[field] for field in texts] == [
        "孩子张三明的学校写错了",
        "已电话告知张建华",
        "张三明的学校信息无误",
    ]


def test_erasing_through_the_api_answers_the_erased_request(
    family: Family, clients: dict[str, Client]
) -> None:
    subject_request = DataSubjectRequestFactory.create(minor=family.zhang, kind="deletion")

    response = _post(
        clients["county_a_admin"],
        f"/api/v1/subject-requests/{subject_request.pk}/erase",
        {"confirmation": str(family.zhang.pk)},
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["description"], body["requester_contact"], body["region_code"]) == (
        "completed",
        "（已随儿童信息一并删除）",
        "",
        family.zhang.region_id,
    )
