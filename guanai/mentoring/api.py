"""The JSON API of mentoring cases, at /api/v1/mentoring-cases.

Operations on a case declare SIGNED_IN: whether the caller may see the case is decided per case by
`MentoringCase.objects.visible_to` (officer, current mentors, an unexpired access grant), and a case they
may not see answers 404 like one that does not exist. Opening a case and changing its officer need
MENTORING_MANAGE; break-the-glass needs MENTORING_BREAK_GLASS. Every read of a case is an audit event.
There is no search and no export.
"""

import datetime
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query, Status

from guanai.accounts.models import User
from guanai.core.access import Actor, Permission, request_actor, requires
from guanai.core.api import MAX_OFFSET, Router, responses
from guanai.core.schema import Schema
from guanai.mentoring import display
from guanai.mentoring.models import AccessGrant, CaseGoal, CaseMentor, CaseReview, MentoringCase
from guanai.mentoring.selectors import (
    AccessBasis,
    access_basis,
    active_grant,
    case_get,
    case_list,
    case_view,
)
from guanai.mentoring.services import (
    access_grant_request,
    access_grant_revoke,
    case_close,
    case_officer_change,
    case_open,
    correction_update,
    goal_add,
    goal_update,
    mentor_assign,
    mentor_unassign,
    review_record,
)

router = Router(tags=["mentoring"])

OutcomeValue = Literal[
    "reintegrated", "correction_completed", "aged_out", "moved_away", "reoffended", "other"
]
GoalStatusValue = Literal["planned", "in_progress", "achieved", "dropped"]
LawfulBasisValue = Literal["judicial_need", "lawful_query", "child_safety", "case_continuity"]


# --- Schemas -------------------------------------------------------------------------------------------


class PersonOut(Schema):
    id: int
    name: str


class CaseSummaryOut(Schema):
    id: int
    reference: str
    state: Literal["open", "closed"]
    youth_name: str = Field(..., description="已脱敏（如 张*明）；全名只在案件详情中给出")
    region_code: str = Field(..., description="所在县（市、区）的 12 位区划代码")
    region_name: str
    officer: PersonOut
    opened_at: datetime.datetime
    is_officer: bool = Field(..., description="调用者是否为本案承办人")


class CasePageOut(Schema):
    count: int
    items: list[CaseSummaryOut]


class CaseFilter(Schema):
    state: Literal["open", "closed", "all"] = "all"
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class YouthOut(Schema):
    name: str
    gender: str
    birth_date: datetime.date
    age: int
    id_number: str = Field(..., description="已脱敏")
    address: str = Field(..., description="已脱敏")
    village: str
    school: str
    special_kind: str
    special_kind_label: str


class GoalOut(Schema):
    id: int
    description: str
    status: GoalStatusValue
    due_on: datetime.date | None


class MentorOut(Schema):
    id: int
    volunteer_id: int
    name: str
    started_on: datetime.date
    ended_on: datetime.date | None


class CorrectionOut(Schema):
    agency: str
    officer_name: str
    starts_on: datetime.date | None
    ends_on: datetime.date | None


class CaseDetailOut(Schema):
    id: int
    reference: str
    state: Literal["open", "closed"]
    region_code: str
    region_name: str
    officer: PersonOut
    opened_at: datetime.datetime
    youth: YouthOut
    goals: list[GoalOut]
    mentors: list[MentorOut]
    correction: CorrectionOut
    outcome: str
    outcome_note: str
    closed_at: datetime.datetime | None
    version: int
    access_basis: Literal["officer", "mentor", "break_glass"]
    access_expires_at: datetime.datetime | None = Field(
        None, description="依法查阅授权的截止时间（仅在通过授权查看时给出）"
    )


class CaseOpenIn(Schema):
    id_number: str = Field(..., max_length=30, description="特殊青少年（封存记录）的公民身份号码")
    officer_id: int = Field(
        ..., description="承办人：本县（市、区）在职的县级或乡镇（街道）工作人员的用户 ID"
    )
    mentor_ids: list[int] = Field(default_factory=list, description="帮教人：帮教团成员的志愿者 ID")


class CaseOpenedOut(Schema):
    """What the person who opened a case (or changed its officer) learns: not the case itself, which they
    may not see unless they are its officer."""

    id: int
    reference: str
    region_code: str
    officer: PersonOut


class OfficerChangeIn(Schema):
    reference: str = Field(..., max_length=30, description="案件编号，如 BJ-2026-7KQ4M9XT")
    officer_id: int


class ReviewIn(Schema):
    month: datetime.date = Field(..., description="评估月份（该月任意一天，按月记录）")
    progress_note: str = Field(..., min_length=1, max_length=2000)


class ReviewOut(Schema):
    id: int
    month: str = Field(..., description="YYYY-MM")
    progress_note: str
    recorded_by: PersonOut
    recorded_at: datetime.datetime


class GoalIn(Schema):
    description: str = Field(..., min_length=1, max_length=500)
    due_on: datetime.date | None = None


class GoalPatch(Schema):
    status: GoalStatusValue


class MentorIn(Schema):
    volunteer_id: int


class CorrectionIn(Schema):
    version: int = Field(..., ge=1)
    agency: str = Field("", max_length=100)
    officer_name: str = Field("", max_length=50)
    starts_on: datetime.date | None = None
    ends_on: datetime.date | None = None


class CloseIn(Schema):
    version: int = Field(..., ge=1)
    outcome: OutcomeValue
    note: str = Field(..., min_length=1, max_length=2000)


class AccessGrantIn(Schema):
    reference: str = Field(..., max_length=30, description="案件编号，由案件承办人提供")
    reason_code: LawfulBasisValue
    reason_text: str = Field(..., min_length=1, max_length=500, description="具体说明，如案号、来函文号")


class AccessGrantOut(Schema):
    id: int
    case_id: int
    reference: str
    reason_code: str
    granted_at: datetime.datetime
    expires_at: datetime.datetime
    revoked_at: datetime.datetime | None


# --- Building the answers ------------------------------------------------------------------------------


def _person(user: User) -> PersonOut:
    return PersonOut(id=user.pk, name=str(user))


def _summary(case: MentoringCase, actor: Actor) -> CaseSummaryOut:
    return CaseSummaryOut(
        id=case.pk,
        reference=case.reference,
        state=case.state,  # type: ignore[arg-type]
        youth_name=display.masked_youth_name(case),
        region_code=case.region_id,
        region_name=case.region.name,
        officer=_person(case.officer),
        opened_at=case.opened_at,
        is_officer=actor.user is not None and case.officer_id == actor.user.pk,
    )


def _opened(case: MentoringCase) -> CaseOpenedOut:
    return CaseOpenedOut(
        id=case.pk, reference=case.reference, region_code=case.region_id, officer=_person(case.officer)
    )


def _goal(goal: CaseGoal) -> GoalOut:
    return GoalOut(id=goal.pk, description=goal.description, status=goal.status, due_on=goal.due_on)  # type: ignore[arg-type]


def _mentor(mentor: CaseMentor) -> MentorOut:
    return MentorOut(
        id=mentor.pk,
        volunteer_id=mentor.volunteer_id,
        name=mentor.volunteer.name,
        started_on=mentor.started_on,
        ended_on=mentor.ended_on,
    )


def _review(review: CaseReview) -> ReviewOut:
    return ReviewOut(
        id=review.pk,
        month=review.month.strftime("%Y-%m"),
        progress_note=review.progress_note,
        recorded_by=_person(review.recorded_by),
        recorded_at=review.recorded_at,
    )


def _grant(grant: AccessGrant) -> AccessGrantOut:
    return AccessGrantOut(
        id=grant.pk,
        case_id=grant.case_id,
        reference=grant.case.reference,
        reason_code=grant.reason_code,
        granted_at=grant.granted_at,
        expires_at=grant.expires_at,
        revoked_at=grant.revoked_at,
    )


def _detail(case: MentoringCase, actor: Actor) -> CaseDetailOut:
    youth = display.youth_on_case(case)
    basis = access_basis(actor=actor, case=case)
    grant = active_grant(actor=actor, case=case) if basis == AccessBasis.BREAK_GLASS else None
    return CaseDetailOut(
        id=case.pk,
        reference=case.reference,
        state=case.state,  # type: ignore[arg-type]
        region_code=case.region_id,
        region_name=case.region.name,
        officer=_person(case.officer),
        opened_at=case.opened_at,
        youth=YouthOut(**youth.__dict__),
        goals=[_goal(goal) for goal in case.goals.all()],
        mentors=[_mentor(mentor) for mentor in case.mentors.all()],
        correction=CorrectionOut(
            agency=case.correction_agency,
            officer_name=case.correction_officer_name,
            starts_on=case.correction_starts_on,
            ends_on=case.correction_ends_on,
        ),
        outcome=case.outcome,
        outcome_note=case.outcome_note,
        closed_at=case.closed_at,
        version=case.version,
        access_basis=basis.value,
        access_expires_at=grant.expires_at if grant is not None else None,
    )


# --- Operations ----------------------------------------------------------------------------------------
# Each input schema's fields are named like its service's arguments, which take `**payload.model_dump()`.


@router.get(
    "/",
    response=responses(CasePageOut),
    operation_id="mentoring_cases_list",
    summary="我的帮教案件（仅本人承办、帮教或依法获准查阅的案件）",
)
@requires(Permission.SIGNED_IN)
def mentoring_cases_list(request: HttpRequest, filters: Query[CaseFilter]) -> CasePageOut:
    actor = request_actor(request)
    cases = case_list(actor=actor, state=None if filters.state == "all" else filters.state)
    page = list(cases[filters.offset : filters.offset + filters.limit])
    return CasePageOut(count=cases.count(), items=[_summary(case, actor) for case in page])


@router.post(
    "/",
    response=responses(CaseOpenedOut, status=201),
    operation_id="mentoring_cases_open",
    summary="立案（按身份证号查找封存的特殊青少年记录）",
)
@requires(Permission.MENTORING_MANAGE)
def mentoring_cases_open(request: HttpRequest, payload: CaseOpenIn) -> Status[CaseOpenedOut]:
    case = case_open(actor=request_actor(request), request=request, **payload.model_dump())
    return Status(201, _opened(case))


@router.post(
    "/officer",
    response=responses(CaseOpenedOut),
    operation_id="mentoring_cases_change_officer",
    summary="变更承办人（按案件编号）",
)
@requires(Permission.MENTORING_MANAGE)
def mentoring_cases_change_officer(request: HttpRequest, payload: OfficerChangeIn) -> CaseOpenedOut:
    case = case_officer_change(actor=request_actor(request), request=request, **payload.model_dump())
    return _opened(case)


@router.post(
    "/access-grants",
    response=responses(AccessGrantOut, status=201),
    operation_id="mentoring_cases_access_grant",
    summary="依法申请查阅封存案件（3 小时，通知承办人，记入审计）",
)
@requires(Permission.MENTORING_BREAK_GLASS)
def mentoring_cases_access_grant(request: HttpRequest, payload: AccessGrantIn) -> Status[AccessGrantOut]:
    grant = access_grant_request(actor=request_actor(request), request=request, **payload.model_dump())
    return Status(201, _grant(grant))


@router.post(
    "/access-grants/{int:grant_id}/revoke",
    response=responses(AccessGrantOut),
    operation_id="mentoring_cases_access_grant_revoke",
    summary="撤销查阅授权（授权人本人或案件承办人）",
)
@requires(Permission.SIGNED_IN)
def mentoring_cases_access_grant_revoke(request: HttpRequest, grant_id: int) -> AccessGrantOut:
    return _grant(access_grant_revoke(actor=request_actor(request), grant_id=grant_id, request=request))


@router.get(
    "/{int:case_id}",
    response=responses(CaseDetailOut),
    operation_id="mentoring_cases_get",
    summary="案件详情（记入审计）",
)
@requires(Permission.SIGNED_IN)
def mentoring_cases_get(request: HttpRequest, case_id: int) -> CaseDetailOut:
    actor = request_actor(request)
    return _detail(case_view(actor=actor, case_id=case_id, request=request), actor)


@router.get(
    "/{int:case_id}/reviews",
    response=responses(list[ReviewOut]),
    operation_id="mentoring_cases_reviews",
    summary="月度评估（记入审计）",
)
@requires(Permission.SIGNED_IN)
def mentoring_cases_reviews(request: HttpRequest, case_id: int) -> list[ReviewOut]:
    case = case_view(actor=request_actor(request), case_id=case_id, part="reviews", request=request)
    return [_review(review) for review in case.reviews.all()]


@router.post(
    "/{int:case_id}/reviews",
    response=responses(ReviewOut, status=201),
    operation_id="mentoring_cases_review_record",
    summary="记录月度评估（承办人或帮教人，每月一次）",
)
@requires(Permission.SIGNED_IN)
def mentoring_cases_review_record(request: HttpRequest, case_id: int, payload: ReviewIn) -> Status[ReviewOut]:
    review = review_record(
        actor=request_actor(request), case_id=case_id, request=request, **payload.model_dump()
    )
    return Status(201, _review(review))


@router.post(
    "/{int:case_id}/goals",
    response=responses(GoalOut, status=201),
    operation_id="mentoring_cases_goal_add",
    summary="添加帮教目标（承办人）",
)
@requires(Permission.SIGNED_IN)
def mentoring_cases_goal_add(request: HttpRequest, case_id: int, payload: GoalIn) -> Status[GoalOut]:
    goal = goal_add(actor=request_actor(request), case_id=case_id, request=request, **payload.model_dump())
    return Status(201, _goal(goal))


@router.patch(
    "/{int:case_id}/goals/{int:goal_id}",
    response=responses(GoalOut),
    operation_id="mentoring_cases_goal_update",
    summary="更新帮教目标进展（承办人）",
)
@requires(Permission.SIGNED_IN)
def mentoring_cases_goal_update(
    request: HttpRequest, case_id: int, goal_id: int, payload: GoalPatch
) -> GoalOut:
    goal = goal_update(
        actor=request_actor(request),
        case_id=case_id,
        goal_id=goal_id,
        request=request,
        **payload.model_dump(),
    )
    return _goal(goal)


@router.post(
    "/{int:case_id}/mentors",
    response=responses(MentorOut, status=201),
    operation_id="mentoring_cases_mentor_assign",
    summary="指派帮教人（承办人；帮教团成员、背景审查有效）",
)
@requires(Permission.SIGNED_IN)
def mentoring_cases_mentor_assign(request: HttpRequest, case_id: int, payload: MentorIn) -> Status[MentorOut]:
    mentor = mentor_assign(
        actor=request_actor(request), case_id=case_id, request=request, **payload.model_dump()
    )
    return Status(201, _mentor(mentor))


@router.post(
    "/{int:case_id}/mentors/{int:mentor_id}/end",
    response=responses(MentorOut),
    operation_id="mentoring_cases_mentor_unassign",
    summary="解除帮教人（承办人；解除后即不能再查看本案）",
)
@requires(Permission.SIGNED_IN)
def mentoring_cases_mentor_unassign(request: HttpRequest, case_id: int, mentor_id: int) -> MentorOut:
    mentor = mentor_unassign(
        actor=request_actor(request), case_id=case_id, mentor_id=mentor_id, request=request
    )
    return _mentor(mentor)


@router.put(
    "/{int:case_id}/correction",
    response=responses(CaseDetailOut),
    operation_id="mentoring_cases_correction_update",
    summary="社区矫正信息（承办人）",
)
@requires(Permission.SIGNED_IN)
def mentoring_cases_correction_update(
    request: HttpRequest, case_id: int, payload: CorrectionIn
) -> CaseDetailOut:
    actor = request_actor(request)
    correction_update(actor=actor, case_id=case_id, request=request, **payload.model_dump())
    return _detail(case_get(actor=actor, case_id=case_id), actor)


@router.post(
    "/{int:case_id}/close",
    response=responses(CaseDetailOut),
    operation_id="mentoring_cases_close",
    summary="结案（承办人，注明结案情况）",
)
@requires(Permission.SIGNED_IN)
def mentoring_cases_close(request: HttpRequest, case_id: int, payload: CloseIn) -> CaseDetailOut:
    actor = request_actor(request)
    case_close(actor=actor, case_id=case_id, request=request, **payload.model_dump())
    return _detail(case_get(actor=actor, case_id=case_id), actor)
