"""The address a request is counted by: never a server error for a request without a usable address."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory

from guanai.core.http import UNKNOWN_ADDRESS, ratelimit_ip


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8::1", "2001:db8::1"),
        ("", UNKNOWN_ADDRESS),
        ("not-an-address", UNKNOWN_ADDRESS),
    ],
)
def test_rate_limits_count_by_the_address_or_one_shared_bucket(address: str, expected: str) -> None:
    request = RequestFactory().get("/", REMOTE_ADDR=address)
    assert ratelimit_ip(request) == expected


def test_a_forwarded_value_that_is_no_address_is_counted_in_the_shared_bucket(settings: object) -> None:
    settings.GUANAI_TRUSTED_PROXY_COUNT = 1  # type: ignore[attr-defined]
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="<script>", REMOTE_ADDR="10.0.0.1")
    assert ratelimit_ip(request) == UNKNOWN_ADDRESS


@pytest.mark.django_db
def test_a_rate_limited_endpoint_without_a_client_address_answers_as_usual() -> None:
    response = Client(REMOTE_ADDR="").get(
        "/api/v1/public/consultations/ZX12345678", HTTP_X_RETRIEVAL_CODE="ABCDEFGH"
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
