"""The law's core (未成年人保护法 art.103, 刑事诉讼法 art.286): a case is seen by its officer and current
mentors, and by a user under an unexpired access grant; by nobody else, the province admin included."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from guanai.accounts.selectors import actor_for_user
from guanai.audit.models import AuditEvent
from guanai.core.access import Actor
from guanai.core.errors import NotFoundError, PermissionDeniedError
from guanai.core.testing import verified_client
from guanai.mentoring.models import AccessGrant, MentoringCase
from guanai.mentoring.selectors import case_get, case_list, cases_count
from guanai.mentoring.services import access_grant_request, access_grant_revoke, case_close, mentor_unassign
from guanai.mentoring.tests.factories import SEALED_ID, SEALED_NAME, sealed_minor
from guanai.mentoring.vocabulary import LawfulBasis
from guanai.minors.tests.factories import MinorFactory
from guanai.notifications.models import Notification
from guanai.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db

REASON = "（2026）浙0127刑初88号案件审理需要"


def visible_ids(actor: Actor) -> list[int]:
    return list(case_list(actor=actor).values_list("pk", flat=True))


def test_the_officer_and_the_current_mentor_see_the_case(
    actors: dict[str, Actor], case: MentoringCase
) -> None:
    assert visible_ids(actors["township_worker"]) == [case.pk]
    assert visible_ids(actors["volunteer"]) == [case.pk]
    assert case_get(actor=actors["township_worker"], case_id=case.pk).minor.name == SEALED_NAME


@pytest.mark.parametrize(
    "persona",
    [
        "province_admin",
        "county_a_admin",  # opened the case, but is not its officer
        "county_b_admin",
        "lawyer",
        "counsellor",
        "auditor",
        "system_admin",
    ],
)
def test_nobody_else_sees_the_case_whatever_their_role(
    actors: dict[str, Actor], case: MentoringCase, persona: str
) -> None:
    assert visible_ids(actors[persona]) == []
    with pytest.raises(NotFoundError):
        case_get(actor=actors[persona], case_id=case.pk)


def test_a_removed_mentor_loses_access_at_once(actors: dict[str, Actor], case: MentoringCase) -> None:
    mentor = case.mentors.get()
    mentor_unassign(actor=actors["township_worker"], case_id=case.pk, mentor_id=mentor.pk)
    assert visible_ids(actors["volunteer"]) == []
    with pytest.raises(NotFoundError):
        case_get(actor=actors["volunteer"], case_id=case.pk)
    assert visible_ids(actors["township_worker"]) == [case.pk]


def test_closing_ends_the_mentors_but_the_officer_keeps_the_case(
    actors: dict[str, Actor], case: MentoringCase
) -> None:
    case_close(
        actor=actors["township_worker"],
        case_id=case.pk,
        version=case.version,
        outcome="reintegrated",
        note="已复学",
    )
    assert visible_ids(actors["volunteer"]) == []
    assert visible_ids(actors["township_worker"]) == [case.pk]


def test_a_mentor_whose_volunteer_record_has_no_account_any_more_sees_nothing(
    actors: dict[str, Actor], case: MentoringCase, mentor: Volunteer
) -> None:
    Volunteer.objects.filter(pk=mentor.pk).update(user=None)
    assert visible_ids(actors["volunteer"]) == []


# --- Break-the-glass ------------------------------------------------------------------------------------


def test_break_the_glass_grants_exactly_three_hours_then_404_again(
    personas: dict[str, Any], actors: dict[str, Actor], case: MentoringCase
) -> None:
    province = actors["province_admin"]
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        grant = access_grant_request(
            actor=province,
            reference=case.reference,
            reason_code=LawfulBasis.JUDICIAL_NEED,
            reason_text=REASON,
        )
        assert grant.expires_at - grant.granted_at == datetime.timedelta(hours=3)
        assert visible_ids(province) == [case.pk]
    with time_machine.travel(start + datetime.timedelta(hours=2, minutes=59, seconds=59), tick=False):
        assert case_get(actor=province, case_id=case.pk).pk == case.pk
        client = verified_client(personas["province_admin"])
        assert client.get(f"/api/v1/mentoring-cases/{case.pk}").status_code == 200
        assert client.get(f"/mentoring/{case.pk}/").status_code == 200
    with time_machine.travel(start + datetime.timedelta(hours=3), tick=False):
        assert visible_ids(province) == []
        with pytest.raises(NotFoundError):
            case_get(actor=province, case_id=case.pk)
        client = verified_client(personas["province_admin"])
        response = client.get(f"/api/v1/mentoring-cases/{case.pk}")
        assert response.status_code == 404
        assert SEALED_NAME not in response.content.decode()
        assert client.get(f"/mentoring/{case.pk}/").status_code == 404


def test_break_the_glass_is_audited_with_the_reason_code_and_never_the_name(
    actors: dict[str, Actor], case: MentoringCase
) -> None:
    grant = access_grant_request(
        actor=actors["county_a_admin"],
        reference=case.reference.lower(),
        reason_code=LawfulBasis.LAWFUL_QUERY,
        reason_text=REASON,
    )
    event = AuditEvent.objects.get(action="mentoring.break_glass")
    assert event.outcome == "success"
    assert event.target_type == "mentoring.mentoringcase"
    assert event.target_id == str(case.pk)
    assert event.region_code == "330127000000"
    assert event.detail == {
        "reason_code": "lawful_query",
        "grant": grant.pk,
        "expires_at": grant.expires_at.isoformat(),
    }
    every_event = json.dumps(
        list(AuditEvent.objects.values("action", "detail", "changed_fields", "target_id")), ensure_ascii=False
    )
    assert SEALED_NAME not in every_event
    assert SEALED_ID not in every_event
    assert REASON not in every_event


def test_the_case_officer_is_told_of_the_break_the_glass(
    personas: dict[str, Any], actors: dict[str, Actor], case: MentoringCase
) -> None:
    access_grant_request(
        actor=actors["province_admin"],
        reference=case.reference,
        reason_code=LawfulBasis.CHILD_SAFETY,
        reason_text=REASON,
    )
    notification = Notification.objects.get(
        user=personas["township_worker"], topic__startswith="mentoring_break_glass"
    )
    assert notification.kind == "alert"
    assert notification.title == f"帮教案件 {case.reference} 被依法查阅"
    assert notification.body.startswith(
        "province_admin 以“未成年人人身安全的紧急需要”为由获得 3 小时查阅授权，至 "
    )
    assert notification.link == f"/mentoring/{case.pk}/"
    assert SEALED_NAME not in notification.title + notification.body


def test_break_the_glass_reads_are_audited_as_such(
    actors: dict[str, Actor], case: MentoringCase, clients: dict[str, Client]
) -> None:
    grant = access_grant_request(
        actor=actors["province_admin"],
        reference=case.reference,
        reason_code=LawfulBasis.JUDICIAL_NEED,
        reason_text=REASON,
    )
    assert clients["province_admin"].get(f"/api/v1/mentoring-cases/{case.pk}").status_code == 200
    event = AuditEvent.objects.filter(action="mentoring.view").get()
    assert event.detail == {"part": "case", "basis": "break_glass", "grant": grant.pk}
    assert event.actor_username == "p-province"


@pytest.mark.parametrize("persona", ["county_b_admin", "township_worker", "volunteer", "lawyer", "auditor"])
def test_break_the_glass_is_refused_without_the_permission_or_outside_the_region(
    actors: dict[str, Actor], case: MentoringCase, persona: str
) -> None:
    expected = NotFoundError if persona == "county_b_admin" else PermissionDeniedError
    with pytest.raises(expected):
        access_grant_request(
            actor=actors[persona], reference=case.reference, reason_code="judicial_need", reason_text=REASON
        )
    assert AccessGrant.objects.count() == 0


def test_an_unknown_reference_is_refused_and_the_attempt_recorded(
    actors: dict[str, Actor], case: MentoringCase
) -> None:
    with pytest.raises(NotFoundError) as refused:
        access_grant_request(
            actor=actors["province_admin"],
            reference="BJ-2026-AAAAAAAA",
            reason_code="judicial_need",
            reason_text=REASON,
        )
    assert refused.value.fields == {
        "reference": ["在您的管辖范围内没有该编号的帮教案件，请向案件承办人核对编号"]
    }
    event = AuditEvent.objects.get(action="mentoring.break_glass")
    assert (event.outcome, event.target_id, event.detail) == ("denied", "", {"reason_code": "judicial_need"})
    assert AccessGrant.objects.count() == 0


def test_a_revoked_grant_ends_access_before_its_time(actors: dict[str, Actor], case: MentoringCase) -> None:
    grant = access_grant_request(
        actor=actors["province_admin"],
        reference=case.reference,
        reason_code="judicial_need",
        reason_text=REASON,
    )
    access_grant_revoke(actor=actors["township_worker"], grant_id=grant.pk)
    assert visible_ids(actors["province_admin"]) == []
    assert (
        AuditEvent.objects.filter(action="mentoring.break_glass_revoked", target_id=str(case.pk)).count() == 1
    )


# --- Counting -------------------------------------------------------------------------------------------


def test_cases_are_counted_at_county_level_and_above_and_never_below(case: MentoringCase) -> None:
    assert cases_count(region_code="330127") == 1
    assert cases_count(region_code="330100000000") == 1
    assert cases_count(region_code="33") == 1
    assert cases_count(region_code="330182") == 0
    assert cases_count(region_code="330127100") is None
    assert cases_count(region_code="330127100219") is None
    with pytest.raises(ValueError, match="3301271"):
        cases_count(region_code="3301271")


def test_only_open_cases_are_counted_unless_asked(actors: dict[str, Actor], case: MentoringCase) -> None:
    case_close(
        actor=actors["township_worker"], case_id=case.pk, version=case.version, outcome="other", note="迁出"
    )
    assert cases_count(region_code="330127") == 0
    assert cases_count(region_code="330127", state=None) == 1


# --- Never in the registry --------------------------------------------------------------------------


def test_the_sealed_youth_is_in_no_list_or_search_of_the_registry(
    clients: dict[str, Client], case: MentoringCase
) -> None:
    MinorFactory(name="吴普通")
    for persona in ("county_a_admin", "province_admin", "township_worker"):
        client = clients[persona]
        listed = client.get("/api/v1/minors/?status=all").json()
        assert [item["name"] for item in listed["items"]] == ["吴普通"], persona
        assert listed["count"] == 1
        for query in (SEALED_ID, "chenfengcun", "cfc", "陈封存", "封存"):
            found = client.get("/api/v1/minors/", {"q": query, "status": "all"}).json()
            assert found == {"count": 0, "items": []}, (persona, query)
        page = client.get("/minors/", {"status": "all"})
        assert page.status_code == 200
        assert SEALED_NAME not in page.content.decode()
        searched = client.get("/minors/", {"q": SEALED_ID, "status": "all"})
        assert SEALED_NAME not in searched.content.decode()
        assert client.get(f"/minors/{case.minor_id}/").status_code == 404
        assert client.get(f"/api/v1/minors/{case.minor_id}").status_code == 404


def test_the_sealed_youth_is_in_no_list_even_without_a_case(
    clients: dict[str, Client], regions: None
) -> None:
    sealed_minor()
    listed = clients["county_a_admin"].get("/api/v1/minors/?status=all").json()
    assert listed == {"count": 0, "items": []}


def test_a_user_without_an_active_role_sees_no_case(personas: dict[str, Any], case: MentoringCase) -> None:
    officer = personas["township_worker"]
    officer.assignments.update(valid_to=datetime.date(2020, 12, 31))
    assert visible_ids(actor_for_user(officer)) == []
