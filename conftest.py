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


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Rate limits count in the cache: every test starts with none spent (xdist workers run many tests
    in one process, all from 127.0.0.1)."""
    from django.core.cache import cache

    cache.clear()
