from __future__ import annotations

import datetime

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

pytestmark = pytest.mark.django_db


def test_pages_carry_a_content_security_policy_with_a_nonce(clients: dict[str, Client]) -> None:
    response = clients["volunteer"].get("/")
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"].startswith("'self' 'nonce-")
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe-inline" not in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_no_page_has_an_inline_script_or_style_attribute(clients: dict[str, Client]) -> None:
    for persona, path in (("anonymous", "/login/"), ("volunteer", "/"), ("county_a_admin", "/committees/")):
        html = clients[persona].get(path).content.decode()
        assert "<script>" not in html, path
        assert " style=" not in html, path
        assert " onclick=" not in html, path


def test_a_session_ends_after_thirty_idle_minutes(clients: dict[str, Client]) -> None:
    client = clients["volunteer"]
    start = timezone.now()
    with time_machine.travel(start + datetime.timedelta(minutes=29), tick=False):
        assert client.get("/").status_code == 200  # activity restarts the clock
    with time_machine.travel(start + datetime.timedelta(minutes=29 + 29), tick=False):
        assert client.get("/").status_code == 200
    with time_machine.travel(start + datetime.timedelta(minutes=29 + 29 + 31), tick=False):
        response = client.get("/")
        assert response.status_code == 302
        assert response["Location"] == "/login/?next=/"


def test_the_page_tells_the_browser_when_to_warn(clients: dict[str, Client]) -> None:
    html = clients["volunteer"].get("/").content.decode()
    assert 'data-idle-seconds="1800"' in html
    assert 'data-idle-warning-seconds="300"' in html
    assert 'id="idle-warning"' in html
    anonymous = clients["anonymous"].get("/login/").content.decode()
    assert "data-idle-seconds" not in anonymous
