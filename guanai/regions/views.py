from __future__ import annotations

from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from guanai.committees.models import Committee
from guanai.core import region_codes
from guanai.core.access import Permission, permission_required, request_actor
from guanai.regions.selectors import region_breadcrumb, region_children, region_get


@require_GET
@permission_required(Permission.REGION_VIEW)
def mine(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    if actor.region_code is None:
        raise Http404
    return redirect("regions:detail", code=actor.region_code)


@require_GET
@permission_required(Permission.REGION_VIEW)
def detail(request: HttpRequest, code: str) -> HttpResponse:
    actor = request_actor(request)
    region = region_get(actor=actor, code=code)
    children = list(region_children(actor=actor, code=region.code)[:1000])
    committee_counts: dict[str, int] = {}
    if children and actor.has(Permission.COMMITTEE_VIEW):
        # One grouped query: committees of each child's subtree.
        visible = Committee.objects.visible_to(actor).filter(region_codes.within_q("region_id", region.code))
        length = region_codes.PREFIX_LENGTH[region_codes.level_of(children[0].code)]
        for region_id, n in visible.values_list("region_id").annotate(n=Count("id")).order_by():
            key = region_id[:length].ljust(12, "0")
            committee_counts[key] = committee_counts.get(key, 0) + n
    rows = [(child, committee_counts.get(child.code, 0)) for child in children]
    return render(
        request,
        "regions/detail.html",
        {"region": region, "breadcrumb": region_breadcrumb(code=region.code), "rows": rows},
    )
