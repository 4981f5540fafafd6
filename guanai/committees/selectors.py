from __future__ import annotations

from django.db.models import Case, IntegerField, Prefetch, Q, QuerySet, Value, When

from guanai.committees.models import POSITION_ORDER, Committee, CommitteeKind, CommitteeMember
from guanai.core import region_codes
from guanai.core.access import Actor, Permission, can_see_region
from guanai.core.errors import NotFoundError, PermissionDeniedError, ValidationFailed


def _require_view(actor: Actor) -> None:
    if not actor.has(Permission.COMMITTEE_VIEW):
        raise PermissionDeniedError()


def committee_list(
    *, actor: Actor, region_code: str | None = None, kind: str | None = None, search: str | None = None
) -> QuerySet[Committee]:
    """Committees inside the actor's region, optionally inside a smaller region of it."""
    _require_view(actor)
    committees = Committee.objects.visible_to(actor).select_related("region")
    if region_code:
        try:
            code = region_codes.normalise_code(region_code)
        except ValueError as error:
            raise ValidationFailed(fields={"region": ["区划代码应为 2、4、6、9 或 12 位数字"]}) from error
        if not can_see_region(actor, code):
            raise NotFoundError()
        committees = committees.filter(region_codes.within_q("region_id", code))
    if kind:
        if kind not in CommitteeKind.values:
            raise ValidationFailed(fields={"kind": ["未知的关工委类型"]})
        committees = committees.filter(kind=kind)
    if search:
        committees = committees.filter(Q(name__icontains=search) | Q(region__short_name__icontains=search))
    return committees.order_by("region_id", "kind", "name")


def _members_in_position_order() -> QuerySet[CommitteeMember]:
    rank = Case(
        *[When(position=position, then=Value(index)) for index, position in enumerate(POSITION_ORDER)],
        output_field=IntegerField(),
    )
    return CommitteeMember.objects.filter(is_active=True).order_by(rank, "id")


def committee_get(*, actor: Actor, committee_id: int) -> Committee:
    _require_view(actor)
    committee = (
        Committee.objects.visible_to(actor)
        .select_related("region")
        .prefetch_related(Prefetch("members", queryset=_members_in_position_order()))
        .filter(pk=committee_id)
        .first()
    )
    if committee is None:
        raise NotFoundError()
    return committee


def committee_parent(*, actor: Actor, committee: Committee) -> Committee | None:
    """The committee a committee reports to, when the actor may see it: the regional committee of the
    region above (for a school or enterprise committee, of its own region)."""
    if committee.kind == CommitteeKind.REGIONAL:
        parent_code = region_codes.parent_code(committee.region_id)
        if parent_code is None:
            return None
    else:
        parent_code = committee.region_id
    return (
        Committee.objects.visible_to(actor).filter(region_id=parent_code, kind=CommitteeKind.REGIONAL).first()
    )
