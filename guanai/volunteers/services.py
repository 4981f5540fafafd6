"""Writes to the volunteers' records: register, update (optimistic concurrency), status, background
checks, service hours (record, claim, confirm, return, correct), teams, training and honours.

Every write checks the actor's permission and region here and ends with one audit event. Service hours
follow 志愿服务条例 (DOMAIN.md §7): 谁组织谁记录 — the organiser records (confirmed at once); a volunteer's
own claim waits for the organiser; a correction keeps what the record was and why it changed.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from guanai import audit
from guanai.committees.models import Committee
from guanai.core import region_codes
from guanai.core.access import Actor, Permission, can_see_region
from guanai.core.crypto import blind_index
from guanai.core.errors import (
    ConflictError,
    DomainError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailed,
)
from guanai.core.region_codes import RegionLevel
from guanai.minors.names import pinyin_forms
from guanai.minors.validation import FieldError, clean_id_number, clean_phone, reconcile_with_id
from guanai.minors.vocabulary import Gender
from guanai.regions.models import Region
from guanai.volunteers.models import (
    Honour,
    HoursCorrection,
    ServiceHours,
    Team,
    TeamActivity,
    TeamMembership,
    Training,
    Volunteer,
)
from guanai.volunteers.vocabulary import (
    ALL_AVAILABILITY,
    MAX_HOURS_PER_RECORD,
    STATUS_CHANGES,
    CheckResult,
    ElderCategory,
    HoursSource,
    HoursState,
    Source,
    Specialty,
    Status,
    TeamKind,
    TeamRole,
    check_expires_on,
)

# Volunteers are elders, but a younger professional (a lawyer, a counsellor) serves too.
MIN_AGE = 18
MAX_CHILDREN_LIMIT = 20


class AlreadyRegistered(DomainError):
    """The ID number belongs to a volunteer already on record somewhere in the province; the answer names
    the county and nothing more."""

    status = 409
    code = "volunteer_already_registered"

    def __init__(self, county: Region | None) -> None:
        where = county.name if county is not None else _("本省")
        super().__init__(
            _("该志愿者已在%(county)s登记。") % {"county": where},
            fields={"id_number": [_("已在%(county)s登记") % {"county": where}]},
        )


@dataclass
class VolunteerInput:
    name: str
    region_code: str
    gender: str = ""
    birth_date: datetime.date | None = None
    id_number: str = ""
    phone: str = ""
    categories: int = 0
    former_unit: str = ""
    former_title: str = ""
    specialties: int = 0
    law_licence_number: str = ""
    psychology_certificate: str = ""
    teaching_subjects: str = ""
    specialty_note: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    availability: int = 0
    max_children: int = 3
    health_note: str = ""
    dialects: str = ""
    check_date: datetime.date | None = None
    check_result: str = ""
    check_by: str = ""
    shows_on_honour_roll: bool = False


# The fields an update may change, as the form and the API name them.
EDITABLE = (
    "name", "region_code", "gender", "birth_date", "id_number", "phone", "categories", "former_unit",
    "former_title", "specialties", "law_licence_number", "psychology_certificate", "teaching_subjects",
    "specialty_note", "latitude", "longitude", "availability", "max_children", "health_note", "dialects",
    "check_date", "check_result", "check_by", "shows_on_honour_roll",
)  # fmt: skip


def _require(actor: Actor, permission: Permission) -> None:
    if not actor.has(permission):
        raise PermissionDeniedError()


def _fail(error: FieldError) -> ValidationFailed:
    return ValidationFailed(fields={error.field: [error.message]})


def village_for(code: str, *, actor: Actor | None, field_name: str = "region_code") -> Region:
    """The village (村/社区) of `code`, inside the actor's region when there is an actor (staff); any
    village of the loaded regions for a public sign-up (actor None)."""
    try:
        full = region_codes.normalise_code(code)
    except ValueError as error:
        raise ValidationFailed(fields={field_name: [_("区划代码应为 12 位数字")]}) from error
    if actor is not None and (
        not can_see_region(actor, full) or not region_codes.is_within(full, actor.region_code or "")
    ):
        raise ValidationFailed(fields={field_name: [_("该村（社区）不在您的管辖范围内")]})
    region = Region.objects.filter(code=full).first()
    if region is None or region.level != RegionLevel.VILLAGE:
        raise ValidationFailed(fields={field_name: [_("请选择村（社区）一级的区划")]})
    return region


def registered_county(*, id_number: str) -> Region | None:
    existing = Volunteer.objects.filter(
        id_number_index=blind_index(Volunteer, "id_number", id_number)
    ).first()
    if existing is None:
        return None
    return Region.objects.filter(code=existing.region_id[:6].ljust(12, "0")).first()


def _coordinate(value: Decimal | None, *, low: int, high: int, field_name: str) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation as error:
        raise ValidationFailed(fields={field_name: [_("坐标应为数字")]}) from error
    # NaN cannot be compared (Decimal raises) and infinity cannot be rounded: neither is a coordinate.
    if not number.is_finite():
        raise ValidationFailed(fields={field_name: [_("坐标应为数字")]})
    if not low <= number <= high:
        raise ValidationFailed(fields={field_name: [_("坐标超出范围")]})
    return number.quantize(Decimal("0.000001"))


def validated(
    data: VolunteerInput, *, actor: Actor | None, today: datetime.date, current: Volunteer | None
) -> dict[str, Any]:
    """The record's values from the input, or ValidationFailed naming the field. Shared by the staff
    forms, the API, the public sign-up and the roster import."""
    errors: dict[str, list[str]] = {}
    name = data.name.strip()
    if not name:
        errors["name"] = [_("请填写姓名")]
    elif len(name) > 50:
        errors["name"] = [_("姓名不超过 50 个字")]
    values: dict[str, Any] = {"name": name}
    try:
        values["region"] = village_for(data.region_code, actor=actor)
    except ValidationFailed as error:
        errors.update(error.fields)
    try:
        id_number = clean_id_number(data.id_number) if data.id_number.strip() else None
        birth_date, gender = reconcile_with_id(id_number, data.birth_date, data.gender or None)
        phone = clean_phone(data.phone)
    except FieldError as error:
        raise _fail(error) from error
    if gender not in Gender.values:
        errors["gender"] = [_("请选择性别")]
    age = today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))
    if birth_date > today or age < MIN_AGE:
        errors["birth_date"] = [_("志愿者须年满 %(age)d 周岁") % {"age": MIN_AGE}]
    if id_number is not None and (current is None or current.id_number != id_number):
        existing = Volunteer.objects.filter(id_number_index=blind_index(Volunteer, "id_number", id_number))
        if existing.exists():
            raise AlreadyRegistered(registered_county(id_number=id_number))
    if data.categories & ~sum(int(c) for c in ElderCategory):
        errors["categories"] = [_("未知的五老类别")]
    if data.specialties & ~sum(int(s) for s in Specialty):
        errors["specialties"] = [_("未知的专长")]
    if data.specialties & Specialty.LAW and not data.law_licence_number.strip():
        errors["law_licence_number"] = [_("法律专长须填写律师执业证号")]
    if data.specialties & Specialty.PSYCHOLOGY and not data.psychology_certificate.strip():
        errors["psychology_certificate"] = [_("心理专长须填写心理咨询资质证书")]
    if data.availability & ~ALL_AVAILABILITY:
        errors["availability"] = [_("可服务时间不正确")]
    if not 0 <= data.max_children <= MAX_CHILDREN_LIMIT:
        errors["max_children"] = [_("最多结对人数应在 0 到 %(n)d 之间") % {"n": MAX_CHILDREN_LIMIT}]
    if data.check_date is not None and data.check_date > today:
        errors["check_date"] = [_("背景审查日期不能晚于今天")]
    if bool(data.check_date) != bool(data.check_result):
        errors["check_result" if data.check_date else "check_date"] = [_("背景审查日期与结果须同时填写")]
    if data.check_result and data.check_result not in CheckResult.values:
        errors["check_result"] = [_("未知的审查结果")]
    try:
        latitude = _coordinate(data.latitude, low=-90, high=90, field_name="latitude")
        longitude = _coordinate(data.longitude, low=-180, high=180, field_name="longitude")
    except ValidationFailed as error:
        errors.update(error.fields)
        latitude = longitude = None
    if (latitude is None) != (longitude is None):
        errors["longitude"] = [_("经纬度须同时填写")]
    if errors:
        raise ValidationFailed(fields=errors)
    values.update(
        gender=gender,
        birth_date=birth_date,
        id_number=id_number,
        phone=phone,
        categories=data.categories,
        former_unit=data.former_unit.strip()[:100],
        former_title=data.former_title.strip()[:100],
        specialties=data.specialties,
        law_licence_number=data.law_licence_number.strip()[:30] if data.specialties & Specialty.LAW else "",
        psychology_certificate=(
            data.psychology_certificate.strip()[:50] if data.specialties & Specialty.PSYCHOLOGY else ""
        ),
        teaching_subjects=data.teaching_subjects.strip()[:100],
        specialty_note=data.specialty_note.strip()[:200],
        latitude=latitude,
        longitude=longitude,
        availability=data.availability,
        max_children=data.max_children,
        health_note=data.health_note.strip()[:200],
        dialects=data.dialects.strip()[:100],
        check_date=data.check_date,
        check_result=data.check_result,
        check_by=data.check_by.strip()[:100],
        shows_on_honour_roll=data.shows_on_honour_roll,
    )
    return values


def apply_names(volunteer: Volunteer) -> None:
    volunteer.name_pinyin, volunteer.name_initials = pinyin_forms(volunteer.name)


@transaction.atomic
def volunteer_register(
    *,
    actor: Actor,
    data: VolunteerInput,
    status: str = Status.ACTIVE,
    request: Any = None,
) -> Volunteer:
    """A volunteer registered by staff (already known to the committee): 在岗 from today, unless staff
    register them as 申请中 to be reviewed."""
    _require(actor, Permission.VOLUNTEER_MANAGE)
    if status not in (Status.ACTIVE, Status.APPLYING):
        raise ValidationFailed(fields={"status": [_("新登记的志愿者只能是在岗或申请中")]})
    today = timezone.localdate()
    values = validated(data, actor=actor, today=today, current=None)
    volunteer = Volunteer(
        **values,
        status=status,
        joined_on=today if status == Status.ACTIVE else None,
        status_changed_on=today,
        source=Source.STAFF,
        created_by=actor.user,
    )
    apply_names(volunteer)
    volunteer.save()
    audit.record(
        actor=actor,
        action="volunteer.create",
        target=volunteer,
        changes=[key for key, value in values.items() if value not in (None, "", 0, False)],
        request=request,
    )
    return volunteer


def _locked(actor: Actor, volunteer_id: int) -> Volunteer:
    volunteer = Volunteer.objects.visible_to(actor).select_for_update().filter(pk=volunteer_id).first()
    if volunteer is None:
        raise NotFoundError()
    return volunteer


def _check_version(volunteer: Volunteer, version: int) -> None:
    if volunteer.version != version:
        raise ConflictError(
            _("该记录已被他人修改（当前版本 %(current)d，您编辑的是版本 %(yours)d），请刷新后重新修改。")
            % {"current": volunteer.version, "yours": version}
        )


@transaction.atomic
def volunteer_update(
    *, actor: Actor, volunteer_id: int, version: int, data: VolunteerInput, request: Any = None
) -> Volunteer:
    """Save over the version the editor started from; an older version is a conflict that overwrites
    nothing."""
    _require(actor, Permission.VOLUNTEER_MANAGE)
    volunteer = _locked(actor, volunteer_id)
    _check_version(volunteer, version)
    values = validated(data, actor=actor, today=timezone.localdate(), current=volunteer)
    changed = [key for key, value in values.items() if getattr(volunteer, key) != value]
    if values["max_children"] < volunteer.paired_count:
        raise ValidationFailed(
            fields={
                "max_children": [
                    _("已有 %(n)d 名结对儿童，最多结对人数不能更少") % {"n": volunteer.paired_count}
                ]
            }
        )
    for key, value in values.items():
        setattr(volunteer, key, value)
    apply_names(volunteer)
    volunteer.version += 1
    volunteer.save()
    audit.record(actor=actor, action="volunteer.update", target=volunteer, changes=changed, request=request)
    return volunteer


@transaction.atomic
def volunteer_set_status(
    *,
    actor: Actor,
    volunteer_id: int,
    status: str,
    reason: str = "",
    on: datetime.date | None = None,
    request: Any = None,
) -> Volunteer:
    """申请中 → 在岗 (or 退出); 在岗 ⇄ 暂停; → 退出 / 已故. Leaving 在岗 needs a reason."""
    _require(actor, Permission.VOLUNTEER_MANAGE)
    volunteer = _locked(actor, volunteer_id)
    day = on or timezone.localdate()
    if status not in STATUS_CHANGES.get(volunteer.status, frozenset()):
        raise ConflictError(
            _("不能从“%(old)s”改为“%(new)s”")
            % {
                "old": Status(volunteer.status).label,
                "new": Status(status).label if status in Status.values else status,
            }
        )
    if volunteer.status == Status.APPLYING and volunteer.source in (Source.SIGNUP, Source.INVITATION):
        # A sign-up is decided in the review (signup_approve / signup_return): it makes the account, tells
        # the applicant by SMS and keeps the review's record.
        raise ConflictError(_("本人报名的申请请在“报名审核”中通过或退回"))
    reason = reason.strip()
    if status not in (Status.ACTIVE, Status.APPLYING) and not reason:
        raise ValidationFailed(fields={"reason": [_("请填写原因")]})
    if day > timezone.localdate():
        raise ValidationFailed(fields={"on": [_("日期不能晚于今天")]})
    before = volunteer.status
    volunteer.status, volunteer.status_reason, volunteer.status_changed_on = status, reason[:200], day
    if status == Status.ACTIVE and volunteer.joined_on is None:
        volunteer.joined_on = day
    volunteer.version += 1
    volunteer.save(
        update_fields=["status", "status_reason", "status_changed_on", "joined_on", "version", "updated_at"]
    )
    audit.record(
        actor=actor,
        action="volunteer.status",
        target=volunteer,
        changes=["status"],
        detail={"from": before, "to": status},
        request=request,
    )
    return volunteer


@transaction.atomic
def volunteer_record_check(
    *,
    actor: Actor,
    volunteer_id: int,
    checked_on: datetime.date,
    result: str,
    checked_by: str,
    request: Any = None,
) -> Volunteer:
    """Record the entry or yearly background check (未成年人保护法 art.62)."""
    _require(actor, Permission.VOLUNTEER_MANAGE)
    if result not in CheckResult.values:
        raise ValidationFailed(fields={"result": [_("请选择审查结果")]})
    if checked_on > timezone.localdate():
        raise ValidationFailed(fields={"checked_on": [_("背景审查日期不能晚于今天")]})
    if not checked_by.strip():
        raise ValidationFailed(fields={"checked_by": [_("请填写审查单位（人）")]})
    volunteer = _locked(actor, volunteer_id)
    volunteer.check_date, volunteer.check_result, volunteer.check_by = checked_on, result, checked_by.strip()
    volunteer.version += 1
    volunteer.save(update_fields=["check_date", "check_result", "check_by", "version", "updated_at"])
    audit.record(
        actor=actor,
        action="volunteer.background_check",
        target=volunteer,
        changes=["check_date", "check_result", "check_by"],
        request=request,
    )
    return volunteer


# --- Eligibility for pairing ---------------------------------------------------------------------


def pairing_refusals(volunteer: Volunteer, *, today: datetime.date | None = None) -> list[str]:
    """Why this volunteer may not take a new child now; empty when they may. The pairing module calls
    this before every pairing (DOMAIN.md §4: no pairing without a clear check of the last 12 months)."""
    day = today or timezone.localdate()
    reasons: list[str] = []
    if volunteer.status != Status.ACTIVE:
        reasons.append(_("志愿者当前状态为“%(status)s”") % {"status": Status(volunteer.status).label})
    if volunteer.check_date is None or not volunteer.check_result:
        reasons.append(_("没有背景审查记录"))
    elif volunteer.check_result != CheckResult.CLEAR:
        reasons.append(_("背景审查结果为有不良记录"))
    elif volunteer.check_date > day:
        # Not an expired check but an impossible one (mistyped date): say so rather than "expired".
        reasons.append(
            _("背景审查日期（%(date)s）晚于今天，请核实") % {"date": volunteer.check_date.isoformat()}
        )
    elif not volunteer.check_valid_on(day):
        reasons.append(
            _("背景审查有效期至 %(date)s，已过期，须重新审查")
            % {"date": check_expires_on(volunteer.check_date).isoformat()}
        )
    if volunteer.capacity_left <= 0:
        reasons.append(_("结对人数已满（最多 %(n)d 人）") % {"n": volunteer.max_children})
    return reasons


def is_eligible_for_pairing(volunteer: Volunteer, *, today: datetime.date | None = None) -> bool:
    return not pairing_refusals(volunteer, today=today)


# --- Service hours -------------------------------------------------------------------------------


def _hours(value: Decimal | float | str, *, field_name: str = "hours") -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation as error:
        raise ValidationFailed(fields={field_name: [_("时长应为数字")]}) from error
    # NaN cannot be compared (Decimal raises) and infinity cannot be rounded: neither is a duration.
    if not number.is_finite():
        raise ValidationFailed(fields={field_name: [_("时长应为数字")]})
    out_of_bounds = ValidationFailed(fields={field_name: [_("时长应大于 0、不超过 24 小时")]})
    if not Decimal("0") < number < MAX_HOURS_PER_RECORD + 1:  # a huge number cannot even be rounded
        raise out_of_bounds
    hours = number.quantize(Decimal("0.1"))
    if not Decimal("0") < hours <= MAX_HOURS_PER_RECORD:
        raise out_of_bounds
    return hours


def _served_on(day: datetime.date) -> datetime.date:
    if day > timezone.localdate():
        raise ValidationFailed(fields={"served_on": [_("服务日期不能晚于今天")]})
    return day


def _add_to_total(volunteer_id: int, hours: Decimal) -> None:
    Volunteer.objects.filter(pk=volunteer_id).update(hours_total=F("hours_total") + hours)


@transaction.atomic
def hours_record(
    *,
    actor: Actor,
    volunteer_id: int,
    served_on: datetime.date,
    hours: Decimal | float | str,
    description: str,
    organiser: str = "",
    request: Any = None,
) -> ServiceHours:
    """The organiser records service it organised: confirmed at once (谁组织谁记录)."""
    _require(actor, Permission.VOLUNTEER_MANAGE)
    volunteer = Volunteer.objects.visible_to(actor).filter(pk=volunteer_id).first()
    if volunteer is None:
        raise NotFoundError()
    if not description.strip():
        raise ValidationFailed(fields={"description": [_("请填写服务内容")]})
    record = ServiceHours.objects.create(
        volunteer=volunteer,
        served_on=_served_on(served_on),
        hours=_hours(hours),
        description=description.strip()[:300],
        organiser=organiser.strip()[:100],
        source=HoursSource.ORGANISER,
        state=HoursState.CONFIRMED,
        recorded_by=actor.user,
        confirmed_by=actor.user,
        confirmed_at=timezone.now(),
    )
    _add_to_total(volunteer.pk, record.hours)
    audit.record(
        actor=actor, action="hours.record", target=record, region_code=volunteer.region_id, request=request
    )
    return record


def hours_record_automatic(
    *,
    volunteer: Volunteer,
    served_on: datetime.date,
    hours: Decimal | float | str,
    description: str,
    source: str,
    source_key: str,
    organiser: str = "",
    recorded_by: Any = None,
) -> ServiceHours:
    """Hours of a service another module organised and recorded (a visit, a consultation, a team
    activity). Idempotent: the same `source_key` ("visit:123") records once, so a retried task or a
    re-saved visit never counts twice."""
    if source not in (HoursSource.VISIT, HoursSource.CONSULTATION, HoursSource.ACTIVITY, HoursSource.IMPORT):
        raise ValueError(f"not an automatic source: {source}")
    existing = ServiceHours.objects.filter(source_key=source_key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            record = ServiceHours.objects.create(
                volunteer=volunteer,
                served_on=served_on,
                hours=_hours(hours),
                description=description.strip()[:300],
                organiser=organiser[:100],
                source=source,
                source_key=source_key,
                state=HoursState.CONFIRMED,
                recorded_by=recorded_by,
                confirmed_by=recorded_by,
                confirmed_at=timezone.now(),
            )
            _add_to_total(volunteer.pk, record.hours)
    except IntegrityError:
        # Recorded concurrently by a retry of the same work: that one counts.
        return ServiceHours.objects.get(source_key=source_key)
    return record


def own_volunteer(actor: Actor) -> Volunteer:
    """The volunteer record of the signed-in volunteer (我的), or 404 when there is none."""
    _require(actor, Permission.VOLUNTEER_SELF)
    volunteer = Volunteer.objects.filter(user=actor.user).first() if actor.user else None
    if volunteer is None:
        raise NotFoundError(_("您的账号尚未关联志愿者档案，请联系所在乡镇（街道）关工委"))
    return volunteer


@transaction.atomic
def hours_claim(
    *,
    actor: Actor,
    served_on: datetime.date,
    hours: Decimal | float | str,
    description: str,
    organiser: str,
    request: Any = None,
) -> ServiceHours:
    """A volunteer claims service they did; it counts once the organiser confirms it."""
    volunteer = own_volunteer(actor)
    if volunteer.status != Status.ACTIVE:
        raise ConflictError(_("只有在岗志愿者可以申报服务时长"))
    errors: dict[str, list[str]] = {}
    if not description.strip():
        errors["description"] = [_("请填写服务内容")]
    if not organiser.strip():
        errors["organiser"] = [_("请填写组织单位，由其确认")]
    if errors:
        raise ValidationFailed(fields=errors)
    record = ServiceHours.objects.create(
        volunteer=volunteer,
        served_on=_served_on(served_on),
        hours=_hours(hours),
        description=description.strip()[:300],
        organiser=organiser.strip()[:100],
        source=HoursSource.CLAIM,
        state=HoursState.PENDING,
        recorded_by=actor.user,
    )
    audit.record(
        actor=actor, action="hours.claim", target=record, region_code=volunteer.region_id, request=request
    )
    return record


def _locked_record(actor: Actor, record_id: int) -> ServiceHours:
    record = (
        ServiceHours.objects.visible_to(actor)
        .select_for_update()
        .select_related("volunteer")
        .filter(pk=record_id)
        .first()
    )
    if record is None:
        raise NotFoundError()
    return record


@transaction.atomic
def hours_confirm(*, actor: Actor, record_id: int, request: Any = None) -> ServiceHours:
    _require(actor, Permission.VOLUNTEER_MANAGE)
    record = _locked_record(actor, record_id)
    if record.state != HoursState.PENDING:
        raise ConflictError(_("该记录不是待确认状态"))
    if actor.user is not None and record.recorded_by_id == actor.user.pk:
        raise ConflictError(_("不能确认本人申报的时长"))
    record.state, record.confirmed_by, record.confirmed_at = HoursState.CONFIRMED, actor.user, timezone.now()
    record.save(update_fields=["state", "confirmed_by", "confirmed_at"])
    _add_to_total(record.volunteer_id, record.hours)
    audit.record(
        actor=actor,
        action="hours.confirm",
        target=record,
        region_code=record.volunteer.region_id,
        request=request,
    )
    return record


@transaction.atomic
def hours_return(*, actor: Actor, record_id: int, reason: str, request: Any = None) -> ServiceHours:
    """Send a claim back with a reason the volunteer sees (not the service the organiser knows of)."""
    _require(actor, Permission.VOLUNTEER_MANAGE)
    record = _locked_record(actor, record_id)  # first: another region's claim is not found
    if not reason.strip():
        raise ValidationFailed(fields={"reason": [_("请填写退回原因")]})
    if record.state != HoursState.PENDING:
        raise ConflictError(_("该记录不是待确认状态"))
    record.state, record.return_reason = HoursState.RETURNED, reason.strip()[:200]
    record.save(update_fields=["state", "return_reason"])
    audit.record(
        actor=actor,
        action="hours.return",
        target=record,
        region_code=record.volunteer.region_id,
        request=request,
    )
    return record


@transaction.atomic
def hours_correct(
    *,
    actor: Actor,
    record_id: int,
    hours: Decimal | float | str,
    reason: str,
    served_on: datetime.date | None = None,
    request: Any = None,
) -> ServiceHours:
    """Correct a confirmed record: the correction keeps the old and new values and the reason, the total
    moves by the difference, and an audit event says who did it."""
    _require(actor, Permission.VOLUNTEER_MANAGE)
    if not reason.strip():
        raise ValidationFailed(fields={"reason": [_("更正须填写原因")]})
    new_hours = _hours(hours)
    record = _locked_record(actor, record_id)
    if record.state != HoursState.CONFIRMED:
        raise ConflictError(_("只能更正已确认的记录"))
    new_day = _served_on(served_on) if served_on is not None else record.served_on
    if new_hours == record.hours and new_day == record.served_on:
        raise ValidationFailed(fields={"hours": [_("更正后的时长与日期与原记录相同")]})
    HoursCorrection.objects.create(
        record=record,
        hours_before=record.hours,
        hours_after=new_hours,
        served_on_before=record.served_on,
        served_on_after=new_day,
        reason=reason.strip()[:200],
        corrected_by=actor.user,
    )
    difference = new_hours - record.hours
    record.hours, record.served_on = new_hours, new_day
    record.save(update_fields=["hours", "served_on"])
    if difference:
        _add_to_total(record.volunteer_id, difference)
    audit.record(
        actor=actor,
        action="hours.correct",
        target=record,
        region_code=record.volunteer.region_id,
        changes=["hours", "served_on"],
        detail={"correction": record.corrections.order_by("-id").values_list("pk", flat=True).first()},
        request=request,
    )
    return record


# --- Teams ---------------------------------------------------------------------------------------


@transaction.atomic
def team_create(
    *,
    actor: Actor,
    committee_id: int,
    name: str,
    kind: str,
    description: str = "",
    founded_on: datetime.date | None = None,
    request: Any = None,
) -> Team:
    _require(actor, Permission.VOLUNTEER_MANAGE)
    committee = Committee.objects.visible_to(actor).filter(pk=committee_id).first()
    if committee is None:
        raise ValidationFailed(fields={"committee_id": [_("该关工委不在您的管辖范围内")]})
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = [_("请填写名称")]
    elif len(name.strip()) > 100:
        # Cut to the column's length, the name could collide with another team's (IntegrityError).
        errors["name"] = [_("名称不超过 100 个字")]
    elif Team.objects.filter(committee=committee, name=name.strip()).exists():
        errors["name"] = [_("该关工委已有同名队伍")]
    if kind not in TeamKind.values:
        errors["kind"] = [_("请选择队伍类型")]
    if founded_on is not None and founded_on > timezone.localdate():
        errors["founded_on"] = [_("成立日期不能晚于今天")]
    if errors:
        raise ValidationFailed(fields=errors)
    team = Team.objects.create(
        committee=committee,
        region_id=committee.region_id,
        name=name.strip(),
        kind=kind,
        description=description.strip()[:500],
        founded_on=founded_on,
    )
    audit.record(actor=actor, action="team.create", target=team, request=request)
    return team


def _team(actor: Actor, team_id: int) -> Team:
    team = Team.objects.visible_to(actor).filter(pk=team_id).first()
    if team is None:
        raise NotFoundError()
    return team


@transaction.atomic
def team_member_add(
    *,
    actor: Actor,
    team_id: int,
    volunteer_id: int,
    role: str = TeamRole.MEMBER,
    joined_on: datetime.date | None = None,
    request: Any = None,
) -> TeamMembership:
    """Add a volunteer of the team's region (or below) to the team, as a leader or a member."""
    _require(actor, Permission.VOLUNTEER_MANAGE)
    team = _team(actor, team_id)
    volunteer = Volunteer.objects.visible_to(actor).filter(pk=volunteer_id).first()
    if volunteer is None or not region_codes.is_within(volunteer.region_id, team.region_id):
        raise ValidationFailed(fields={"volunteer_id": [_("该志愿者不在本队伍所在区域")]})
    if role not in TeamRole.values:
        raise ValidationFailed(fields={"role": [_("请选择角色")]})
    if volunteer.status != Status.ACTIVE:
        raise ValidationFailed(fields={"volunteer_id": [_("只有在岗志愿者可以加入队伍")]})
    current = TeamMembership.objects.filter(team=team, volunteer=volunteer, left_on__isnull=True).first()
    if current is not None:
        if current.role == role:
            raise ConflictError(_("该志愿者已在本队伍中"))
        current.role = role
        current.save(update_fields=["role"])
        membership = current
    else:
        membership = TeamMembership.objects.create(
            team=team, volunteer=volunteer, role=role, joined_on=joined_on or timezone.localdate()
        )
    audit.record(
        actor=actor,
        action="team.member_add",
        target=team,
        detail={"volunteer": volunteer.pk, "role": role},
        request=request,
    )
    return membership


@transaction.atomic
def team_member_remove(
    *, actor: Actor, team_id: int, volunteer_id: int, request: Any = None
) -> TeamMembership:
    _require(actor, Permission.VOLUNTEER_MANAGE)
    team = _team(actor, team_id)
    membership = TeamMembership.objects.filter(
        team=team, volunteer_id=volunteer_id, left_on__isnull=True
    ).first()
    if membership is None:
        raise NotFoundError()
    membership.left_on = timezone.localdate()
    membership.save(update_fields=["left_on"])
    audit.record(
        actor=actor,
        action="team.member_remove",
        target=team,
        detail={"volunteer": volunteer_id},
        request=request,
    )
    return membership


@transaction.atomic
def team_activity_record(
    *,
    actor: Actor,
    team_id: int,
    title: str,
    held_on: datetime.date,
    hours: Decimal | float | str,
    participant_ids: list[int],
    place: str = "",
    description: str = "",
    children_reached: int = 0,
    request: Any = None,
) -> TeamActivity:
    """A team's activity, and the organiser's record of each participant's hours (confirmed)."""
    _require(actor, Permission.VOLUNTEER_MANAGE)
    team = _team(actor, team_id)
    errors: dict[str, list[str]] = {}
    if not title.strip():
        errors["title"] = [_("请填写活动名称")]
    if children_reached < 0:
        errors["children_reached"] = [_("人数不能为负数")]
    if held_on > timezone.localdate():
        errors["held_on"] = [_("活动日期不能晚于今天")]
    members = set(
        TeamMembership.objects.filter(team=team, left_on__isnull=True).values_list("volunteer_id", flat=True)
    )
    outsiders = sorted(set(participant_ids) - members)
    if outsiders:
        errors["participant_ids"] = [_("参加人须为本队伍成员")]
    if errors:
        raise ValidationFailed(fields=errors)
    per_person = _hours(hours)
    activity = TeamActivity.objects.create(
        team=team,
        title=title.strip()[:100],
        held_on=held_on,
        place=place.strip()[:100],
        description=description.strip()[:1000],
        children_reached=children_reached,
        hours=per_person,
        recorded_by=actor.user,
    )
    for volunteer in Volunteer.objects.filter(pk__in=sorted(set(participant_ids))):
        record = hours_record_automatic(
            volunteer=volunteer,
            served_on=activity.held_on,
            hours=per_person,
            description=activity.title,
            source=HoursSource.ACTIVITY,
            source_key=f"activity:{activity.pk}:{volunteer.pk}",
            organiser=team.name,
            recorded_by=actor.user,
        )
        ServiceHours.objects.filter(pk=record.pk).update(activity=activity)
    audit.record(
        actor=actor,
        action="team.activity",
        target=team,
        detail={"activity": activity.pk, "participants": len(set(participant_ids))},
        request=request,
    )
    return activity


# --- Training and honours ------------------------------------------------------------------------


def _visible_volunteer(actor: Actor, volunteer_id: int) -> Volunteer:
    volunteer = Volunteer.objects.visible_to(actor).filter(pk=volunteer_id).first()
    if volunteer is None:
        raise NotFoundError()
    return volunteer


@transaction.atomic
def training_add(
    *,
    actor: Actor,
    volunteer_id: int,
    course: str,
    attended_on: datetime.date,
    hours: Decimal | float | str,
    provider: str = "",
    request: Any = None,
) -> Training:
    _require(actor, Permission.VOLUNTEER_MANAGE)
    volunteer = _visible_volunteer(actor, volunteer_id)
    if not course.strip():
        raise ValidationFailed(fields={"course": [_("请填写课程名称")]})
    if attended_on > timezone.localdate():
        raise ValidationFailed(fields={"attended_on": [_("培训日期不能晚于今天")]})
    training = Training.objects.create(
        volunteer=volunteer,
        course=course.strip()[:100],
        attended_on=attended_on,
        hours=_hours(hours),
        provider=provider.strip()[:100],
    )
    audit.record(
        actor=actor,
        action="volunteer.training",
        target=volunteer,
        detail={"training": training.pk},
        request=request,
    )
    return training


@transaction.atomic
def honour_add(
    *,
    actor: Actor,
    volunteer_id: int,
    title: str,
    awarded_by: str,
    awarded_on: datetime.date,
    request: Any = None,
) -> Honour:
    _require(actor, Permission.VOLUNTEER_MANAGE)
    volunteer = _visible_volunteer(actor, volunteer_id)
    errors: dict[str, list[str]] = {}
    if not title.strip():
        errors["title"] = [_("请填写荣誉名称")]
    if not awarded_by.strip():
        errors["awarded_by"] = [_("请填写授予单位")]
    if awarded_on > timezone.localdate():
        errors["awarded_on"] = [_("授予日期不能晚于今天")]
    if errors:
        raise ValidationFailed(fields=errors)
    honour = Honour.objects.create(
        volunteer=volunteer,
        title=title.strip()[:100],
        awarded_by=awarded_by.strip()[:100],
        awarded_on=awarded_on,
    )
    audit.record(
        actor=actor,
        action="volunteer.honour",
        target=volunteer,
        detail={"honour": honour.pk},
        request=request,
    )
    return honour


@transaction.atomic
def honour_roll_consent_set(*, actor: Actor, shows: bool, request: Any = None) -> Volunteer:
    """The volunteer's own choice to appear (or not) on the list of the most active volunteers."""
    volunteer = own_volunteer(actor)
    volunteer.shows_on_honour_roll = shows
    volunteer.save(update_fields=["shows_on_honour_roll", "updated_at"])
    audit.record(
        actor=actor,
        action="volunteer.honour_roll_consent",
        target=volunteer,
        detail={"shows": shows},
        request=request,
    )
    return volunteer
