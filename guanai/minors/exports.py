"""Exporting the filtered registry list to .xlsx and .csv (issue 4 point 7; 儿童个人信息网络保护规定 art.15).

What a file holds is what the list page shows: the name as `display.shown_name` gives it, and the ID
number and address masked. Exports are never unmasked — a value in the clear leaves the server only
through the audited unmask of one field of one record. Every file carries a watermark (who exported
it, when) above and below the rows and in the workbook's properties, and every cell goes through
`neutralise_cell`, so a value such as =HYPERLINK(...) stays text.

More than EXPORT_APPROVAL_THRESHOLD rows need an approval by an administrator one level up (the
approver's region strictly contains the requester's). Without one, the export is refused and a request
for approval is filed (or the pending one reused); approved, it allows one export of the same filters by
the same person in the same region, as long as the list has not grown by more than APPROVAL_ROW_MARGIN
since. Every export and every refusal is an audit event "minors.export".

Files are produced in constant memory: the rows are read in chunks from the database; CSV is written
as it is read; a workbook is written by openpyxl's write-only mode into a temporary file, which is then
sent in chunks and removed.

The same rule holds for every list of people that can be exported (the volunteers' too): a list is an
`ExportDataset`, `export_list` exports any of them, and an approval records in its filters which list it
approves ({"dataset": "minors", ...}), so that an approval of one list never exports another.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import io
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypedDict, TypeVar, Unpack

from django.db import transaction
from django.db.models import Choices, Model, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from guanai import audit
from guanai.audit.services import Outcome
from guanai.core.access import Actor, Permission
from guanai.core.errors import (
    ConflictError,
    DomainError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailed,
)
from guanai.imports.cells import neutralise_cell
from guanai.minors import display
from guanai.minors.models import ExportApproval, Minor
from guanai.minors.selectors import MinorFilters, minor_list
from guanai.minors.vocabulary import Gender, RiskLevel, Status

EXPORT_APPROVAL_THRESHOLD = 1000
EXPORT_ACTION = "minors.export"
# An approved export may have grown by this much since it was approved (registrations meanwhile).
APPROVAL_ROW_MARGIN = 0.1
ROWS_PER_QUERY = 2000
FILE_CHUNK_BYTES = 64 * 1024
CSV_ROWS_PER_CHUNK = 500
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONTENT_TYPES = {"xlsx": XLSX_CONTENT_TYPE, "csv": "text/csv; charset=utf-8"}
FORMATS = tuple(CONTENT_TYPES)
COLUMN_WIDTHS = (10, 6, 12, 6, 22, 18, 15, 30, 20, 8, 30, 16, 8, 10, 12)


if TYPE_CHECKING:
    from _typeshed import DataclassInstance

_FiltersT = TypeVar("_FiltersT", bound="DataclassInstance")
_RecordT = TypeVar("_RecordT", bound=Model)

# The key of an approval's filters that names the list it approves; approvals filed before there was more
# than one list carry none and are the registry's.
DATASET_KEY = "dataset"
MINORS_DATASET = "minors"


@dataclass(frozen=True)
class ExportFile:
    """A file ready to be sent: its chunks are produced as they are read."""

    filename: str
    content_type: str
    rows: int
    chunks: Iterator[bytes]


@dataclass(frozen=True)
class ExportDataset(Generic[_FiltersT, _RecordT]):
    """A list that can be exported: its name in an approval, who may export it, its filters (a
    dataclass, stored in an approval as JSON) and how they are applied, and how one of its rows becomes
    the values of a line (each value is then neutralised as a cell)."""

    name: str
    permission: Permission
    action: str  # the audit action of every export and every refusal
    filename_prefix: str
    sheet_title: Callable[[], str]
    headers: Callable[[], list[str]]
    column_widths: tuple[int, ...]
    row_values: Callable[[Actor], Callable[[_RecordT], list[Any]]]
    select: Callable[[Actor, _FiltersT], QuerySet[_RecordT]]
    filters_type: type[_FiltersT]

    def filters_to_json(self, filters: _FiltersT) -> dict[str, Any]:
        return dataclasses.asdict(filters)

    def filters_from_json(self, data: dict[str, Any]) -> _FiltersT:
        """The filters an approval stored; a key the filters no longer have is left out."""
        known = {field.name for field in dataclasses.fields(self.filters_type)}
        return self.filters_type(**{key: value for key, value in data.items() if key in known})


def approval_dataset(approval: ExportApproval) -> str:
    """The name of the list an approval is for."""
    return str(approval.filters.get(DATASET_KEY, MINORS_DATASET))


# --- Exporting --------------------------------------------------------------------------------------


class ExportOptions(TypedDict, total=False):
    approval_id: int | None  # export what this approval approved, once
    request: Any  # for the audit trail
    threshold: int | None  # above this many rows an approval is needed (EXPORT_APPROVAL_THRESHOLD)


def minors_export(
    *, actor: Actor, filters: MinorFilters, file_format: str, **options: Unpack[ExportOptions]
) -> ExportFile | ExportApproval:
    """The filtered registry as a file, or the pending approval filed for it: see `export_list`."""
    return export_list(dataset=MINORS, actor=actor, filters=filters, file_format=file_format, **options)


def export_list(
    *,
    dataset: ExportDataset[_FiltersT, _RecordT],
    actor: Actor,
    filters: _FiltersT,
    file_format: str,
    approval_id: int | None = None,
    request: Any = None,
    threshold: int | None = None,
) -> ExportFile | ExportApproval:
    """`dataset`'s filtered list as a file, or — above `threshold` rows without an approval — the
    pending ExportApproval filed for it (the export itself is refused and recorded as such).

    With `approval_id`, the approval's own filters and format are exported (`filters` and
    `file_format` are ignored): it must be approved, be for this list and have been requested by this
    user in their current region; it is used up by the export.
    """
    threshold = EXPORT_APPROVAL_THRESHOLD if threshold is None else threshold
    action = dataset.action
    try:
        if not actor.has(dataset.permission):
            raise PermissionDeniedError()
        if approval_id is None and file_format not in FORMATS:
            raise ValidationFailed(fields={"format": [_("导出格式应为 xlsx 或 csv")]})
        with transaction.atomic():
            approval = None
            if approval_id is not None:
                approval = _approval_to_use(actor=actor, approval_id=approval_id, dataset=dataset.name)
                filters, file_format = dataset.filters_from_json(approval.filters), approval.file_format
            records = dataset.select(actor, filters)
            rows = records.count()
            if approval is not None and rows > approval.row_count * (1 + APPROVAL_ROW_MARGIN):
                # What was approved is a list of about that size, not whatever the filters match today.
                raise ConflictError(
                    _("批准时共 %(approved)d 行，现在为 %(rows)d 行，请重新申请导出")
                    % {"approved": approval.row_count, "rows": rows}
                )
            if approval is None and rows > threshold:
                wanted = {**dataset.filters_to_json(filters), DATASET_KEY: dataset.name}
                pending = _approval_request(actor=actor, filters=wanted, file_format=file_format, rows=rows)
                audit.record(
                    actor=actor,
                    action=action,
                    outcome=Outcome.DENIED,
                    request=request,
                    detail={"rows": rows, "format": file_format, "approval_id": pending.pk},
                )
                return pending
            detail: dict[str, Any] = {"rows": rows, "format": file_format}
            if approval is not None:
                approval.state, approval.used_at = ExportApproval.State.USED, timezone.now()
                approval.save(update_fields=["state", "used_at"])
                detail["approval_id"] = approval.pk
            audit.record(actor=actor, action=action, request=request, detail=detail)
    except DomainError as refusal:
        # Recorded outside the rolled-back transaction, so the refusal stays in the trail.
        audit.record(
            actor=actor,
            action=action,
            outcome=Outcome.DENIED,
            request=request,
            detail={"rows": 0, "format": file_format if file_format in FORMATS else "", "code": refusal.code},
        )
        raise
    exported_at = timezone.localtime()
    mark = watermark(actor, exported_at)
    language = translation.get_language()
    write = _xlsx_chunks if file_format == "xlsx" else _csv_chunks
    return ExportFile(
        filename=f"{dataset.filename_prefix}-{exported_at:%Y%m%d-%H%M%S}.{file_format}",
        content_type=CONTENT_TYPES[file_format],
        rows=rows,
        chunks=write(records, dataset=dataset, actor=actor, watermark=mark, language=language),
    )


def watermark(actor: Actor, moment: datetime.datetime) -> str:
    user = actor.user
    who = user.get_username() if user is not None else ""
    display_name = getattr(user, "display_name", "") if user is not None else ""
    if display_name:
        who = f"{who}（{display_name}）"
    return _("导出人：%(who)s　导出时间：%(when)s　仅限工作使用，不得外传") % {
        "who": who,
        "when": f"{moment:%Y年%m月%d日 %H:%M}",
    }


def _approval_to_use(*, actor: Actor, approval_id: int, dataset: str) -> ExportApproval:
    approval = (
        ExportApproval.objects.select_for_update()
        .filter(pk=approval_id, requested_by_id=getattr(actor.user, "pk", None), region_id=actor.region_code)
        .first()
    )
    if approval is None or approval_dataset(approval) != dataset:
        # An approval of another list is not one of this list's: it answers as if it did not exist.
        raise NotFoundError()
    if approval.state != ExportApproval.State.APPROVED:
        raise ConflictError(
            _("该导出申请%(state)s，不能导出") % {"state": ExportApproval.State(approval.state).label}
        )
    return approval


def _approval_request(
    *, actor: Actor, filters: dict[str, Any], file_format: str, rows: int
) -> ExportApproval:
    """The pending request of this person for these filters (as stored, the list's name included), or
    a new one."""
    if actor.user is None or actor.region_code is None:
        raise PermissionDeniedError()
    pending = ExportApproval.objects.filter(
        requested_by=actor.user,
        region_id=actor.region_code,
        file_format=file_format,
        state=ExportApproval.State.PENDING,
    )
    for approval in pending:
        if approval.filters == filters:
            if approval.row_count != rows:
                approval.row_count = rows
                approval.save(update_fields=["row_count"])
            return approval
    return ExportApproval.objects.create(
        requested_by=actor.user,
        region_id=actor.region_code,
        filters=filters,
        file_format=file_format,
        row_count=rows,
    )


# --- Approvals -----------------------------------------------------------------------------------


# Who may export (and so see their own requests for) each list.
EXPORT_PERMISSIONS = {MINORS_DATASET: Permission.MINOR_EXPORT, "volunteers": Permission.VOLUNTEER_EXPORT}


def dataset_q(dataset: str) -> Q:
    """Approvals of one list; those filed before lists were named are the children's."""
    if dataset == MINORS_DATASET:
        return ~Q(filters__has_key=DATASET_KEY) | Q(**{f"filters__{DATASET_KEY}": MINORS_DATASET})
    return Q(**{f"filters__{DATASET_KEY}": dataset})


def export_approvals_mine(*, actor: Actor, dataset: str = MINORS_DATASET) -> QuerySet[ExportApproval]:
    """The actor's own requests to export one list in their current region, newest first."""
    if not actor.has(EXPORT_PERMISSIONS[dataset]) or actor.user is None:
        raise PermissionDeniedError()
    return (
        ExportApproval.objects.filter(requested_by=actor.user, region_id=actor.region_code)
        .filter(dataset_q(dataset))
        .select_related("decided_by")
    )


def export_approvals_to_decide(*, actor: Actor, dataset: str = MINORS_DATASET) -> QuerySet[ExportApproval]:
    """Pending requests to export one list, made strictly below the approver's region, oldest first."""
    if not actor.has(Permission.EXPORT_APPROVE):
        raise PermissionDeniedError()
    return (
        ExportApproval.objects.to_decide_by(actor)
        .filter(dataset_q(dataset), state=ExportApproval.State.PENDING)
        .select_related("requested_by", "region")
        .order_by("created_at", "id")
    )


@transaction.atomic
def export_approval_decide(
    *, actor: Actor, approval_id: int, approve: bool, request: Any = None, dataset: str = MINORS_DATASET
) -> ExportApproval:
    """Approve or decline a request made one level (or more) below the approver's region. A request
    made in the approver's own region, or in another branch, answers 404 as if it did not exist; so
    does a request for another list than `dataset`."""
    if not actor.has(Permission.EXPORT_APPROVE):
        raise PermissionDeniedError()
    approval = ExportApproval.objects.to_decide_by(actor).select_for_update().filter(pk=approval_id).first()
    if approval is None or approval_dataset(approval) != dataset:
        raise NotFoundError()
    if actor.user is not None and approval.requested_by_id == actor.user.pk:
        raise PermissionDeniedError(_("不能审批自己的导出申请"))
    if approval.state != ExportApproval.State.PENDING:
        raise ConflictError(
            _("该导出申请%(state)s，不能再审批") % {"state": ExportApproval.State(approval.state).label}
        )
    approval.state = ExportApproval.State.APPROVED if approve else ExportApproval.State.DECLINED
    approval.decided_by, approval.decided_at = actor.user, timezone.now()
    approval.save(update_fields=["state", "decided_by", "decided_at"])
    audit.record(
        actor=actor,
        action="export.approved" if approve else "export.declined",
        target=approval,
        detail={"rows": approval.row_count, "format": approval.file_format},
        request=request,
    )
    return approval


# --- Writing the files -----------------------------------------------------------------------------


def headers() -> list[str]:
    return [
        _("姓名"),
        _("性别"),
        _("出生日期"),
        _("年龄"),
        _("公民身份号码"),
        _("现居村（社区）"),
        _("区划代码"),
        _("现住址"),
        _("就读学校"),
        _("年级"),
        _("类别"),
        _("需求"),
        _("风险等级"),
        _("状态"),
        _("最近年度核查"),
    ]


def labeller(choices: type[Choices]) -> Callable[[str], str]:
    """A stored value's label in the current language; a value of no choice as it is."""
    labels = {value: str(label) for value, label in choices.choices}
    return lambda value: labels.get(value, value)


def _row_values(actor: Actor) -> Callable[[Minor], list[Any]]:
    gender, risk, status = labeller(Gender), labeller(RiskLevel), labeller(Status)

    def values(minor: Minor) -> list[Any]:
        return [
            display.shown_name(minor, actor),
            gender(minor.gender),
            minor.birth_date.isoformat(),
            display.age(minor),
            display.masked_id_number(minor),
            minor.region.name,
            minor.region_id,
            display.masked_address(minor),
            minor.school,
            minor.grade,
            "、".join(display.category_labels(minor.categories)),
            "、".join(display.need_labels(minor.needs)),
            risk(minor.risk_level),
            status(minor.status),
            minor.last_verified_on.isoformat() if minor.last_verified_on else "",
        ]

    return values


MINORS: ExportDataset[MinorFilters, Minor] = ExportDataset(
    name=MINORS_DATASET,
    permission=Permission.MINOR_EXPORT,
    action=EXPORT_ACTION,
    filename_prefix="minors",
    sheet_title=lambda: _("困难青少年名册"),
    headers=headers,
    column_widths=COLUMN_WIDTHS,
    row_values=_row_values,
    select=lambda actor, filters: minor_list(actor=actor, filters=filters),
    filters_type=MinorFilters,
)


def _lines(
    records: QuerySet[_RecordT], dataset: ExportDataset[Any, _RecordT], actor: Actor
) -> Iterator[list[Any]]:
    """The cells of each row, read in chunks: the values the dataset gives, each neutralised."""
    values = dataset.row_values(actor)
    for record in records.iterator(chunk_size=ROWS_PER_QUERY):
        yield [neutralise_cell(value) for value in values(record)]


def _csv_chunks(
    records: QuerySet[_RecordT],
    *,
    dataset: ExportDataset[Any, _RecordT],
    actor: Actor,
    watermark: str,
    language: str,
) -> Iterator[bytes]:
    with translation.override(language):
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        # The byte order mark lets Excel and WPS open the file as UTF-8.
        buffer.write("\ufeff")
        writer.writerow([neutralise_cell(watermark)])
        writer.writerow([neutralise_cell(text) for text in dataset.headers()])
        for index, line in enumerate(_lines(records, dataset, actor), start=1):
            writer.writerow(line)
            if index % CSV_ROWS_PER_CHUNK == 0:
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
        writer.writerow([neutralise_cell(watermark)])
        yield buffer.getvalue().encode("utf-8")


def _xlsx_chunks(
    records: QuerySet[_RecordT],
    *,
    dataset: ExportDataset[Any, _RecordT],
    actor: Actor,
    watermark: str,
    language: str,
) -> Iterator[bytes]:
    with translation.override(language):
        descriptor, path = tempfile.mkstemp(prefix="guanai-export-", suffix=".xlsx")
        os.close(descriptor)
        try:
            _write_workbook(path, records, dataset=dataset, actor=actor, watermark=watermark)
            with open(path, "rb") as written:
                while chunk := written.read(FILE_CHUNK_BYTES):
                    yield chunk
        finally:
            os.unlink(path)


def _write_workbook(
    path: str,
    records: QuerySet[_RecordT],
    *,
    dataset: ExportDataset[Any, _RecordT],
    actor: Actor,
    watermark: str,
) -> None:
    workbook = Workbook(write_only=True)
    title = dataset.sheet_title()
    workbook.properties.title = title
    workbook.properties.creator = actor.user.get_username() if actor.user is not None else ""
    workbook.properties.lastModifiedBy = workbook.properties.creator
    workbook.properties.description = watermark
    workbook.properties.subject = watermark
    sheet = workbook.create_sheet(title)
    sheet.oddHeader.center.text = watermark
    sheet.oddFooter.center.text = watermark
    for column, width in enumerate(dataset.column_widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.append([neutralise_cell(watermark)])
    sheet.append([neutralise_cell(text) for text in dataset.headers()])
    for line in _lines(records, dataset, actor):
        sheet.append(line)
    sheet.append([neutralise_cell(watermark)])
    workbook.save(path)
