from __future__ import annotations

import datetime
import json
import re
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from guanai.audit.models import AuditEvent
from guanai.core.access import Actor, Role
from guanai.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from guanai.mentoring.models import CaseMentor, CaseReview, MentoringCase
from guanai.mentoring.selectors import mentor_candidates, normalise_reference
from guanai.mentoring.services import (
    access_grant_request,
    case_close,
    case_officer_change,
    case_open,
    correction_update,
    goal_add,
    goal_update,
    mentor_assign,
    review_record,
)
from guanai.mentoring.tests.conftest import user_with_role
from guanai.mentoring.tests.factories import (
    ORDINARY_ID,
    OTHER_COUNTY_SEALED_ID,
    SEALED_ID,
    SEALED_NAME,
    leave_team,
    mentoring_team,
    ordinary_minor,
    sealed_minor,
    team_member,
)
from guanai.minors.models import Minor
from guanai.minors.tests.factories import COMMUNITY_B
from guanai.notifications.models import Notification
from guanai.volunteers.models import Team, Volunteer
from guanai.volunteers.vocabulary import CheckResult

pytestmark = pytest.mark.django_db

NOT_FOUND = "在您的管辖范围内没有该身份证号的特殊青少年（封存）记录。请核对号码。"


def open_case(actors: dict[str, Actor], personas: dict[str, Any], **values: Any) -> MentoringCase:
    arguments: dict[str, Any] = {
        "actor": actors["county_a_admin"],
        "id_number": SEALED_ID,
        "officer_id": personas["township_worker"].pk,
    }
    return case_open(**{**arguments, **values})


# --- Opening --------------------------------------------------------------------------------------------


def test_opening_a_case_from_the_id_number_of_a_sealed_record(
    actors: dict[str, Actor], personas: dict[str, Any], sealed: Minor, mentor: Volunteer
) -> None:
    case = open_case(actors, personas, id_number=f" {SEALED_ID.lower()} ", mentor_ids=[mentor.pk, mentor.pk])
    assert (case.minor_id, case.region_id, case.officer_id, case.state) == (
        sealed.pk,
        "330127000000",
        personas["township_worker"].pk,
        "open",
    )
    assert re.fullmatch(
        rf"BJ-{timezone.localdate().year}-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{{8}}", case.reference
    )
    assert case.opened_by == personas["county_a_admin"]
    assert list(case.mentors.values_list("volunteer_id", "ended_on")) == [(mentor.pk, None)]
    event = AuditEvent.objects.get(action="mentoring.open")
    assert (event.target_id, event.region_code, event.changed_fields, event.detail) == (
        str(case.pk),
        "330127000000",
        ["minor", "officer", "mentors"],
        {"mentors": 1},
    )
    told = Notification.objects.filter(topic__startswith="mentoring_case").order_by("user_id")
    assert sorted((n.user_id, n.title) for n in told) == sorted(
        [
            (personas["township_worker"].pk, f"您承办的帮教案件 {case.reference} 已立案"),
            (personas["volunteer"].pk, f"您已被指派为帮教案件 {case.reference} 的帮教人"),
        ]
    )
    assert SEALED_NAME not in json.dumps([n.title + n.body for n in told], ensure_ascii=False)


def test_an_ordinary_child_an_unknown_number_and_another_countys_youth_get_the_same_answer(
    actors: dict[str, Actor], personas: dict[str, Any], regions: None
) -> None:
    ordinary_minor()
    sealed_minor(id_number=OTHER_COUNTY_SEALED_ID, region_id=COMMUNITY_B, name="外县青少年")
    answers = []
    for number in (ORDINARY_ID, SEALED_ID, OTHER_COUNTY_SEALED_ID):
        with pytest.raises(NotFoundError) as refused:
            open_case(actors, personas, id_number=number)
        answers.append((refused.value.message, refused.value.fields))
    assert answers == [(NOT_FOUND, {"id_number": [NOT_FOUND]})] * 3
    assert MentoringCase.objects.count() == 0


def test_a_sealed_record_without_a_special_kind_or_closed_is_not_opened(
    actors: dict[str, Actor], personas: dict[str, Any], regions: None
) -> None:
    minor = sealed_minor(special_kind="")
    with pytest.raises(NotFoundError):
        open_case(actors, personas)
    Minor.objects.filter(pk=minor.pk).update(special_kind="misconduct", status="closed", closed_reason="迁出")
    with pytest.raises(NotFoundError):
        open_case(actors, personas)


def test_a_malformed_id_number_is_a_field_error(
    actors: dict[str, Actor], personas: dict[str, Any], sealed: Minor
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        open_case(actors, personas, id_number="330127201006111234")
    assert list(refused.value.fields) == ["id_number"]


@pytest.mark.parametrize("persona", ["township_worker", "volunteer", "lawyer", "auditor", "system_admin"])
def test_only_mentoring_managers_open_cases(
    actors: dict[str, Actor], personas: dict[str, Any], sealed: Minor, persona: str
) -> None:
    with pytest.raises(PermissionDeniedError):
        open_case(actors, personas, actor=actors[persona])


def test_the_province_and_the_city_may_open_a_case_of_their_county(
    actors: dict[str, Actor], personas: dict[str, Any], sealed: Minor
) -> None:
    case = open_case(actors, personas, actor=actors["province_admin"])
    assert case.region_id == "330127000000"


@pytest.mark.parametrize(
    ("officer", "why"),
    [
        ("county_b_admin", "another county's admin"),
        ("province_admin", "the province, above the county"),
        ("volunteer", "not staff"),
        ("lawyer", "not staff"),
    ],
)
def test_the_officer_is_a_staff_user_of_the_county(
    actors: dict[str, Actor], personas: dict[str, Any], sealed: Minor, officer: str, why: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        open_case(actors, personas, officer_id=personas[officer].pk)
    assert refused.value.fields == {
        "officer_id": ["承办人须为本县（市、区）在职的县级或乡镇（街道）工作人员"]
    }, why


def test_the_county_admin_may_be_the_officer(
    actors: dict[str, Actor], personas: dict[str, Any], sealed: Minor
) -> None:
    case = open_case(actors, personas, officer_id=personas["county_a_admin"].pk)
    assert case.officer_id == personas["county_a_admin"].pk


def test_one_open_case_per_youth(
    actors: dict[str, Actor], personas: dict[str, Any], case: MentoringCase
) -> None:
    with pytest.raises(ConflictError):
        open_case(actors, personas)
    case_close(
        actor=actors["township_worker"], case_id=case.pk, version=case.version, outcome="other", note="迁出"
    )
    assert open_case(actors, personas).pk != case.pk


# --- Mentors --------------------------------------------------------------------------------------------


def test_mentors_are_members_of_a_mentoring_team_with_a_valid_check_and_an_account(
    actors: dict[str, Actor], personas: dict[str, Any], case: MentoringCase, team: Team
) -> None:
    officer = actors["township_worker"]
    care_team = mentoring_team("330182000000")  # 建德市: another county
    outsider = team_member(care_team, user=user_with_role("outsider", Role.VOLUNTEER, COMMUNITY_B))
    expired = team_member(team, user=user_with_role("expired", Role.VOLUNTEER, "330127100001"))
    Volunteer.objects.filter(pk=expired.pk).update(
        check_date=timezone.localdate() - datetime.timedelta(days=366)
    )
    flagged = team_member(team, user=user_with_role("flagged", Role.VOLUNTEER, "330127100001"))
    Volunteer.objects.filter(pk=flagged.pk).update(check_result=CheckResult.FLAGGED)
    no_account = team_member(team, user=None)
    left = team_member(team, user=user_with_role("left", Role.VOLUNTEER, "330127100001"))
    leave_team(left)
    expected = {
        outsider.pk: "不是本县（市、区）或上级帮教团的在队成员",
        expired.pk: "没有一年内“无不良记录”的背景审查",
        flagged.pk: "没有一年内“无不良记录”的背景审查",
        no_account.pk: "尚未开通登录账号，无法查看案件",
        left.pk: "不是本县（市、区）或上级帮教团的在队成员",
    }
    for volunteer_id, reason in expected.items():
        with pytest.raises(ValidationFailed) as refused:
            mentor_assign(actor=officer, case_id=case.pk, volunteer_id=volunteer_id)
        assert refused.value.fields["volunteer_id"][0].endswith("不能担任帮教人：" + reason)
    assert case.mentors.count() == 1
    assert set(mentor_candidates(county_code="330127000000").values_list("pk", flat=True)) == {
        case.mentors.get().volunteer_id
    }


def test_a_city_mentoring_team_serves_its_counties(actors: dict[str, Actor], case: MentoringCase) -> None:
    city_team = mentoring_team("330100000000")
    member = team_member(city_team, user=user_with_role("city-mentor", Role.VOLUNTEER, "330127100001"))
    mentor = mentor_assign(actor=actors["township_worker"], case_id=case.pk, volunteer_id=member.pk)
    assert mentor.started_on == timezone.localdate()
    event = AuditEvent.objects.get(action="mentoring.mentor_assigned")
    assert event.detail == {"volunteer": member.pk}


def test_only_the_officer_manages_the_mentors_and_the_plan(
    actors: dict[str, Actor], case: MentoringCase, second_mentor: Volunteer
) -> None:
    with pytest.raises(PermissionDeniedError):
        mentor_assign(actor=actors["volunteer"], case_id=case.pk, volunteer_id=second_mentor.pk)
    with pytest.raises(PermissionDeniedError):
        goal_add(actor=actors["volunteer"], case_id=case.pk, description="复学")
    with pytest.raises(NotFoundError):
        mentor_assign(actor=actors["county_a_admin"], case_id=case.pk, volunteer_id=second_mentor.pk)
    with pytest.raises(NotFoundError):
        goal_add(actor=actors["province_admin"], case_id=case.pk, description="复学")
    mentor_assign(actor=actors["township_worker"], case_id=case.pk, volunteer_id=second_mentor.pk)
    with pytest.raises(ConflictError):
        mentor_assign(actor=actors["township_worker"], case_id=case.pk, volunteer_id=second_mentor.pk)
    assert CaseMentor.objects.filter(case=case, ended_on__isnull=True).count() == 2


def test_a_break_the_glass_reader_may_read_but_not_write(
    actors: dict[str, Actor], case: MentoringCase
) -> None:
    province = actors["province_admin"]
    access_grant_request(
        actor=province,
        reference=case.reference,
        reason_code="judicial_need",
        reason_text="法院来函调阅帮教记录",
    )
    with pytest.raises(PermissionDeniedError):
        goal_add(actor=province, case_id=case.pk, description="复学")
    with pytest.raises(PermissionDeniedError):
        review_record(actor=province, case_id=case.pk, month=timezone.localdate(), progress_note="x")


# --- The plan, reviews, correction, closing ----------------------------------------------------------


def test_goals_are_added_and_updated_by_the_officer(actors: dict[str, Actor], case: MentoringCase) -> None:
    officer = actors["township_worker"]
    goal = goal_add(
        actor=officer, case_id=case.pk, description=" 九月复学 ", due_on=datetime.date(2026, 9, 1)
    )
    goal_update(actor=officer, case_id=case.pk, goal_id=goal.pk, status="achieved")
    goal.refresh_from_db()
    assert (goal.description, goal.status) == ("九月复学", "achieved")
    with pytest.raises(ValidationFailed):
        goal_update(actor=officer, case_id=case.pk, goal_id=goal.pk, status="finished")
    with pytest.raises(ValidationFailed):
        goal_add(actor=officer, case_id=case.pk, description="  ")
    assert list(
        AuditEvent.objects.filter(action__startswith="mentoring.goal")
        .order_by("id")
        .values_list("action", flat=True)
    ) == [
        "mentoring.goal_added",
        "mentoring.goal_updated",
    ]


def test_one_review_a_month_by_the_officer_or_a_mentor(actors: dict[str, Actor], case: MentoringCase) -> None:
    today = timezone.localdate()
    review = review_record(
        actor=actors["volunteer"], case_id=case.pk, month=today, progress_note="按时报到，情绪稳定"
    )
    assert review.month == today.replace(day=1)
    with pytest.raises(ConflictError) as taken:
        review_record(
            actor=actors["township_worker"], case_id=case.pk, month=today.replace(day=1), progress_note="x"
        )
    assert taken.value.message == f"{today.year}年{today.month}月的月度评估已经记录"
    assert CaseReview.objects.filter(case=case).count() == 1
    event = AuditEvent.objects.get(action="mentoring.review")
    assert event.detail == {"month": today.strftime("%Y-%m")}
    assert "情绪稳定" not in json.dumps(event.detail, ensure_ascii=False)


def test_reviews_are_for_months_from_the_opening_to_now(
    actors: dict[str, Actor], personas: dict[str, Any], sealed: Minor
) -> None:
    with time_machine.travel(datetime.datetime(2026, 3, 20, 10, tzinfo=datetime.UTC), tick=False):
        case = open_case(actors, personas)
    with time_machine.travel(datetime.datetime(2026, 5, 10, 10, tzinfo=datetime.UTC), tick=False):
        officer = actors["township_worker"]
        for month, field in ((datetime.date(2026, 2, 1), "month"), (datetime.date(2026, 6, 1), "month")):
            with pytest.raises(ValidationFailed) as refused:
                review_record(actor=officer, case_id=case.pk, month=month, progress_note="x")
            assert list(refused.value.fields) == [field]
        for day in (datetime.date(2026, 3, 31), datetime.date(2026, 4, 15), datetime.date(2026, 5, 1)):
            review_record(actor=officer, case_id=case.pk, month=day, progress_note="按月联系")
    assert list(case.reviews.order_by("month").values_list("month", flat=True)) == [
        datetime.date(2026, 3, 1),
        datetime.date(2026, 4, 1),
        datetime.date(2026, 5, 1),
    ]


def test_the_progress_note_is_encrypted_at_rest(actors: dict[str, Actor], case: MentoringCase) -> None:
    from django.db import connection

    review_record(
        actor=actors["township_worker"], case_id=case.pk, month=timezone.localdate(), progress_note="按时报到"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT progress_note FROM mentoring_casereview")
        (stored,) = cursor.fetchone()
    assert "按时报到" not in stored
    assert stored.startswith("test1$")


def test_community_correction_details_with_optimistic_concurrency(
    actors: dict[str, Actor], case: MentoringCase
) -> None:
    officer = actors["township_worker"]
    updated = correction_update(
        actor=officer,
        case_id=case.pk,
        version=case.version,
        agency="淳安县司法局千岛湖司法所",
        officer_name="方矫正",
        starts_on=datetime.date(2026, 1, 1),
        ends_on=datetime.date(2026, 12, 31),
    )
    assert updated.version == case.version + 1
    with pytest.raises(ConflictError):
        correction_update(
            actor=officer,
            case_id=case.pk,
            version=case.version,
            agency="",
            officer_name="",
            starts_on=None,
            ends_on=None,
        )
    with pytest.raises(ValidationFailed) as refused:
        correction_update(
            actor=officer,
            case_id=case.pk,
            version=updated.version,
            agency="",
            officer_name="",
            starts_on=datetime.date(2026, 5, 1),
            ends_on=datetime.date(2026, 4, 1),
        )
    assert list(refused.value.fields) == ["ends_on"]
    event = AuditEvent.objects.get(action="mentoring.correction_updated")
    assert event.changed_fields == [
        "correction_agency",
        "correction_officer_name",
        "correction_starts_on",
        "correction_ends_on",
    ]


def test_closing_needs_an_outcome_and_a_note_and_happens_once(
    actors: dict[str, Actor], case: MentoringCase
) -> None:
    officer = actors["township_worker"]
    with pytest.raises(ValidationFailed) as refused:
        case_close(actor=officer, case_id=case.pk, version=case.version, outcome="finished", note=" ")
    assert sorted(refused.value.fields) == ["note", "outcome"]
    with pytest.raises(PermissionDeniedError):
        case_close(
            actor=actors["volunteer"], case_id=case.pk, version=case.version, outcome="other", note="x"
        )
    closed = case_close(
        actor=officer, case_id=case.pk, version=case.version, outcome="correction_completed", note="矫正期满"
    )
    assert (closed.state, closed.outcome, closed.outcome_note) == (
        "closed",
        "correction_completed",
        "矫正期满",
    )
    assert closed.closed_by_id == officer.user.pk  # type: ignore[union-attr]
    assert CaseMentor.objects.get(case=case).ended_on == timezone.localdate()
    with pytest.raises(ConflictError):
        case_close(actor=officer, case_id=case.pk, version=closed.version, outcome="other", note="x")
    with pytest.raises(ConflictError):
        review_record(actor=officer, case_id=case.pk, month=timezone.localdate(), progress_note="x")


# --- Changing the officer -------------------------------------------------------------------------


def test_the_county_gives_the_case_another_officer_by_its_reference(
    actors: dict[str, Actor], personas: dict[str, Any], case: MentoringCase
) -> None:
    new_officer = user_with_role("township-two", Role.TOWNSHIP_ADMIN, "330127100000")
    changed = case_officer_change(
        actor=actors["county_a_admin"], reference=case.reference.replace("-", " "), officer_id=new_officer.pk
    )
    assert changed.officer_id == new_officer.pk
    assert MentoringCase.objects.visible_to(actors["township_worker"]).count() == 0
    assert Notification.objects.filter(user=new_officer, title__contains=case.reference).count() == 1
    assert (
        Notification.objects.filter(
            user=personas["township_worker"], title__contains="已移交他人承办"
        ).count()
        == 1
    )
    with pytest.raises(NotFoundError):
        case_officer_change(
            actor=actors["county_b_admin"], reference=case.reference, officer_id=new_officer.pk
        )
    with pytest.raises(PermissionDeniedError):
        case_officer_change(
            actor=actors["township_worker"], reference=case.reference, officer_id=new_officer.pk
        )


def test_references_are_read_as_people_type_them() -> None:
    assert normalise_reference(" bj-2026-7kq4m9xt ") == "BJ-2026-7KQ4M9XT"
    assert normalise_reference("BJ－2026－7KQ4M9XT") == "BJ-2026-7KQ4M9XT"
    assert normalise_reference("bj 2026 7kq4m9xt") == "BJ-2026-7KQ4M9XT"
    assert normalise_reference("BJ20267KQ4M9XT") == "BJ-2026-7KQ4M9XT"
    assert normalise_reference("7KQ4") == "7KQ4"
