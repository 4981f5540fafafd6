"""Visits (走访记录) and mandatory reports (强制报告): the writes and the reads behind the volunteer's phone
form, the staff pages and the API.

A visit is recorded by the volunteer of an active pairing (or by staff who manage pairings in the child's
region). It moves the pairing's contact dates on (the contact policy, `guanai.pairings.contact`), credits
its duration to the volunteer's service hours once, and — when the visitor ticked a safety concern (abuse,
neglect, self-harm risk, no carer; 未成年人保护法 art.11) — opens a mandatory report with a deadline at once
and alerts the township and county admins of the child by inbox and SMS, without the child's name.

An optional photo is checked to be a JPEG or PNG image, re-encoded from its pixels alone (so no EXIF, GPS
position or other metadata survives) and kept under the private media root, outside the static and
public roots; it is served only through a permission-checked page.
"""

from __future__ import annotations

import datetime
import logging
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThan
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override

from guanai import audit
from guanai.core import photos, region_codes
from guanai.core.access import Actor, Permission, Role
from guanai.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from guanai.core.labels import per_language
from guanai.core.region_codes import PREFIX_LENGTH, RegionLevel
from guanai.pairings.contact import next_due
from guanai.pairings.models import MandatoryReport, Pairing, Visit
from guanai.pairings.vocabulary import (
    SAFETY_CONCERN_LABELS,
    Condition,
    PairingState,
    ReportOutcome,
    ReportState,
    SafetyConcern,
    VisitActivity,
    VisitMode,
)

logger = logging.getLogger(__name__)

ALL_ACTIVITIES = sum(int(activity) for activity in VisitActivity)
ALL_CONCERNS = sum(int(concern) for concern in SafetyConcern)
MAX_DURATION_MINUTES = 1440
NOTE_MAX_LENGTH = 2000

PHOTO_MAX_BYTES = 8 * 1024 * 1024
PHOTO_SUBDIRECTORY = "visits"
PHOTO_RULES = photos.PhotoRules(
    max_bytes=PHOTO_MAX_BYTES,
    decoders=("JPEG", "PNG"),
    not_a_photo=gettext_lazy("请上传 JPG 或 PNG 格式的照片"),
    too_large=gettext_lazy("照片不能超过 8 MB"),
    too_many_pixels=gettext_lazy("照片像素过大，请用手机相机直接拍摄的照片"),
)


def _require(actor: Actor, permission: Permission) -> None:
    if not actor.has(permission):
        raise PermissionDeniedError()


def report_deadline_hours() -> int:
    """Hours within which a mandatory report must be handled (settings' GUANAI_MANDATORY_REPORT_HOURS)."""
    value = settings.GUANAI_MANDATORY_REPORT_HOURS
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 24 * 30:
        raise ImproperlyConfigured(f"GUANAI_MANDATORY_REPORT_HOURS must be 1 to 720 hours, not {value!r}")
    return value


def bits_of(flags: type[VisitActivity] | type[SafetyConcern], value: int) -> list[Any]:
    return [flag for flag in flags if value & flag]


@per_language
def concern_labels(value: int) -> list[str]:
    return [str(SAFETY_CONCERN_LABELS[flag]) for flag in bits_of(SafetyConcern, value)]


def hours_of(duration_minutes: int) -> Decimal:
    """A visit's duration as service hours, to 0.1 hour (at least 0.1: a five-minute call counts)."""
    hours = (Decimal(duration_minutes) / 60).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return max(hours, Decimal("0.1"))


# --- Which pairings an actor records visits for, and which visits they see --------------------------------


def _recordable_pairings(actor: Actor) -> QuerySet[Pairing]:
    """A volunteer records visits of their own pairings; staff who manage pairings, of any pairing of a
    child in their region."""
    if actor.has(Permission.VISIT_RECORD):
        return Pairing.objects.of_volunteer(actor)
    if actor.has(Permission.PAIRING_MANAGE):
        return Pairing.objects.visible_to(actor)
    raise PermissionDeniedError()


def pairing_for_visit(*, actor: Actor, pairing_id: int) -> Pairing:
    """The pairing a visit is to be recorded for (the form's header), or 404."""
    pairing = (
        _recordable_pairings(actor).select_related("minor__region", "volunteer").filter(pk=pairing_id).first()
    )
    if pairing is None:
        raise NotFoundError()
    return pairing


def _visible_visits(actor: Actor) -> QuerySet[Visit]:
    if actor.has(Permission.PAIRING_VIEW):
        return Visit.objects.visible_to(actor)
    if actor.has(Permission.VISIT_RECORD):
        # The visits of `Pairing.objects.of_volunteer(actor)`, filtered through the pairing and volunteer
        # that a visit's row joins anyway (not `pairing__in=<subquery>`): two tables fewer for PostgreSQL
        # to plan, which took longer than running the query.
        if actor.user is None:
            return Visit.objects.none()
        return Visit.objects.filter(pairing__volunteer__user=actor.user)
    raise PermissionDeniedError()


def own_pairings(*, actor: Actor) -> QuerySet[Pairing]:
    """我的结对儿童: the signed-in volunteer's active pairings, the next contact due first (so the overdue
    ones lead), those without a due day last."""
    _require(actor, Permission.VISIT_RECORD)
    return (
        Pairing.objects.of_volunteer(actor)
        .filter(state=PairingState.ACTIVE)
        .select_related("minor__region")
        .order_by(F("next_contact_due").asc(nulls_last=True), "id")
    )


def visit_list(
    *,
    actor: Actor,
    pairing_id: int | None = None,
    region: str | None = None,
    with_concerns: bool = False,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
) -> QuerySet[Visit]:
    """Visits the actor may see: staff, those of children in their region; a volunteer, their own."""
    visits = _visible_visits(actor)
    if region:
        try:
            code = region_codes.normalise_code(region)
        except ValueError as error:
            raise ValidationFailed(fields={"region": [_("区划代码应为 2、4、6、9 或 12 位数字")]}) from error
        if actor.has(Permission.PAIRING_VIEW) and not region_codes.is_within(code, actor.region_code or ""):
            raise NotFoundError()
        visits = visits.filter(region_codes.within_q("pairing__minor__region_id", code))
    if pairing_id is not None:
        visits = visits.filter(pairing_id=pairing_id)
    if with_concerns:
        visits = visits.filter(concerns__gt=0)
    if since is not None:
        visits = visits.filter(visited_on__gte=since)
    if until is not None:
        visits = visits.filter(visited_on__lte=until)
    return _with_row_relations(visits).order_by("-visited_on", "-id")


# What a visit's row shows besides the visit: the child's name and village, the volunteer's name and the
# report it opened. Only these columns of the related records are read — not the child's or volunteer's
# encrypted ID number, address, phone or health note, which every row would otherwise decrypt unshown.
_ROW_RELATED_FIELDS = (
    "pairing__minor__name",
    "pairing__minor__region__name",
    "pairing__volunteer__name",
    "mandatory_report__id",
)


def _with_row_relations(visits: QuerySet[Visit]) -> QuerySet[Visit]:
    """Visits as rows are shown. The note is shown masked as "text" (****, nothing of the value), so a row
    reads only whether there is one (`has_note`); reading `visit.note` itself still works (a query)."""
    visit_fields = [field.name for field in Visit._meta.concrete_fields if field.name != "note"]
    return (
        visits.select_related("pairing__minor__region", "pairing__volunteer", "mandatory_report")
        .only(*visit_fields, *_ROW_RELATED_FIELDS)
        # An empty note is stored empty, any other as its ciphertext (`EncryptedTextField`).
        .annotate(has_note=GreaterThan(Length("note"), 0))
    )


def visit_get(*, actor: Actor, visit_id: int) -> Visit:
    visit = _with_row_relations(_visible_visits(actor)).filter(pk=visit_id).first()
    if visit is None:
        raise NotFoundError()
    return visit


# --- Recording a visit --------------------------------------------------------------------------------


def _validated_fields(
    pairing: Pairing,
    *,
    visited_on: datetime.date,
    mode: str,
    duration_minutes: int,
    activities: int,
    note: str,
    conditions: dict[str, str],
    concerns: int,
    today: datetime.date,
) -> None:
    errors: dict[str, list[str]] = {}
    started_on = pairing.started_on or timezone.localdate(pairing.created_at)
    if visited_on > today:
        errors["visited_on"] = [_("走访日期不能晚于今天")]
    elif visited_on < started_on:
        errors["visited_on"] = [_("走访日期不能早于结对日期（%(day)s）") % {"day": f"{started_on:%Y-%m-%d}"}]
    if mode not in VisitMode.values:
        errors["mode"] = [_("请选择走访方式")]
    if (
        isinstance(duration_minutes, bool)
        or not isinstance(duration_minutes, int)
        or not 1 <= duration_minutes <= MAX_DURATION_MINUTES
    ):
        errors["duration_minutes"] = [_("时长应为 1 到 1440 分钟")]
    if not isinstance(activities, int) or activities < 0 or activities & ~ALL_ACTIVITIES:
        errors["activities"] = [_("未知的走访内容")]
    for name, value in conditions.items():
        if value not in Condition.values:
            errors[name] = [_("请选择良好、一般或需关注")]
    if not isinstance(concerns, int) or concerns < 0 or concerns & ~ALL_CONCERNS:
        errors["concerns"] = [_("未知的安全隐患")]
    if len(note) > NOTE_MAX_LENGTH:
        errors["note"] = [_("情况记录不能超过 %(count)d 字") % {"count": NOTE_MAX_LENGTH}]
    if errors:
        raise ValidationFailed(fields=errors)


@transaction.atomic
def visit_record(
    *,
    actor: Actor,
    pairing_id: int,
    visited_on: datetime.date,
    mode: str,
    duration_minutes: int,
    activities: int = 0,
    note: str = "",
    study: str = Condition.GOOD,
    health: str = Condition.GOOD,
    emotion: str = Condition.GOOD,
    safety: str = Condition.GOOD,
    concerns: int = 0,
    photo: Any = None,
    request: Any = None,
) -> Visit:
    """Record a visit of an active pairing. The same pairing, day and mode cannot be recorded twice (a
    second tap, a resent form): that answers 409 and credits nothing more. A ticked safety concern makes
    the safety condition 需关注 and opens a mandatory report at once (`visit.mandatory_report`).

    The visit comes back as `visit_list` gives its rows (pairing, child's name and village, volunteer's
    name, report), so that it is shown without reading it again."""
    pairing = (
        _recordable_pairings(actor)
        .select_for_update(of=("self",))
        .select_related("minor__region", "volunteer")
        # Of the child and the volunteer, only what recording reads (the risk level sets the next contact)
        # and what the visit's row shows (`_ROW_RELATED_FIELDS`) — nothing encrypted to decrypt.
        .only(
            *(field.name for field in Pairing._meta.concrete_fields),
            "minor__name",
            "minor__region__name",
            "minor__risk_level",
            "volunteer__name",
        )
        .filter(pk=pairing_id)
        .first()
    )
    if pairing is None:
        raise NotFoundError()
    if pairing.state != PairingState.ACTIVE:
        raise ConflictError(_("只能为结对中的儿童记录走访，该结对未开始或已解除"))
    note = (note or "").strip()
    conditions = {"study": study, "health": health, "emotion": emotion, "safety": safety}
    _validated_fields(
        pairing,
        visited_on=visited_on,
        mode=mode,
        duration_minutes=duration_minutes,
        activities=activities,
        note=note,
        conditions=conditions,
        concerns=concerns,
        today=timezone.localdate(),
    )
    if concerns:
        conditions["safety"] = Condition.CONCERN
    photo_content = clean_photo(photo) if photo is not None else None
    if Visit.objects.filter(pairing=pairing, visited_on=visited_on, mode=mode).exists():
        raise ConflictError(
            _("这次走访已经记录过了（同一天、同一方式）。如需更正，请联系所在乡镇（街道）关工委。")
        )
    photo_name = store_photo(photo_content) if photo_content is not None else ""
    try:
        visit = Visit.objects.create(
            pairing=pairing,
            visited_on=visited_on,
            mode=mode,
            duration_minutes=duration_minutes,
            activities=activities,
            note=note,
            concerns=concerns,
            photo=photo_name,
            recorded_by=actor.user,
            **conditions,
        )
        _contact_made(pairing, visited_on)
        hours = _credit_hours(visit, pairing, recorded_by=actor.user)
        audit.record(
            actor=actor,
            action="visit.record",
            target=visit,
            region_code=pairing.minor.region_id,
            changes=[
                name
                for name, value in (
                    ("visited_on", visited_on),
                    ("mode", mode),
                    ("duration_minutes", duration_minutes),
                    ("activities", activities),
                    ("note", note),
                    *conditions.items(),
                    ("concerns", concerns),
                    ("photo", photo_name),
                )
                if value
            ],
            detail={"pairing": pairing.pk, "hours": str(hours)},
            request=request,
        )
        if concerns:
            _report_open(actor=actor, visit=visit, pairing=pairing, request=request)
        else:
            # No report: known, as after reading it (`visit.mandatory_report` raises without a query).
            Visit.mandatory_report.related.set_cached_value(visit, None)
    except BaseException:
        if photo_name:
            _photo_delete(photo_name)
        raise
    return visit


def _contact_made(pairing: Pairing, day: datetime.date) -> None:
    """Move the pairing's contact dates on; a visit recorded late, older than the last contact, changes
    nothing."""
    if pairing.last_contact_on is not None and day <= pairing.last_contact_on:
        return
    pairing.last_contact_on = day
    pairing.next_contact_due = next_due(pairing, day)
    pairing.save(update_fields=["last_contact_on", "next_contact_due", "updated_at"])


def _credit_hours(visit: Visit, pairing: Pairing, *, recorded_by: Any) -> Decimal:
    """The visit's duration to the volunteer's confirmed hours, once per visit (its source key)."""
    from guanai.volunteers.services import hours_record_automatic
    from guanai.volunteers.vocabulary import HoursSource

    hours = hours_of(visit.duration_minutes)
    with override("zh-hans"):
        description = _("走访结对儿童（%(mode)s）") % {"mode": VisitMode(visit.mode).label}
    hours_record_automatic(
        volunteer=pairing.volunteer,
        served_on=visit.visited_on,
        hours=hours,
        description=description,
        source=HoursSource.VISIT,
        source_key=f"visit:{visit.pk}",
        recorded_by=recorded_by,
    )
    return hours


# --- Mandatory reports ---------------------------------------------------------------------------------


def report_recipients(*, region_code: str, day: datetime.date | None = None) -> list[Any]:
    """The active township admins of the child's township and county admins of the child's county,
    holding the role on `day` (today): those who receive a mandatory report's alert."""
    from guanai.accounts.models import RoleAssignment, User

    day = day or timezone.localdate()
    township = region_code[: PREFIX_LENGTH[RegionLevel.TOWNSHIP]].ljust(region_codes.CODE_LENGTH, "0")
    county = region_code[: PREFIX_LENGTH[RegionLevel.COUNTY]].ljust(region_codes.CODE_LENGTH, "0")
    holders = (
        RoleAssignment.objects.valid_on(day)
        .filter(Q(role=Role.TOWNSHIP_ADMIN, region_id=township) | Q(role=Role.COUNTY_ADMIN, region_id=county))
        .values("user_id")
    )
    return list(User.objects.filter(is_active=True, pk__in=holders).order_by("pk"))


def _alert_text(report: MandatoryReport, region_code: str) -> tuple[str, str]:
    """Title and body of the alert, in Chinese. The child is named by township only: the text goes by SMS
    through a gateway (DOMAIN.md §4)."""
    from guanai.regions.models import Region

    township = region_code[: PREFIX_LENGTH[RegionLevel.TOWNSHIP]].ljust(region_codes.CODE_LENGTH, "0")
    county = region_code[: PREFIX_LENGTH[RegionLevel.COUNTY]].ljust(region_codes.CODE_LENGTH, "0")
    names = dict(Region.objects.filter(code__in=[county, township]).values_list("code", "name"))
    deadline = timezone.localtime(report.deadline)
    with override("zh-hans"):
        title = _("强制报告：结对儿童存在安全隐患")
        body = _(
            "%(place)s一名结对儿童在走访中发现：%(concerns)s。请于%(deadline)s前核实处置并登记结果"
            "（报告编号 %(number)d）。"
        ) % {
            "place": names.get(county, "") + names.get(township, ""),
            "concerns": "、".join(concern_labels(report.concerns)),
            "deadline": f"{deadline.month}月{deadline.day}日{deadline:%H:%M}",
            "number": report.pk,
        }
    return title, body


def _report_open(*, actor: Actor, visit: Visit, pairing: Pairing, request: Any) -> MandatoryReport:
    from guanai.notifications.models import Notification
    from guanai.notifications.services import notify

    region_code = pairing.minor.region_id
    report = MandatoryReport.objects.create(
        minor=pairing.minor,
        visit=visit,
        concerns=visit.concerns,
        deadline=timezone.now() + datetime.timedelta(hours=report_deadline_hours()),
    )
    recipients = report_recipients(region_code=region_code)
    if not recipients:
        logger.warning(
            "mandatory report %s: no township or county admin to alert in %s", report.pk, region_code
        )
    title, body = _alert_text(report, region_code)
    notify(
        users=recipients,
        kind=Notification.Kind.ALERT,
        title=title,
        body=body,
        link=reverse("visits:report_detail", args=[report.pk]),
        topic=f"mandatory_report:{report.pk}",
    )
    audit.record(
        actor=actor,
        action="report.open",
        target=report,
        region_code=region_code,
        changes=["concerns", "deadline"],
        detail={"visit": visit.pk, "concerns": visit.concerns, "notified": len(recipients)},
        request=request,
    )
    return report


def _reports(actor: Actor) -> QuerySet[MandatoryReport]:
    _require(actor, Permission.REPORT_MANAGE)
    return MandatoryReport.objects.visible_to(actor)


def report_list(
    *,
    actor: Actor,
    state: str | None = None,
    overdue_only: bool = False,
    now: datetime.datetime | None = None,
) -> QuerySet[MandatoryReport]:
    """Mandatory reports of children in the actor's region: the open ones first, the nearest deadline
    first (the overdue ones lead), then the closed ones, the latest first."""
    reports = _reports(actor)
    if state:
        reports = reports.filter(state=state)
    if overdue_only:
        reports = reports.filter(state=ReportState.OPEN, deadline__lt=now or timezone.now())
    return (
        reports.select_related("minor__region", "visit__pairing__volunteer")
        .annotate(
            open_first=Case(
                When(state=ReportState.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by("open_first", F("deadline").asc(), "-opened_at", "-id")
    )


def reports_overdue(*, actor: Actor, now: datetime.datetime | None = None) -> QuerySet[MandatoryReport]:
    """Open mandatory reports past their deadline."""
    return report_list(actor=actor, overdue_only=True, now=now)


def report_get(*, actor: Actor, report_id: int) -> MandatoryReport:
    report = (
        _reports(actor)
        .select_related("minor__region", "visit__pairing__volunteer", "closed_by")
        .filter(pk=report_id)
        .first()
    )
    if report is None:
        raise NotFoundError()
    return report


def report_is_overdue(report: MandatoryReport, now: datetime.datetime | None = None) -> bool:
    return report.state == ReportState.OPEN and report.deadline < (now or timezone.now())


@transaction.atomic
def report_close(
    *, actor: Actor, report_id: int, outcome: str, note: str = "", request: Any = None
) -> MandatoryReport:
    """Close a mandatory report with its outcome (required) and a note."""
    _require(actor, Permission.REPORT_MANAGE)
    note = (note or "").strip()
    errors: dict[str, list[str]] = {}
    if outcome not in ReportOutcome.values:
        errors["outcome"] = [_("请选择处置结果")]
    if len(note) > NOTE_MAX_LENGTH:
        errors["note"] = [_("处置说明不能超过 %(count)d 字") % {"count": NOTE_MAX_LENGTH}]
    report = (
        MandatoryReport.objects.visible_to(actor).select_for_update(of=("self",)).filter(pk=report_id).first()
    )
    if report is None:
        raise NotFoundError()
    if errors:
        raise ValidationFailed(fields=errors)
    if report.state != ReportState.OPEN:
        raise ConflictError(_("该强制报告已办结"))
    now = timezone.now()
    report.state, report.outcome, report.outcome_note = ReportState.CLOSED, outcome, note
    report.closed_at, report.closed_by = now, actor.user
    report.save(update_fields=["state", "outcome", "outcome_note", "closed_at", "closed_by"])
    audit.record(
        actor=actor,
        action="report.close",
        target=report,
        changes=["state", "outcome", *(["outcome_note"] if note else [])],
        detail={"outcome": outcome, "after_deadline": now > report.deadline},
        request=request,
    )
    return report


# --- Photos --------------------------------------------------------------------------------------------


def clean_photo(upload: Any) -> bytes:
    """The uploaded photo as a fresh JPEG made from its pixels alone: turned upright as the camera meant,
    scaled down, with no EXIF (GPS position, camera, time), XMP, ICC or comment carried over. Anything but
    a readable JPEG or PNG of at most PHOTO_MAX_BYTES is refused (`guanai.core.photos`)."""
    return photos.photo_clean(upload, rules=PHOTO_RULES, field_name="photo").data


def photo_directory() -> Path:
    """Where visit photos are kept: beside the roster uploads under the private media root (never served
    by the web server; see `visit_photo_path`)."""
    return photos.private_directory(PHOTO_SUBDIRECTORY)


def store_photo(content: bytes) -> str:
    """Write a cleaned photo under a random name, in a folder of the month; returns the name relative to
    the private media root."""
    month = timezone.localdate()
    return photos.photo_store(content, folder=f"{PHOTO_SUBDIRECTORY}/{month:%Y}/{month:%m}")


def _photo_file(name: str) -> Path | None:
    """The file of a stored photo name, refusing any name that would lead outside the photo directory."""
    return photos.photo_file(name, folder=PHOTO_SUBDIRECTORY)


def _photo_delete(name: str) -> None:
    photos.photo_delete(name, folder=PHOTO_SUBDIRECTORY)


@transaction.atomic
def visit_photo_attach(*, actor: Actor, visit_id: int, photo: Any, request: Any = None) -> Visit:
    """Add (or replace) the photo of a visit the actor may record for: the volunteer of the pairing, or
    staff who manage pairings in the child's region."""
    visit = (
        Visit.objects.filter(pairing__in=_recordable_pairings(actor).values("pk"))
        .select_for_update(of=("self",))
        .filter(pk=visit_id)
        .first()
    )
    if visit is None:
        raise NotFoundError()
    content = clean_photo(photo)
    previous = visit.photo
    visit.photo = store_photo(content)
    try:
        visit.save(update_fields=["photo"])
        audit.record(actor=actor, action="visit.photo", target=visit, changes=["photo"], request=request)
    except BaseException:
        _photo_delete(visit.photo)
        raise
    if previous:
        transaction.on_commit(lambda: _photo_delete(previous))
    return visit


def visit_photo_path(*, actor: Actor, visit_id: int, request: Any = None) -> Path:
    """The photo of a visit the actor may see, for the permission-checked page that serves it; each look
    is an audit event (a child's image, 未成年人网络保护条例 art.36)."""
    visit = visit_get(actor=actor, visit_id=visit_id)
    path = _photo_file(visit.photo)
    if path is None or not path.is_file():
        raise NotFoundError()
    audit.record(
        actor=actor,
        action="visit.photo_view",
        target=visit,
        region_code=visit.pairing.minor.region_id,
        request=request,
    )
    return path
