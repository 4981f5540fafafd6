from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from guanai.audit.models import AuditEvent
from guanai.core.access import Actor, Role
from guanai.core.testing import Check, assert_authorization_matrix
from guanai.mentoring.models import AccessGrant, MentoringCase
from guanai.mentoring.services import access_grant_request, goal_add, mentor_assign
from guanai.mentoring.tests.conftest import user_with_role
from guanai.mentoring.tests.factories import (
    ORDINARY_ID,
    SEALED_ID,
    SEALED_NAME,
    ordinary_minor,
    sealed_minor,
    team_member,
)
from guanai.minors.tests.ids import id_number
from guanai.volunteers.models import Team, Volunteer

pytestmark = pytest.mark.django_db

API = "/api/v1/mentoring-cases"
OUTSIDERS = (
    "province_admin",
    "county_a_admin",
    "county_b_admin",
    "lawyer",
    "counsellor",
    "auditor",
    "system_admin",
)
NOT_MANAGERS = ("township_worker", "volunteer", "lawyer", "counsellor", "auditor", "system_admin")


def test_the_list_shows_ones_own_cases_with_the_name_masked(
    clients: dict[str, Client], case: MentoringCase
) -> None:
    listed = clients["township_worker"].get(f"{API}/").json()
    assert listed["count"] == 1
    (item,) = listed["items"]
    assert (item["reference"], item["youth_name"], item["region_code"], item["is_officer"]) == (
        case.reference,
        "陈*存",
        "330127000000",
        True,
    )
    assert clients["volunteer"].get(f"{API}/").json()["items"][0]["is_officer"] is False
    assert clients["volunteer"].get(f"{API}/?state=closed").json() == {"count": 0, "items": []}
    for persona in OUTSIDERS:
        assert clients[persona].get(f"{API}/").json() == {"count": 0, "items": []}, persona


def test_the_detail_gives_the_youth_to_the_officer_and_records_the_read(
    clients: dict[str, Client], case: MentoringCase
) -> None:
    detail = clients["township_worker"].get(f"{API}/{case.pk}").json()
    assert detail["youth"]["name"] == SEALED_NAME
    assert detail["youth"]["id_number"] == SEALED_ID[:6] + "********" + SEALED_ID[-4:]
    assert detail["youth"]["address"] == "浙江省杭州市淳安县千岛湖镇****"
    assert detail["youth"]["special_kind_label"] == "失足失范"
    assert (detail["access_basis"], detail["access_expires_at"]) == ("officer", None)
    assert [mentor["name"] for mentor in detail["mentors"]] == ["周帮教"]
    assert clients["volunteer"].get(f"{API}/{case.pk}").json()["access_basis"] == "mentor"
    events = AuditEvent.objects.filter(action="mentoring.view").order_by("id")
    assert [(event.actor_username, event.detail) for event in events] == [
        ("p-township", {"part": "case", "basis": "officer"}),
        ("p-volunteer", {"part": "case", "basis": "mentor"}),
    ]


def test_opening_through_the_api_tells_the_opener_only_the_reference(
    clients: dict[str, Client], personas: dict[str, Any], sealed: Any, mentor: Volunteer
) -> None:
    response = clients["county_a_admin"].post(
        f"{API}/",
        {"id_number": SEALED_ID, "officer_id": personas["township_worker"].pk, "mentor_ids": [mentor.pk]},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    case = MentoringCase.objects.get()
    assert body == {
        "id": case.pk,
        "reference": case.reference,
        "region_code": "330127000000",
        "officer": {"id": personas["township_worker"].pk, "name": "township_worker"},
    }
    assert SEALED_NAME not in response.content.decode()
    assert clients["county_a_admin"].get(f"{API}/{case.pk}").status_code == 404


def test_opening_for_an_ordinary_child_answers_like_an_unknown_number(
    clients: dict[str, Client], personas: dict[str, Any], regions: None
) -> None:
    ordinary_minor()
    answers = []
    for number in (ORDINARY_ID, SEALED_ID):
        response = clients["county_a_admin"].post(
            f"{API}/",
            {"id_number": number, "officer_id": personas["township_worker"].pk},
            content_type="application/json",
        )
        answers.append((response.status_code, response.json()))
    assert answers[0] == answers[1]
    assert answers[0][0] == 404
    assert answers[0][1]["fields"] == {
        "id_number": ["在您的管辖范围内没有该身份证号的特殊青少年（封存）记录。请核对号码。"]
    }


def test_reviews_through_the_api(clients: dict[str, Client], case: MentoringCase) -> None:
    month = timezone.localdate().strftime("%Y-%m-01")
    created = clients["volunteer"].post(
        f"{API}/{case.pk}/reviews",
        {"month": month, "progress_note": "按时报到"},
        content_type="application/json",
    )
    assert created.status_code == 201
    again = clients["township_worker"].post(
        f"{API}/{case.pk}/reviews",
        {"month": month, "progress_note": "再记一次"},
        content_type="application/json",
    )
    assert again.status_code == 409
    reviews = clients["township_worker"].get(f"{API}/{case.pk}/reviews").json()
    assert [
        (review["month"], review["progress_note"], review["recorded_by"]["name"]) for review in reviews
    ] == [(month[:7], "按时报到", "volunteer")]
    assert AuditEvent.objects.filter(action="mentoring.view", detail__part="reviews").count() == 1


def test_break_the_glass_through_the_api(
    clients: dict[str, Client], personas: dict[str, Any], case: MentoringCase
) -> None:
    response = clients["province_admin"].post(
        f"{API}/access-grants",
        {
            "reference": case.reference,
            "reason_code": "judicial_need",
            "reason_text": "法院来函（2026）第12号调阅",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    grant = AccessGrant.objects.get()
    body = response.json()
    assert (body["id"], body["case_id"], body["reference"], body["reason_code"]) == (
        grant.pk,
        case.pk,
        case.reference,
        "judicial_need",
    )
    # The JSON carries milliseconds.
    assert abs(datetime.datetime.fromisoformat(body["expires_at"]) - grant.expires_at) < datetime.timedelta(
        milliseconds=1
    )
    assert grant.expires_at - grant.granted_at == datetime.timedelta(hours=3)
    detail = clients["province_admin"].get(f"{API}/{case.pk}").json()
    assert detail["access_basis"] == "break_glass"
    assert detail["youth"]["name"] == SEALED_NAME


# --- The authorization matrix -----------------------------------------------------------------------


@pytest.fixture
def third_mentor(team: Team) -> Volunteer:
    return team_member(
        team, user=user_with_role("mentor-three", Role.VOLUNTEER, "330127100001"), name="王帮教"
    )


def test_authorization_matrix_of_the_api(
    clients: dict[str, Client],
    personas: dict[str, Any],
    actors: dict[str, Actor],
    case: MentoringCase,
    second_mentor: Volunteer,
    third_mentor: Volunteer,
) -> None:
    officer = actors["township_worker"]
    goal = goal_add(actor=officer, case_id=case.pk, description="复学")
    ended = mentor_assign(actor=officer, case_id=case.pk, volunteer_id=second_mentor.pk)
    grant = access_grant_request(
        actor=actors["county_a_admin"],
        reference=case.reference,
        reason_code="lawful_query",
        reason_text="公安机关依法查询函第 7 号",
    )
    second_sealed = sealed_minor(
        id_number=id_number(county="330127", birth="20091212", sequence=31), name="另一人"
    )
    secret = (SEALED_NAME, "另一人")
    month = timezone.localdate().strftime("%Y-%m-01")
    case_path = f"{API}/{case.pk}"
    opening = {
        "id_number": second_sealed.id_number,
        "officer_id": personas["township_worker"].pk,
        "mentor_ids": [],
    }
    officer_change = {"reference": case.reference, "officer_id": personas["township_worker"].pk}
    break_glass = {
        "reference": case.reference,
        "reason_code": "judicial_need",
        "reason_text": "法院来函（2026）第12号调阅",
    }
    writes: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", f"{case_path}/goals", {"description": "参加职业培训"}),
        ("PATCH", f"{case_path}/goals/{goal.pk}", {"status": "in_progress"}),
        ("POST", f"{case_path}/mentors", {"volunteer_id": third_mentor.pk}),
        ("POST", f"{case_path}/mentors/{ended.pk}/end", {}),
        ("PUT", f"{case_path}/correction", {"version": case.version, "agency": "千岛湖司法所"}),
        ("POST", f"{case_path}/close", {"version": case.version + 1, "outcome": "other", "note": "迁出"}),
    ]
    reads = [case_path, f"{case_path}/reviews"]
    review = ("POST", f"{case_path}/reviews", {"month": month, "progress_note": "按时报到"})
    checks: list[Check] = []
    # Not signed in: 401 everywhere.
    for method, path, data in [
        ("GET", f"{API}/", None),
        ("POST", f"{API}/", opening),
        ("POST", f"{API}/officer", officer_change),
        ("POST", f"{API}/access-grants", break_glass),
        ("POST", f"{API}/access-grants/{grant.pk}/revoke", {}),
        *[("GET", path, None) for path in reads],
        review,
        *writes,
    ]:
        checks.append(Check("anonymous", method, path, 401, data=data, must_not_contain=secret))
    # Nobody but the officer and the mentors sees the case: 404, as if it did not exist.
    for persona in OUTSIDERS:
        if persona == "county_a_admin":
            continue  # holds a grant; see below
        checks += [Check(persona, "GET", path, 404, must_not_contain=secret) for path in reads]
        checks += [Check(persona, method, path, 404, data=data) for method, path, data in [review, *writes]]
        checks.append(Check(persona, "POST", f"{API}/access-grants/{grant.pk}/revoke", 404, data={}))
        checks.append(Check(persona, "GET", f"{API}/", 200, must_not_contain=secret))
    # Opening a case and changing its officer: the mentoring managers of the region.
    for persona in NOT_MANAGERS:
        checks.append(Check(persona, "POST", f"{API}/", 403, data=opening, must_not_contain=secret))
        checks.append(Check(persona, "POST", f"{API}/officer", 403, data=officer_change))
    checks.append(Check("county_b_admin", "POST", f"{API}/", 404, data=opening, must_not_contain=secret))
    checks.append(Check("county_b_admin", "POST", f"{API}/officer", 404, data=officer_change))
    # The same person as officer: a field error, nothing changed.
    checks.append(Check("county_a_admin", "POST", f"{API}/officer", 422, data=officer_change))
    # Break-the-glass: the admins of the case's region.
    for persona in NOT_MANAGERS:
        checks.append(
            Check(persona, "POST", f"{API}/access-grants", 403, data=break_glass, must_not_contain=secret)
        )
    checks.append(Check("county_b_admin", "POST", f"{API}/access-grants", 404, data=break_glass))
    # A mentor reads and reviews, and may not do the officer's work.
    checks += [Check("volunteer", "GET", path, 200) for path in [f"{API}/", *reads]]
    checks += [Check("volunteer", method, path, 403, data=data) for method, path, data in writes]
    checks.append(Check("volunteer", "POST", f"{API}/access-grants/{grant.pk}/revoke", 404, data={}))
    checks.append(Check("volunteer", review[0], review[1], 201, data=review[2]))
    # The grant holder reads, and may not write.
    checks += [Check("county_a_admin", "GET", path, 200) for path in reads]
    checks += [
        Check("county_a_admin", method, path, 403, data=data) for method, path, data in [review, *writes]
    ]
    # The officer does everything, closing last.
    checks += [Check("township_worker", "GET", path, 200) for path in [f"{API}/", *reads]]
    checks.append(Check("township_worker", review[0], review[1], 409, data=review[2]))
    checks.append(Check("township_worker", "POST", f"{API}/access-grants/{grant.pk}/revoke", 200, data={}))
    statuses = [201, 200, 201, 200, 200, 200]
    checks += [
        Check("township_worker", method, path, status, data=data)
        for (method, path, data), status in zip(writes, statuses, strict=True)
    ]
    checks.append(Check("province_admin", "POST", f"{API}/access-grants", 201, data=break_glass))
    checks.append(Check("county_a_admin", "POST", f"{API}/", 201, data=opening, must_not_contain=secret))
    assert assert_authorization_matrix(clients, checks) == len(checks)
    assert MentoringCase.objects.get(pk=case.pk).state == "closed"
