"""网吧义务监督 API, mounted at /api/v1/cafes: the cafés of the actor's region, an inspector's record of an
inspection (multipart, with photos), and the findings the county follows up and closes. Thin: parse, call
one selector or service, shape the answer."""

import datetime
from decimal import Decimal
from typing import Literal

from django.db.models import Prefetch
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, File, Form, Query, Status, UploadedFile

from guanai.cafes import services
from guanai.cafes.models import CafeFinding, CafeInspection, InternetCafe
from guanai.cafes.selectors import (
    CafeFilters,
    FindingFilters,
    cafe_get,
    cafe_inspections,
    cafe_list,
    finding_get,
    finding_list,
    findings_by_county,
)
from guanai.cafes.services import CafeInput, InspectionInput
from guanai.cafes.vocabulary import FindingOutcome, FindingState, problem_labels
from guanai.core.access import Permission, request_actor, requires
from guanai.core.api import MAX_OFFSET, Router, responses
from guanai.core.masking import mask_field
from guanai.core.schema import Schema
from guanai.volunteers.models import Volunteer

router = Router(tags=["cafes"])

OUTCOMES_DESCRIPTION = "处理结果：" + "、".join(f"{value} {label}" for value, label in FindingOutcome.choices)


class CafeIn(Schema):
    region_code: str = Field(..., description="所在乡镇（街道）的 9 或 12 位区划代码")
    name: str = Field(..., max_length=100)
    address: str = Field(..., max_length=200)
    licence_number: str = Field("", max_length=50, description="网络文化经营许可证号；无证经营的留空")
    operator: str = Field("", max_length=50, description="经营者（负责人）")
    phone: str = Field("", max_length=30, description="手机或带区号的固定电话；返回时已脱敏")
    notes: str = Field("", max_length=500)


class CafePatch(Schema):
    version: int = Field(..., ge=1, description="编辑所依据的版本；已被他人修改时返回 409")
    region_code: str | None = None
    name: str | None = Field(None, max_length=100)
    address: str | None = Field(None, max_length=200)
    licence_number: str | None = Field(None, max_length=50)
    operator: str | None = Field(None, max_length=50)
    phone: str | None = Field(None, max_length=30)
    notes: str | None = Field(None, max_length=500)


class CafeCloseIn(Schema):
    reason: str = Field(..., max_length=200, description="停业、注销或吊销的原因")
    closed_on: datetime.date | None = Field(None, description="停业日期，不填为今天")


class CafeOut(Schema):
    id: int
    name: str
    region_code: str = Field(..., description="所在乡镇（街道）")
    region_name: str
    address: str
    licence_number: str
    operator: str
    phone: str = Field(..., description="已脱敏")
    is_open: bool
    closed_on: datetime.date | None
    closed_reason: str
    notes: str
    version: int
    last_inspected_on: datetime.date | None
    open_findings: int


class InspectorOut(Schema):
    id: int
    name: str


class InspectionOut(Schema):
    id: int
    cafe_id: int
    team_id: int
    team_name: str
    inspected_on: datetime.date
    duration_minutes: int
    inspectors: list[InspectorOut]
    minors_found: int
    id_checks_done: bool
    notices_posted: bool
    other_problem: bool
    has_finding: bool
    finding_description: str
    finding_id: int | None
    photo_count: int
    recorded_at: datetime.datetime


class InspectionRecordedOut(InspectionOut):
    hours_per_inspector: Decimal = Field(..., description="计入每位巡查员的服务时长（小时）")


class CafeDetailOut(CafeOut):
    inspections: list[InspectionOut] = Field(..., description="最近 50 次巡查")


class CafePageOut(Schema):
    count: int
    items: list[CafeOut]


class CafeFilterIn(Schema):
    region: str | None = Field(None, description="乡镇（街道）或县的区划代码，须在本人管辖范围内")
    status: Literal["open", "closed", "all"] = "open"
    q: str | None = Field(None, max_length=50, description="名称、地址或许可证号的一部分")
    has_open_findings: bool = False
    inspection_due: bool = Field(False, description="90 天内未巡查")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class InspectionIn(Schema):
    inspected_on: datetime.date
    duration_minutes: int = Field(..., description="巡查时长（分钟），计入每位巡查员的服务时长")
    minors_found: int = Field(0, description="发现的未成年人人数")
    id_checks_done: bool = Field(..., description="是否核对上网人员身份证件")
    notices_posted: bool = Field(..., description="是否悬挂未成年人禁入标志")
    other_problem: bool = Field(False, description="是否发现其他问题（须在 finding_description 中说明）")
    finding_description: str = Field("", max_length=500, description="问题说明；请勿填写未成年人姓名")
    team_id: int | None = Field(None, description="巡查队伍；只有一支队伍负责该网吧时可不填")
    inspector_ids: list[int] = Field([], description="同行的本队队员（本人自动计入）")


class FindingOut(Schema):
    id: int
    cafe_id: int
    cafe_name: str
    township_code: str
    township_name: str
    county_code: str
    county_name: str
    inspection_id: int
    inspected_on: datetime.date
    problems: int = Field(
        ..., description="问题位集合：1 接纳未成年人、2 未核对身份证件、4 未悬挂禁入标志、8 其他"
    )
    problem_labels: list[str]
    minors_found: int
    finding_description: str
    state: Literal["open", "closed"]
    deadline: datetime.date
    is_overdue: bool
    follow_up_note: str
    followed_up_at: datetime.datetime | None
    outcome: str
    outcome_label: str
    outcome_note: str
    opened_at: datetime.datetime
    closed_at: datetime.datetime | None


class CountyFindingsOut(Schema):
    county_code: str
    county_name: str
    open: int
    overdue: int


class FindingPageOut(Schema):
    count: int
    items: list[FindingOut]
    counties: list[CountyFindingsOut] = Field(..., description="本人管辖范围内各县的待处理、逾期问题数")


class FindingFilterIn(Schema):
    state: Literal["open", "closed", "all"] = "open"
    overdue: bool = False
    region: str | None = Field(None, description="县或乡镇（街道）的区划代码")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class FollowUpIn(Schema):
    note: str = Field(..., max_length=1000, description="跟进情况")
    deadline: datetime.date | None = Field(None, description="需要延长时的新处理期限")


class FindingCloseIn(Schema):
    outcome: str = Field("", description=OUTCOMES_DESCRIPTION)
    note: str = Field("", max_length=500, description="处理说明")


# --- Shaping the answers ----------------------------------------------------------------------------


def _cafe_out(cafe: InternetCafe) -> CafeOut:
    return CafeOut(
        id=cafe.pk,
        name=cafe.name,
        region_code=cafe.region_id,
        region_name=cafe.region.name,
        address=cafe.address,
        licence_number=cafe.licence_number,
        operator=cafe.operator,
        phone=mask_field(cafe, "phone"),
        is_open=cafe.is_open,
        closed_on=cafe.closed_on,
        closed_reason=cafe.closed_reason,
        notes=cafe.notes,
        version=cafe.version,
        last_inspected_on=getattr(cafe, "last_inspected_on", None),
        open_findings=getattr(cafe, "open_findings", 0),
    )


def _finding_id(inspection: CafeInspection) -> int | None:
    try:
        return inspection.finding.pk
    except CafeFinding.DoesNotExist:
        return None


def _inspection_out(inspection: CafeInspection) -> InspectionOut:
    return InspectionOut(
        id=inspection.pk,
        cafe_id=inspection.cafe_id,
        team_id=inspection.team_id,
        team_name=inspection.team.name,
        inspected_on=inspection.inspected_on,
        duration_minutes=inspection.duration_minutes,
        inspectors=[InspectorOut(id=v.pk, name=v.name) for v in inspection.inspectors.all()],
        minors_found=inspection.minors_found,
        id_checks_done=inspection.id_checks_done,
        notices_posted=inspection.notices_posted,
        other_problem=inspection.other_problem,
        has_finding=inspection.has_finding,
        finding_description=inspection.finding_description,
        finding_id=_finding_id(inspection),
        photo_count=len(inspection.photos.all()),
        recorded_at=inspection.created_at,
    )


def _detail(request: HttpRequest, cafe_id: int) -> CafeDetailOut:
    actor = request_actor(request)
    cafe = cafe_get(actor=actor, cafe_id=cafe_id)
    return CafeDetailOut(
        **_cafe_out(cafe).model_dump(),
        inspections=[_inspection_out(i) for i in cafe_inspections(actor=actor, cafe_id=cafe_id)],
    )


def _finding_out(finding: CafeFinding, today: datetime.date) -> FindingOut:
    return FindingOut(
        id=finding.pk,
        cafe_id=finding.cafe_id,
        cafe_name=finding.cafe.name,
        township_code=finding.cafe.region_id,
        township_name=finding.cafe.region.name,
        county_code=finding.county_id,
        county_name=finding.county.name,
        inspection_id=finding.inspection_id,
        inspected_on=finding.inspection.inspected_on,
        problems=finding.problems,
        problem_labels=problem_labels(finding.problems),
        minors_found=finding.inspection.minors_found,
        finding_description=finding.inspection.finding_description,
        state=finding.state,  # type: ignore[arg-type]
        deadline=finding.deadline,
        is_overdue=finding.state == FindingState.OPEN and finding.deadline < today,
        follow_up_note=finding.follow_up_note,
        followed_up_at=finding.followed_up_at,
        outcome=finding.outcome,
        outcome_label=str(finding.get_outcome_display()) if finding.outcome else "",
        outcome_note=finding.outcome_note,
        opened_at=finding.opened_at,
        closed_at=finding.closed_at,
    )


def _cafe_input(payload: CafeIn | CafePatch, base: InternetCafe | None = None) -> CafeInput:
    """The service input; for a PATCH, fields left out keep the café's current values."""
    given = {key: value for key, value in payload.model_dump(exclude_unset=True).items() if value is not None}
    current = {
        "region_code": base.region_id if base else "",
        "name": base.name if base else "",
        "address": base.address if base else "",
        "licence_number": base.licence_number if base else "",
        "operator": base.operator if base else "",
        "phone": base.phone if base else "",
        "notes": base.notes if base else "",
    }
    return CafeInput(**{key: str(given.get(key, value)) for key, value in current.items()})


# --- Cafés ------------------------------------------------------------------------------------------


@router.get("/", response=responses(CafePageOut), operation_id="cafes_list", summary="网吧名册")
@requires(Permission.CAFE_VIEW)
def cafes_list(request: HttpRequest, filters: Query[CafeFilterIn]) -> CafePageOut:
    actor = request_actor(request)
    cafes = cafe_list(
        actor=actor,
        filters=CafeFilters(
            region=filters.region,
            is_open={"open": True, "closed": False, "all": None}[filters.status],
            q=filters.q,
            has_open_findings=filters.has_open_findings,
            inspection_due=filters.inspection_due,
        ),
    )
    page = list(cafes[filters.offset : filters.offset + filters.limit])
    return CafePageOut(count=cafes.count(), items=[_cafe_out(cafe) for cafe in page])


@router.post(
    "/", response=responses(CafeDetailOut, status=201), operation_id="cafes_create", summary="登记网吧"
)
@requires(Permission.CAFE_MANAGE)
def cafes_create(request: HttpRequest, payload: CafeIn) -> Status[CafeDetailOut]:
    cafe = services.cafe_register(actor=request_actor(request), data=_cafe_input(payload), request=request)
    return Status(201, _detail(request, cafe.pk))


# --- Findings (before /{cafe_id}, whose id is a number anyway) --------------------------------------


@router.get(
    "/findings",
    response=responses(FindingPageOut),
    operation_id="cafes_findings_list",
    summary="巡查发现的问题（按处理期限排列）",
)
@requires(Permission.CAFE_VIEW)
def cafes_findings_list(request: HttpRequest, filters: Query[FindingFilterIn]) -> FindingPageOut:
    actor = request_actor(request)
    findings = finding_list(
        actor=actor,
        filters=FindingFilters(
            state=None if filters.state == "all" else filters.state,
            overdue=filters.overdue,
            region=filters.region,
        ),
    )
    today = timezone.localdate()
    page = list(findings[filters.offset : filters.offset + filters.limit])
    return FindingPageOut(
        count=findings.count(),
        items=[_finding_out(finding, today) for finding in page],
        counties=[CountyFindingsOut(**vars(row)) for row in findings_by_county(actor=actor)],
    )


@router.post(
    "/findings/{int:finding_id}/follow-up",
    response=responses(FindingOut),
    operation_id="cafes_finding_follow_up",
    summary="记录问题的跟进情况",
)
@requires(Permission.CAFE_MANAGE)
def cafes_finding_follow_up(request: HttpRequest, finding_id: int, payload: FollowUpIn) -> FindingOut:
    actor = request_actor(request)
    services.finding_follow_up(
        actor=actor, finding_id=finding_id, note=payload.note, deadline=payload.deadline, request=request
    )
    return _finding_out(finding_get(actor=actor, finding_id=finding_id), timezone.localdate())


@router.post(
    "/findings/{int:finding_id}/close",
    response=responses(FindingOut),
    operation_id="cafes_finding_close",
    summary="办结问题（须选择处理结果）",
)
@requires(Permission.CAFE_MANAGE)
def cafes_finding_close(request: HttpRequest, finding_id: int, payload: FindingCloseIn) -> FindingOut:
    actor = request_actor(request)
    services.finding_close(
        actor=actor, finding_id=finding_id, outcome=payload.outcome, note=payload.note, request=request
    )
    return _finding_out(finding_get(actor=actor, finding_id=finding_id), timezone.localdate())


# --- One café ---------------------------------------------------------------------------------------


@router.get(
    "/{int:cafe_id}", response=responses(CafeDetailOut), operation_id="cafes_get", summary="网吧详情与巡查"
)
@requires(Permission.CAFE_VIEW)
def cafes_get(request: HttpRequest, cafe_id: int) -> CafeDetailOut:
    return _detail(request, cafe_id)


@router.patch(
    "/{int:cafe_id}", response=responses(CafeDetailOut), operation_id="cafes_update", summary="修改网吧信息"
)
@requires(Permission.CAFE_MANAGE)
def cafes_update(request: HttpRequest, cafe_id: int, payload: CafePatch) -> CafeDetailOut:
    actor = request_actor(request)
    current = cafe_get(actor=actor, cafe_id=cafe_id)
    services.cafe_update(
        actor=actor,
        cafe_id=cafe_id,
        version=payload.version,
        data=_cafe_input(payload, base=current),
        request=request,
    )
    return _detail(request, cafe_id)


@router.post(
    "/{int:cafe_id}/close",
    response=responses(CafeDetailOut),
    operation_id="cafes_close",
    summary="登记停业（注销、吊销）",
)
@requires(Permission.CAFE_MANAGE)
def cafes_close(request: HttpRequest, cafe_id: int, payload: CafeCloseIn) -> CafeDetailOut:
    services.cafe_close(
        actor=request_actor(request),
        cafe_id=cafe_id,
        reason=payload.reason,
        closed_on=payload.closed_on,
        request=request,
    )
    return _detail(request, cafe_id)


@router.post(
    "/{int:cafe_id}/inspections",
    response=responses(InspectionRecordedOut, status=201),
    operation_id="cafes_inspection_create",
    summary="记录一次巡查（网吧义务监督员）",
    description=(
        "multipart/form-data：巡查内容与最多 6 张照片（photos，JPG、PNG 或 WebP，每张不超过 15 MB）。"
        "照片去除 EXIF 与位置信息后私密保存。须为负责该网吧所在区域的网吧义务监督员队的在队成员。"
        "发现未成年人、未核对身份证件、未悬挂禁入标志或其他问题的，自动报县关工委跟进；"
        "巡查时长计入每位巡查员的服务时长。"
    ),
)
@requires(Permission.CAFE_INSPECT)
def cafes_inspection_create(
    request: HttpRequest,
    cafe_id: int,
    payload: Form[InspectionIn],
    photos: File[list[UploadedFile]] = None,  # type: ignore[assignment]
) -> Status[InspectionRecordedOut]:
    inspection = services.inspection_record(
        actor=request_actor(request),
        cafe_id=cafe_id,
        data=InspectionInput(**payload.model_dump()),
        photos=photos or [],
        request=request,
    )
    recorded = (
        CafeInspection.objects.visible_to(request_actor(request))
        .select_related("team", "finding")
        .prefetch_related(Prefetch("inspectors", queryset=Volunteer.objects.order_by("pk")), "photos")
        .get(pk=inspection.pk)
    )
    return Status(
        201,
        InspectionRecordedOut(
            **_inspection_out(recorded).model_dump(),
            hours_per_inspector=services.inspection_hours(recorded.duration_minutes),
        ),
    )
