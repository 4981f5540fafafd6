"""Writes to the registry: register, update (optimistic concurrency), close, transfer, merge, daily care.

Every write checks the actor's permission and region here, runs the shared rules of
`guanai.minors.validation`, and ends with one audit event (the last write of its transaction).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanai import audit
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
from guanai.minors.models import Consent, DuplicateFlag, Guardian, Minor, TransferRequest
from guanai.minors.validation import (
    FieldError,
    check_age,
    clean_id_number,
    clean_phone,
    reconcile_with_id,
)
from guanai.minors.vocabulary import FACTS, Category, ConsentScope, HouseholdType, SpecialKind, Status
from guanai.regions.models import Region

AGED_OUT_REASON = "已满18周岁"
VERIFICATION_INTERVAL = datetime.timedelta(days=365)


class AlreadyRegistered(DomainError):
    """The ID number is registered somewhere in the province. The answer names the county and nothing
    more, and offers a transfer request to it."""

    status = 409
    code = "already_registered"

    def __init__(self, county: Region) -> None:
        super().__init__(
            _("该儿童已在%(county)s登记，可向该县申请转移。") % {"county": county.name},
            fields={"id_number": [_("已在%(county)s登记") % {"county": county.name}]},
        )
        self.county = county


@dataclass
class GuardianInput:
    name: str
    relationship: str
    phone: str = ""
    is_entrusted_carer: bool = False
    can_care: bool = True
    care_note: str = ""


@dataclass
class ConsentInput:
    given_by: str
    relationship: str
    notice_version: str
    given_on: datetime.date
    scope: list[str] = field(default_factory=lambda: [ConsentScope.REGISTRATION.value])
    is_guardian: bool = True


@dataclass
class MinorInput:
    name: str
    region_code: str
    id_number: str = ""
    birth_date: datetime.date | None = None
    gender: str = ""
    ethnicity: str = ""
    household_region_code: str = ""
    household_type: str = ""
    address: str = ""
    school: str = ""
    grade: str = ""
    categories: int = 0
    special_kind: str = ""
    facts: dict[str, str] = field(default_factory=dict)
    needs: int = 0
    risk_level: str = "low"
    risk_reason: str = ""
    last_verified_on: datetime.date | None = None
    guardians: list[GuardianInput] | None = None
    consents: list[ConsentInput] | None = None


# The fields an update may change, as the form and the API name them.
EDITABLE = (
    "name", "region_code", "id_number", "birth_date", "gender", "ethnicity", "household_region_code",
    "household_type", "address", "school", "grade", "categories", "special_kind", "facts", "needs",
    "risk_level", "risk_reason", "last_verified_on",
)  # fmt: skip


def _fail(error: FieldError) -> ValidationFailed:
    return ValidationFailed(fields={error.field: [error.message]})


def _require(actor: Actor, permission: Permission) -> None:
    if not actor.has(permission):
        raise PermissionDeniedError()


def _village(actor: Actor, code: str, *, field_name: str = "region_code") -> Region:
    try:
        full = region_codes.normalise_code(code)
    except ValueError as error:
        raise ValidationFailed(fields={field_name: [_("区划代码应为 12 位数字")]}) from error
    if not can_see_region(actor, full) or not region_codes.is_within(full, actor.region_code or ""):
        raise ValidationFailed(fields={field_name: [_("该村（社区）不在您的管辖范围内")]})
    region = Region.objects.filter(code=full).first()
    if region is None or region.level != RegionLevel.VILLAGE:
        raise ValidationFailed(fields={field_name: [_("请选择村（社区）一级的区划")]})
    return region


def registered_county(*, id_number: str) -> Region | None:
    """The county where a cleaned ID number is registered, wherever in the province, or None."""
    existing = Minor.objects.filter(id_number_index=blind_index(Minor, "id_number", id_number)).first()
    if existing is None:
        return None
    county_code = existing.region_id[:6].ljust(12, "0")
    return Region.objects.filter(code=county_code).first()


def _validated(
    actor: Actor, data: MinorInput, *, today: datetime.date, current: Minor | None
) -> dict[str, Any]:
    """The record's values from the input, or ValidationFailed naming the field."""
    values: dict[str, Any] = {}
    name = data.name.strip()
    if not name:
        raise ValidationFailed(fields={"name": [_("请填写姓名")]})
    values["name"] = name
    values["region"] = _village(actor, data.region_code)
    try:
        id_number = clean_id_number(data.id_number) if data.id_number.strip() else None
        birth_date, gender = reconcile_with_id(id_number, data.birth_date, data.gender or None)
        check_age(birth_date, data.categories, today=today)
    except FieldError as error:
        raise _fail(error) from error
    if id_number is not None and (current is None or current.id_number != id_number):
        county = registered_county(id_number=id_number)
        if county is not None:
            raise AlreadyRegistered(county)
    if data.categories & ~sum(int(c) for c in Category):
        raise ValidationFailed(fields={"categories": [_("未知的类别")]})
    if data.categories & Category.LEFT_BEHIND and data.household_type == HouseholdType.URBAN:
        raise ValidationFailed(fields={"household_type": [_("农村留守儿童须为农业户口")]})
    special = bool(data.categories & Category.SPECIAL)
    if special and data.special_kind not in SpecialKind.values:
        raise ValidationFailed(fields={"special_kind": [_("特殊青少年须注明类型：失足失范或涉罪涉毒")]})
    unknown_facts = set(data.facts) - set(FACTS)
    if unknown_facts:
        raise ValidationFailed(
            fields={"facts": [_("未知的情况项：%(keys)s") % {"keys": "、".join(sorted(unknown_facts))}]}
        )
    household_region = None
    if data.household_region_code:
        try:
            household_region = Region.objects.filter(
                code=region_codes.normalise_code(data.household_region_code)
            ).first()
        except ValueError:
            household_region = None
        if household_region is None:
            raise ValidationFailed(fields={"household_region_code": [_("户籍地区划代码不存在")]})
    values.update(
        id_number=id_number,
        birth_date=birth_date,
        gender=gender,
        ethnicity=data.ethnicity.strip(),
        household_region=household_region,
        household_type=data.household_type,
        address=data.address.strip(),
        school=data.school.strip(),
        grade=data.grade.strip(),
        categories=data.categories,
        special_kind=data.special_kind if special else "",
        is_sealed=special,
        facts={key: str(value).strip()[:300] for key, value in data.facts.items() if str(value).strip()},
        needs=data.needs,
        risk_level=data.risk_level,
        risk_reason=data.risk_reason.strip(),
        last_verified_on=data.last_verified_on,
    )
    return values


def _apply_names(minor: Minor) -> None:
    from guanai.minors.names import pinyin_forms

    minor.name_pinyin, minor.name_initials = pinyin_forms(minor.name)


def _guardians(minor: Minor, guardians: Sequence[GuardianInput]) -> None:
    rows = []
    for index, guardian in enumerate(guardians):
        try:
            phone = clean_phone(guardian.phone, field=f"guardians.{index}.phone")
        except FieldError as error:
            raise _fail(error) from error
        if not guardian.name.strip() or not guardian.relationship.strip():
            raise ValidationFailed(fields={f"guardians.{index}": [_("监护人须填写姓名和与儿童关系")]})
        rows.append(
            Guardian(
                minor=minor,
                name=guardian.name.strip(),
                relationship=guardian.relationship.strip(),
                phone=phone,
                is_entrusted_carer=guardian.is_entrusted_carer,
                can_care=guardian.can_care,
                care_note=guardian.care_note.strip(),
            )
        )
    minor.guardians.all().delete()
    for row in rows:
        row.save()


def _consents(minor: Minor, consents: Sequence[ConsentInput], *, today: datetime.date) -> None:
    from guanai.minors.validation import age_on

    for index, consent in enumerate(consents):
        if age_on(minor.birth_date, today) < 14 and not consent.is_guardian:
            raise ValidationFailed(fields={f"consents.{index}": [_("未满 14 周岁的儿童须由监护人同意")]})
        unknown = set(consent.scope) - set(ConsentScope.values)
        if unknown or not consent.scope:
            raise ValidationFailed(fields={f"consents.{index}.scope": [_("同意范围不正确")]})
        if consent.given_on > today:
            raise ValidationFailed(fields={f"consents.{index}.given_on": [_("同意日期不能晚于今天")]})
        Consent.objects.create(
            minor=minor,
            given_by=consent.given_by.strip(),
            relationship=consent.relationship.strip(),
            is_guardian=consent.is_guardian,
            notice_version=consent.notice_version.strip(),
            scope=sorted(set(consent.scope)),
            given_on=consent.given_on,
        )


@transaction.atomic
def minor_register(*, actor: Actor, data: MinorInput, request: Any = None) -> Minor:
    _require(actor, Permission.MINOR_MANAGE)
    today = timezone.localdate()
    values = _validated(actor, data, today=today, current=None)
    minor = Minor(**values, created_by=actor.user)
    _apply_names(minor)
    minor.save()
    if data.guardians:
        _guardians(minor, data.guardians)
    if data.consents:
        _consents(minor, data.consents, today=today)
    duplicates_flag(minor=minor)
    audit.record(
        actor=actor,
        action="minor.create",
        target=minor,
        changes=[key for key, value in values.items() if value not in (None, "", 0, {})],
        request=request,
    )
    return minor


@transaction.atomic
def minor_update(
    *, actor: Actor, minor_id: int, version: int, data: MinorInput, request: Any = None
) -> Minor:
    """Save over the version the editor started from; an older version is a conflict and overwrites
    nothing (someone else saved in between)."""
    _require(actor, Permission.MINOR_MANAGE)
    minor = Minor.objects.visible_to(actor).select_for_update().filter(pk=minor_id).first()
    if minor is None:
        raise NotFoundError()
    if minor.version != version:
        raise ConflictError(
            _("该记录已被他人修改（当前版本 %(current)d，您编辑的是版本 %(yours)d），请刷新后重新修改。")
            % {"current": minor.version, "yours": version}
        )
    values = _validated(actor, data, today=timezone.localdate(), current=minor)
    changed = [key for key, value in values.items() if getattr(minor, key) != value]
    for key, value in values.items():
        setattr(minor, key, value)
    _apply_names(minor)
    minor.version += 1
    minor.save()
    if data.guardians is not None:
        _guardians(minor, data.guardians)
        changed.append("guardians")
    if data.consents:
        _consents(minor, data.consents, today=timezone.localdate())
        changed.append("consents")
    if changed:
        duplicates_flag(minor=minor)
    audit.record(actor=actor, action="minor.update", target=minor, changes=changed, request=request)
    return minor


@transaction.atomic
def minor_close(*, actor: Actor, minor_id: int, reason: str, request: Any = None) -> Minor:
    _require(actor, Permission.MINOR_MANAGE)
    # The record first: another county's (or none) is not found, whatever the form says.
    minor = Minor.objects.visible_to(actor).select_for_update().filter(pk=minor_id).first()
    if minor is None:
        raise NotFoundError()
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(fields={"reason": [_("请填写结案原因")]})
    if minor.status != Status.ACTIVE:
        raise ConflictError(_("该记录已结案"))
    minor.status, minor.closed_reason, minor.closed_at = Status.CLOSED, reason[:200], timezone.now()
    minor.version += 1
    minor.save(update_fields=["status", "closed_reason", "closed_at", "version", "updated_at"])
    audit.record(
        actor=actor, action="minor.close", target=minor, changes=["status", "closed_reason"], request=request
    )
    return minor


@transaction.atomic
def consent_withdraw(*, actor: Actor, consent_id: int, on: datetime.date | None = None) -> Consent:
    _require(actor, Permission.MINOR_MANAGE)
    consent = Consent.objects.visible_to(actor).select_for_update().filter(pk=consent_id).first()
    if consent is None:
        raise NotFoundError()
    consent.withdrawn_on = on or timezone.localdate()
    consent.save(update_fields=["withdrawn_on"])
    audit.record(actor=actor, action="minor.consent_withdrawn", target=consent.minor, changes=["consents"])
    return consent


@transaction.atomic
def transfer_request_create(*, actor: Actor, id_number: str, reason: str = "") -> TransferRequest:
    """Ask the county where the child is registered to hand the record to the actor's county."""
    _require(actor, Permission.MINOR_MANAGE)
    try:
        cleaned = clean_id_number(id_number)
    except FieldError as error:
        raise _fail(error) from error
    minor = Minor.objects.filter(id_number_index=blind_index(Minor, "id_number", cleaned)).first()
    if minor is None or actor.region_code is None:
        raise NotFoundError()
    to_county = actor.region_code[:6].ljust(12, "0")
    from_county = minor.region_id[:6].ljust(12, "0")
    if to_county == from_county:
        raise ValidationFailed(fields={"id_number": [_("该儿童已在本县登记")]})
    request = TransferRequest.objects.create(
        minor=minor,
        from_region_id=from_county,
        to_region_id=to_county,
        requested_by=actor.user,
        reason=reason[:300],
    )
    audit.record(actor=actor, action="minor.transfer_requested", target=minor, region_code=from_county)
    return request


def duplicates_flag(*, minor: Minor) -> int:
    """Flag likely duplicates without an ID match: the same name pinyin and birth date, or the same
    guardian phone. Returns the number of new flags."""
    same_person = Q(name_pinyin=minor.name_pinyin, birth_date=minor.birth_date)
    phones = [index for index in minor.guardians.values_list("phone_index", flat=True) if index]
    if phones:
        same_person |= Q(guardians__phone_index__in=phones)
    candidates = (
        Minor.objects.filter(same_person, status=Status.ACTIVE)
        .exclude(pk=minor.pk)
        .exclude(id_number_index__isnull=False, id_number_index=minor.id_number_index)
        .distinct()
        .values_list("pk", "name_pinyin", "birth_date")
    )
    created = 0
    for other_id, pinyin, birth in candidates:
        first, second = sorted((minor.pk, other_id))
        reason = (
            DuplicateFlag.Reason.NAME_AND_BIRTH
            if (pinyin, birth) == (minor.name_pinyin, minor.birth_date)
            else DuplicateFlag.Reason.GUARDIAN_PHONE
        )
        _flag, new = DuplicateFlag.objects.get_or_create(
            first_id=first, second_id=second, defaults={"reason": reason}
        )
        created += int(new)
    return created


@transaction.atomic
def duplicate_merge(*, actor: Actor, flag_id: int, keep_id: int | None, request: Any = None) -> Minor:
    """Merge two records of one child: the guardians, consents and transfer requests of the other move
    to the kept record, the other is closed with a pointer to it; both histories stay in the audit trail.

    The flag and both records first: another county's flag (or none) is not found, whatever the form
    says; then `keep_id` must name one of the two."""
    _require(actor, Permission.MINOR_MANAGE)
    flag = (
        DuplicateFlag.objects.select_for_update().filter(pk=flag_id, state=DuplicateFlag.State.OPEN).first()
    )
    if flag is None:
        raise NotFoundError()
    pair = [flag.first_id, flag.second_id]
    visible = Minor.objects.visible_to(actor).select_for_update().filter(pk__in=pair)
    records = {minor.pk: minor for minor in visible}
    if len(records) != 2:
        raise NotFoundError()
    if keep_id not in records:
        raise ValidationFailed(fields={"keep": [_("请选择要保留的记录。")]})
    keep, other = records[keep_id], records[pair[1] if keep_id == pair[0] else pair[0]]
    Guardian.objects.filter(minor=other).update(minor=keep)
    Consent.objects.filter(minor=other).update(minor=keep)
    TransferRequest.objects.filter(minor=other).update(minor=keep)
    keep.categories |= other.categories
    keep.needs |= other.needs
    keep.version += 1
    keep.save(update_fields=["categories", "needs", "version", "updated_at"])
    other.status, other.closed_reason, other.closed_at = Status.CLOSED, f"合并至 #{keep.pk}", timezone.now()
    other.version += 1
    other.save(update_fields=["status", "closed_reason", "closed_at", "version", "updated_at"])
    flag.state, flag.decided_at = DuplicateFlag.State.MERGED, timezone.now()
    flag.save(update_fields=["state", "decided_at"])
    audit.record(
        actor=actor, action="minor.merged_away", target=other, detail={"into": keep.pk}, request=request
    )
    audit.record(actor=actor, action="minor.merged", target=keep, detail={"from": other.pk}, request=request)
    return keep


def minors_age_out(*, today: datetime.date | None = None) -> int:
    """Daily: close the records of those who have turned 18 (reason 已满18周岁)."""
    today = today or timezone.localdate()
    try:
        eighteen_years_ago = today.replace(year=today.year - 18)
    except ValueError:  # 29 February
        eighteen_years_ago = today.replace(year=today.year - 18, day=28)
    with transaction.atomic():
        grown = Minor.objects.filter(status=Status.ACTIVE, birth_date__lte=eighteen_years_ago)
        count = grown.update(
            status=Status.AGED_OUT,
            closed_reason=AGED_OUT_REASON,
            closed_at=timezone.now(),
            updated_at=timezone.now(),
            version=F("version") + 1,
        )
        if count:
            audit.record(actor=None, action="minors.aged_out", detail={"count": count})
    return count


def minors_verification_due(*, today: datetime.date | None = None) -> Any:
    """Active records whose yearly verification (年度核查) is due: never verified, or over a year ago."""
    today = today or timezone.localdate()
    return Minor.objects.filter(status=Status.ACTIVE).filter(
        Q(last_verified_on__isnull=True) | Q(last_verified_on__lt=today - VERIFICATION_INTERVAL)
    )


# --- For the pages (guanai.minors.views): checking a form without saving, dismissing a duplicate flag ---


def minor_check(*, actor: Actor, data: MinorInput, minor_id: int | None = None) -> None:
    """Run the rules of a registration (or of an update of `minor_id`) without writing anything: the
    page's inline validation. Raises what `minor_register` / `minor_update` would, for the record's own
    fields and the guardians' phones; the guardian and consent rows are checked in full on save."""
    _require(actor, Permission.MINOR_MANAGE)
    current = None
    if minor_id is not None:
        current = Minor.objects.visible_to(actor).filter(pk=minor_id).first()
        if current is None:
            raise NotFoundError()
    _validated(actor, data, today=timezone.localdate(), current=current)
    for index, guardian in enumerate(data.guardians or []):
        try:
            clean_phone(guardian.phone, field=f"guardians.{index}.phone")
        except FieldError as error:
            raise _fail(error) from error


@transaction.atomic
def duplicate_dismiss(*, actor: Actor, flag_id: int, request: Any = None) -> DuplicateFlag:
    """A reviewer decides that two flagged records are different children; the flag is closed."""
    _require(actor, Permission.MINOR_MANAGE)
    flag = (
        DuplicateFlag.objects.select_for_update().filter(pk=flag_id, state=DuplicateFlag.State.OPEN).first()
    )
    if flag is None:
        raise NotFoundError()
    visible = Minor.objects.visible_to(actor).filter(pk__in=[flag.first_id, flag.second_id]).count()
    if visible != 2:
        raise NotFoundError()
    flag.state, flag.decided_at = DuplicateFlag.State.DISMISSED, timezone.now()
    flag.save(update_fields=["state", "decided_at"])
    audit.record(
        actor=actor,
        action="minor.duplicate_dismissed",
        target=flag.first,
        detail={"other": flag.second_id},
        request=request,
    )
    return flag


# --- Roster import runs, for the import pages and the API (the import itself: guanai.minors.importing) ---

IMPORT_UPLOAD_MAX_BYTES = 100 * 1024 * 1024
IMPORT_FILE_RETENTION = datetime.timedelta(days=1)
IMPORT_PROGRESS_SECONDS = 6 * 3600


def import_directory() -> Any:
    """Where uploaded rosters and error reports wait, under the private media root (never served)."""
    from pathlib import Path

    from django.conf import settings

    directory = Path(settings.MEDIA_ROOT) / "imports" / "minors"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def import_upload_path(token: str) -> Any:
    if not token.isalnum():
        raise NotFoundError()
    return import_directory() / f"upload-{token}"


def import_error_report_path(batch_id: int) -> Any:
    return import_directory() / f"errors-{int(batch_id)}.xlsx"


def import_upload_store(*, actor: Actor, upload: Any, region_code: str) -> str:
    """Keep an uploaded roster for the steps that follow (mapping, dry run, import); returns its token.
    The region is checked now, so that a roster for a region out of scope is refused at once."""
    import secrets

    _require(actor, Permission.MINOR_IMPORT)
    _import_scope(actor, region_code)
    size = getattr(upload, "size", None)
    if size is not None and size > IMPORT_UPLOAD_MAX_BYTES:
        raise ValidationFailed(fields={"file": [_("文件超过 100 MB，请分成几个文件导入")]})
    token = secrets.token_hex(16)
    with open(import_upload_path(token), "wb") as stored:
        for chunk in (
            upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(1 << 20), b"")
        ):
            stored.write(chunk)
    return token


def _import_scope(actor: Actor, region_code: str) -> str:
    try:
        code = region_codes.normalise_code(region_code)
    except ValueError as error:
        raise ValidationFailed(fields={"region": [_("区划代码应为 6、9 或 12 位数字")]}) from error
    if actor.region_code is None or not region_codes.is_within(code, actor.region_code):
        raise NotFoundError()
    if region_codes.level_of(code) < RegionLevel.COUNTY or not Region.objects.filter(code=code).exists():
        raise ValidationFailed(fields={"region": [_("请选择县、乡镇（街道）或村（社区）")]})
    return code


def minor_import_start(
    *,
    actor: Actor,
    token: str,
    file_name: str,
    region_code: str,
    dry_run: bool,
    mapping: dict[str, int] | None = None,
    keep_file: bool = True,
) -> Any:
    """An ImportBatch for the stored roster `token`, and its run queued (at once without a broker).
    Returns the batch; the run fills in its status, counts and refused rows."""
    from guanai.imports.models import ImportBatch
    from guanai.minors import tasks

    _require(actor, Permission.MINOR_IMPORT)
    code = _import_scope(actor, region_code)
    if not import_upload_path(token).exists():
        raise NotFoundError(_("上传的文件已过期，请重新上传"))
    batch = ImportBatch.objects.create(
        kind="minors",
        region_id=code,
        created_by=actor.user,
        file_name=file_name[:255],
        is_dry_run=dry_run,
    )
    user_id = actor.user.pk if actor.user is not None else None
    assignment_id = actor.assignment.pk if actor.assignment is not None else None
    transaction.on_commit(
        lambda: tasks.import_roster.delay(
            batch_id=batch.pk,
            user_id=user_id,
            assignment_id=assignment_id,
            token=token,
            region_code=code,
            dry_run=dry_run,
            mapping=mapping,
            keep_file=keep_file,
        )
    )
    return batch


def minor_import_get(*, actor: Actor, batch_id: int) -> Any:
    """One import batch of the registry, if it concerns a region inside the actor's."""
    from guanai.imports.models import ImportBatch

    _require(actor, Permission.MINOR_IMPORT)
    batch = ImportBatch.objects.visible_to(actor).filter(pk=batch_id, kind="minors").first()
    if batch is None:
        raise NotFoundError()
    return batch


def import_progress(*, batch_id: int) -> tuple[int, int | None] | None:
    """Rows read so far and rows in the sheet (if known) of a running import. Kept in the cache, since
    the rows themselves are written in one transaction the page cannot look into."""
    from django.core.cache import cache

    value = cache.get(f"guanai:minors-import:{int(batch_id)}")
    if isinstance(value, list | tuple) and len(value) == 2:
        return int(value[0]), value[1]
    return None


def import_progress_set(*, batch_id: int, read: int, total: int | None) -> None:
    from django.core.cache import cache

    cache.set(f"guanai:minors-import:{int(batch_id)}", (read, total), IMPORT_PROGRESS_SECONDS)
