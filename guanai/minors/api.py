import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, File, Form, Query, Status, UploadedFile

from guanai import audit
from guanai.core.access import Actor, Permission, request_actor, requires
from guanai.core.api import MAX_OFFSET, Router, responses
from guanai.core.errors import NotFoundError
from guanai.core.labels import one_language
from guanai.core.masking import unmask_field
from guanai.core.schema import Schema
from guanai.imports.models import ImportBatch
from guanai.minors import display
from guanai.minors.export_api import (
    EXPORT_DESCRIPTION,
    EXPORT_SUMMARY,
    ExportApprovalOut,
    ExportOperations,
    ExportRequest,
    export_file_openapi,
)
from guanai.minors.exports import MINORS
from guanai.minors.models import Minor
from guanai.minors.selectors import MinorFilters, minor_get, minor_list, minor_page
from guanai.minors.services import (
    ConsentInput,
    GuardianInput,
    MinorInput,
    import_progress,
    import_upload_store,
    minor_close,
    minor_import_get,
    minor_import_start,
    minor_register,
    minor_update,
    transfer_request_create,
)

router = Router(tags=["minors"])


class GuardianSchema(Schema):
    name: str = Field(..., max_length=50)
    relationship: str = Field(..., max_length=20)
    phone: str = Field("", max_length=30, description="手机或带区号的固定电话；返回时已脱敏")
    is_entrusted_carer: bool = False
    can_care: bool = True
    care_note: str = Field("", max_length=200)


class ConsentSchema(Schema):
    given_by: str = Field(..., max_length=50)
    relationship: str = Field(..., max_length=20)
    notice_version: str = Field(..., max_length=20)
    given_on: datetime.date
    scope: list[str] = ["registration"]
    is_guardian: bool = True


class ConsentOut(ConsentSchema):
    id: int
    withdrawn_on: datetime.date | None


class MinorIn(Schema):
    name: str = Field(..., max_length=50)
    region_code: str = Field(..., description="现居村（社区）的 12 位区划代码")
    id_number: str = Field("", max_length=30)
    birth_date: datetime.date | None = None
    gender: Literal["", "male", "female"] = ""
    ethnicity: str = Field("", max_length=20)
    household_region_code: str = ""
    household_type: Literal["", "rural", "urban"] = ""
    address: str = Field("", max_length=200)
    school: str = Field("", max_length=100)
    grade: str = Field("", max_length=20)
    categories: int = Field(
        0,
        ge=0,
        description=(
            "类别位集合：1 留守、2/4/8 困境一/二/三类、16 事实无人抚养、"
            "32 新居民子女、64 困难家庭、128 特殊青少年"
        ),
    )
    special_kind: Literal["", "misconduct", "offence_or_drugs"] = ""
    facts: dict[str, str] = {}
    needs: int = Field(
        0, ge=0, description="需求位集合：1 学业、2 心理、4 法律、8 经济、16 健康、32 安全、64 其他"
    )
    risk_level: Literal["low", "medium", "high"] = "low"
    risk_reason: str = Field("", max_length=300)
    last_verified_on: datetime.date | None = None
    guardians: list[GuardianSchema] | None = None
    consents: list[ConsentSchema] | None = None


class MinorPatch(MinorIn):
    version: int = Field(..., ge=1, description="编辑所依据的版本；已被他人修改时返回 409")
    name: str | None = Field(None, max_length=50)  # type: ignore[assignment]
    region_code: str | None = None  # type: ignore[assignment]


class GuardianOut(Schema):
    id: int
    name: str
    relationship: str
    phone: str
    is_entrusted_carer: bool
    can_care: bool


class MinorOut(Schema):
    id: int
    name: str
    gender: str
    birth_date: datetime.date
    age: int
    id_number: str = Field(..., description="已脱敏")
    region_code: str
    region_name: str
    school: str
    grade: str
    categories: int
    category_labels: list[str]
    needs: int
    need_labels: list[str]
    risk_level: str
    status: str
    last_verified_on: datetime.date | None
    version: int


class MinorDetailOut(MinorOut):
    ethnicity: str
    household_region_code: str | None
    household_type: str
    address: str = Field(..., description="已脱敏")
    special_kind: str
    facts: dict[str, str]
    risk_reason: str
    closed_reason: str
    guardians: list[GuardianOut]
    consents: list[ConsentOut]


class MinorPageOut(Schema):
    count: int
    items: list[MinorOut]


class MinorFilterFields(Schema):
    region: str | None = None
    categories: int = Field(0, ge=0)
    needs: int = Field(0, ge=0)
    risk_level: Literal["low", "medium", "high"] | None = None
    gender: Literal["male", "female"] | None = None
    min_age: int | None = Field(None, ge=0, le=17)
    max_age: int | None = Field(None, ge=0, le=17)
    school: str | None = Field(None, max_length=100)
    status: Literal["active", "closed", "aged_out", "all"] = "active"
    verification_overdue: bool = False
    q: str | None = Field(None, max_length=50, description="姓名、拼音、首字母、身份证号或监护人电话")
    sort: Literal["name", "-name", "age", "-age", "updated", "-updated", "risk"] = "name"


class MinorFilter(MinorFilterFields):
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class CloseIn(Schema):
    reason: str = Field(..., min_length=1, max_length=200)


class UnmaskIn(Schema):
    field: Literal["id_number", "address"]


class UnmaskOut(Schema):
    field: str
    value: str


class TransferIn(Schema):
    id_number: str = Field(..., max_length=30)
    reason: str = Field("", max_length=300)


class TransferOut(Schema):
    id: int
    to_county: str
    state: str


def _out(minor: Minor, actor: Actor, today: datetime.date | None = None) -> MinorOut:
    return MinorOut(
        id=minor.pk,
        name=display.shown_name(minor, actor),
        gender=minor.gender,
        birth_date=minor.birth_date,
        age=display.age(minor, today),
        id_number=display.masked_id_number(minor),
        region_code=minor.region_id,
        region_name=minor.region_name,
        school=minor.school,
        grade=minor.grade,
        categories=minor.categories,
        category_labels=display.category_labels(minor.categories),
        needs=minor.needs,
        need_labels=display.need_labels(minor.needs),
        risk_level=minor.risk_level,
        status=minor.status,
        last_verified_on=minor.last_verified_on,
        version=minor.version,
    )


def _detail(minor: Minor, actor: Actor) -> MinorDetailOut:
    return MinorDetailOut(
        **_out(minor, actor).model_dump(),
        ethnicity=minor.ethnicity,
        household_region_code=minor.household_region_id,
        household_type=minor.household_type,
        address=display.masked_address(minor),
        special_kind=minor.special_kind,
        facts=minor.facts,
        risk_reason=minor.risk_reason,
        closed_reason=minor.closed_reason,
        guardians=[
            GuardianOut(
                id=g.pk,
                name=g.name,
                relationship=g.relationship,
                phone=display.masked_phone(g),
                is_entrusted_carer=g.is_entrusted_carer,
                can_care=g.can_care,
            )
            for g in minor.guardians.all()
        ],
        consents=[
            ConsentOut(
                id=c.pk,
                given_by=c.given_by,
                relationship=c.relationship,
                notice_version=c.notice_version,
                given_on=c.given_on,
                scope=c.scope,
                is_guardian=c.is_guardian,
                withdrawn_on=c.withdrawn_on,
            )
            for c in minor.consents.all()
        ],
    )


def _input(payload: MinorIn, *, base: Minor | None = None) -> MinorInput:
    """The service input; for a PATCH, fields left out keep the record's current values."""
    given = payload.model_dump(exclude_unset=True)

    def pick(name: str, current: object) -> object:
        return given[name] if name in given and given[name] is not None else current

    current = base
    data = MinorInput(
        name=str(pick("name", current.name if current else "")),
        region_code=str(pick("region_code", current.region_id if current else "")),
        id_number=str(pick("id_number", (current.id_number or "") if current else "")),
        birth_date=pick("birth_date", current.birth_date if current else None),  # type: ignore[arg-type]
        gender=str(pick("gender", current.gender if current else "")),
        ethnicity=str(pick("ethnicity", current.ethnicity if current else "")),
        household_region_code=str(
            pick("household_region_code", (current.household_region_id or "") if current else "")
        ),
        household_type=str(pick("household_type", current.household_type if current else "")),
        address=str(pick("address", current.address if current else "")),
        school=str(pick("school", current.school if current else "")),
        grade=str(pick("grade", current.grade if current else "")),
        categories=int(pick("categories", current.categories if current else 0)),  # type: ignore[call-overload]
        special_kind=str(pick("special_kind", current.special_kind if current else "")),
        facts=dict(pick("facts", current.facts if current else {})),  # type: ignore[call-overload]
        needs=int(pick("needs", current.needs if current else 0)),  # type: ignore[call-overload]
        risk_level=str(pick("risk_level", current.risk_level if current else "low")),
        risk_reason=str(pick("risk_reason", current.risk_reason if current else "")),
        last_verified_on=pick("last_verified_on", current.last_verified_on if current else None),  # type: ignore[arg-type]
    )
    if payload.guardians is not None:
        data.guardians = [GuardianInput(**g.model_dump()) for g in payload.guardians]
    if payload.consents is not None:
        data.consents = [ConsentInput(**c.model_dump()) for c in payload.consents]
    return data


@router.get("/", response=responses(MinorPageOut), operation_id="minors_list", summary="困难青少年名册")
@requires(Permission.MINOR_VIEW)
def minors_list(request: HttpRequest, filters: Query[MinorFilter]) -> MinorPageOut:
    actor = request_actor(request)
    query = filters.model_dump(exclude={"limit", "offset"})
    query["status"] = None if filters.status == "all" else filters.status
    minors = minor_list(actor=actor, filters=MinorFilters(**query))
    page, total = minor_page(minors, offset=filters.offset, limit=filters.limit)
    today = timezone.localdate()
    with one_language():
        return MinorPageOut(count=total, items=[_out(minor, actor, today) for minor in page])


@router.post(
    "/", response=responses(MinorDetailOut, status=201), operation_id="minors_create", summary="登记"
)
@requires(Permission.MINOR_MANAGE)
def minors_create(request: HttpRequest, payload: MinorIn) -> Status[MinorDetailOut]:
    actor = request_actor(request)
    minor = minor_register(actor=actor, data=_input(payload), request=request)
    return Status(201, _detail(minor_get(actor=actor, minor_id=minor.pk), actor))


@router.get("/{int:minor_id}", response=responses(MinorDetailOut), operation_id="minors_get", summary="详情")
@requires(Permission.MINOR_VIEW)
def minors_get(request: HttpRequest, minor_id: int) -> MinorDetailOut:
    actor = request_actor(request)
    minor = minor_get(actor=actor, minor_id=minor_id)
    audit.record(actor=actor, action="minor.view", target=minor, request=request)
    return _detail(minor, actor)


@router.patch(
    "/{int:minor_id}", response=responses(MinorDetailOut), operation_id="minors_update", summary="修改"
)
@requires(Permission.MINOR_MANAGE)
def minors_update(request: HttpRequest, minor_id: int, payload: MinorPatch) -> MinorDetailOut:
    actor = request_actor(request)
    current = minor_get(actor=actor, minor_id=minor_id)
    minor_update(
        actor=actor,
        minor_id=minor_id,
        version=payload.version,
        data=_input(payload, base=current),
        request=request,
    )
    return _detail(minor_get(actor=actor, minor_id=minor_id), actor)


@router.post(
    "/{minor_id}/close", response=responses(MinorDetailOut), operation_id="minors_close", summary="结案"
)
@requires(Permission.MINOR_MANAGE)
def minors_close(request: HttpRequest, minor_id: int, payload: CloseIn) -> MinorDetailOut:
    actor = request_actor(request)
    minor_close(actor=actor, minor_id=minor_id, reason=payload.reason, request=request)
    return _detail(minor_get(actor=actor, minor_id=minor_id), actor)


@router.post(
    "/{minor_id}/unmask",
    response=responses(UnmaskOut),
    operation_id="minors_unmask",
    summary="查看明文（记入审计）",
)
@requires(Permission.MINOR_UNMASK)
def minors_unmask(request: HttpRequest, minor_id: int, payload: UnmaskIn) -> UnmaskOut:
    actor = request_actor(request)
    minor = minor_get(actor=actor, minor_id=minor_id)
    value = unmask_field(actor=actor, instance=minor, field_name=payload.field, request=request)
    return UnmaskOut(field=payload.field, value=value)


@router.post(
    "/{minor_id}/guardians/{guardian_id}/unmask",
    response=responses(UnmaskOut),
    operation_id="minors_guardian_unmask",
    summary="查看监护人电话明文（记入审计）",
)
@requires(Permission.MINOR_UNMASK)
def minors_guardian_unmask(request: HttpRequest, minor_id: int, guardian_id: int) -> UnmaskOut:
    actor = request_actor(request)
    minor = minor_get(actor=actor, minor_id=minor_id)
    guardian = next((g for g in minor.guardians.all() if g.pk == guardian_id), None)
    if guardian is None:
        raise NotFoundError()
    return UnmaskOut(
        field="phone", value=unmask_field(actor=actor, instance=guardian, field_name="phone", request=request)
    )


@router.post(
    "/transfer-requests",
    response=responses(TransferOut, status=201),
    operation_id="minors_transfer_request",
    summary="申请将已在他县登记的儿童转入本县",
)
@requires(Permission.MINOR_MANAGE)
def minors_transfer_request(request: HttpRequest, payload: TransferIn) -> Status[TransferOut]:
    transfer = transfer_request_create(
        actor=request_actor(request), id_number=payload.id_number, reason=payload.reason
    )
    return Status(201, TransferOut(id=transfer.pk, to_county=transfer.to_region_id, state=transfer.state))


# --- Exports and their approvals (guanai.minors.exports) ---------------------------------------------


class ExportFilterIn(MinorFilterFields):
    """The list's filters, as an export (or its approval) records them."""


class ExportIn(ExportRequest):
    filters: ExportFilterIn = Field(default_factory=lambda: ExportFilterIn.model_validate({}))


EXPORT_FILE_RESPONSE = export_file_openapi("导出文件（身份证号、住址脱敏，带导出人水印）")
EXPORT_OPERATIONS = ExportOperations(dataset=MINORS, approval_schema=ExportApprovalOut)


@router.post(
    "/exports",
    response=responses(ExportApprovalOut, status=202),
    operation_id="minors_export",
    summary=EXPORT_SUMMARY,
    description=EXPORT_DESCRIPTION,
    openapi_extra=EXPORT_FILE_RESPONSE,
)
@requires(Permission.MINOR_EXPORT)
def minors_export_file(request: HttpRequest, payload: ExportIn) -> Any:
    query = payload.filters.model_dump()
    query["status"] = None if payload.filters.status == "all" else payload.filters.status
    return EXPORT_OPERATIONS.export(request, payload, MinorFilters(**query))


@router.post(
    "/exports/{approval_id}/approve",
    response=responses(ExportApprovalOut),
    operation_id="minors_export_approve",
    summary="批准下级的导出申请",
    description="审批人所在区划须严格包含申请人所在区划（上一级或更高）；不能审批本级或他人辖区的申请。",
)
@requires(Permission.EXPORT_APPROVE)
def minors_export_approve(request: HttpRequest, approval_id: int) -> ExportApprovalOut:
    return EXPORT_OPERATIONS.decide(request, approval_id, approve=True)


@router.post(
    "/exports/{approval_id}/decline",
    response=responses(ExportApprovalOut),
    operation_id="minors_export_decline",
    summary="拒绝下级的导出申请",
)
@requires(Permission.EXPORT_APPROVE)
def minors_export_decline(request: HttpRequest, approval_id: int) -> ExportApprovalOut:
    return EXPORT_OPERATIONS.decide(request, approval_id, approve=False)


# --- Roster imports (guanai.minors.importing, run by guanai.minors.tasks) --------------------------


class ImportErrorOut(Schema):
    row: int = Field(..., description="Excel 行号")
    column: str = Field(..., description="出错列的表头文字")
    code: str
    message: str


class ImportBatchOut(Schema):
    id: int
    status: Literal["pending", "running", "succeeded", "failed"]
    dry_run: bool
    file_name: str
    region_code: str
    rows: int
    created: int
    updated: int
    unchanged: int
    error_count: int
    errors: list[ImportErrorOut] = Field(..., description="被拒绝的行，最多保留前 5000 条")
    message: str
    progress_rows: int | None = Field(None, description="进行中：已读取的数据行")
    progress_total: int | None = Field(None, description="进行中：表中的数据行（未知时为空）")
    created_at: datetime.datetime
    finished_at: datetime.datetime | None


def _batch_out(batch: ImportBatch) -> ImportBatchOut:
    progress = import_progress(batch_id=batch.pk) if batch.finished_at is None else None
    return ImportBatchOut(
        id=batch.pk,
        status=batch.status,  # type: ignore[arg-type]
        dry_run=batch.is_dry_run,
        file_name=batch.file_name,
        region_code=batch.region_id,
        rows=batch.rows,
        created=batch.created,
        updated=batch.updated,
        unchanged=batch.unchanged,
        error_count=batch.error_count,
        errors=[ImportErrorOut(**error) for error in batch.errors],
        message=batch.message,
        progress_rows=progress[0] if progress else None,
        progress_total=progress[1] if progress else None,
        created_at=batch.created_at,
        finished_at=batch.finished_at,
    )


@router.post(
    "/imports",
    response=responses(ImportBatchOut, status=202),
    operation_id="minors_import",
    summary="导入花名册（.xlsx、.xls、.csv）",
    description=(
        "上传花名册导入到指定区划（县、乡镇或村）。dry_run 为真时只检查、不写入，计数表示将会如何。"
        "返回导入批次；没有消息队列时已处理完毕，否则用 GET /imports/{id} 查看进度和结果。"
    ),
)
@requires(Permission.MINOR_IMPORT)
def minors_import(
    request: HttpRequest,
    file: File[UploadedFile],
    region: Form[str],
    dry_run: Form[bool] = False,
) -> Status[ImportBatchOut]:
    actor = request_actor(request)
    token = import_upload_store(actor=actor, upload=file, region_code=region)
    batch = minor_import_start(
        actor=actor,
        token=token,
        file_name=file.name or "",
        region_code=region,
        dry_run=dry_run,
        keep_file=False,
    )
    return Status(202, _batch_out(minor_import_get(actor=actor, batch_id=batch.pk)))


@router.get(
    "/imports/{batch_id}",
    response=responses(ImportBatchOut),
    operation_id="minors_import_get",
    summary="导入批次的进度与结果",
)
@requires(Permission.MINOR_IMPORT)
def minors_import_get(request: HttpRequest, batch_id: int) -> ImportBatchOut:
    return _batch_out(minor_import_get(actor=request_actor(request), batch_id=batch_id))
