from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from guanai.committees.models import Committee
from guanai.core.access import Actor, Role
from guanai.core.testing import create_persona, create_personas, verified_client


@pytest.fixture
def personas(regions: None) -> dict[str, Any]:
    """The personas, made without an audit event: these tests read the whole log, and find in it only the
    events they record (account events are tested in guanai/accounts/tests/test_account_audit.py)."""
    return create_personas(audited=False)


@pytest.fixture
def security_admin(personas: dict[str, Any]) -> Any:
    """The security admin (key management), who is not one of the shared personas."""
    return create_persona(
        "p-security", Role.SECURITY_ADMIN, "330000000000", display_name="security_admin", audited=False
    )


@pytest.fixture
def all_clients(clients: dict[str, Client], security_admin: Any) -> dict[str, Client]:
    return {**clients, "security_admin": verified_client(security_admin)}


@pytest.fixture
def actors(personas: dict[str, Any]) -> dict[str, Actor]:
    from guanai.accounts.selectors import actor_for_user

    return {name: actor_for_user(user) for name, user in personas.items()}


@pytest.fixture
def county_committees(regions: None) -> dict[str, Committee]:
    return {
        "a": Committee.objects.create(region_id="330127000000", name="淳安县关心下一代工作委员会"),
        "b": Committee.objects.create(region_id="330182000000", name="建德市关心下一代工作委员会"),
    }
