from __future__ import annotations

import re
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from guanai.accounts.models import RoleAssignment, User
from guanai.accounts.selectors import actor_for_user
from guanai.committees.models import Committee, CommitteeMember
from guanai.core import region_codes
from guanai.core.testing import verified_client
from guanai.demo.services import DEMO_ACCOUNTS, DEMO_MINORS, DEMO_TEAMS, DEMO_VOLUNTEERS
from guanai.minors.generation import generate_minors
from guanai.minors.models import Consent, Guardian, Minor
from guanai.minors.selectors import minor_list
from guanai.minors.validation import clean_id_number
from guanai.volunteers.generation import generate_volunteers
from guanai.volunteers.models import ServiceHours, Team, TeamMembership, Volunteer
from guanai.volunteers.selectors import volunteer_list
from guanai.volunteers.vocabulary import HoursState, Specialty, Status, TeamRole, star_level

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


# --- The 五老 ---------------------------------------------------------------------------------------


def test_demo_fills_each_county_with_volunteers_teams_and_hours_once(
    regions: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(monkeypatch, password="Demo-Pass-2026")
    assert DEMO_VOLUNTEERS == [("330127000000", 60, 11), ("330182000000", 60, 12)]
    chunan = Volunteer.objects.filter(region_codes.within_q("region_id", "330127000000"))
    jiande = Volunteer.objects.filter(region_codes.within_q("region_id", "330182000000"))
    assert (chunan.filter(user__isnull=True).count(), chunan.filter(user__isnull=False).count()) == (60, 3)
    assert (jiande.count(), Volunteer.objects.count()) == (60, 123)
    for volunteer in Volunteer.objects.all():
        assert clean_id_number(volunteer.id_number or "") == volunteer.id_number

    teams = Team.objects.order_by("region_id", "kind")
    assert teams.count() == 2 * len(DEMO_TEAMS)
    assert {team.kind for team in teams} == {kind for kind, _suffix, _size in DEMO_TEAMS}
    assert "淳安县五老关爱团" in {team.name for team in teams}
    for team in teams:
        members = TeamMembership.objects.filter(team=team)
        assert members.filter(role=TeamRole.LEADER).count() == 1
        assert members.count() >= 4
        assert {m.volunteer.region_id[:6] for m in members.select_related("volunteer")} == {
            team.region_id[:6]
        }

    # Totals are the sums of confirmed records, and they give different star levels.
    for volunteer in Volunteer.objects.all():
        confirmed = ServiceHours.objects.filter(volunteer=volunteer, state=HoursState.CONFIRMED)
        assert volunteer.hours_total == sum((record.hours for record in confirmed), Decimal("0"))
        assert all(Decimal("0") < record.hours <= Decimal("24") for record in confirmed)
    stars = {star_level(volunteer.hours_total) for volunteer in Volunteer.objects.all()}
    assert len(stars) >= 4
    assert 0 in stars

    counts = (Volunteer.objects.count(), Team.objects.count(), TeamMembership.objects.count())
    hours = ServiceHours.objects.count()
    load(monkeypatch, password="Demo-Pass-2026")
    assert (Volunteer.objects.count(), Team.objects.count(), TeamMembership.objects.count()) == counts
    assert ServiceHours.objects.count() == hours


def test_demo_accounts_of_volunteer_lawyer_and_counsellor_have_their_records(
    regions: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(monkeypatch, password="Demo-Pass-2026")
    records = {
        username: volunteer
        for volunteer in Volunteer.objects.filter(user__isnull=False).select_related("user")
        if volunteer.user is not None and (username := volunteer.user.username)
    }
    assert set(records) == {"demo-volunteer", "demo-lawyer", "demo-counsellor"}
    today = timezone.localdate()
    for volunteer in records.values():
        assert (volunteer.status, volunteer.check_result) == (Status.ACTIVE, "clear")
        assert volunteer.check_valid_on(today)
        assert volunteer.region_id.startswith("330127")
        assert TeamMembership.objects.filter(volunteer=volunteer, left_on__isnull=True).exists()
    assert records["demo-volunteer"].region_id == "330127100219"  # 富城村, the account's village
    lawyer, counsellor = records["demo-lawyer"], records["demo-counsellor"]
    assert lawyer.specialties & Specialty.LAW
    assert lawyer.law_licence_number == "13301198810123456"
    assert counsellor.specialties & Specialty.PSYCHOLOGY
    assert counsellor.psychology_certificate
    assert [star_level(records[name].hours_total) for name in ("demo-lawyer", "demo-volunteer")] == [1, 2]
    assert star_level(counsellor.hours_total) == 3


def test_demo_volunteers_show_up_in_each_county_admins_list_only(
    regions: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(monkeypatch, password="Demo-Pass-2026")
    for username, county in (("demo-county-a", "330127"), ("demo-county-b", "330182")):
        actor = actor_for_user(User.objects.get(username=username))
        listed = volunteer_list(actor=actor)
        assert listed.exists()
        assert {volunteer.region_id[:6] for volunteer in listed} == {county}


def test_demo_adds_no_volunteers_to_a_county_that_has_some_already(
    regions: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate_volunteers(count=5, region_code="330182000000", seed=99)
    load(monkeypatch, password="Demo-Pass-2026")
    jiande = Volunteer.objects.filter(region_codes.within_q("region_id", "330182000000"))
    assert jiande.count() == 5
    assert not ServiceHours.objects.filter(volunteer__in=jiande).exists()
    assert Volunteer.objects.filter(region_codes.within_q("region_id", "330127000000")).count() == 63
