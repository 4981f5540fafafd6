from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from guanai.core.testing import build_region_tree, create_personas, persona_clients


@pytest.fixture
def regions(db: None) -> None:
    build_region_tree()


@pytest.fixture
def personas(regions: None) -> dict[str, Any]:
    return create_personas()


@pytest.fixture
def clients(personas: dict[str, Any]) -> dict[str, Client]:
    return persona_clients(personas)
