"""Writes of 网吧义务监督: registering, updating and closing cafés; recording an inspection (which opens a
finding for the county when something was wrong, and credits the inspectors' service hours); following a
finding up and closing it with an outcome.

Every write checks the actor's permission and region here and ends with one audit event (the last write of
its transaction). Audit actions: cafe.create, cafe.update, cafe.close, cafe.inspection,
cafe.finding_follow_up, cafe.finding_close, and cafe.photo_view for a read (labels: guanai.audit.actions).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from guanai import audit
from guanai.accounts.models import RoleAssignment, User
from guanai.cafes.models import (
    CafeFinding,
    CafeInspection,
    CafeInspectionPhoto,
    CafeInspector,
    InternetCafe,
    teams_covering_q,
)
from guanai.cafes.photos import (
    PHOTOS_PER_INSPECTION,
    CleanPhoto,
    photo_clean,
    photo_delete,
    photo_store,
)
from guanai.cafes.vocabulary import (
    MAX_DURATION_MINUTES,
    MAX_MINORS_FOUND,
    PROBLEM_LABELS,
    RECORDING_WINDOW_DAYS,
    FindingOutcome,
    FindingState,
    Problem,
    follow_up_deadline,
)
from guanai.core import access, region_codes
from guanai.core.access import Actor, Permission, Role
from guanai.core.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailed,
)
from guanai.core.region_codes import RegionLevel
from guanai.minors.validation import FieldError, clean_phone
from guanai.notifications.models import Notification
from guanai.notifications.services import notify
from guanai.regions.models import Region
from guanai.volunteers.models import ServiceHours, Team, TeamMembership, Volunteer
from guanai.volunteers.services import hours_record_automatic
from guanai.volunteers.vocabulary import HoursSource, TeamKind
from guanai.volunteers.vocabulary import Status as VolunteerStatus


def _require(actor: Actor, permission: Permission) -> None:
    if not actor.has(permission):
        raise PermissionDeniedError()


# --- Cafés ------------------------------------------------------------------------------------------


@dataclass
class CafeInput:
    region_code: str  # the township (乡镇/街道) the café is in
    name: str
    address: str
    licence_number: str = ""
    operator: str = ""
    phone: str = ""
    notes: str = ""


# The fields an update may change, as the form and the API name them.
EDITABLE = ("region_code", "name", "address", "licence_number", "operator", "phone", "notes")


def _township(actor: Actor, code: str) -> Region:
    try:
        full = region_codes.normalise_code(code)
    except ValueError as error:
        raise ValidationFailed(fields={"region_code": [_("区划代码应为 9 或 12 位数字")]}) from error
    if actor.region_code is None or not region_codes.is_within(full, actor.region_code):
        raise ValidationFailed(fields={"region_code": [_("该乡镇（街道）不在您的管辖范围内")]})
    region = Region.objects.filter(code=full).first()
    if region is None or region.level != RegionLevel.TOWNSHIP:
        raise ValidationFailed(fields={"region_code": [_("请选择乡镇（街道）一级的区划")]})
    return region


def _cafe_values(actor: Actor, data: CafeInput, *, current: InternetCafe | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    try:
        values["region"] = _township(actor, data.region_code)
    except ValidationFailed as error:
        errors.update(error.fields)
    for name, limit, required in (
        ("name", 100, True),
        ("address", 200, True),
        ("licence_number", 50, False),
        ("operator", 50, False),
        ("notes", 500, False),
    ):
        text = str(getattr(data, name)).strip()
        if required and not text:
            errors[name] = [_("请填写此项")]
        elif len(text) > limit:
            errors[name] = [_("不超过 %(limit)d 个字") % {"limit": limit}]
        values[name] = text
    # 网络文化经营许可证号 as printed, e.g. 浙网文〔2019〕1234-056号; full-width spaces typed by accident go.
    values["licence_number"] = values["licence_number"].replace("\u3000", "").replace(" ", "")
    licence = values["licence_number"]
    if licence and "licence_number" not in errors:
        taken = InternetCafe.objects.filter(licence_number=licence)
        if current is not None:
            taken = taken.exclude(pk=current.pk)
        if taken.exists():
            errors["licence_number"] = [_("该许可证号已登记")]
    try:
        values["phone"] = clean_phone(data.phone, field="phone")
    except FieldError as error:
        errors["phone"] = [error.message]
    if errors:
        raise ValidationFailed(fields=errors)
    return values


@transaction.atomic
def cafe_register(*, actor: Actor, data: CafeInput, request: Any = None) -> InternetCafe:
    _require(actor, Permission.CAFE_MANAGE)
    values = _cafe_values(actor, data, current=None)
    cafe = InternetCafe.objects.create(**values, created_by=actor.user)
    audit.record(
        actor=actor,
        action="cafe.create",
        target=cafe,
        changes=[key for key, value in values.items() if value not in (None, "")],
        request=request,
    )
    return cafe


def _locked_cafe(actor: Actor, cafe_id: int) -> InternetCafe:
    cafe = InternetCafe.objects.visible_to(actor).select_for_update().filter(pk=cafe_id).first()
    if cafe is None:
        raise NotFoundError()
    return cafe


@transaction.atomic
def cafe_update(
    *, actor: Actor, cafe_id: int, version: int, data: CafeInput, request: Any = None
) -> InternetCafe:
    """Save over the version the editor started from; an older version is a conflict (someone else
    saved in between) and overwrites nothing."""
    _require(actor, Permission.CAFE_MANAGE)
    cafe = _locked_cafe(actor, cafe_id)
    if cafe.version != version:
        raise ConflictError(
            _("该网吧信息已被他人修改（当前版本 %(current)d，您编辑的是版本 %(yours)d），请刷新后重新修改。")
            % {"current": cafe.version, "yours": version}
        )
    values = _cafe_values(actor, data, current=cafe)
    changed = [key for key, value in values.items() if getattr(cafe, key) != value]
    for key, value in values.items():
        setattr(cafe, key, value)
    cafe.version += 1
    cafe.save()
    audit.record(actor=actor, action="cafe.update", target=cafe, changes=changed, request=request)
    return cafe


@transaction.atomic
def cafe_close(
    *,
    actor: Actor,
    cafe_id: int,
    reason: str,
    closed_on: datetime.date | None = None,
    request: Any = None,
) -> InternetCafe:
    """A café that no longer operates (停业、注销、吊销): kept with its inspections, no longer listed as
    open."""
    _require(actor, Permission.CAFE_MANAGE)
    reason = reason.strip()
    closed_on = closed_on or timezone.localdate()
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["reason"] = [_("请填写停业原因")]
    elif len(reason) > 200:
        errors["reason"] = [_("不超过 %(limit)d 个字") % {"limit": 200}]
    if closed_on > timezone.localdate():
        errors["closed_on"] = [_("停业日期不能晚于今天")]
    if errors:
        raise ValidationFailed(fields=errors)
    cafe = _locked_cafe(actor, cafe_id)
    if not cafe.is_open:
        raise ConflictError(_("该网吧已登记停业"))
    cafe.is_open, cafe.closed_on, cafe.closed_reason = False, closed_on, reason
    cafe.version += 1
    cafe.save(update_fields=["is_open", "closed_on", "closed_reason", "version", "updated_at"])
    audit.record(
        actor=actor,
        action="cafe.close",
        target=cafe,
        changes=["is_open", "closed_on", "closed_reason"],
        request=request,
    )
    return cafe


# --- Inspections ------------------------------------------------------------------------------------


@dataclass
class InspectionInput:
    inspected_on: datetime.date
    duration_minutes: int
    minors_found: int
    id_checks_done: bool
    notices_posted: bool
    other_problem: bool = False
    finding_description: str = ""
    # The supervision team; may be left out when only one team covers the café.
    team_id: int | None = None
    # Staff: every inspector. An inspector: the members who went with them (they count themselves).
    inspector_ids: list[int] = field(default_factory=list)


def _inspection_errors(data: InspectionInput, *, today: datetime.date) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if data.inspected_on > today:
        errors["inspected_on"] = [_("巡查日期不能晚于今天")]
    elif data.inspected_on < today - datetime.timedelta(days=RECORDING_WINDOW_DAYS):
        errors["inspected_on"] = [_("只能记录一年以内的巡查")]
    if not 0 < data.duration_minutes <= MAX_DURATION_MINUTES:
        errors["duration_minutes"] = [
            _("巡查时长应在 1 至 %(limit)d 分钟之间") % {"limit": MAX_DURATION_MINUTES}
        ]
    if not 0 <= data.minors_found <= MAX_MINORS_FOUND:
        errors["minors_found"] = [_("人数应在 0 至 %(limit)d 之间") % {"limit": MAX_MINORS_FOUND}]
    description = data.finding_description.strip()
    if len(description) > 500:
        errors["finding_description"] = [_("不超过 %(limit)d 个字") % {"limit": 500}]
    elif data.other_problem and not description:
        errors["finding_description"] = [_("发现其他问题的，请说明是什么问题")]
    return errors


def _team_for(
    actor: Actor, cafe: InternetCafe, team_id: int | None, *, as_inspector: bool
) -> tuple[Team | None, dict[str, list[str]]]:
    """The supervision team of the inspection: one covering the café, that the inspector serves in (or,
    for staff, any active one covering the café)."""
    candidates: QuerySet[Team] = (
        access.cafe_supervision_teams(actor)
        if as_inspector
        else Team.objects.filter(kind=TeamKind.CAFE_SUPERVISORS, is_active=True)
    )
    candidates = candidates.filter(teams_covering_q(cafe.region_id)).order_by("region_id", "name", "id")
    if team_id is not None:
        team = candidates.filter(pk=team_id).first()
        if team is None:
            return None, {"team_id": [_("请选择负责该网吧所在区域的网吧义务监督员队")]}
        return team, {}
    found = list(candidates[:2])
    if len(found) == 1:
        return found[0], {}
    if not found:
        return None, {"team_id": [_("该网吧所在区域尚无网吧义务监督员队")]}
    return None, {"team_id": [_("请选择巡查队伍")]}


def _inspectors(
    actor: Actor, team: Team, inspector_ids: Sequence[int], *, as_inspector: bool
) -> tuple[list[Volunteer], dict[str, list[str]]]:
    """The volunteers of the inspection: current, 在岗 members of the team. An inspector counts
    themselves; staff name everyone."""
    wanted = set(inspector_ids)
    if as_inspector:
        own = Volunteer.objects.filter(user=actor.user).values_list("pk", flat=True).first()
        # cafe_supervision_teams() found a membership, so there is a record: refuse all the same if not.
        if own is None:
            raise PermissionDeniedError()
        wanted.add(own)
    if not wanted:
        return [], {"inspector_ids": [_("请选择参加巡查的队员")]}
    members = set(
        TeamMembership.objects.filter(
            team=team,
            left_on__isnull=True,
            volunteer_id__in=wanted,
            volunteer__status=VolunteerStatus.ACTIVE,
        ).values_list("volunteer_id", flat=True)
    )
    if wanted - members:
        return [], {"inspector_ids": [_("巡查员须为本队在队、在岗的队员")]}
    return list(Volunteer.objects.filter(pk__in=sorted(members)).order_by("pk")), {}


def inspection_hours(duration_minutes: int) -> Decimal:
    """An inspection's time in hours, to the tenth as service hours are kept (at least 0.1)."""
    hours = (Decimal(duration_minutes) / Decimal(60)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return max(hours, Decimal("0.1"))


def inspection_hours_credit(*, inspection: CafeInspection, recorded_by: Any = None) -> list[ServiceHours]:
    """Each inspector's service hours for the inspection, confirmed (谁组织谁记录: the team organised it).
    Idempotent: one record per inspection and volunteer (source_key), so crediting twice counts once."""
    hours = inspection_hours(inspection.duration_minutes)
    description = _("网吧义务监督巡查：%(cafe)s") % {"cafe": inspection.cafe.name}
    return [
        hours_record_automatic(
            volunteer=volunteer,
            served_on=inspection.inspected_on,
            hours=hours,
            description=description,
            source=HoursSource.ACTIVITY,
            source_key=f"cafe_inspection:{inspection.pk}:{volunteer.pk}",
            organiser=inspection.team.name,
            recorded_by=recorded_by,
        )
        for volunteer in inspection.inspectors.order_by("pk")
    ]


def county_admins(county_code: str, *, on: datetime.date | None = None) -> QuerySet[User]:
    """The admins of a county's committee: active users holding a county_admin role of that county,
    valid on the day."""
    day = on or timezone.localdate()
    holders = (
        RoleAssignment.objects.valid_on(day)
        .filter(role=Role.COUNTY_ADMIN, region_id=county_code)
        .values("user_id")
    )
    return User.objects.filter(pk__in=holders, is_active=True).order_by("pk")


def _county_of(township_code: str) -> str:
    return township_code[:6].ljust(12, "0")


def _open_finding(inspection: CafeInspection, *, today: datetime.date) -> CafeFinding:
    problems = inspection.problems
    finding = CafeFinding.objects.create(
        inspection=inspection,
        cafe=inspection.cafe,
        county_id=_county_of(inspection.cafe.region_id),
        problems=problems,
        deadline=follow_up_deadline(today, minors_present=bool(problems & Problem.MINORS_PRESENT)),
    )
    cafe = inspection.cafe
    body = _("%(township)s%(cafe)s（%(day)s巡查）：%(problems)s。请于%(deadline)s前跟进处理。") % {
        "township": cafe.region.name,
        "cafe": cafe.name,
        "day": _month_day(inspection.inspected_on),
        "problems": "；".join(_problem_phrases(inspection)),
        "deadline": _month_day(finding.deadline),
    }
    notify(
        users=county_admins(finding.county_id),
        # Minors found in a café is urgent (an SMS goes too); the other findings wait in the inbox.
        kind=Notification.Kind.ALERT if problems & Problem.MINORS_PRESENT else Notification.Kind.NOTICE,
        title=_("网吧巡查发现问题：%(cafe)s") % {"cafe": cafe.name},
        body=body,
        link=reverse("cafes:finding_detail", args=[finding.pk]),
        topic=f"cafe_finding:{finding.pk}",
    )
    return finding


def _month_day(day: datetime.date) -> str:
    return _("%(month)d月%(day)d日") % {"month": day.month, "day": day.day}


def _problem_phrases(inspection: CafeInspection) -> list[str]:
    """What was wrong, in words; the minors with their number."""
    phrases = []
    for problem, label in PROBLEM_LABELS.items():
        if not inspection.problems & problem:
            continue
        if problem == Problem.MINORS_PRESENT:
            phrases.append(_("发现未成年人 %(count)d 名") % {"count": inspection.minors_found})
        else:
            phrases.append(str(label))
    return phrases


def inspection_record(
    *,
    actor: Actor,
    cafe_id: int,
    data: InspectionInput,
    photos: Sequence[Any] = (),
    request: Any = None,
) -> CafeInspection:
    """Record an inspection, by an inspector (a current member of a supervision team covering the café)
    or by staff who manage cafés, for the team. Something wrong opens a finding and tells the county
    committee's admins; each inspector's time is credited to their service hours."""
    as_inspector = not actor.has(Permission.CAFE_MANAGE)
    if as_inspector:
        _require(actor, Permission.CAFE_INSPECT)
        if not access.cafe_supervision_teams(actor).exists():
            raise PermissionDeniedError(_("您不是网吧义务监督员队的在队成员，不能记录巡查。"))
    if len(photos) > PHOTOS_PER_INSPECTION:
        raise ValidationFailed(
            fields={"photos": [_("每次巡查最多上传 %(count)d 张照片") % {"count": PHOTOS_PER_INSPECTION}]}
        )
    # Photos are checked and cleaned before anything is written.
    cleaned: list[CleanPhoto] = [photo_clean(upload) for upload in photos]
    stored: list[str] = []
    try:
        with transaction.atomic():
            inspection = _inspection_save(
                actor, cafe_id, data, cleaned, stored, as_inspector=as_inspector, request=request
            )
    except BaseException:
        for path in stored:  # the rows that named them were rolled back
            photo_delete(path)
        raise
    return inspection


def _inspection_save(
    actor: Actor,
    cafe_id: int,
    data: InspectionInput,
    photos: list[CleanPhoto],
    stored: list[str],
    *,
    as_inspector: bool,
    request: Any,
) -> CafeInspection:
    cafe = InternetCafe.objects.visible_to(actor).select_related("region").filter(pk=cafe_id).first()
    if cafe is None:
        raise NotFoundError()
    today = timezone.localdate()
    errors = _inspection_errors(data, today=today)
    team, team_errors = _team_for(actor, cafe, data.team_id, as_inspector=as_inspector)
    errors.update(team_errors)
    inspectors: list[Volunteer] = []
    if team is not None:
        inspectors, inspector_errors = _inspectors(actor, team, data.inspector_ids, as_inspector=as_inspector)
        errors.update(inspector_errors)
    if errors:
        raise ValidationFailed(fields=errors)
    assert team is not None
    has_finding = (
        data.minors_found > 0 or not data.id_checks_done or not data.notices_posted or data.other_problem
    )
    inspection = CafeInspection.objects.create(
        cafe=cafe,
        team=team,
        inspected_on=data.inspected_on,
        duration_minutes=data.duration_minutes,
        minors_found=data.minors_found,
        id_checks_done=data.id_checks_done,
        notices_posted=data.notices_posted,
        other_problem=data.other_problem,
        has_finding=has_finding,
        finding_description=data.finding_description.strip(),
        recorded_by=actor.user,
    )
    CafeInspector.objects.bulk_create(
        [CafeInspector(inspection=inspection, volunteer=volunteer) for volunteer in inspectors]
    )
    for photo in photos:
        path = photo_store(inspection_id=inspection.pk, photo=photo)
        stored.append(path)
        CafeInspectionPhoto.objects.create(
            inspection=inspection, path=path, width=photo.width, height=photo.height, size=len(photo.data)
        )
    finding = _open_finding(inspection, today=today) if has_finding else None
    inspection_hours_credit(inspection=inspection, recorded_by=actor.user)
    audit.record(
        actor=actor,
        action="cafe.inspection",
        target=inspection,
        detail={
            "cafe": cafe.pk,
            "finding": finding.pk if finding is not None else None,
            "inspectors": len(inspectors),
            "photos": len(photos),
        },
        request=request,
    )
    return inspection


# --- Findings ---------------------------------------------------------------------------------------


def _locked_finding(actor: Actor, finding_id: int) -> CafeFinding:
    finding = CafeFinding.objects.visible_to(actor).select_for_update().filter(pk=finding_id).first()
    if finding is None:
        raise NotFoundError()
    if finding.state != FindingState.OPEN:
        raise ConflictError(_("该问题已办结"))
    return finding


@transaction.atomic
def finding_follow_up(
    *,
    actor: Actor,
    finding_id: int,
    note: str,
    deadline: datetime.date | None = None,
    request: Any = None,
) -> CafeFinding:
    """The county's follow-up of an open finding: what has been done so far, and (when more time is
    needed) a new deadline."""
    _require(actor, Permission.CAFE_MANAGE)
    note = note.strip()
    errors: dict[str, list[str]] = {}
    if not note:
        errors["note"] = [_("请填写跟进情况")]
    elif len(note) > 1000:
        errors["note"] = [_("不超过 %(limit)d 个字") % {"limit": 1000}]
    if deadline is not None and deadline < timezone.localdate():
        errors["deadline"] = [_("处理期限不能早于今天")]
    if errors:
        raise ValidationFailed(fields=errors)
    finding = _locked_finding(actor, finding_id)
    changed = ["follow_up_note"]
    finding.follow_up_note = note
    finding.followed_up_at, finding.followed_up_by = timezone.now(), actor.user
    if deadline is not None and deadline != finding.deadline:
        finding.deadline = deadline
        changed.append("deadline")
    finding.save(update_fields=[*changed, "followed_up_at", "followed_up_by"])
    audit.record(
        actor=actor, action="cafe.finding_follow_up", target=finding, changes=changed, request=request
    )
    return finding


@transaction.atomic
def finding_close(
    *, actor: Actor, finding_id: int, outcome: str, note: str = "", request: Any = None
) -> CafeFinding:
    """Close an open finding with its outcome (已责令整改, 已移交文化市场综合执法, 已处罚, 经核实无问题)."""
    _require(actor, Permission.CAFE_MANAGE)
    note = note.strip()
    errors: dict[str, list[str]] = {}
    if outcome not in FindingOutcome.values:
        errors["outcome"] = [_("请选择处理结果")]
    if len(note) > 500:
        errors["note"] = [_("不超过 %(limit)d 个字") % {"limit": 500}]
    if errors:
        raise ValidationFailed(fields=errors)
    finding = _locked_finding(actor, finding_id)
    finding.state, finding.outcome, finding.outcome_note = FindingState.CLOSED, outcome, note
    finding.closed_at, finding.closed_by = timezone.now(), actor.user
    finding.save(update_fields=["state", "outcome", "outcome_note", "closed_at", "closed_by"])
    audit.record(
        actor=actor,
        action="cafe.finding_close",
        target=finding,
        changes=["state", "outcome", "outcome_note"],
        detail={"outcome": outcome},
        request=request,
    )
    return finding


# --- Seeing a photo ---------------------------------------------------------------------------------


def photo_view_record(*, actor: Actor, photo: CafeInspectionPhoto, request: Any = None) -> None:
    """A photo of an inspection was looked at: who, which, when (the café's interior may show people)."""
    audit.record(actor=actor, action="cafe.photo_view", target=photo, request=request)
