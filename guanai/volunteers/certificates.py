"""Service certificates (志愿服务证明), their public verification, and the public honour roll.

志愿服务条例 (2017) has the organisation that records service certify it, free of charge, on the
volunteer's request (谁记录谁证明, DOMAIN.md §7). A certificate states the confirmed hours of a period and
the volunteer's star level; it carries a random verification code, so that anyone holding the paper can
check it on the public page (/verify/), which shows what was certified with the name masked. Codes are
60 random bits and lookups are rate limited per address, so they cannot be enumerated.

Staff issue certificates for volunteers of their region (VOLUNTEER_MANAGE); a volunteer issues their own
(VOLUNTEER_SELF). Only staff revoke one, with a reason; the public page then says it is void.
"""

from __future__ import annotations

import datetime
import secrets
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q, QuerySet, Sum
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_ratelimit.core import is_ratelimited

from guanai import audit
from guanai.committees.models import Committee, CommitteeKind
from guanai.core import region_codes
from guanai.core.access import Actor, Permission
from guanai.core.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimited,
    ValidationFailed,
)
from guanai.core.masking import mask_field, mask_name
from guanai.core.region_codes import RegionLevel
from guanai.regions.models import Region
from guanai.volunteers.models import Certificate, ServiceHours, Volunteer
from guanai.volunteers.selectors import HonourRollEntry, honour_roll
from guanai.volunteers.services import own_volunteer
from guanai.volunteers.vocabulary import STAR_LABELS, HoursState, Status, star_level

# Thirty-two symbols without the look-alikes 0/O and 1/I: twelve of them are 60 random bits, typed in
# three groups of four ("7KQM-3XHD-P9WA").
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_SYMBOLS = 12
CODE_GROUP = 4
REVOKE_REASON_LENGTH = 200

# The public honour roll: the ranking is computed at most this often per region and year (the yearly
# ranking sums a year of service records); who still agrees to appear is checked on every request.
HONOUR_ROLL_CACHE_SECONDS = 600
HONOUR_ROLL_SIZE = 20


# --- Verification codes --------------------------------------------------------------------------


def new_code() -> str:
    symbols = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_SYMBOLS))
    return "-".join(symbols[i : i + CODE_GROUP] for i in range(0, CODE_SYMBOLS, CODE_GROUP))


def normalised_code(typed: str) -> str | None:
    """The code as stored ("7KQM-3XHD-P9WA") from what someone typed: full-width characters, lower case,
    spaces and dashes are accepted. None when it cannot be a code at all."""
    symbols = "".join(
        character
        for character in unicodedata.normalize("NFKC", typed).upper()
        if not character.isspace() and character not in "-—_"
    )
    if len(symbols) != CODE_SYMBOLS or any(character not in CODE_ALPHABET for character in symbols):
        return None
    return "-".join(symbols[i : i + CODE_GROUP] for i in range(0, CODE_SYMBOLS, CODE_GROUP))


# --- Reading certificates ------------------------------------------------------------------------


def _certificate_volunteer(actor: Actor, volunteer_id: int, *, manage: bool) -> tuple[Volunteer, bool]:
    """The volunteer whose certificates the actor may handle, and whether it is the actor themself.
    Staff: a volunteer of their region (404 outside it). A volunteer: their own record only."""
    staff_permission = Permission.VOLUNTEER_MANAGE if manage else Permission.VOLUNTEER_VIEW
    if actor.has(staff_permission):
        volunteer = (
            Volunteer.objects.visible_to(actor).select_related("region").filter(pk=volunteer_id).first()
        )
        if volunteer is None:
            raise NotFoundError()
        return volunteer, False
    if actor.has(Permission.VOLUNTEER_SELF):
        volunteer = own_volunteer(actor)
        if volunteer.pk != volunteer_id:
            raise NotFoundError()
        return volunteer, True
    raise PermissionDeniedError()


def certificates_of(*, actor: Actor, volunteer_id: int) -> tuple[Volunteer, QuerySet[Certificate]]:
    """A volunteer (seen by staff of their region, or by themself) and their certificates, newest first."""
    volunteer, _is_self = _certificate_volunteer(actor, volunteer_id, manage=False)
    certificates = (
        Certificate.objects.filter(volunteer=volunteer)
        .select_related("issued_by")
        .order_by("-issued_at", "-id")
    )
    return volunteer, certificates


def certificate_get(*, actor: Actor, certificate_id: int) -> Certificate:
    """One certificate for staff of the volunteer's region or for the volunteer themself; anyone else
    gets 404 (or 403 when their role handles no volunteers at all)."""
    if actor.has(Permission.VOLUNTEER_VIEW):
        certificates = Certificate.objects.visible_to(actor)
    elif actor.has(Permission.VOLUNTEER_SELF) and actor.user is not None:
        certificates = Certificate.objects.filter(volunteer__user=actor.user)
    else:
        raise PermissionDeniedError()
    certificate = (
        certificates.select_related("volunteer__region", "issued_by").filter(pk=certificate_id).first()
    )
    if certificate is None:
        raise NotFoundError()
    return certificate


@dataclass(frozen=True)
class CertifiedHours:
    period: Decimal  # confirmed hours served within the period
    cumulative: Decimal  # confirmed hours served up to the end of the period: the star level's basis


def certified_hours(
    *, volunteer: Volunteer, period_start: datetime.date | None, period_end: datetime.date
) -> CertifiedHours:
    """Confirmed service hours of the period, read from the records themselves (not the running total),
    so that a certificate says exactly what the records held when it was issued."""
    records = ServiceHours.objects.filter(
        volunteer=volunteer, state=HoursState.CONFIRMED, served_on__lte=period_end
    )
    in_period = Q(served_on__gte=period_start) if period_start is not None else Q()
    sums = records.aggregate(period=Sum("hours", filter=in_period), cumulative=Sum("hours"))
    zero = Decimal("0.0")
    return CertifiedHours(
        period=Decimal(sums["period"] or zero).quantize(Decimal("0.1")),
        cumulative=Decimal(sums["cumulative"] or zero).quantize(Decimal("0.1")),
    )


# --- Issuing and revoking ------------------------------------------------------------------------


@transaction.atomic
def certificate_issue(
    *,
    actor: Actor,
    volunteer_id: int,
    period_start: datetime.date | None = None,
    period_end: datetime.date | None = None,
    request: Any = None,
) -> Certificate:
    """Certify the confirmed hours served from `period_start` (the first record when None) to
    `period_end` (today when None), with the star level the volunteer's confirmed hours up to
    `period_end` reach. Staff of the volunteer's region, or the volunteer themself; free of charge.

    Asking again for the same period while nothing changed gives back the certificate already issued
    (still valid) rather than a second code for the same statement."""
    volunteer, is_self = _certificate_volunteer(actor, volunteer_id, manage=True)
    today = timezone.localdate()
    end = period_end or today
    errors: dict[str, list[str]] = {}
    if end > today:
        errors["period_end"] = [_("截止日期不能晚于今天")]
    if period_start is not None and period_start > end:
        errors["period_start"] = [_("起始日期不能晚于截止日期")]
    if errors:
        raise ValidationFailed(fields=errors)
    hours = certified_hours(volunteer=volunteer, period_start=period_start, period_end=end)
    if hours.period <= 0:
        raise ValidationFailed(fields={"period_start": [_("该期间没有已确认的服务时长，无法出具证明")]})
    stars = star_level(hours.cumulative)
    same = (
        Certificate.objects.filter(
            volunteer=volunteer,
            period_start=period_start,
            period_end=end,
            hours=hours.period,
            star_level=stars,
            revoked_at__isnull=True,
        )
        .order_by("-issued_at", "-id")
        .first()
    )
    if same is not None:
        return same
    code = new_code()
    while Certificate.objects.filter(code=code).exists():  # 60 random bits: practically never
        code = new_code()
    certificate = Certificate.objects.create(
        volunteer=volunteer,
        code=code,
        hours=hours.period,
        star_level=stars,
        period_start=period_start,
        period_end=end,
        issued_by=actor.user,
    )
    audit.record(
        actor=actor,
        action="volunteer.certificate_issued",
        target=certificate,
        detail={"volunteer": volunteer.pk, "by_volunteer": is_self},
        request=request,
    )
    return certificate


@transaction.atomic
def certificate_revoke(*, actor: Actor, certificate_id: int, reason: str, request: Any = None) -> Certificate:
    """Void a certificate (issued in error, or its hours corrected since): the public page then says it
    is void. Staff of the volunteer's region only; the reason stays with the record."""
    if not actor.has(Permission.VOLUNTEER_MANAGE):
        raise PermissionDeniedError()
    certificate = (
        Certificate.objects.visible_to(actor)
        .select_for_update()
        .select_related("volunteer")
        .filter(pk=certificate_id)
        .first()
    )
    if certificate is None:
        raise NotFoundError()
    if not reason.strip():
        raise ValidationFailed(fields={"reason": [_("请填写作废原因")]})
    if certificate.revoked_at is not None:
        raise ConflictError(_("该证明已作废"))
    certificate.revoked_at = timezone.now()
    certificate.revoke_reason = reason.strip()[:REVOKE_REASON_LENGTH]
    certificate.save(update_fields=["revoked_at", "revoke_reason"])
    audit.record(
        actor=actor,
        action="volunteer.certificate_revoked",
        target=certificate,
        changes=["revoked_at", "revoke_reason"],
        detail={"volunteer": certificate.volunteer_id},
        request=request,
    )
    return certificate


# --- The public verification ---------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    """What the public page shows of a certificate: never the full name, never an ID number."""

    code: str
    masked_name: str
    county: str
    hours: Decimal
    star_level: int
    star_label: str
    period_start: datetime.date | None
    period_end: datetime.date
    issued_on: datetime.date
    is_valid: bool
    revoked_on: datetime.date | None


def _county_name(region_code: str) -> str:
    county = region_code[:6].ljust(region_codes.CODE_LENGTH, "0")
    return Region.objects.filter(code=county).values_list("name", flat=True).first() or ""


def star_label(level: int) -> str:
    return str(STAR_LABELS[level]) if 0 <= level < len(STAR_LABELS) else str(level)


def certificate_verify(*, code: str, request: HttpRequest) -> Verification:
    """What a certificate certified, for anyone holding its code; NotFoundError when there is none.
    Every lookup counts against the caller's address (RateLimited beyond the rate)."""
    rate = settings.GUANAI_CERTIFICATE_VERIFY_RATE_PER_IP  # lookups of the public page per address
    if is_ratelimited(request, group="certificate-verify", key="ip", rate=rate, increment=True):
        raise RateLimited(_("查询过于频繁，请稍后再试。"))
    stored = normalised_code(code)
    certificate = (
        Certificate.objects.select_related("volunteer").filter(code=stored).first() if stored else None
    )
    if certificate is None:
        raise NotFoundError(_("未找到该证明，请核对验证码。"))
    local_revoked = timezone.localtime(certificate.revoked_at).date() if certificate.revoked_at else None
    return Verification(
        code=certificate.code,
        masked_name=mask_name(certificate.volunteer.name),
        county=_county_name(certificate.volunteer.region_id),
        hours=certificate.hours,
        star_level=certificate.star_level,
        star_label=star_label(certificate.star_level),
        period_start=certificate.period_start,
        period_end=certificate.period_end,
        issued_on=timezone.localtime(certificate.issued_at).date(),
        is_valid=certificate.revoked_at is None,
        revoked_on=local_revoked,
    )


def verification_url(*, code: str, request: HttpRequest) -> str:
    """The absolute address of the public page of `code`, as the visitor reached this site."""
    return request.build_absolute_uri(reverse("certificates:verify", args=[code]))


# --- The PDF -------------------------------------------------------------------------------------


def issuing_committee_name(volunteer: Volunteer) -> str:
    """The committee that keeps the volunteer's record: the nearest regional committee at the
    volunteer's township or above (township, county, city, province); the county's committee by name
    when none is registered."""
    # A volunteer's region is a village: its ancestors are the township, county, city and province.
    above = region_codes.ancestor_codes(volunteer.region_id)
    committees = dict(
        Committee.objects.filter(
            region_id__in=above, kind=CommitteeKind.REGIONAL, is_active=True
        ).values_list("region_id", "name")
    )
    for code in reversed(above):
        if code in committees:
            return str(committees[code])
    return _county_name(volunteer.region_id) + _("关心下一代工作委员会")


def _qr_code(url: str) -> str:
    """The verification address as a QR code (an SVG data URI) — segno is already a dependency, for the
    second factor's enrolment."""
    import segno

    return str(segno.make(url, error="m").svg_data_uri(scale=4, dark="#000000", light="#ffffff"))


def certificate_pdf(*, certificate: Certificate, request: HttpRequest) -> bytes:
    """The certificate as an A4 PDF in Chinese (WeasyPrint, Noto CJK fonts): the name, the ID number
    masked, the hours and star level of the period, the issuing committee, the verification code with
    the address of the public page, and a QR code of that address. `certificate` has been read through
    `certificate_get`, which decided that the actor may have it."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    volunteer = certificate.volunteer
    url = verification_url(code=certificate.code, request=request)
    context = {
        "certificate": certificate,
        "name": volunteer.name,
        "id_number": mask_field(volunteer, "id_number"),
        "star_label": star_label(certificate.star_level),
        "committee": issuing_committee_name(volunteer),
        "issued_on": timezone.localtime(certificate.issued_at).date(),
        "verification_url": url,
        "qr_code": _qr_code(url),
    }
    html = render_to_string("volunteers/certificates/pdf.html", context)
    # Everything the template needs is embedded (data: URIs, the system's fonts): nothing is fetched, so
    # no value printed on a certificate can make the server request an address.
    fetcher = URLFetcher(allowed_protocols={"data"})
    document: bytes = HTML(string=html, url_fetcher=fetcher).write_pdf()
    return document


# --- The public honour roll ----------------------------------------------------------------------


@dataclass(frozen=True)
class HonourRollRow:
    rank: int
    name: str
    township: str
    village: str
    hours: Decimal
    star_level: int
    star_label: str


HONOUR_ROLL_STATUSES = (Status.ACTIVE, Status.SUSPENDED)


def honour_roll_public(*, region_code: str, year: int | None) -> list[HonourRollRow]:
    """The most active volunteers of a region (of `year`, or in all), only those who agree to appear
    NOW: the ranking may come from the cache, but consent and status are read on every call, so that a
    volunteer who withdraws disappears at once. The star level is the volunteer's, from all their
    confirmed hours."""
    key = f"volunteers:honour-roll:{region_code}:{year or 'all'}"
    ranking: list[HonourRollEntry] | None = cache.get(key)
    if ranking is None:
        # Twice the size, so that withdrawals since do not leave the list short.
        ranking = honour_roll(region_code=region_code, year=year, limit=HONOUR_ROLL_SIZE * 2)
        cache.set(key, ranking, HONOUR_ROLL_CACHE_SECONDS)
    agreeing = {
        row[0]: row[1:]
        for row in Volunteer.objects.filter(
            pk__in=[entry.volunteer_id for entry in ranking],
            shows_on_honour_roll=True,
            status__in=HONOUR_ROLL_STATUSES,
        ).values_list("pk", "name", "hours_total", "region__name", "region__parent__name")
    }
    rows: list[HonourRollRow] = []
    for entry in ranking:
        if entry.volunteer_id not in agreeing:
            continue
        name, hours_total, village, township = agreeing[entry.volunteer_id]
        stars = star_level(hours_total)
        rows.append(
            HonourRollRow(
                rank=len(rows) + 1,
                name=name,
                township=township or "",
                village=village,
                hours=Decimal(entry.hours).quantize(Decimal("0.1")),  # SQLite sums lose the scale
                star_level=stars,
                star_label=star_label(stars),
            )
        )
        if len(rows) == HONOUR_ROLL_SIZE:
            break
    return rows


def honour_roll_regions() -> list[tuple[str, list[tuple[str, str]]]]:
    """The cities of the province and their counties, for the public page's choice: one group per city,
    the city itself first."""
    province = settings.GUANAI_PROVINCE_CODE.ljust(region_codes.CODE_LENGTH, "0")
    regions = (
        Region.objects.within(province)
        .filter(level__in=[RegionLevel.CITY, RegionLevel.COUNTY])
        .order_by("code")
        .values_list("code", "name", "level")
    )
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    for code, name, level in regions:
        if level == RegionLevel.CITY:
            groups.append((name, [(code, _("%(name)s（全市）") % {"name": name})]))
        elif groups:
            groups[-1][1].append((code, name))
    return groups


def honour_roll_region(code: str) -> Region:
    """A city or a county of the province, from a code as typed; ValidationFailed else. (Not the whole
    province: a public page that anyone may reload should not rank a province's year of records.)"""
    try:
        full = region_codes.normalise_code(code)
    except ValueError as error:
        raise ValidationFailed(fields={"region": [_("请选择市或县（市、区）")]}) from error
    province = settings.GUANAI_PROVINCE_CODE.ljust(region_codes.CODE_LENGTH, "0")
    region = Region.objects.filter(code=full).first()
    if (
        region is None
        or not region_codes.is_within(full, province)
        or region.level not in (RegionLevel.CITY, RegionLevel.COUNTY)
    ):
        raise ValidationFailed(fields={"region": [_("请选择市或县（市、区）")]})
    return region
