from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from guanai.audit.models import AuditEvent
from guanai.core.access import Actor, Role
from guanai.core.testing import Check, assert_authorization_matrix
from guanai.mentoring.models import AccessGrant, CaseReview, MentoringCase
from guanai.mentoring.services import access_grant_request, goal_add, mentor_assign
from guanai.mentoring.tests.conftest import user_with_role
from guanai.mentoring.tests.factories import ORDINARY_ID, SEALED_ID, SEALED_NAME, ordinary_minor, team_member
from guanai.minors.models import Minor
from guanai.volunteers.models import Team, Volunteer

pytestmark = pytest.mark.django_db

# What differs between two answers to the same request: the CSRF token and the script nonce.
PER_RESPONSE = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"|nonce="[^"]*"')


def text(response: Any) -> str:
    return str(response.content.decode("utf-8"))


def test_my_cases_lists_the_officers_case_with_the_name_masked(
    clients: dict[str, Client], case: MentoringCase
) -> None:
    page = text(clients["township_worker"].get("/mentoring/"))
    assert case.reference in page
    assert "陈*存" in page
    assert SEALED_NAME not in page
    for persona in ("province_admin", "county_a_admin", "auditor"):
        other = text(clients[persona].get("/mentoring/"))
        assert case.reference not in other
        assert "您目前没有承办或参与的帮教案件。" in other


def test_the_case_page_shows_the_youth_to_the_officer_with_the_officers_forms(
    clients: dict[str, Client], case: MentoringCase, second_mentor: Volunteer
) -> None:
    page = text(clients["township_worker"].get(f"/mentoring/{case.pk}/"))
    assert f'<option value="{second_mentor.pk}">郑帮教（富城村村民委员会）</option>' in page
    assert ">周帮教（" not in page  # already a mentor of the case
    assert f'<dd class="col-sm-9" id="youth-name">{SEALED_NAME}</dd>' in page
    assert SEALED_ID not in page
    for form in (
        'id="goal-form"',
        'id="review-form"',
        'id="mentor-form"',
        'id="correction-form"',
        'id="close-form"',
    ):
        assert form in page
    assert 'id="grants"' in page
    assert AuditEvent.objects.get(action="mentoring.view").detail == {"part": "case", "basis": "officer"}


def test_a_mentor_sees_the_case_and_may_only_review(clients: dict[str, Client], case: MentoringCase) -> None:
    page = text(clients["volunteer"].get(f"/mentoring/{case.pk}/"))
    assert SEALED_NAME in page
    assert 'id="review-form"' in page
    for form in (
        'id="goal-form"',
        'id="mentor-form"',
        'id="correction-form"',
        'id="close-form"',
        'id="grants"',
    ):
        assert form not in page
    month = timezone.localdate().strftime("%Y-%m")
    response = clients["volunteer"].post(
        f"/mentoring/{case.pk}/reviews/",
        {"review-month": month, "review-progress_note": "本月按时报到，已找到实习岗位"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/mentoring/{case.pk}/"
    assert CaseReview.objects.get(case=case).progress_note == "本月按时报到，已找到实习岗位"
    again = clients["volunteer"].post(
        f"/mentoring/{case.pk}/reviews/", {"review-month": month, "review-progress_note": "再次"}, follow=True
    )
    assert "的月度评估已经记录" in text(again)


def test_opening_a_case_from_the_page(
    clients: dict[str, Client], personas: dict[str, Any], sealed: Minor, mentor: Volunteer
) -> None:
    form = text(clients["county_a_admin"].get("/mentoring/new/"))
    assert f'<option value="{personas["township_worker"].pk}">' in form
    assert "周帮教" in form
    response = clients["county_a_admin"].post(
        "/mentoring/new/",
        {
            "id_number": SEALED_ID,
            "officer_id": str(personas["township_worker"].pk),
            "mentor_ids": [str(mentor.pk)],
        },
        follow=True,
    )
    case = MentoringCase.objects.get()
    assert response.redirect_chain == [("/mentoring/", 302)]
    page = text(response)
    assert f"已立案，案件编号 {case.reference}，已通知承办人" in page
    assert SEALED_NAME not in page
    assert case.mentors.get().volunteer_id == mentor.pk


def test_above_the_county_the_open_page_leaves_the_mentors_to_the_officer(
    clients: dict[str, Client], personas: dict[str, Any], sealed: Minor, mentor: Volunteer
) -> None:
    form = text(clients["province_admin"].get("/mentoring/new/"))
    assert 'name="mentor_ids"' not in form
    assert "周帮教" not in form
    response = clients["province_admin"].post(
        "/mentoring/new/", {"id_number": SEALED_ID, "officer_id": str(personas["township_worker"].pk)}
    )
    assert response.status_code == 302
    case = MentoringCase.objects.get()
    assert (case.officer_id, case.mentors.count()) == (personas["township_worker"].pk, 0)


def test_the_open_page_gives_no_hint_whether_an_ordinary_child_has_the_number(
    clients: dict[str, Client], personas: dict[str, Any], regions: None
) -> None:
    data = {"id_number": ORDINARY_ID, "officer_id": str(personas["township_worker"].pk)}
    ordinary = ordinary_minor()
    with_child = clients["county_a_admin"].post("/mentoring/new/", data)
    ordinary.delete()
    without_child = clients["county_a_admin"].post("/mentoring/new/", data)
    assert with_child.status_code == without_child.status_code == 200
    assert PER_RESPONSE.sub("", text(with_child)) == PER_RESPONSE.sub("", text(without_child))
    assert "在您的管辖范围内没有该身份证号的特殊青少年（封存）记录。请核对号码。" in text(with_child)
    assert MentoringCase.objects.count() == 0


def test_break_the_glass_from_the_page(
    clients: dict[str, Client], personas: dict[str, Any], case: MentoringCase
) -> None:
    form = text(clients["province_admin"].get("/mentoring/access/"))
    assert "您将获得 3 小时的查阅权限，到期自动失效" in form
    assert "案件承办人会立即收到通知" in form
    refused = clients["province_admin"].post(
        "/mentoring/access/",
        {
            "reference": case.reference,
            "reason_code": "judicial_need",
            "reason_text": "法院来函（2026）第12号调阅",
        },
    )
    assert refused.status_code == 200  # the confirmation was not ticked
    assert AccessGrant.objects.count() == 0
    response = clients["province_admin"].post(
        "/mentoring/access/",
        {
            "reference": case.reference,
            "reason_code": "judicial_need",
            "reason_text": "法院来函（2026）第12号调阅",
            "confirmed": "on",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"/mentoring/{case.pk}/"
    page = text(clients["province_admin"].get(f"/mentoring/{case.pk}/"))
    assert 'id="grant-banner"' in page
    assert SEALED_NAME in page
    assert 'id="close-form"' not in page
    officer_page = text(clients["township_worker"].get(f"/mentoring/{case.pk}/"))
    assert "法院来函（2026）第12号调阅" in officer_page
    grant = AccessGrant.objects.get()
    assert clients["province_admin"].post(f"/mentoring/access/{grant.pk}/revoke/").status_code == 302
    assert clients["province_admin"].get(f"/mentoring/{case.pk}/").status_code == 404


def test_the_officer_closes_the_case_from_the_page(clients: dict[str, Client], case: MentoringCase) -> None:
    response = clients["township_worker"].post(
        f"/mentoring/{case.pk}/close/",
        {"close-version": str(case.version), "close-outcome": "reintegrated", "close-note": "已复学"},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.state, case.outcome) == ("closed", "reintegrated")
    assert clients["volunteer"].get(f"/mentoring/{case.pk}/").status_code == 404


# --- The authorization matrix -------------------------------------------------------------------------


def test_authorization_matrix_of_the_pages(
    clients: dict[str, Client],
    personas: dict[str, Any],
    actors: dict[str, Actor],
    case: MentoringCase,
    team: Team,
    second_mentor: Volunteer,
) -> None:
    officer = actors["township_worker"]
    goal = goal_add(actor=officer, case_id=case.pk, description="复学")
    ended = mentor_assign(actor=officer, case_id=case.pk, volunteer_id=second_mentor.pk)
    third = team_member(
        team, user=user_with_role("mentor-three", Role.VOLUNTEER, "330127100001"), name="王帮教"
    )
    grant = access_grant_request(
        actor=actors["county_a_admin"],
        reference=case.reference,
        reason_code="lawful_query",
        reason_text="公安机关依法查询函第 7 号",
    )
    month = timezone.localdate().strftime("%Y-%m")
    base = f"/mentoring/{case.pk}"
    writes: list[tuple[str, dict[str, str]]] = [
        (f"{base}/goals/", {"goal-description": "参加职业培训"}),
        (f"{base}/goals/{goal.pk}/", {f"goal-{goal.pk}-status": "in_progress"}),
        (f"{base}/mentors/", {"mentor-volunteer_id": str(third.pk)}),
        (f"{base}/mentors/{ended.pk}/end/", {}),
        (
            f"{base}/correction/",
            {"correction-version": str(case.version), "correction-agency": "千岛湖司法所"},
        ),
        (
            f"{base}/close/",
            {"close-version": str(case.version + 1), "close-outcome": "other", "close-note": "迁出"},
        ),
    ]
    review = (f"{base}/reviews/", {"review-month": month, "review-progress_note": "按时报到"})
    revoke = f"/mentoring/access/{grant.pk}/revoke/"
    manage_pages = ["/mentoring/new/", "/mentoring/officer/"]
    secret = (SEALED_NAME,)
    checks: list[Check] = []
    for path in ["/mentoring/", *manage_pages, "/mentoring/access/", f"{base}/"]:
        checks.append(Check("anonymous", "GET", path, 302))
    for path, form in [review, *writes, (revoke, {})]:
        checks.append(Check("anonymous", "POST", path, 302, form=form))
    for persona in ("province_admin", "county_b_admin", "lawyer", "counsellor", "auditor", "system_admin"):
        checks.append(Check(persona, "GET", "/mentoring/", 200, must_not_contain=secret))
        checks.append(Check(persona, "GET", f"{base}/", 404, must_not_contain=secret))
        checks += [
            Check(persona, "POST", path, 404, form=form) for path, form in [review, *writes, (revoke, {})]
        ]
    for persona in ("township_worker", "volunteer", "lawyer", "counsellor", "auditor", "system_admin"):
        checks += [Check(persona, "GET", path, 403) for path in [*manage_pages, "/mentoring/access/"]]
        checks.append(Check(persona, "POST", "/mentoring/new/", 403, form={"id_number": SEALED_ID}))
        checks.append(
            Check(
                persona,
                "POST",
                "/mentoring/access/",
                403,
                form={"reference": case.reference, "confirmed": "on"},
            )
        )
    for persona in ("province_admin", "county_a_admin", "county_b_admin"):
        checks += [Check(persona, "GET", path, 200) for path in [*manage_pages, "/mentoring/access/"]]
    # The mentor reads and reviews; the officer's work is refused.
    checks += [Check("volunteer", "GET", path, 200) for path in ["/mentoring/", f"{base}/"]]
    checks += [Check("volunteer", "POST", path, 403, form=form) for path, form in writes]
    checks.append(Check("volunteer", "POST", revoke, 404))
    checks.append(Check("volunteer", "POST", review[0], 302, form=review[1]))
    # The grant holder reads and may not write.
    checks.append(Check("county_a_admin", "GET", f"{base}/", 200))
    checks += [Check("county_a_admin", "POST", path, 403, form=form) for path, form in writes]
    # The officer does everything, closing last.
    checks += [Check("township_worker", "GET", path, 200) for path in ["/mentoring/", f"{base}/"]]
    checks.append(Check("township_worker", "POST", revoke, 302))
    checks += [Check("township_worker", "POST", path, 302, form=form) for path, form in writes]
    assert assert_authorization_matrix(clients, checks) == len(checks)
    case.refresh_from_db()
    assert (case.state, case.correction_agency, case.goals.count()) == ("closed", "千岛湖司法所", 2)
    assert case.mentors.filter(volunteer=third).exists()
    assert AccessGrant.objects.get().revoked_at is not None
