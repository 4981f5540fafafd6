"""Duty rosters (值班表) of the professionals: the reads and the one write behind the roster pages and the
`/duty-slots` API.

A supervisor (CONSULTATION_SUPERVISE: the county, city and province admins) keeps the rosters of the
professionals whose home (`Volunteer.region`) lies in their region: per professional and kind of help, a
weekly grid of 7 days × 4 parts of the day, with the region the slots cover — inside the supervisor's own
region. Only a province-level supervisor names the province's on-duty leads (`is_lead`), the last step of a
crisis' escalation; a grid that a higher level arranged (a coverage region outside the supervisor's, or lead
slots) is changed by that level only. Saving a grid replaces the professional's slots of that kind at once
(audited: duty.roster_save). The professional reads their own slots.

Supervisors also see who is on duty now for a region (the slots of the current part of the day that cover
it, of professionals who may answer).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from guanai import audit
from guanai.consultations.models import Consultation, DutySlot
from guanai.consultations.routing import (
    answering_professionals,
    professional_for,
    qualified_q,
    volunteer_kinds,
    with_specialty_bits,
)
from guanai.consultations.vocabulary import DutyPart, Kind, duty_slot_at
from guanai.core import access, region_codes
from guanai.core.access import Actor, Permission
from guanai.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from guanai.core.region_codes import RegionLevel
from guanai.volunteers.models import Volunteer
from guanai.volunteers.vocabulary import WEEKDAY_LABELS, Status

WEEKDAYS = tuple(range(7))
PARTS = tuple(int(part) for part in DutyPart)
# The statuses whose rosters a supervisor keeps: a suspended professional's slots can still be cleared.
ROSTER_STATUSES = (Status.ACTIVE, Status.SUSPENDED)
# Coverage regions offered on the grid page: the supervisor's region and two levels below (never villages,
# of which a county has hundreds); the API takes any region inside the supervisor's.
COVERAGE_LEVELS_BELOW = 2


def _require_supervisor(actor: Actor) -> None:
    if not actor.has(Permission.CONSULTATION_SUPERVISE):
        raise PermissionDeniedError()


def is_province_supervisor(actor: Actor) -> bool:
    return (
        actor.has(Permission.CONSULTATION_SUPERVISE)
        and actor.region_code is not None
        and region_codes.level_of(actor.region_code) == RegionLevel.PROVINCE
    )


# --- The grid ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GridCell:
    weekday: int
    part: int
    slot: DutySlot | None

    @property
    def part_label(self) -> str:
        return str(DutyPart(self.part).label)

    @property
    def key(self) -> str:
        """The cell's value in the grid form: "weekday-part"."""
        return f"{self.weekday}-{self.part}"


@dataclass(frozen=True)
class GridRow:
    weekday: int
    label: str
    cells: list[GridCell]


@dataclass
class Grid:
    """A week of one professional's slots (of one kind, or of all), day by day, part by part."""

    slots: dict[tuple[int, int], DutySlot] = field(default_factory=dict)

    @classmethod
    def of(cls, slots: Iterable[DutySlot]) -> Grid:
        return cls({(slot.weekday, slot.part): slot for slot in slots})

    def rows(self) -> list[GridRow]:
        return [
            GridRow(
                weekday=day,
                label=str(WEEKDAY_LABELS[day]),
                cells=[GridCell(day, part, self.slots.get((day, part))) for part in PARTS],
            )
            for day in WEEKDAYS
        ]

    @property
    def count(self) -> int:
        return len(self.slots)

    def keys(self) -> list[str]:
        return [f"{day}-{part}" for day, part in sorted(self.slots)]


def part_labels() -> list[str]:
    return [str(label) for label in DutyPart.labels]


def slot_summary(slots: Iterable[DutySlot]) -> str:
    """周一上午、周一下午… in the week's order, for a list."""
    ordered = sorted(slots, key=lambda slot: (slot.weekday, slot.part))
    short = {int(DutyPart.MORNING): _("上午"), int(DutyPart.AFTERNOON): _("下午")}
    short |= {int(DutyPart.EVENING): _("晚上"), int(DutyPart.NIGHT): _("夜间")}
    return "、".join(f"{WEEKDAY_LABELS[slot.weekday]}{short[slot.part]}" for slot in ordered)


# --- Reads -------------------------------------------------------------------------------------------------


def _specialty_q(kind: str | None) -> Q:
    """Professionals qualified for `kind` (either kind when None), on a queryset with the bits aliased."""
    if kind:
        return qualified_q(kind)
    return qualified_q(Kind.LEGAL) | qualified_q(Kind.PSYCHOLOGICAL)


def roster_professionals(*, actor: Actor, kind: str | None = None) -> QuerySet[Volunteer]:
    """The professionals whose rosters the supervisor keeps (home inside their region), qualified for
    `kind` (or either), active or suspended, with their slots (and the slots' regions) prefetched in the
    week's order."""
    _require_supervisor(actor)
    if kind and kind not in Kind.values:
        raise ValidationFailed(fields={"kind": [_("未知的咨询类别")]})
    slots = DutySlot.objects.select_related("region").order_by("kind", "weekday", "part")
    if kind:
        slots = slots.filter(kind=kind)
    return (
        with_specialty_bits(
            Volunteer.objects.filter(access.scope_q(actor, "region_id"), status__in=ROSTER_STATUSES)
        )
        .filter(_specialty_q(kind))
        .select_related("region")
        .prefetch_related(Prefetch("duty_slots", queryset=slots, to_attr="roster_slots"))
        .order_by("name_pinyin", "pk")
    )


def roster_volunteer(*, actor: Actor, volunteer_id: int) -> Volunteer:
    """One professional whose roster the supervisor keeps, or 404."""
    volunteer = roster_professionals(actor=actor).filter(pk=volunteer_id).first()
    if volunteer is None:
        raise NotFoundError()
    return volunteer


def coverage_regions(*, actor: Actor) -> list[Any]:
    """Regions a supervisor may give as a grid's coverage: their own and two levels below it."""
    from guanai.regions.models import Region

    _require_supervisor(actor)
    code = actor.region_code or ""
    deepest = min(region_codes.level_of(code) + COVERAGE_LEVELS_BELOW, RegionLevel.TOWNSHIP)
    return list(
        Region.objects.filter(region_codes.within_q("code", code), level__lte=deepest).order_by("code")
    )


def duty_slot_list(
    *, actor: Actor, kind: str | None = None, volunteer_id: int | None = None
) -> QuerySet[DutySlot]:
    """Slots the actor may read: a supervisor, those of the professionals whose rosters they keep; a
    professional, their own."""
    if actor.has(Permission.CONSULTATION_SUPERVISE):
        slots = DutySlot.objects.filter(
            access.scope_q(actor, "volunteer__region_id"), volunteer__status__in=ROSTER_STATUSES
        )
    elif actor.has(Permission.CONSULTATION_ANSWER):
        volunteer = professional_for(actor)
        slots = DutySlot.objects.filter(volunteer=volunteer) if volunteer else DutySlot.objects.none()
    else:
        raise PermissionDeniedError()
    if kind:
        slots = slots.filter(kind=kind)
    if volunteer_id is not None:
        slots = slots.filter(volunteer_id=volunteer_id)
    return slots.select_related("volunteer", "region").order_by(
        "volunteer__name_pinyin", "volunteer_id", "kind", "weekday", "part"
    )


def own_slots(*, volunteer: Volunteer) -> QuerySet[DutySlot]:
    return (
        DutySlot.objects.filter(volunteer=volunteer)
        .select_related("region")
        .order_by("kind", "weekday", "part")
    )


def on_duty_slots_of(*, volunteer: Volunteer, now: datetime.datetime) -> list[DutySlot]:
    """The professional's slots of the current part of the day (of kinds they are qualified for)."""
    weekday, part = duty_slot_at(timezone.localtime(now))
    kinds = volunteer_kinds(volunteer)
    return [
        slot
        for slot in own_slots(volunteer=volunteer)
        if (slot.weekday, slot.part) == (weekday, part) and slot.kind in kinds
    ]


def on_duty_now(
    *, actor: Actor, now: datetime.datetime, region: str | None = None, kind: str | None = None
) -> QuerySet[DutySlot]:
    """Who is on duty now for a region inside the supervisor's (theirs by default): the slots of the current
    part of the day covering it or inside it, of professionals who may answer (active, qualified, with an
    account and a role). Leads first, then by name."""
    _require_supervisor(actor)
    code = _region_inside(actor, region) if region else (actor.region_code or "")
    if kind and kind not in Kind.values:
        raise ValidationFailed(fields={"kind": [_("未知的咨询类别")]})
    weekday, part = duty_slot_at(timezone.localtime(now))
    professionals = answering_professionals(timezone.localdate(now))
    answering = Q(pk__in=[])
    for each in (kind,) if kind else tuple(Kind.values):
        answering |= Q(kind=each, volunteer_id__in=professionals.filter(qualified_q(each)).values("pk"))
    return (
        DutySlot.objects.filter(weekday=weekday, part=part)
        .filter(region_codes.within_q("region_id", code) | Q(region_id__in=region_codes.ancestor_codes(code)))
        .filter(answering)
        .select_related("volunteer", "region")
        .order_by("-is_lead", "volunteer__name_pinyin", "volunteer_id", "kind")
    )


def _region_inside(actor: Actor, region: str, field_name: str = "region") -> str:
    try:
        code = region_codes.normalise_code(region)
    except ValueError as error:
        raise ValidationFailed(fields={field_name: [_("区划代码应为 2、4、6、9 或 12 位数字")]}) from error
    if not region_codes.is_within(code, actor.region_code or ""):
        raise NotFoundError()
    return code


def consultation_for_reassign(*, actor: Actor, consultation_id: int) -> Consultation:
    """A request in the supervisor's region, its metadata only (region and assignee selected)."""
    _require_supervisor(actor)
    consultation = (
        Consultation.objects.visible_to(actor)
        .select_related("region", "assigned_to")
        .filter(pk=consultation_id)
        .first()
    )
    if consultation is None:
        raise NotFoundError()
    return consultation


# --- Saving a grid -----------------------------------------------------------------------------------------


def _cells(cells: Iterable[tuple[int, int, bool]]) -> dict[tuple[int, int], bool]:
    chosen: dict[tuple[int, int], bool] = {}
    for weekday, part, is_lead in cells:
        if (
            isinstance(weekday, bool)
            or weekday not in WEEKDAYS
            or isinstance(part, bool)
            or part not in PARTS
        ):
            raise ValidationFailed(fields={"slots": [_("星期应为 0（周一）到 6（周日），时段应为 0 到 3")]})
        chosen[(weekday, part)] = chosen.get((weekday, part), False) or bool(is_lead)
    return chosen


@transaction.atomic
def duty_slots_replace(
    *,
    actor: Actor,
    volunteer_id: int,
    kind: str,
    region_code: str,
    cells: Iterable[tuple[int, int, bool]],
    request: Any = None,
) -> list[DutySlot]:
    """Replace a professional's slots of one kind by `cells` ((weekday, part, is_lead), weekday 0 = Monday,
    part a `DutyPart`), all covering `region_code`. An empty grid clears them. Refused: a professional
    outside the supervisor's region (404), a kind they are not qualified for, a coverage region outside the
    supervisor's, a lead slot named below the province (422), a grid arranged by a higher level (409)."""
    from guanai.regions.models import Region

    _require_supervisor(actor)
    volunteer = (
        Volunteer.objects.select_for_update()
        .filter(access.scope_q(actor, "region_id"), status__in=ROSTER_STATUSES, pk=volunteer_id)
        .first()
    )
    if volunteer is None or not volunteer_kinds(volunteer):
        raise NotFoundError()
    errors: dict[str, list[str]] = {}
    if kind not in Kind.values:
        errors["kind"] = [_("未知的咨询类别")]
    elif kind not in volunteer_kinds(volunteer):
        errors["kind"] = [_("该志愿者没有这一类别的执业证或资质证书，不能安排此类值班")]
    code = ""
    try:
        code = region_codes.normalise_code(region_code or "")
    except ValueError:
        errors["region"] = [_("请选择服务地区")]
    else:
        if (
            not region_codes.is_within(code, actor.region_code or "")
            or not Region.objects.filter(code=code).exists()
        ):
            errors["region"] = [_("服务地区须在您的辖区之内")]
    chosen = _cells(cells)
    leads = sum(1 for is_lead in chosen.values() if is_lead)
    if leads and not is_province_supervisor(actor):
        errors["is_lead"] = [_("只有省级管理员可以指定值班负责人")]
    if errors:
        raise ValidationFailed(fields=errors)
    existing = DutySlot.objects.filter(volunteer=volunteer, kind=kind)
    if (
        not is_province_supervisor(actor)
        and existing.filter(
            ~region_codes.within_q("region_id", actor.region_code or "") | Q(is_lead=True)
        ).exists()
    ):
        raise ConflictError(_("该志愿者的这类值班由上级管理员安排，请联系上级管理员调整"))
    before = existing.count()
    existing.delete()
    slots = DutySlot.objects.bulk_create(
        DutySlot(
            volunteer=volunteer,
            kind=kind,
            region_id=code,
            weekday=weekday,
            part=part,
            is_lead=is_lead,
            created_by=actor.user,
        )
        for (weekday, part), is_lead in sorted(chosen.items())
    )
    audit.record(
        actor=actor,
        action="duty.roster_save",
        target=volunteer,
        changes=["duty_slots"],
        detail={"kind": kind, "region": code, "slots": len(slots), "leads": leads, "before": before},
        request=request,
    )
    return slots
