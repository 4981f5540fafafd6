from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from guanai.audit.models import AuditEvent
from guanai.core.testing import Check, assert_authorization_matrix

pytestmark = pytest.mark.django_db


@pytest.fixture
def mobiles(personas: dict[str, Any]) -> dict[str, Any]:
    for persona, mobile in (("volunteer", "13905710011"), ("county_b_admin", "13905710012")):
        user = personas[persona]
        user.mobile = mobile
        user.save(update_fields=["mobile", "mobile_index"])
    return personas


def test_the_user_list_shows_mobiles_masked_and_only_in_scope(
    clients: dict[str, Client], mobiles: Any
) -> None:
    body = clients["county_a_admin"].get("/api/v1/users/").json()
    rows = {item["username"]: item["mobile"] for item in body["items"]}
    assert rows == {
        "p-county-a": None,
        "p-counsellor": None,
        "p-lawyer": None,
        "p-township": None,
        "p-volunteer": "139****0011",
    }
    page = clients["county_a_admin"].get("/account/users/").content.decode()
    assert "139****0011" in page
    assert "13905710011" not in page
    assert "p-county-b" not in page
    assert 'id="unmask-mobile-' in page
    assert 'id="unmask-mobile-' not in clients["township_worker"].get("/account/users/").content.decode()


def test_unmasking_shows_the_number_once_and_leaves_an_audit_event(
    clients: dict[str, Client], mobiles: Any
) -> None:
    volunteer = mobiles["volunteer"]
    before = AuditEvent.objects.filter(action="personal_data.unmask").count()
    response = clients["county_a_admin"].post(
        f"/api/v1/users/{volunteer.pk}/unmask", '{"field": "mobile"}', content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json() == {"field": "mobile", "value": "13905710011"}
    events = AuditEvent.objects.filter(action="personal_data.unmask").order_by("-id")
    assert events.count() == before + 1
    event = events.first()
    assert event is not None
    assert (event.actor_username, event.target_type, event.target_id) == (
        "p-county-a",
        "accounts.user",
        str(volunteer.pk),
    )
    assert event.changed_fields == ["mobile"]
    assert event.outcome == "success"
    assert "13905710011" not in str(event.detail)
    html = clients["county_a_admin"].post(f"/account/users/{volunteer.pk}/unmask/mobile/").content.decode()
    assert "13905710011" in html
    assert AuditEvent.objects.filter(action="personal_data.unmask").count() == before + 2


def test_authorization_matrix_of_users_and_unmask(clients: dict[str, Client], mobiles: Any) -> None:
    volunteer = mobiles["volunteer"].pk
    other = mobiles["county_b_admin"].pk
    unmask = {"field": "mobile"}
    checks = [
        Check(
            "county_a_admin",
            "POST",
            f"/api/v1/users/{other}/unmask",
            404,
            data=unmask,
            must_not_contain=("13905710012",),
        ),
        Check(
            "county_b_admin",
            "POST",
            f"/api/v1/users/{volunteer}/unmask",
            404,
            data=unmask,
            must_not_contain=("13905710011",),
        ),
        Check("township_worker", "POST", f"/api/v1/users/{volunteer}/unmask", 403, data=unmask),
        Check("volunteer", "GET", "/api/v1/users/", 403),
        Check("auditor", "GET", "/api/v1/users/", 403),
        Check("anonymous", "GET", "/api/v1/users/", 401),
        Check("county_a_admin", "POST", f"/api/v1/users/{volunteer}/unmask", 422, data={"field": "password"}),
        Check("province_admin", "GET", "/api/v1/users/", 200),
        Check("system_admin", "POST", f"/api/v1/users/{other}/unmask", 200, data=unmask),
        Check("township_worker", "POST", f"/account/users/{volunteer}/unmask/mobile/", 403),
        Check("county_b_admin", "POST", f"/account/users/{volunteer}/unmask/mobile/", 404),
    ]
    assert assert_authorization_matrix(clients, checks) == len(checks)
    # Only the system admin saw a number; role refusals are recorded as access.denied.
    unmasked = AuditEvent.objects.filter(action="personal_data.unmask", outcome="success")
    assert list(unmasked.values_list("actor_username", "target_id")) == [("p-sysadmin", str(other))]
    assert AuditEvent.objects.filter(action="access.denied", actor_username="p-township").count() == 2
