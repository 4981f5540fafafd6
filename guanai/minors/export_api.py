"""What the export operations of every list's API share (the registry's, the volunteers'): the request's
format and approval, the approval as the API shows it, the file's description in the OpenAPI document,
and the answer — the file, or 202 and the approval request filed instead.

Each app declares its own operations (paths, operation ids, words, permission), whose bodies are its
list's `ExportOperations`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Literal, Self, TypeVar

from django.http import HttpRequest
from ninja import Field, Status

from guanai.core.access import request_actor
from guanai.core.schema import Schema
from guanai.minors.export_views import file_response
from guanai.minors.exports import CONTENT_TYPES, ExportDataset, export_approval_decide, export_list
from guanai.minors.models import ExportApproval

# The words of every list's export operation in the OpenAPI document (a list may add its own).
EXPORT_SUMMARY = "导出筛选结果（超过 1000 行须上级审批）"
EXPORT_DESCRIPTION = (
    "按筛选条件导出 .xlsx 或 .csv，流式返回文件。超过 1000 行且未给出已批准的申请时不导出，"
    "返回 202 和新提交（或已在等待）的导出申请；上一级管理员批准后，带 approval_id 再次调用即可导出一次。"
)


class ExportRequest(Schema):
    # The list's own filters are declared by each list's schema; they stand first, as in the document.
    filters: Any = None
    format: Literal["xlsx", "csv"] = "xlsx"
    approval_id: int | None = Field(
        None, description="已批准的导出申请编号；给出时按申请时的筛选条件和格式导出，只能用一次"
    )


class ExportApprovalOut(Schema):
    # No docstring: it would become the schema's description in the committed OpenAPI document.
    id: int
    state: Literal["pending", "approved", "declined", "used"]
    rows: int
    format: str
    region_code: str

    @classmethod
    def of(cls, approval: ExportApproval) -> Self:
        return cls(
            id=approval.pk,
            state=approval.state,  # type: ignore[arg-type]
            rows=approval.row_count,
            format=approval.file_format,
            region_code=approval.region_id,
        )


_ApprovalOutT = TypeVar("_ApprovalOutT", bound=ExportApprovalOut)


def export_file_openapi(description: str) -> dict[str, Any]:
    """The `openapi_extra` of an export operation: its 200 answer is the file, in either format."""
    content = {
        content_type.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
        for content_type in CONTENT_TYPES.values()
    }
    return {"responses": {200: {"description": description, "content": content}}}


@dataclass(frozen=True)
class ExportOperations(Generic[_ApprovalOutT]):
    """The bodies of one list's export operations: the list, and its approval's schema."""

    dataset: ExportDataset[Any, Any]
    approval_schema: type[_ApprovalOutT]

    def export(self, request: HttpRequest, payload: ExportRequest, filters: Any) -> Any:
        """The file, streamed; or 202 and the approval request filed instead. With an approval, its
        own filters and format are exported (`filters` is ignored)."""
        result = export_list(
            dataset=self.dataset,
            actor=request_actor(request),
            filters=filters,
            file_format=payload.format,
            approval_id=payload.approval_id,
            request=request,
        )
        if isinstance(result, ExportApproval):
            return Status(202, self.approval_schema.of(result))
        return file_response(result)

    def decide(self, request: HttpRequest, approval_id: int, *, approve: bool) -> _ApprovalOutT:
        """Approve or decline a request to export the list (a request for another list answers 404)."""
        approval = export_approval_decide(
            actor=request_actor(request),
            approval_id=approval_id,
            approve=approve,
            request=request,
            dataset=self.dataset.name,
        )
        return self.approval_schema.of(approval)
