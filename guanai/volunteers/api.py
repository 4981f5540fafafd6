"""The volunteers' JSON API: the 五老 list and records, background checks, service hours, eligibility for
pairing, exports (approved one level up above the threshold, like the registry's), and the teams.

Two routers: `router` at /volunteers and `teams_router` at /teams. Values leave masked (ID number and
phone as their fields mask them); one field of one record is shown in the clear only through the audited
unmask operation.
"""

import datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Status

from guanai.core.access import Actor, Permission, request_actor, requires
from guanai.core.api import MAX_OFFSET, Router, responses
from guanai.core.labels import one_language
from guanai.core.masking import unmask_field
from guanai.core.schema import Schema
from guanai.minors.export_api import (
    EXPORT_DESCRIPTION,
    EXPORT_SUMMARY,
    ExportApprovalOut,
    ExportOperations,
    ExportRequest,
    export_file_openapi,
)
from guanai.minors.validation import age_on
from guanai.volunteers.exports import (
    VOLUNTEERS,
    category_labels,
    masked_id_number,
    masked_phone,
    specialty_labels,
    star_label,
    stars,
)
from guanai.volunteers.models import ServiceHours, Team, TeamActivity, Volunteer
from guanai.volunteers.selectors import (
    VolunteerFilters,
    hours_of,
    hours_totals,
    team_get,
    team_list,
    volunteer_get,
    volunteer_list,
    volunteer_page,
)
from guanai.volunteers.services import (
    VolunteerInput,
    hours_confirm,
    hours_correct,
    hours_record,
    hours_return,
    pairing_refusals,
    team_activity_record,
    team_create,
    team_member_add,
    team_member_remove,
    volunteer_record_check,
    volunteer_register,
    volunteer_set_status,
    volunteer_update,
)
from guanai.volunteers.vocabulary import TeamKind, availability_label, check_expires_on

router = Router(tags=["volunteers"])
teams_router = Router(tags=["teams"])

StatusValue = Literal["applying", "active", "suspended", "withdrawn", "deceased"]
TeamKindValue = Literal[
    "care_group",
    "studio",
    "service_team",
    "lecturers",
    "science",
    "cafe_supervisors",
    "online_publicists",
    "mentoring",
]


# --- Schemas: the volunteer ----------------------------------------------------------------------


class VolunteerFields(Schema):
    name: str = Field(..., max_length=50)
    region_code: str = Field(..., description="居住村（社区）的 12 位区划代码")
    gender: Literal["", "male", "female"] = Field("", description="有身份证号时由号码确定")
    birth_date: datetime.date | None = Field(None, description="有身份证号时由号码确定")
    id_number: str = Field("", max_length=30, description="返回时已脱敏")
    phone: str = Field("", max_length=30, description="手机或带区号的固定电话；返回时已脱敏")
    categories: int = Field(
        0, ge=0, description="五老类别位集合：1 老干部、2 老战士、4 老专家、8 老教师、16 老模范"
    )
    former_unit: str = Field("", max_length=100)
    former_title: str = Field("", max_length=100)
    specialties: int = Field(
        0,
        ge=0,
        description=(
            "专长位集合：1 法律（须填律师执业证号）、2 心理（须填资质证书）、4 教学辅导、8 农业科技、"
            "16 医疗健康、32 文化艺术、64 红色历史教育"
        ),
    )
    law_licence_number: str = Field("", max_length=30)
    psychology_certificate: str = Field("", max_length=50)
    teaching_subjects: str = Field("", max_length=100)
    specialty_note: str = Field("", max_length=200)
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    availability: int = Field(
        0,
        ge=0,
        description="可服务时间位集合：第 星期×3+时段 位（星期 0 为周一；时段 0 上午、1 下午、2 晚上）",
    )
    max_children: int = Field(3, description="最多结对人数，0 到 20")
    health_note: str = Field("", max_length=200)
    dialects: str = Field("", max_length=100)
    check_date: datetime.date | None = Field(None, description="背景审查日期，与结果同时填写")
    check_result: Literal["", "clear", "flagged"] = ""
    check_by: str = Field("", max_length=100)
    shows_on_honour_roll: bool = False


class VolunteerIn(VolunteerFields):
    status: Literal["active", "applying"] = Field("active", description="在岗，或登记为申请中待审核")


class VolunteerPatch(VolunteerFields):
    version: int = Field(..., ge=1, description="编辑所依据的版本；已被他人修改时返回 409")
    name: str | None = Field(None, max_length=50)  # type: ignore[assignment]
    region_code: str | None = None  # type: ignore[assignment]


class VolunteerOut(Schema):
    id: int
    name: str
    gender: str
    birth_date: datetime.date
    age: int
    id_number: str = Field(..., description="已脱敏")
    phone: str = Field(..., description="已脱敏")
    region_code: str
    region_name: str
    categories: int
    category_labels: list[str]
    specialties: int
    specialty_labels: list[str]
    availability: int
    availability_label: str
    max_children: int
    paired_count: int
    capacity_left: int
    status: str
    check_date: datetime.date | None
    check_result: str
    check_valid: bool = Field(..., description="有效的背景审查：无不良记录，且在 12 个月内")
    hours_total: float = Field(..., description="已确认的累计服务时长（小时）")
    star_level: int = Field(..., description="0 到 5 星，按 GUANAI_STAR_THRESHOLDS")
    star_label: str
    version: int


class TrainingOut(Schema):
    id: int
    course: str
    attended_on: datetime.date
    hours: float
    provider: str


class HonourOut(Schema):
    id: int
    title: str
    awarded_by: str
    awarded_on: datetime.date


class VolunteerTeamOut(Schema):
    team_id: int
    name: str
    kind: str
    role: str
    joined_on: datetime.date


class VolunteerDetailOut(VolunteerOut):
    former_unit: str
    former_title: str
    law_licence_number: str
    psychology_certificate: str
    teaching_subjects: str
    specialty_note: str
    latitude: float | None
    longitude: float | None
    health_note: str
    dialects: str
    check_by: str
    check_expires_on: datetime.date | None
    status_reason: str
    status_changed_on: datetime.date | None
    joined_on: datetime.date | None
    source: str
    shows_on_honour_roll: bool
    has_account: bool = Field(..., description="是否已关联登录账号")
    trainings: list[TrainingOut]
    honours: list[HonourOut]
    teams: list[VolunteerTeamOut]
    created_at: datetime.datetime
    updated_at: datetime.datetime


class VolunteerPageOut(Schema):
    count: int
    items: list[VolunteerOut]


class VolunteerFilterFields(Schema):
    region: str | None = None
    categories: int = Field(0, ge=0, description="须具备全部所选类别")
    specialties: int = Field(0, ge=0, description="须具备全部所选专长")
    availability: int = Field(0, ge=0, description="须在全部所选时段有空")
    has_capacity: bool = Field(False, description="还能再结对至少一名儿童")
    check_due: bool = Field(False, description="背景审查缺失、有不良记录或 30 天内到期")
    star: int | None = Field(None, ge=0, le=5)
    gender: Literal["male", "female"] | None = None
    status: Literal["applying", "active", "suspended", "withdrawn", "deceased", "all"] = "active"
    team: int | None = Field(None, description="队伍编号：只列该队伍的现有成员")
    q: str | None = Field(None, max_length=50, description="姓名、拼音、首字母、身份证号或电话")
    sort: Literal["name", "-name", "hours", "check", "updated"] = "name"

    def to_filters(self) -> VolunteerFilters:
        """The selector's filters ("all" statuses is no status filter)."""
        query = self.model_dump(exclude={"limit", "offset"})
        query["status"] = None if self.status == "all" else self.status
        return VolunteerFilters(**query)


class VolunteerFilter(VolunteerFilterFields):
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class VolunteerStatusIn(Schema):
    status: StatusValue
    reason: str = Field("", max_length=200, description="离开在岗状态时必填")
    on: datetime.date | None = Field(None, description="变更日期，默认今天")


class BackgroundCheckIn(Schema):
    checked_on: datetime.date
    result: Literal["clear", "flagged"]
    checked_by: str = Field(..., max_length=100)


class VolunteerUnmaskIn(Schema):
    field: Literal["id_number", "phone"]


class VolunteerUnmaskOut(Schema):
    field: str
    value: str


class EligibilityOut(Schema):
    eligible: bool
    reasons: list[str] = Field(..., description="不能结对的原因；可以结对时为空")


# --- Schemas: service hours ---------------------------------------------------------------------


class HoursCorrectionOut(Schema):
    hours_before: float
    hours_after: float
    served_on_before: datetime.date
    served_on_after: datetime.date
    reason: str
    corrected_by: str
    corrected_at: datetime.datetime


class HoursOut(Schema):
    id: int
    volunteer_id: int
    served_on: datetime.date
    hours: float
    description: str
    source: str
    state: str
    organiser: str
    return_reason: str
    activity_id: int | None
    recorded_by: str
    confirmed_by: str
    confirmed_at: datetime.datetime | None
    corrections: list[HoursCorrectionOut]


class HoursYearOut(Schema):
    year: int
    hours: float


class HoursMonthOut(Schema):
    year: int
    month: int
    hours: float


class HoursSummaryOut(Schema):
    volunteer_id: int
    total: float = Field(..., description="已确认的累计时长")
    pending: float = Field(..., description="待确认的申报时长")
    star_level: int
    star_label: str
    by_year: list[HoursYearOut]
    by_month: list[HoursMonthOut]
    count: int = Field(..., description="记录总数")
    records: list[HoursOut] = Field(..., description="按服务日期从新到旧，分页")


class HoursPageIn(Schema):
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class HoursIn(Schema):
    served_on: datetime.date
    hours: Decimal = Field(..., description="大于 0、不超过 24，保留一位小数")
    description: str = Field(..., max_length=300)
    organiser: str = Field("", max_length=100)


class HoursReturnIn(Schema):
    reason: str = Field(..., max_length=200)


class HoursCorrectIn(Schema):
    hours: Decimal
    reason: str = Field(..., max_length=200)
    served_on: datetime.date | None = Field(None, description="更正后的服务日期，默认不变")


# --- Schemas: exports -----------------------------------------------------------------------------


class VolunteerExportIn(ExportRequest):
    filters: VolunteerFilterFields = Field(default_factory=lambda: VolunteerFilterFields.model_validate({}))


class VolunteerExportApprovalOut(ExportApprovalOut):
    # Its own name in the OpenAPI document, the shape of every list's approval.
    pass


# --- Schemas: teams -------------------------------------------------------------------------------


class TeamIn(Schema):
    committee_id: int
    name: str = Field(..., max_length=100)
    kind: TeamKindValue
    description: str = Field("", max_length=500)
    founded_on: datetime.date | None = None


class TeamOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str
    committee_id: int
    committee_name: str
    region_code: str
    region_name: str
    description: str
    founded_on: datetime.date | None
    is_active: bool
    member_count: int


class TeamMemberOut(Schema):
    volunteer_id: int
    name: str
    role: str
    joined_on: datetime.date


class TeamActivityOut(Schema):
    id: int
    team_id: int
    title: str
    held_on: datetime.date
    place: str
    description: str
    children_reached: int
    hours: float = Field(..., description="每人服务时长")


class TeamDetailOut(TeamOut):
    members: list[TeamMemberOut]
    activities: list[TeamActivityOut] = Field(..., description="最近 50 次")


class TeamPageOut(Schema):
    count: int
    items: list[TeamOut]


class TeamFilter(Schema):
    kind: TeamKindValue | None = None
    region: str | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class TeamMemberIn(Schema):
    volunteer_id: int
    role: Literal["leader", "member"] = "member"
    joined_on: datetime.date | None = None


class TeamActivityIn(Schema):
    title: str = Field(..., max_length=100)
    held_on: datetime.date
    hours: Decimal = Field(..., description="每人服务时长，大于 0、不超过 24")
    participant_ids: list[int] = Field([], description="参加的队伍成员（志愿者编号），各记服务时长")
    place: str = Field("", max_length=100)
    description: str = Field("", max_length=1000)
    children_reached: int = 0


class TeamActivityCreatedOut(TeamActivityOut):
    participant_count: int


# --- Building the outputs -------------------------------------------------------------------------


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _out(volunteer: Volunteer, today: datetime.date | None = None) -> VolunteerOut:
    today = today or timezone.localdate()  # given once for the rows of a list
    level = stars(volunteer)
    return VolunteerOut(
        id=volunteer.pk,
        name=volunteer.name,
        gender=volunteer.gender,
        birth_date=volunteer.birth_date,
        age=age_on(volunteer.birth_date, today),
        id_number=masked_id_number(volunteer),
        phone=masked_phone(volunteer),
        region_code=volunteer.region_id,
        region_name=volunteer.region_name,
        categories=volunteer.categories,
        category_labels=category_labels(volunteer.categories),
        specialties=volunteer.specialties,
        specialty_labels=specialty_labels(volunteer.specialties),
        availability=volunteer.availability,
        availability_label=availability_label(volunteer.availability),
        max_children=volunteer.max_children,
        paired_count=volunteer.paired_count,
        capacity_left=volunteer.capacity_left,
        status=volunteer.status,
        check_date=volunteer.check_date,
        check_result=volunteer.check_result,
        check_valid=volunteer.check_valid_on(today),
        hours_total=float(volunteer.hours_total),
        star_level=level,
        star_label=star_label(level),
        version=volunteer.version,
    )


def _detail(volunteer: Volunteer) -> VolunteerDetailOut:
    return VolunteerDetailOut(
        **_out(volunteer).model_dump(),
        former_unit=volunteer.former_unit,
        former_title=volunteer.former_title,
        law_licence_number=volunteer.law_licence_number,
        psychology_certificate=volunteer.psychology_certificate,
        teaching_subjects=volunteer.teaching_subjects,
        specialty_note=volunteer.specialty_note,
        latitude=_number(volunteer.latitude),
        longitude=_number(volunteer.longitude),
        health_note=volunteer.health_note,
        dialects=volunteer.dialects,
        check_by=volunteer.check_by,
        check_expires_on=check_expires_on(volunteer.check_date) if volunteer.check_date else None,
        status_reason=volunteer.status_reason,
        status_changed_on=volunteer.status_changed_on,
        joined_on=volunteer.joined_on,
        source=volunteer.source,
        shows_on_honour_roll=volunteer.shows_on_honour_roll,
        has_account=volunteer.user_id is not None,
        trainings=[
            TrainingOut(
                id=training.pk,
                course=training.course,
                attended_on=training.attended_on,
                hours=float(training.hours),
                provider=training.provider,
            )
            for training in volunteer.trainings.all()
        ],
        honours=[
            HonourOut(
                id=honour.pk, title=honour.title, awarded_by=honour.awarded_by, awarded_on=honour.awarded_on
            )
            for honour in volunteer.honours.all()
        ],
        teams=[
            VolunteerTeamOut(
                team_id=membership.team_id,
                name=membership.team.name,
                kind=membership.team.kind,
                role=membership.role,
                joined_on=membership.joined_on,
            )
            for membership in volunteer.memberships.all()
        ],
        created_at=volunteer.created_at,
        updated_at=volunteer.updated_at,
    )


def _detail_of(actor: Actor, volunteer_id: int) -> VolunteerDetailOut:
    return _detail(volunteer_get(actor=actor, volunteer_id=volunteer_id))


def _input(payload: VolunteerFields, *, base: Volunteer | None = None) -> VolunteerInput:
    """The service input; for a PATCH, fields left out keep the record's current values (a new ID
    number brings its own birth date and gender unless they are given too)."""
    given = payload.model_dump(exclude_unset=True, exclude={"version", "status"})
    if base is None:
        return VolunteerInput(**payload.model_dump(exclude={"version", "status"}))
    current: dict[str, Any] = {
        "name": base.name,
        "region_code": base.region_id,
        "gender": base.gender,
        "birth_date": base.birth_date,
        "id_number": base.id_number or "",
        "phone": base.phone or "",
        "categories": base.categories,
        "former_unit": base.former_unit,
        "former_title": base.former_title,
        "specialties": base.specialties,
        "law_licence_number": base.law_licence_number,
        "psychology_certificate": base.psychology_certificate,
        "teaching_subjects": base.teaching_subjects,
        "specialty_note": base.specialty_note,
        "latitude": base.latitude,
        "longitude": base.longitude,
        "availability": base.availability,
        "max_children": base.max_children,
        "health_note": base.health_note,
        "dialects": base.dialects,
        "check_date": base.check_date,
        "check_result": base.check_result,
        "check_by": base.check_by,
        "shows_on_honour_roll": base.shows_on_honour_roll,
    }
    if given.get("id_number") and given["id_number"] != current["id_number"]:
        current.update(birth_date=None, gender="")
    for name in ("name", "region_code"):
        if given.get(name, "") is None:
            del given[name]  # null: keep
    return VolunteerInput(**{**current, **given})


def _hours_out(record: ServiceHours) -> HoursOut:
    return HoursOut(
        id=record.pk,
        volunteer_id=record.volunteer_id,
        served_on=record.served_on,
        hours=float(record.hours),
        description=record.description,
        source=record.source,
        state=record.state,
        organiser=record.organiser,
        return_reason=record.return_reason,
        activity_id=record.activity_id,
        recorded_by=str(record.recorded_by) if record.recorded_by is not None else "",
        confirmed_by=str(record.confirmed_by) if record.confirmed_by is not None else "",
        confirmed_at=record.confirmed_at,
        corrections=[
            HoursCorrectionOut(
                hours_before=float(correction.hours_before),
                hours_after=float(correction.hours_after),
                served_on_before=correction.served_on_before,
                served_on_after=correction.served_on_after,
                reason=correction.reason,
                corrected_by=str(correction.corrected_by) if correction.corrected_by is not None else "",
                corrected_at=correction.corrected_at,
            )
            for correction in record.corrections.all()
        ],
    )


def _hours_after_write(record: ServiceHours) -> HoursOut:
    """A record just written, read again with its people and corrections."""
    return _hours_out(hours_of(volunteer=record.volunteer).get(pk=record.pk))


def _team_out(team: Team, *, member_count: int) -> TeamOut:
    return TeamOut(
        id=team.pk,
        name=team.name,
        kind=team.kind,
        kind_label=str(TeamKind(team.kind).label),
        committee_id=team.committee_id,
        committee_name=team.committee.name,
        region_code=team.region_id,
        region_name=team.region.name,
        description=team.description,
        founded_on=team.founded_on,
        is_active=team.is_active,
        member_count=member_count,
    )


def _activity_out(activity: TeamActivity) -> TeamActivityOut:
    return TeamActivityOut(
        id=activity.pk,
        team_id=activity.team_id,
        title=activity.title,
        held_on=activity.held_on,
        place=activity.place,
        description=activity.description,
        children_reached=activity.children_reached,
        hours=float(activity.hours),
    )


def _team_detail(actor: Actor, team_id: int) -> TeamDetailOut:
    team = team_get(actor=actor, team_id=team_id)
    memberships = list(team.memberships.all())
    return TeamDetailOut(
        **_team_out(team, member_count=len(memberships)).model_dump(),
        members=[
            TeamMemberOut(
                volunteer_id=membership.volunteer_id,
                name=membership.volunteer.name,
                role=membership.role,
                joined_on=membership.joined_on,
            )
            for membership in memberships
        ],
        activities=[_activity_out(activity) for activity in team.recent_activities],  # type: ignore[attr-defined]
    )


# --- The volunteers --------------------------------------------------------------------------------


@router.get(
    "/", response=responses(VolunteerPageOut), operation_id="volunteers_list", summary="五老志愿者名册"
)
@requires(Permission.VOLUNTEER_VIEW)
def volunteers_list(request: HttpRequest, filters: Query[VolunteerFilter]) -> VolunteerPageOut:
    volunteers = volunteer_list(actor=request_actor(request), filters=filters.to_filters())
    page, total = volunteer_page(volunteers, offset=filters.offset, limit=filters.limit)
    today = timezone.localdate()
    with one_language():
        return VolunteerPageOut(count=total, items=[_out(volunteer, today) for volunteer in page])


@router.post(
    "/", response=responses(VolunteerDetailOut, status=201), operation_id="volunteers_create", summary="登记"
)
@requires(Permission.VOLUNTEER_MANAGE)
def volunteers_create(request: HttpRequest, payload: VolunteerIn) -> Status[VolunteerDetailOut]:
    actor = request_actor(request)
    volunteer = volunteer_register(actor=actor, data=_input(payload), status=payload.status, request=request)
    return Status(201, _detail_of(actor, volunteer.pk))


@router.get(
    "/{int:volunteer_id}",
    response=responses(VolunteerDetailOut),
    operation_id="volunteers_get",
    summary="详情",
)
@requires(Permission.VOLUNTEER_VIEW)
def volunteers_get(request: HttpRequest, volunteer_id: int) -> VolunteerDetailOut:
    return _detail_of(request_actor(request), volunteer_id)


@router.patch(
    "/{int:volunteer_id}",
    response=responses(VolunteerDetailOut),
    operation_id="volunteers_update",
    summary="修改",
)
@requires(Permission.VOLUNTEER_MANAGE)
def volunteers_update(request: HttpRequest, volunteer_id: int, payload: VolunteerPatch) -> VolunteerDetailOut:
    actor = request_actor(request)
    current = volunteer_get(actor=actor, volunteer_id=volunteer_id)
    volunteer_update(
        actor=actor,
        volunteer_id=volunteer_id,
        version=payload.version,
        data=_input(payload, base=current),
        request=request,
    )
    return _detail_of(actor, volunteer_id)


@router.post(
    "/{int:volunteer_id}/status",
    response=responses(VolunteerDetailOut),
    operation_id="volunteers_set_status",
    summary="变更状态（在岗、暂停、退出、已故）",
    description="申请中 → 在岗或退出；在岗 ⇄ 暂停；→ 退出、已故。离开在岗须填写原因。",
)
@requires(Permission.VOLUNTEER_MANAGE)
def volunteers_set_status(
    request: HttpRequest, volunteer_id: int, payload: VolunteerStatusIn
) -> VolunteerDetailOut:
    actor = request_actor(request)
    volunteer_set_status(
        actor=actor,
        volunteer_id=volunteer_id,
        status=payload.status,
        reason=payload.reason,
        on=payload.on,
        request=request,
    )
    return _detail_of(actor, volunteer_id)


@router.post(
    "/{int:volunteer_id}/background-check",
    response=responses(VolunteerDetailOut),
    operation_id="volunteers_background_check",
    summary="记录背景审查（入职及每年）",
)
@requires(Permission.VOLUNTEER_MANAGE)
def volunteers_background_check(
    request: HttpRequest, volunteer_id: int, payload: BackgroundCheckIn
) -> VolunteerDetailOut:
    actor = request_actor(request)
    volunteer_record_check(
        actor=actor,
        volunteer_id=volunteer_id,
        checked_on=payload.checked_on,
        result=payload.result,
        checked_by=payload.checked_by,
        request=request,
    )
    return _detail_of(actor, volunteer_id)


@router.post(
    "/{int:volunteer_id}/unmask",
    response=responses(VolunteerUnmaskOut),
    operation_id="volunteers_unmask",
    summary="查看明文（记入审计）",
)
@requires(Permission.VOLUNTEER_UNMASK)
def volunteers_unmask(
    request: HttpRequest, volunteer_id: int, payload: VolunteerUnmaskIn
) -> VolunteerUnmaskOut:
    actor = request_actor(request)
    volunteer = volunteer_get(actor=actor, volunteer_id=volunteer_id)
    value = unmask_field(actor=actor, instance=volunteer, field_name=payload.field, request=request)
    return VolunteerUnmaskOut(field=payload.field, value=value)


@router.get(
    "/{int:volunteer_id}/eligibility",
    response=responses(EligibilityOut),
    operation_id="volunteers_eligibility",
    summary="能否结对",
    description="在岗、12 个月内无不良记录的背景审查、结对人数未满，才能结对新的儿童。",
)
@requires(Permission.VOLUNTEER_VIEW)
def volunteers_eligibility(request: HttpRequest, volunteer_id: int) -> EligibilityOut:
    volunteer = volunteer_get(actor=request_actor(request), volunteer_id=volunteer_id)
    reasons = pairing_refusals(volunteer)
    return EligibilityOut(eligible=not reasons, reasons=reasons)


# --- Service hours ---------------------------------------------------------------------------------


@router.get(
    "/{int:volunteer_id}/hours",
    response=responses(HoursSummaryOut),
    operation_id="volunteers_hours",
    summary="服务时长：记录、按年按月合计、星级、待确认",
)
@requires(Permission.VOLUNTEER_VIEW)
def volunteers_hours(request: HttpRequest, volunteer_id: int, page: Query[HoursPageIn]) -> HoursSummaryOut:
    volunteer = volunteer_get(actor=request_actor(request), volunteer_id=volunteer_id)
    records = hours_of(volunteer=volunteer)
    totals = hours_totals(volunteer=volunteer)
    level = stars(volunteer)
    return HoursSummaryOut(
        volunteer_id=volunteer.pk,
        total=float(totals.total),
        pending=float(totals.pending),
        star_level=level,
        star_label=star_label(level),
        by_year=[HoursYearOut(year=year, hours=float(hours)) for year, hours in totals.by_year],
        by_month=[
            HoursMonthOut(year=year, month=month, hours=float(hours))
            for year, month, hours in totals.by_month
        ],
        count=records.count(),
        records=[_hours_out(record) for record in records[page.offset : page.offset + page.limit]],
    )


@router.post(
    "/{int:volunteer_id}/hours",
    response=responses(HoursOut, status=201),
    operation_id="volunteers_hours_record",
    summary="组织方记录服务时长（即时确认）",
    description="谁组织谁记录：由组织服务的工作人员记录，记录即为已确认，计入累计时长。",
)
@requires(Permission.VOLUNTEER_MANAGE)
def volunteers_hours_record(request: HttpRequest, volunteer_id: int, payload: HoursIn) -> Status[HoursOut]:
    record = hours_record(
        actor=request_actor(request),
        volunteer_id=volunteer_id,
        served_on=payload.served_on,
        hours=payload.hours,
        description=payload.description,
        organiser=payload.organiser,
        request=request,
    )
    return Status(201, _hours_after_write(record))


@router.post(
    "/hours/{int:record_id}/confirm",
    response=responses(HoursOut),
    operation_id="volunteers_hours_confirm",
    summary="确认志愿者申报的时长",
)
@requires(Permission.VOLUNTEER_MANAGE)
def volunteers_hours_confirm(request: HttpRequest, record_id: int) -> HoursOut:
    return _hours_after_write(
        hours_confirm(actor=request_actor(request), record_id=record_id, request=request)
    )


@router.post(
    "/hours/{int:record_id}/return",
    response=responses(HoursOut),
    operation_id="volunteers_hours_return",
    summary="退回志愿者申报的时长（附原因）",
)
@requires(Permission.VOLUNTEER_MANAGE)
def volunteers_hours_return(request: HttpRequest, record_id: int, payload: HoursReturnIn) -> HoursOut:
    record = hours_return(
        actor=request_actor(request), record_id=record_id, reason=payload.reason, request=request
    )
    return _hours_after_write(record)


@router.post(
    "/hours/{int:record_id}/correct",
    response=responses(HoursOut),
    operation_id="volunteers_hours_correct",
    summary="更正已确认的时长（保留原值与原因）",
)
@requires(Permission.VOLUNTEER_MANAGE)
def volunteers_hours_correct(request: HttpRequest, record_id: int, payload: HoursCorrectIn) -> HoursOut:
    record = hours_correct(
        actor=request_actor(request),
        record_id=record_id,
        hours=payload.hours,
        reason=payload.reason,
        served_on=payload.served_on,
        request=request,
    )
    return _hours_after_write(record)


# --- Exports and their approvals ---------------------------------------------------------------------

EXPORT_FILE_RESPONSE = export_file_openapi("导出文件（身份证号、电话脱敏，带导出人水印）")
EXPORT_OPERATIONS = ExportOperations(dataset=VOLUNTEERS, approval_schema=VolunteerExportApprovalOut)


@router.post(
    "/export",
    response=responses(VolunteerExportApprovalOut, status=202),
    operation_id="volunteers_export",
    summary=EXPORT_SUMMARY,
    description=EXPORT_DESCRIPTION + "困难青少年名册的导出申请不能用于志愿者名册，反之亦然。",
    openapi_extra=EXPORT_FILE_RESPONSE,
)
@requires(Permission.VOLUNTEER_EXPORT)
def volunteers_export_file(request: HttpRequest, payload: VolunteerExportIn) -> Any:
    return EXPORT_OPERATIONS.export(request, payload, payload.filters.to_filters())


@router.post(
    "/export/{int:approval_id}/approve",
    response=responses(VolunteerExportApprovalOut),
    operation_id="volunteers_export_approve",
    summary="批准下级的志愿者名册导出申请",
    description="审批人所在区划须严格包含申请人所在区划（上一级或更高）；其他名册的申请在此返回 404。",
)
@requires(Permission.EXPORT_APPROVE)
def volunteers_export_approve(request: HttpRequest, approval_id: int) -> VolunteerExportApprovalOut:
    return EXPORT_OPERATIONS.decide(request, approval_id, approve=True)


@router.post(
    "/export/{int:approval_id}/decline",
    response=responses(VolunteerExportApprovalOut),
    operation_id="volunteers_export_decline",
    summary="拒绝下级的志愿者名册导出申请",
)
@requires(Permission.EXPORT_APPROVE)
def volunteers_export_decline(request: HttpRequest, approval_id: int) -> VolunteerExportApprovalOut:
    return EXPORT_OPERATIONS.decide(request, approval_id, approve=False)


# --- Teams (mounted at /teams) ---------------------------------------------------------------------


@teams_router.get("/", response=responses(TeamPageOut), operation_id="teams_list", summary="五老队伍")
@requires(Permission.VOLUNTEER_VIEW)
def teams_list(request: HttpRequest, filters: Query[TeamFilter]) -> TeamPageOut:
    teams = team_list(actor=request_actor(request), kind=filters.kind, region=filters.region)
    page = teams[filters.offset : filters.offset + filters.limit]
    return TeamPageOut(
        count=teams.count(),
        items=[_team_out(team, member_count=team.member_count) for team in page],  # type: ignore[attr-defined]
    )


@teams_router.post(
    "/", response=responses(TeamDetailOut, status=201), operation_id="teams_create", summary="新建队伍"
)
@requires(Permission.VOLUNTEER_MANAGE)
def teams_create(request: HttpRequest, payload: TeamIn) -> Status[TeamDetailOut]:
    actor = request_actor(request)
    team = team_create(
        actor=actor,
        committee_id=payload.committee_id,
        name=payload.name,
        kind=payload.kind,
        description=payload.description,
        founded_on=payload.founded_on,
        request=request,
    )
    return Status(201, _team_detail(actor, team.pk))


@teams_router.get(
    "/{int:team_id}", response=responses(TeamDetailOut), operation_id="teams_get", summary="队伍详情"
)
@requires(Permission.VOLUNTEER_VIEW)
def teams_get(request: HttpRequest, team_id: int) -> TeamDetailOut:
    return _team_detail(request_actor(request), team_id)


@teams_router.post(
    "/{int:team_id}/members",
    response=responses(TeamDetailOut),
    operation_id="teams_member_add",
    summary="添加成员（或改变成员的角色）",
)
@requires(Permission.VOLUNTEER_MANAGE)
def teams_member_add(request: HttpRequest, team_id: int, payload: TeamMemberIn) -> TeamDetailOut:
    actor = request_actor(request)
    team_member_add(
        actor=actor,
        team_id=team_id,
        volunteer_id=payload.volunteer_id,
        role=payload.role,
        joined_on=payload.joined_on,
        request=request,
    )
    return _team_detail(actor, team_id)


@teams_router.delete(
    "/{int:team_id}/members/{int:volunteer_id}",
    response=responses(TeamDetailOut),
    operation_id="teams_member_remove",
    summary="移出成员",
)
@requires(Permission.VOLUNTEER_MANAGE)
def teams_member_remove(request: HttpRequest, team_id: int, volunteer_id: int) -> TeamDetailOut:
    actor = request_actor(request)
    team_member_remove(actor=actor, team_id=team_id, volunteer_id=volunteer_id, request=request)
    return _team_detail(actor, team_id)


@teams_router.post(
    "/{int:team_id}/activities",
    response=responses(TeamActivityCreatedOut, status=201),
    operation_id="teams_activity_record",
    summary="记录队伍活动（为每位参加成员记录服务时长）",
)
@requires(Permission.VOLUNTEER_MANAGE)
def teams_activity_record(
    request: HttpRequest, team_id: int, payload: TeamActivityIn
) -> Status[TeamActivityCreatedOut]:
    activity = team_activity_record(
        actor=request_actor(request),
        team_id=team_id,
        title=payload.title,
        held_on=payload.held_on,
        hours=payload.hours,
        participant_ids=payload.participant_ids,
        place=payload.place,
        description=payload.description,
        children_reached=payload.children_reached,
        request=request,
    )
    return Status(
        201,
        TeamActivityCreatedOut(
            **_activity_out(activity).model_dump(), participant_count=activity.hours_records.count()
        ),
    )
