from __future__ import annotations

import datetime
import re
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from guanai.accounts.models import RoleAssignment, User
from guanai.accounts.selectors import actor_for_user
from guanai.cafes.models import CafeFinding, CafeInspection, CafeInspector, InternetCafe
from guanai.cafes.vocabulary import FindingState, Problem
from guanai.committees.models import Committee, CommitteeMember
from guanai.core import region_codes
from guanai.core.testing import verified_client
from guanai.demo.services import DEMO_ACCOUNTS, DEMO_MINORS, DEMO_TEAMS, DEMO_VOLUNTEERS
from guanai.mentoring.models import CaseGoal, CaseReview, MentoringCase
from guanai.minors.generation import generate_minors
from guanai.minors.models import Consent, Guardian, Minor
from guanai.minors.selectors import minor_list
from guanai.minors.validation import clean_id_number
from guanai.minors.vocabulary import ConsentScope, SpecialKind
from guanai.notifications.models import Notification
from guanai.pairings.contact import contact_interval_days, overdue_counts, overdue_pairings, overdue_q
from guanai.pairings.models import MandatoryReport, Pairing, Visit
from guanai.pairings.selectors import has_pairing_consent
from guanai.pairings.services import pair_refusals, proposals_compute
from guanai.pairings.visits import hours_of
from guanai.pairings.vocabulary import Condition, PairingState, ReportState, SafetyConcern, VisitMode
from guanai.volunteers.generation import generate_volunteers
from guanai.volunteers.models import ServiceHours, Team, TeamMembership, Volunteer
from guanai.volunteers.selectors import volunteer_list
from guanai.volunteers.vocabulary import (
    HoursSource,
    HoursState,
    Specialty,
    Status,
    TeamKind,
    TeamRole,
    star_level,
)

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
    work = _work_counts()
    assert min(work) > 0
    second = load(monkeypatch)
    assert "shown only this once" not in second
    assert (Committee.objects.count(), CommitteeMember.objects.count()) == (committees, members)
    assert (Minor.objects.count(), Guardian.objects.count(), Consent.objects.count()) == minors
    assert _work_counts() == work
    assert "新建结对 0 对（其中逾期未走访 0 对），走访记录 0 条，强制报告 0 件；网吧 0 家" in second
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
    # Children entered by hand are never given a made-up history of pairings, visits or cases.
    assert not Pairing.objects.filter(region_codes.within_q("minor__region_id", "330182000000")).exists()
    assert not MentoringCase.objects.filter(region_id="330182000000").exists()
    assert Pairing.objects.filter(region_codes.within_q("minor__region_id", "330127000000")).exists()


# --- The 五老 ---------------------------------------------------------------------------------------


def test_demo_fills_each_county_with_volunteers_teams_and_hours_once(
    regions: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(monkeypatch, password="Demo-Pass-2026")
    assert DEMO_VOLUNTEERS == [("330127000000", 60, 11), ("330182000000", 60, 12)]
    chunan = Volunteer.objects.filter(region_codes.within_q("region_id", "330127000000"))
    jiande = Volunteer.objects.filter(region_codes.within_q("region_id", "330182000000"))
    # Besides the 60 generated per county, the online desk's pool tops each county up to 3 lawyers and 4
    # counsellors (consultations.generation.POOL_SIZE): the demo lawyer and counsellor count in 淳安县, and
    # one generated elder of 建德市 is a qualified professional already.
    assert (chunan.filter(user__isnull=True).count(), chunan.filter(user__isnull=False).count()) == (65, 3)
    assert (jiande.count(), Volunteer.objects.count()) == (66, 134)
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
    assert not Pairing.objects.filter(volunteer__in=jiande).exists()
    assert set(jiande.values_list("paired_count", flat=True)) == {0}
    # 60 generated, the three demo accounts' records and the online desk's 5 more professionals.
    assert Volunteer.objects.filter(region_codes.within_q("region_id", "330127000000")).count() == 68


# --- The work of the last months: pairings, visits, a mandatory report, cafés, a mentoring case ------------

CHUNAN, JIANDE, QIANDAOHU = "330127000000", "330182000000", "330127100000"


def _work_counts() -> tuple[int, ...]:
    return (
        Pairing.objects.count(),
        Visit.objects.count(),
        ServiceHours.objects.count(),
        MandatoryReport.objects.count(),
        InternetCafe.objects.count(),
        CafeInspection.objects.count(),
        CafeFinding.objects.count(),
        MentoringCase.objects.count(),
        CaseReview.objects.count(),
        Notification.objects.count(),
    )


def _pairing_consent_day(minor: Minor) -> datetime.date:
    return min(consent.given_on for consent in minor.consents.all() if consent.covers(ConsentScope.PAIRING))


def test_demo_pairs_part_of_the_children_under_every_hard_rule(
    regions: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = load(monkeypatch, password="Demo-Pass-2026")
    today = timezone.localdate()
    pairings = list(Pairing.objects.select_related("minor", "volunteer").prefetch_related("minor__consents"))
    assert f"新建结对 {len(pairings)} 对" in output
    assert {pairing.state for pairing in pairings} == {PairingState.ACTIVE}
    for county in (CHUNAN, JIANDE):
        may_be_paired = [
            minor
            for minor in Minor.objects.filter(region_codes.within_q("region_id", county), is_sealed=False)
            if has_pairing_consent(minor)
        ]
        paired = [pairing for pairing in pairings if region_codes.is_within(pairing.minor.region_id, county)]
        assert 0 < len(paired) < len(may_be_paired)  # part of the children, in both counties
    # The rest is left to staff: 千岛湖镇 still has children to propose and volunteers with places.
    assert proposals_compute(region_code=QIANDAOHU).proposed > 0

    for pairing in pairings:
        # Every hard rule holds today (the pairing's own place counted as taken).
        assert (
            pair_refusals(minor=pairing.minor, volunteer=pairing.volunteer, today=today, holds_place=True)
            == []
        )
        assert not pairing.minor.is_sealed
        volunteer = pairing.volunteer
        assert volunteer.joined_on is not None
        assert volunteer.check_date is not None
        # Begun after the guardian's consent, the volunteer's joining and background check.
        earliest = max(_pairing_consent_day(pairing.minor), volunteer.joined_on, volunteer.check_date)
        assert pairing.started_on is not None
        assert earliest <= pairing.started_on <= today
        assert pairing.explanation  # the engine's words: distance, fit, load
    for volunteer in Volunteer.objects.all():
        open_pairings = Pairing.objects.filter(volunteer=volunteer).exclude(state=PairingState.CLOSED).count()
        assert volunteer.paired_count == open_pairings
        assert volunteer.paired_count <= volunteer.max_children
        assert volunteer.paired_count == 0 or volunteer.status == Status.ACTIVE


def test_demo_visits_move_the_contact_dates_and_credit_the_volunteers_hours(
    regions: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = load(monkeypatch, password="Demo-Pass-2026")
    today = timezone.localdate()
    visits = list(Visit.objects.select_related("pairing"))
    assert f"走访记录 {len(visits)} 条" in output
    assert len(visits) > Pairing.objects.count()  # months of visits, not one each
    assert {visit.mode for visit in visits} == set(VisitMode.values)
    records = {record.source_key: record for record in ServiceHours.objects.filter(source=HoursSource.VISIT)}
    assert len(records) == len(visits)
    for visit in visits:
        assert visit.pairing.started_on is not None
        assert visit.pairing.started_on <= visit.visited_on <= today
        assert 0 < visit.duration_minutes <= 180
        record = records[f"visit:{visit.pk}"]
        assert (record.volunteer_id, record.served_on, record.hours, record.state) == (
            visit.pairing.volunteer_id,
            visit.visited_on,
            hours_of(visit.duration_minutes),
            HoursState.CONFIRMED,
        )
        assert record.description == f"走访结对儿童（{VisitMode(visit.mode).label}）"
        if not visit.concerns:
            assert visit.safety != Condition.CONCERN  # a safety concern opens a mandatory report
    seen = [(visit.pairing_id, visit.visited_on, visit.mode) for visit in visits]
    assert len(set(seen)) == len(seen)  # never the same pairing, day and mode twice
    for pairing in Pairing.objects.select_related("minor"):
        days = list(pairing.visits.values_list("visited_on", flat=True))
        assert pairing.last_contact_on == (max(days) if days else None)
        base = pairing.last_contact_on or pairing.started_on
        assert base is not None
        interval = datetime.timedelta(days=contact_interval_days(pairing.minor.risk_level))
        assert pairing.next_contact_due == base + interval
    for volunteer in Volunteer.objects.filter(pairings__isnull=False).distinct():
        confirmed = ServiceHours.objects.filter(volunteer=volunteer, state=HoursState.CONFIRMED)
        assert volunteer.hours_total == sum((record.hours for record in confirmed), Decimal("0"))


def test_demo_has_overdue_pairings_in_the_townships_list_and_one_open_mandatory_report(
    regions: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = load(monkeypatch, password="Demo-Pass-2026")
    today = timezone.localdate()
    overdue = Pairing.objects.filter(overdue_q(today))
    assert 0 < overdue.count() < Pairing.objects.count()
    assert f"其中逾期未走访 {overdue.count()} 对" in output
    for pairing in overdue.select_related("minor"):
        assert pairing.next_contact_due is not None
        assert pairing.next_contact_due < today
        base = pairing.last_contact_on or pairing.started_on
        assert base is not None
        assert (today - base).days > contact_interval_days(pairing.minor.risk_level)

    # What 千岛湖镇's overdue page lists and counts is that.
    in_township = set(
        overdue.filter(region_codes.within_q("minor__region_id", QIANDAOHU)).values_list("pk", flat=True)
    )
    township = actor_for_user(User.objects.get(username="demo-township"))
    assert set(overdue_pairings(actor=township, today=today).values_list("pk", flat=True)) == in_township
    assert sum(overdue_counts(QIANDAOHU, today).values()) == len(in_township) > 0

    report = MandatoryReport.objects.get()
    assert "强制报告 1 件" in output
    assert report.state == ReportState.OPEN
    assert report.deadline > timezone.now()
    visit = report.visit
    assert visit is not None
    assert (visit.visited_on, visit.concerns, visit.safety) == (
        today,
        SafetyConcern.NEGLECT | SafetyConcern.NO_CARER,
        Condition.CONCERN,
    )
    assert report.minor_id == visit.pairing.minor_id
    assert region_codes.is_within(report.minor.region_id, QIANDAOHU)
    assert Visit.objects.filter(concerns__gt=0).count() == 1
    alerted = Notification.objects.filter(topic=f"mandatory_report:{report.pk}", kind=Notification.Kind.ALERT)
    assert set(alerted.values_list("user__username", flat=True)) == {"demo-township", "demo-county-a"}


def test_demo_volunteer_sees_two_children_one_of_them_overdue_on_the_phone_page(
    regions: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(monkeypatch, password="Demo-Pass-2026")
    today = timezone.localdate()
    user = User.objects.get(username="demo-volunteer")
    pairings = Pairing.objects.filter(volunteer__user=user, state=PairingState.ACTIVE)
    overdue = set(pairings.filter(overdue_q(today)).values_list("pk", flat=True))
    assert pairings.count() >= 2
    assert 1 <= len(overdue) < pairings.count()
    # Visited for a while, then no contact within the interval.
    assert any(pairing.visits.exists() for pairing in pairings.filter(pk__in=overdue))

    page = verified_client(user).get("/visits/mine/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('id="child-') == pairings.count()
    assert 'id="overdue-alert"' in html
    assert {pk for pk in pairings.values_list("pk", flat=True) if f'id="overdue-{pk}"' in html} == overdue
    # The daily task's reminder, one per overdue pairing.
    reminders = Notification.objects.filter(user=user, kind=Notification.Kind.REMINDER)
    assert reminders.count() == len(overdue)


def test_demo_cafes_of_qiandaohu_have_inspections_and_one_open_finding(
    regions: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = load(monkeypatch, password="Demo-Pass-2026")
    today = timezone.localdate()
    cafes = InternetCafe.objects.filter(region_id=QIANDAOHU)
    assert (cafes.count(), InternetCafe.objects.count()) == (3, 3)
    inspections = CafeInspection.objects.filter(cafe__in=cafes)
    assert (inspections.count(), inspections.filter(has_finding=True).count()) == (5, 1)
    assert "网吧 3 家，巡查 5 次，待处理问题 1 件" in output
    assert all(
        today - datetime.timedelta(days=365) <= day <= today
        for day in inspections.values_list("inspected_on", flat=True)
    )
    finding = CafeFinding.objects.get()
    assert (finding.state, finding.county_id, finding.problems) == (
        FindingState.OPEN,
        CHUNAN,
        Problem.MINORS_PRESENT | Problem.NO_ID_CHECKS,
    )
    assert finding.deadline == today + datetime.timedelta(days=7)  # minors in a café: a week
    team = Team.objects.get(region_id=CHUNAN, kind=TeamKind.CAFE_SUPERVISORS)
    members = set(
        TeamMembership.objects.filter(team=team, left_on__isnull=True).values_list("volunteer_id", flat=True)
    )
    inspectors = list(CafeInspector.objects.values_list("volunteer_id", flat=True))
    assert len(inspectors) == 5 * 2
    assert set(inspectors) <= members
    assert ServiceHours.objects.filter(source_key__startswith="cafe_inspection:").count() == len(inspectors)
    alerted = Notification.objects.filter(topic=f"cafe_finding:{finding.pk}")
    assert list(alerted.values_list("user__username", flat=True)) == ["demo-county-a"]


def test_demo_opens_one_sealed_mentoring_case_with_the_county_admin_as_its_officer(
    regions: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = load(monkeypatch, password="Demo-Pass-2026")
    today = timezone.localdate()
    sealed = {
        county: Minor.objects.filter(region_codes.within_q("region_id", county), is_sealed=True)
        .exclude(special_kind="")
        .order_by("pk")
        .first()
        for county in (CHUNAN, JIANDE)
    }
    assert sealed[JIANDE] is not None  # the small tree's demo registry holds sealed records in 建德市
    county = CHUNAN if sealed[CHUNAN] is not None else JIANDE
    officer = {CHUNAN: "demo-county-a", JIANDE: "demo-county-b"}[county]
    case = MentoringCase.objects.select_related("officer", "minor").get()
    assert "帮教案件 1 件" in output
    assert "未建帮教案件" not in output
    assert (case.minor, case.region_id, case.officer.username, case.state) == (
        sealed[county],
        county,
        officer,
        "open",
    )
    assert not Pairing.objects.filter(minor__is_sealed=True).exists()
    assert CaseGoal.objects.filter(case=case).count() == 3
    opened = timezone.localtime(case.opened_at).date()
    months = (today.year - opened.year) * 12 + today.month - opened.month + 1
    reviewed = list(CaseReview.objects.filter(case=case).values_list("month", flat=True).order_by("month"))
    assert len(reviewed) == months >= 3  # one a month since the case was opened, this month included
    assert (reviewed[0], reviewed[-1]) == (opened.replace(day=1), today.replace(day=1))
    assert bool(case.correction_agency) == (case.minor.special_kind == SpecialKind.OFFENCE_OR_DRUGS)
    # Sealed: the officer sees it; the other county's admin and the province do not.
    other = "demo-county-b" if officer == "demo-county-a" else "demo-county-a"
    seen = {
        username: MentoringCase.objects.visible_to(
            actor_for_user(User.objects.get(username=username))
        ).exists()
        for username in (officer, other, "demo-province")
    }
    assert seen == {officer: True, other: False, "demo-province": False}
