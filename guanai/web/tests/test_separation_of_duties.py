"""等保 2.0: system, security and audit administrators are three roles with separate powers."""

from __future__ import annotations

import pytest
from django.test import Client

from guanai.accounts.services import role_assign, user_create
from guanai.core.access import Role
from guanai.core.testing import ANONYMOUS, Check, assert_authorization_matrix, verified_client
from guanai.regions.models import Region

pytestmark = pytest.mark.django_db


@pytest.fixture
def duty_clients(clients: dict[str, Client]) -> dict[str, Client]:
    user = user_create(username="p-security", password=None)
    role_assign(user=user, role=Role.SECURITY_ADMIN, region=Region.objects.get(code="330000000000"))
    return {**clients, "security_admin": verified_client(user)}


def test_each_administrator_reaches_only_their_own_duty(duty_clients: dict[str, Client]) -> None:
    pages = {
        "/audit/": {"auditor": 200},
        "/api/v1/audit/events": {"auditor": 200},
        "/security/keys/": {"security_admin": 200},
        # Impact assessments and incidents (个人信息保护法 art. 55–57): the security admin keeps them, the
        # auditor reads them, the system admin gets nothing.
        "/compliance/incidents/": {"security_admin": 200, "auditor": 200},
        "/compliance/assessments/": {"security_admin": 200, "auditor": 200},
        "/compliance/incidents/new/": {"security_admin": 200},
        "/compliance/assessments/new/": {"security_admin": 200},
        "/account/users/": {"system_admin": 200},
        "/api/v1/users/": {"system_admin": 200},
        "/committees/": {"system_admin": 200},
    }
    checks = []
    for path, allowed in pages.items():
        for persona in ("auditor", "security_admin", "system_admin"):
            checks.append(Check(persona, "GET", path, allowed.get(persona, 403)))
        checks.append(Check(ANONYMOUS, "GET", path, 401 if path.startswith("/api/") else 302))
    assert assert_authorization_matrix(duty_clients, checks) == len(checks)


def test_the_key_page_lists_key_ids_and_never_key_material(duty_clients: dict[str, Client]) -> None:
    from guanai.core.keys import key_ring

    ring = key_ring()
    html = duty_clients["security_admin"].get("/security/keys/").content.decode()
    for key_id, key in ring.field_keys.items():
        assert f"<code>{key_id}</code>" in html
        assert key.hex() not in html
    assert "用户" in html  # accounts.User holds the encrypted mobile numbers
