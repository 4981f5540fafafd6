from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from guanai.audit.services import audit_record
from guanai.committees.models import Committee
from guanai.core.access import Actor
from guanai.core.testing import ANONYMOUS, Check, assert_authorization_matrix, count_queries

pytestmark = pytest.mark.django_db

NOT_AUDITORS = (
    "province_admin",
    "county_a_admin",
    "county_b_admin",
    "township_worker",
    "volunteer",
    "system_admin",
    "security_admin",
)


def test_authorization_matrix_of_the_audit_log(
    all_clients: dict[str, Client], county_committees: dict[str, Committee]
) -> None:
    committee = county_committees["a"].pk
    checks = [
        Check("auditor", "GET", "/api/v1/audit/events", 200),
        Check("auditor", "GET", "/audit/", 200),
        Check(ANONYMOUS, "GET", "/api/v1/audit/events", 401),
        Check(ANONYMOUS, "GET", "/audit/", 302),
        # The auditor reads the audit log and nothing else.
        Check("auditor", "GET", "/api/v1/committees/", 403),
        Check("auditor", "GET", "/committees/", 403),
        Check("auditor", "GET", f"/committees/{committee}/", 403),
        # The log is only read: unsafe methods are not allowed and change nothing.
        Check("auditor", "POST", "/api/v1/audit/events", 405, data={"action": "auth.login"}),
        Check("auditor", "DELETE", "/api/v1/audit/events", 405),
    ]
    # Nobody else reads it: not the administrators, not the system admin, not the security admin.
    for persona in NOT_AUDITORS:
        checks += [
            Check(persona, "GET", "/api/v1/audit/events", 403),
            Check(persona, "GET", "/audit/", 403),
        ]
    assert assert_authorization_matrix(all_clients, checks) == len(checks)


def test_an_event_as_the_api_gives_it(
    clients: dict[str, Client], actors: dict[str, Actor], county_committees: dict[str, Committee]
) -> None:
    committee = county_committees["a"]
    when = timezone.make_aware(datetime.datetime(2026, 3, 2, 9, 30))
    with time_machine.travel(when, tick=False):
        event = audit_record(
            actor=actors["county_a_admin"],
            action="committee.create",
            target=committee,
            changes=["name"],
            detail={"source": "form"},
        )
    body = clients["auditor"].get("/api/v1/audit/events?action=committee.create").json()
    assert body == {
        "count": 1,
        "items": [
            {
                "id": event.pk,
                "occurred_at": "2026-03-02T01:30:00Z",
                "actor_user_id": actors["county_a_admin"].user.pk,  # type: ignore[union-attr]
                "actor_username": "p-county-a",
                "actor_role": "county_admin",
                "actor_role_label": "县级管理员",
                "actor_region": "330127000000",
                "action": "committee.create",
                "action_label": "新建关工委",
                "target_type": "committees.committee",
                "target_id": str(committee.pk),
                "region_code": "330127000000",
                "changed_fields": ["name"],
                "ip": None,
                "user_agent": "",
                "outcome": "success",
                "outcome_label": "成功",
                "detail": {"source": "form"},
                "hash": event.hash,
            }
        ],
    }


def test_the_api_filters_and_pages(clients: dict[str, Client], actors: dict[str, Actor]) -> None:
    for index in range(7):
        audit_record(actor=None, action="auth.login_failed", username=f"guess{index}", outcome="failed")
    audit_record(actor=actors["county_b_admin"], action="report.export", region_code="330182")
    auditor = clients["auditor"]
    body = auditor.get("/api/v1/audit/events?action=auth.&limit=3&offset=3").json()
    assert body["count"] == 7
    assert [item["actor_username"] for item in body["items"]] == ["guess3", "guess2", "guess1"]
    body = auditor.get("/api/v1/audit/events?actor=guess6").json()
    assert [item["outcome"] for item in body["items"]] == ["failed"]
    body = auditor.get("/api/v1/audit/events?region=330182").json()
    assert [item["action"] for item in body["items"]] == ["report.export"]
    body = auditor.get("/api/v1/audit/events?since=2000-01-01T00:00:00&until=2000-01-02T00:00:00").json()
    assert body == {"count": 0, "items": []}


def test_the_api_refuses_bad_filters(clients: dict[str, Client]) -> None:
    auditor = clients["auditor"]
    response = auditor.get("/api/v1/audit/events?region=11")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    response = auditor.get("/api/v1/audit/events?region=33x")
    assert (response.status_code, list(response.json()["fields"])) == (422, ["region"])
    assert auditor.get("/api/v1/audit/events?limit=501").status_code == 422
    assert auditor.get("/api/v1/audit/events?since=yesterday").status_code == 422


def test_the_api_uses_a_fixed_number_of_queries(clients: dict[str, Client], actors: dict[str, Actor]) -> None:
    client = clients["auditor"]
    audit_record(actor=actors["county_a_admin"], action="committee.create", changes=["name"])
    client.get("/api/v1/audit/events")  # warm the session
    with count_queries() as few:
        client.get("/api/v1/audit/events")
    for index in range(30):
        audit_record(actor=actors["county_b_admin"], action="committee.create", target_id=index)
    with count_queries() as many:
        response = client.get("/api/v1/audit/events")
    assert response.json()["count"] == 31
    assert len(many) == len(few)


def test_bearer_tokens_reach_the_audit_api(personas: dict[str, Any]) -> None:
    from guanai.accounts.services import api_token_issue

    _token, raw = api_token_issue(user=personas["auditor"])
    response = Client().get("/api/v1/audit/events", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200


def test_a_refused_reading_of_the_audit_log_is_itself_an_event(clients: dict[str, Client]) -> None:
    from guanai.audit.models import AuditEvent

    assert clients["system_admin"].get("/api/v1/audit/events").status_code == 403
    denial = AuditEvent.objects.get(action="access.denied")
    assert (denial.actor_username, denial.actor_role, denial.outcome, denial.detail) == (
        "p-sysadmin",
        "system_admin",
        "denied",
        {"path": "/api/v1/audit/events"},
    )
