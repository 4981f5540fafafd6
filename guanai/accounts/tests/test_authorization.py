from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from guanai.accounts.models import RoleAssignment
from guanai.core.testing import ANONYMOUS, PERSONAS, Check, assert_authorization_matrix

pytestmark = pytest.mark.django_db


def test_authorization_matrix_of_the_account_endpoints(clients: dict[str, Client], personas: Any) -> None:
    province_assignment = RoleAssignment.objects.get(user=personas["province_admin"])
    checks = [
        Check(ANONYMOUS, "GET", "/api/v1/me", 401),
        Check(ANONYMOUS, "PATCH", "/api/v1/me/preferences", 401, data={"elder_mode": True}),
        Check(ANONYMOUS, "POST", "/switch-role/", 302),
        Check(ANONYMOUS, "POST", "/logout/", 302),
        Check(ANONYMOUS, "GET", "/login/", 200),
        # Someone else's role cannot be switched to; a bad value changes nothing.
        Check(
            "county_a_admin", "POST", "/switch-role/", 400, form={"assignment": str(province_assignment.pk)}
        ),
        Check("county_a_admin", "POST", "/switch-role/", 400, form={"assignment": "x"}),
        Check("county_a_admin", "PATCH", "/api/v1/me/preferences", 422, data={"language": "fr"}),
        Check("county_a_admin", "PATCH", "/api/v1/me/preferences", 422, data={"elder_mode": "perhaps"}),
    ]
    # Every persona may read and change their own profile, whatever their role.
    checks += [Check(persona, "GET", "/api/v1/me", 200) for persona in PERSONAS]
    checks += [
        Check(persona, "PATCH", "/api/v1/me/preferences", 200, data={"elder_mode": True})
        for persona in PERSONAS
    ]
    assert assert_authorization_matrix(clients, checks) == len(checks)


def test_me_tells_each_persona_their_own_role_and_region(clients: dict[str, Client]) -> None:
    for persona, spec in PERSONAS.items():
        body = clients[persona].get("/api/v1/me").json()
        assert body["username"] == spec.username
        assert body["active_assignment"]["role"] == spec.role.value
        assert body["active_assignment"]["region"]["code"] == spec.region
