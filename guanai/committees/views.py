from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from guanai.audit.selectors import audit_trail_for
from guanai.committees.models import CommitteeKind
from guanai.committees.selectors import committee_get, committee_list, committee_parent
from guanai.core.access import Permission, permission_required, request_actor
from guanai.core.errors import NotFoundError, ValidationFailed

PAGE_SIZE = 50


@require_GET
@permission_required(Permission.COMMITTEE_VIEW)
def committee_list_page(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    region = request.GET.get("region", "").strip()
    kind = request.GET.get("kind", "").strip()
    search = request.GET.get("q", "").strip()[:50]
    error = ""
    try:
        committees = committee_list(actor=actor, region_code=region or None, kind=kind or None, search=search)
    except (ValidationFailed, NotFoundError) as failure:
        error = failure.summary
        committees = committee_list(actor=actor)
    page = Paginator(committees, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "filters": {"region": region, "kind": kind, "q": search},
        "kinds": CommitteeKind.choices,
        "error": error,
    }
    template = (
        "committees/partials/_table.html" if getattr(request, "htmx", False) else "committees/list.html"
    )
    return render(request, template, context)


@require_GET
@permission_required(Permission.COMMITTEE_VIEW)
def committee_detail_page(request: HttpRequest, committee_id: int) -> HttpResponse:
    actor = request_actor(request)
    committee = committee_get(actor=actor, committee_id=committee_id)
    parent = committee_parent(actor=actor, committee=committee)
    trail = (
        audit_trail_for(actor=actor, target=committee) if actor.has(Permission.RECORD_HISTORY_VIEW) else None
    )
    return render(
        request, "committees/detail.html", {"committee": committee, "parent": parent, "trail": trail}
    )
