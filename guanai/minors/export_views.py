"""The pages of a list's exports, the same for every list that can be exported (the registry's, the
volunteers'): the export itself (a file, or the approval request filed instead), the actor's requests
and those waiting for the actor's approval, downloading an approved request once, approving or
declining one.

Each app declares its list's `ExportPages` and its own views, each with its permission, which call
these; the pages are the shared templates web/exports.html and web/export_pending.html.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from guanai.core.access import Actor, Permission, request_actor
from guanai.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from guanai.minors.exports import (
    ExportDataset,
    ExportFile,
    export_approval_decide,
    export_approvals_mine,
    export_approvals_to_decide,
    export_list,
)
from guanai.minors.models import ExportApproval

# The newest requests of the actor's own, and the oldest waiting for the actor, shown on the page.
REQUESTS_SHOWN = 50

_FiltersT = TypeVar("_FiltersT")
_FiltersT_co = TypeVar("_FiltersT_co", covariant=True)


class ListExportForm(Protocol[_FiltersT_co]):
    """The list's filters again (hidden fields of the export buttons) and the file format, bound."""

    cleaned_data: dict[str, Any]

    @property
    def errors(self) -> Any: ...

    def is_valid(self) -> bool: ...

    def to_filters(self) -> _FiltersT_co: ...


def file_response(export: ExportFile) -> StreamingHttpResponse:
    """The file, streamed as it is written, as an attachment no cache keeps."""
    response = StreamingHttpResponse(export.chunks, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["Cache-Control"] = "no-store"
    return response


@dataclass(frozen=True)
class ExportPages(Generic[_FiltersT]):
    """One list's export pages: the list, the URL namespace of its pages (<namespace>:list, :exports,
    :export_decide, :export_download), the words of its requests page, its export form, and its
    filters in words (for the approver to judge a request)."""

    dataset: ExportDataset[Any, Any]
    namespace: str
    title: str | Promise
    intro: str | Promise
    export_form: Callable[[HttpRequest, Actor], ListExportForm[_FiltersT]]
    describe_filters: Callable[[_FiltersT], str]

    @property
    def urls(self) -> dict[str, str]:
        """The names of the list's pages, for the templates' {% url %}."""
        names = {
            "list": "list",
            "exports": "exports",
            "decide": "export_decide",
            "download": "export_download",
        }
        return {key: f"{self.namespace}:{name}" for key, name in names.items()}

    def _redirect(self, page: str) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse(self.urls[page]))

    def export(self, request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
        """The filtered list as a file (masked, watermarked); above the threshold, the approval request
        filed instead."""
        actor = request_actor(request)
        form = self.export_form(request, actor)
        if not form.is_valid():
            # Never export another set than the one asked for: a filter that does not hold is refused.
            messages.error(
                request,
                _("筛选条件有误，未导出：")
                + "；".join(str(error) for errors in form.errors.values() for error in errors),
            )
            return self._redirect("list")
        try:
            result = export_list(
                dataset=self.dataset,
                actor=actor,
                filters=form.to_filters(),
                file_format=form.cleaned_data["format"],
                request=request,
            )
        except ValidationFailed as failure:
            messages.error(request, _("未导出：") + failure.summary)
            return self._redirect("list")
        if isinstance(result, ExportFile):
            return file_response(result)
        return render(request, "web/export_pending.html", {"approval": result, "urls": self.urls}, status=202)

    def requests(self, request: HttpRequest) -> HttpResponse:
        """The actor's requests to export the list, and those waiting for the actor's approval."""
        actor = request_actor(request)
        mine = list(export_approvals_mine(actor=actor, dataset=self.dataset.name)[:REQUESTS_SHOWN])
        to_decide = (
            list(export_approvals_to_decide(actor=actor, dataset=self.dataset.name)[:REQUESTS_SHOWN])
            if actor.has(Permission.EXPORT_APPROVE)
            else None
        )
        context = {
            "title": self.title,
            "intro": self.intro,
            "urls": self.urls,
            "mine": self._described(mine),
            "to_decide": self._described(to_decide) if to_decide is not None else None,
        }
        return render(request, "web/exports.html", context)

    def _described(self, approvals: list[ExportApproval]) -> list[tuple[ExportApproval, str]]:
        """Each request with its filters in words."""
        return [
            (approval, self.describe_filters(self.dataset.filters_from_json(approval.filters)))
            for approval in approvals
        ]

    def download(self, request: HttpRequest, approval_id: int) -> HttpResponse | StreamingHttpResponse:
        """An approved request, exported once."""
        try:
            result = export_list(
                dataset=self.dataset,
                actor=request_actor(request),
                filters=self.dataset.filters_type(),
                file_format="",
                approval_id=approval_id,
                request=request,
            )
        except ConflictError as failure:
            messages.error(request, failure.message)
            return self._redirect("exports")
        assert isinstance(result, ExportFile)
        return file_response(result)

    def decide(self, request: HttpRequest, approval_id: int, decision: str) -> HttpResponse:
        """Approve or decline a request made below the actor's region."""
        if decision not in {"approve", "decline"}:
            raise NotFoundError()
        try:
            export_approval_decide(
                actor=request_actor(request),
                approval_id=approval_id,
                approve=decision == "approve",
                request=request,
                dataset=self.dataset.name,
            )
        except (ConflictError, PermissionDeniedError) as failure:
            messages.error(request, failure.message)
        else:
            messages.success(request, _("已批准。") if decision == "approve" else _("已拒绝。"))
        return self._redirect("exports")
