"""Fixtures shared by the pairing and visit tests: the fixed moment, a fresh private media root for the
photos, the two worlds (the registry's children and volunteers; a volunteer's pairings to visit) and a
village liaison. None is autouse: a module asks for the clock and the media root in its `pytestmark`
(`pytest.mark.usefixtures("frozen_clock", "private_media")`), so the modules that do not are unchanged."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from guanai.accounts.services import role_assign, user_create
from guanai.core.access import Role
from guanai.core.testing import verified_client
from guanai.pairings.tests.factories import VisitWorld, build_visit_world
from guanai.pairings.tests.pairing_world import NOW, World, build_world
from guanai.regions.models import Region


@pytest.fixture
def frozen_clock(time_machine: Any) -> None:
    """30 November 2026, 10:00 in Asia/Shanghai, standing still."""
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def private_media(settings: Any, tmp_path: Path) -> Path:
    """An empty private media root of the test's own, where visit photos are stored."""
    settings.MEDIA_ROOT = tmp_path / "private"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def world(regions: None) -> World:
    """The registry's children and volunteers of `pairing_world` (proposals, pairings, conflicts)."""
    return build_world()


@pytest.fixture
def visit_world(personas: dict[str, Any]) -> VisitWorld:
    """The signed-in volunteer's pairing, another volunteer's, and one in county B (visits, reports)."""
    return build_visit_world(personas)


@pytest.fixture
def liaison(personas: dict[str, Any]) -> Client:
    """A village liaison of 富城村: sees pairings (PAIRING_VIEW), names masked, manages none."""
    user = user_create(username="p-liaison", password=None, display_name="liaison")
    role_assign(
        user=user,
        role=Role.VILLAGE_LIAISON,
        region=Region.objects.get(code="330127100219"),
        valid_from=datetime.date(2020, 1, 1),
    )
    return verified_client(user)
