from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from guanai.core.testing import persona_clients
from guanai.minors.tests.factories import COMMUNITY_A, MinorFactory

URL = "/api/v1/dashboards/indicators"
COUNTY_A = "330127000000"
COUNTY_B = "330182000000"
TOWNSHIP_1 = "330127100000"


@pytest.fixture
def api_clients(personas: dict[str, Any]) -> dict[str, Client]:
    MinorFactory.create(region_id=COMMUNITY_A, risk_level="high")
    for _ in range(5):
        MinorFactory.create(region_id=COMMUNITY_A, risk_level="low")
    return persona_clients(personas)


def _period() -> str:
    return f"{timezone.localdate():%Y-%m}"


def test_county_admin_reads_the_indicators_of_their_county(api_clients: dict[str, Client]) -> None:
    response = api_clients["county_a_admin"].get(URL, {"region": COUNTY_A, "period": _period()})
    assert response.status_code == 200
    body = response.json()
    assert body["region_code"] == COUNTY_A
    assert body["total"]["figures"]["children"] == {"current": 6, "year_earlier": 0}
    assert body["total"]["figures"]["children.risk.high"]["current"] == 1
    township = next(item for item in body["children"] if item["code"] == TOWNSHIP_1)
    assert township["figures"]["children"]["current"] == 6


def test_small_cells_below_county_are_strings(api_clients: dict[str, Client]) -> None:
    response = api_clients["county_a_admin"].get(URL, {"region": TOWNSHIP_1, "period": _period()})
    assert response.status_code == 200
    body = response.json()
    assert body["total"]["figures"]["children.risk.high"]["current"] == "<5"
    assert body["total"]["figures"]["children"]["current"] == 6


def test_region_outside_the_actor_answers_404(api_clients: dict[str, Client]) -> None:
    response = api_clients["county_a_admin"].get(URL, {"region": COUNTY_B, "period": _period()})
    assert response.status_code == 404


def test_bad_period_answers_422(api_clients: dict[str, Client]) -> None:
    response = api_clients["county_a_admin"].get(URL, {"region": COUNTY_A, "period": "2026-1"})
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"


def test_volunteer_without_the_permission_is_refused(api_clients: dict[str, Client]) -> None:
    response = api_clients["volunteer"].get(URL, {"region": "330127100219", "period": _period()})
    assert response.status_code in {403, 404}
