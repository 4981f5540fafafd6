from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client

from guanai.committees.models import Committee
from guanai.core.access import Actor, Role
from guanai.core.testing import verified_client


@pytest.fixture
def security_admin(personas: dict[str, Any]) -> Any:
    """The security admin (key management), who is not one of the shared personas."""
    from guanai.accounts.services import role_assign, user_create
    from guanai.regions.models import Region

    user = user_create(username="p-security", password=None, display_name="security_admin")
    role_assign(
        user=user,
        role=Role.SECURITY_ADMIN,
        region=Region.objects.get(code="330000000000"),
        valid_from=datetime.date(2020, 1, 1),
    )
    return user


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
