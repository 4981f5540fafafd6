from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from guanai.accounts.selectors import actor_for_user
from guanai.core.access import Actor, Role
from guanai.core.testing import COUNTY_B, create_persona, verified_client

ZHEJIANG = "330000000000"
BEIJING = "110000000000"


@pytest.fixture
def security_admin(personas: dict[str, Any]) -> Any:
    """The province's security admin (the role is held at province level), not one of the shared personas."""
    return create_persona("p-security", Role.SECURITY_ADMIN, ZHEJIANG, display_name="安全管理员")


@pytest.fixture
def second_security_admin(personas: dict[str, Any]) -> Any:
    """Another security administrator of the same province: two may work on one incident."""
    return create_persona("p-security-2", Role.SECURITY_ADMIN, ZHEJIANG, display_name="安全管理员乙")


@pytest.fixture
def other_province_security_admin(personas: dict[str, Any]) -> Any:
    return create_persona("p-security-bj", Role.SECURITY_ADMIN, BEIJING, display_name="北京安全管理员")


@pytest.fixture
def county_b_security_admin(personas: dict[str, Any]) -> Any:
    """A security administrator held at county B. `role_assign` only gives the role at province level, so
    this assignment is made directly: it shows that the region of the records, not only the role, decides
    who sees them."""
    return create_persona(
        "p-security-b", Role.SECURITY_ADMIN, COUNTY_B, display_name="乙县安全管理员", audited=False
    )


@pytest.fixture
def admin(security_admin: Any) -> Actor:
    return actor_for_user(security_admin)


@pytest.fixture
def actors(personas: dict[str, Any]) -> dict[str, Actor]:
    return {name: actor_for_user(user) for name, user in personas.items()}


@pytest.fixture
def all_clients(
    clients: dict[str, Client], security_admin: Any, county_b_security_admin: Any
) -> dict[str, Client]:
    return {
        **clients,
        "security_admin": verified_client(security_admin),
        "county_b_security_admin": verified_client(county_b_security_admin),
    }
