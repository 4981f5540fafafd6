from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from guanai.accounts.models import RoleAssignment, User
from guanai.accounts.selectors import actor_for_user
from guanai.committees.models import Committee, CommitteeMember
from guanai.core import region_codes
from guanai.core.testing import verified_client
from guanai.demo.services import DEMO_ACCOUNTS, DEMO_MINORS
from guanai.minors.generation import generate_minors
from guanai.minors.models import Consent, Guardian, Minor
from guanai.minors.selectors import minor_list

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
    assert Minor.objects.count() == 0


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
    minors = (Minor.objects.count(), Guardian.objects.count(), Consent.objects.count())
    second = load(monkeypatch)
    assert "shown only this once" not in second
    assert (Committee.objects.count(), CommitteeMember.objects.count()) == (committees, members)
    assert (Minor.objects.count(), Guardian.objects.count(), Consent.objects.count()) == minors
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


def test_demo_fills_the_registries_of_the_two_counties_once(
    regions: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(monkeypatch, password="Demo-Pass-2026")
    assert DEMO_MINORS == [("330127000000", 180, 1), ("330182000000", 120, 2)]
    assert Minor.objects.filter(region_codes.within_q("region_id", "330127000000")).count() == 180
    assert Minor.objects.filter(region_codes.within_q("region_id", "330182000000")).count() == 120
    assert Minor.objects.count() == 300
    assert not Minor.objects.filter(guardians__isnull=True).exists()  # every child has a guardian
    load(monkeypatch, password="Demo-Pass-2026")
    assert Minor.objects.count() == 300


def test_demo_children_show_up_in_each_county_admins_list_only(
    regions: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(monkeypatch, password="Demo-Pass-2026")
    for username, county in (("demo-county-a", "330127"), ("demo-county-b", "330182")):
        actor = actor_for_user(User.objects.get(username=username))
        listed = minor_list(actor=actor)
        assert listed.exists()
        assert {minor.region_id[:6] for minor in listed} == {county}


def test_demo_adds_no_children_to_a_county_that_has_some_already(
    regions: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate_minors(count=7, region_code="330182000000", seed=99)
    load(monkeypatch, password="Demo-Pass-2026")
    assert Minor.objects.filter(region_codes.within_q("region_id", "330182000000")).count() == 7
    assert Minor.objects.filter(region_codes.within_q("region_id", "330127000000")).count() == 180
