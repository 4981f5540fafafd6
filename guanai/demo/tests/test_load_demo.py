from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from guanai.accounts.models import RoleAssignment, User
from guanai.committees.models import Committee, CommitteeMember
from guanai.core.testing import verified_client
from guanai.demo.services import DEMO_ACCOUNTS

pytestmark = pytest.mark.django_db


def load(monkeypatch: pytest.MonkeyPatch, password: str | None = None) -> str:
    if password is None:
        monkeypatch.delenv("GUANAI_DEMO_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("GUANAI_DEMO_PASSWORD", password)
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def test_demo_needs_the_regions_first(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(CommandError, match="load_regions"):
        load(monkeypatch)
    assert User.objects.count() == 0


def test_demo_generates_a_password_once_and_is_idempotent(
    regions: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = load(monkeypatch)
    match = re.search(r"shown only this once\): (\S+)", first)
    assert match is not None
    password = match.group(1)
    assert len(password) >= 12
    assert {u for u, *_ in DEMO_ACCOUNTS} == set(User.objects.values_list("username", flat=True))
    assert RoleAssignment.objects.count() == len(DEMO_ACCOUNTS)
    committees, members = Committee.objects.count(), CommitteeMember.objects.count()
    # The small test tree has 11 regions in Zhejiang (one committee each) and 5 school/enterprise ones.
    assert committees == 11 + 5
    second = load(monkeypatch)
    assert "shown only this once" not in second
    assert (Committee.objects.count(), CommitteeMember.objects.count()) == (committees, members)
    assert RoleAssignment.objects.count() == len(DEMO_ACCOUNTS)
    client = Client()
    assert client.post("/login/", {"username": "demo-county-a", "password": password}).status_code == 302


def test_demo_county_admins_see_only_their_own_county(regions: None, monkeypatch: pytest.MonkeyPatch) -> None:
    load(monkeypatch, password="Demo-Pass-2026")
    seen = {}
    for username in ("demo-county-a", "demo-county-b", "demo-province"):
        assert (
            Client().post("/login/", {"username": username, "password": "Demo-Pass-2026"}).status_code == 302
        )
        client = verified_client(User.objects.get(username=username))  # the second factor, done
        items = client.get("/api/v1/committees/?limit=500").json()["items"]
        seen[username] = {item["region_code"][:6] for item in items}
    assert seen["demo-county-a"] == {"330127"}
    assert seen["demo-county-b"] == {"330182"}
    assert seen["demo-province"] >= {"330127", "330182", "330000", "330100"}
