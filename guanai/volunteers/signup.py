"""Elders sign themselves up (志愿服务条例 art.15: identity, skills, availability and contact), the township
reviews, committees invite, and a volunteer reads their own record (我的).

The sign-up is public and needs no account, only a mobile number proved by a code sent to it. The codes
live in the accounts' `SmsCode` table (digests only, five minutes, five tries) under a digest bound to the
purpose of signing up, so that a sign-up code can never be redeemed as a sign-in code; sending shares the
sign-in codes' rate limits per address and per number, so that nobody can flood a number through either
page. Approval gives the volunteer an account that signs in with an SMS code: an elder has no password to
remember.

Writes check the actor's permission and region and end with one audit event, like `services`; the few
reads these pages need (the review queue, the invitations, one's applications, 我的) live here too.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanai import audit
from guanai.accounts.models import User
from guanai.accounts.selectors import mobile_digest
from guanai.accounts.services import (
    role_assign,
    sms_code_create,
    sms_code_matches,
    sms_rate_limit,
    user_create,
    user_set_preferences,
)
from guanai.accounts.sms import SmsDeliveryError, sms_backend
from guanai.committees.models import Committee, CommitteeKind
from guanai.core import region_codes
from guanai.core.access import Actor, Permission, Role
from guanai.core.crypto import blind_index, sm3_hex
from guanai.core.errors import (
    ConflictError,
    DomainError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailed,
)
from guanai.core.region_codes import RegionLevel
from guanai.minors.validation import FULL_WIDTH, MOBILE
from guanai.regions.models import Region
from guanai.volunteers.models import (
    Honour,
    Invitation,
    ServiceHours,
    TeamMembership,
    Training,
    Volunteer,
)
from guanai.volunteers.selectors import HoursTotals, hours_of, hours_totals
from guanai.volunteers.services import (
    AlreadyRegistered,
    VolunteerInput,
    apply_names,
    own_volunteer,
    registered_county,
    validated,
)
from guanai.volunteers.vocabulary import (
    STAR_LABELS,
    HoursSource,
    HoursState,
    Source,
    Status,
    star_level,
    star_thresholds,
)

logger = logging.getLogger(__name__)

SIGNUP_CODE_PURPOSE = "volunteer-signup"
# The version of the personal-information notice the sign-up page shows (个人信息保护法 art.17); the
# audit event of each sign-up names the version the applicant agreed to.
SIGNUP_NOTICE_VERSION = "volunteer-signup-2026-1"
# How long a mobile proved on the status page lets its owner see and correct their applications.
VERIFIED_MINUTES = 30
INVITATION_MAX_DAYS = 90
INVITATION_MAX_USES = 500
TOKEN_MAX_LENGTH = 100
SIGNUP_SOURCES = (Source.SIGNUP, Source.INVITATION)
# The fields the public form carries; a resubmission changes these and nothing a committee recorded.
PUBLIC_FIELDS = (
    "name", "region", "gender", "birth_date", "id_number", "phone", "categories", "specialties",
    "law_licence_number", "psychology_certificate", "teaching_subjects", "availability", "max_children",
    "shows_on_honour_roll",
)  # fmt: skip


class InvitationUnusable(DomainError):
    """An invitation link that is unknown, revoked, expired or used up; the message says which."""

    status = 410
    code = "invitation_unusable"


class SmsNotSent(DomainError):
    status = 503
    code = "sms_not_sent"
    default_message = gettext_lazy("短信发送失败，请稍后再试。")


def _require(actor: Actor, permission: Permission) -> None:
    if not actor.has(permission):
        raise PermissionDeniedError()


def _clean_mobile(value: str, *, field_name: str = "phone") -> str:
    mobile = value.translate(FULL_WIDTH).strip().replace(" ", "").replace("-", "")
    if mobile.startswith("+86"):
        mobile = mobile[3:]
    if not (mobile.isascii() and MOBILE.fullmatch(mobile)):
        raise ValidationFailed(fields={field_name: [_("手机号码应为以 1 开头的 11 位数字")]})
    return mobile


def _is_mobile(value: str) -> bool:
    return bool(value) and value.isascii() and bool(MOBILE.fullmatch(value))


# --- Proving a mobile number ---------------------------------------------------------------------


def signup_code_digest(mobile: str) -> str:
    """The `SmsCode.mobile_digest` of a sign-up code: the keyed digest of the number, bound to the
    purpose. Sign-in looks codes up by `mobile_digest(mobile)` exactly, so it never finds these."""
    return sm3_hex(f"{SIGNUP_CODE_PURPOSE}:{mobile_digest(mobile)}")


def signup_start_verification(*, mobile: str, request: HttpRequest) -> str:
    """Send a sign-up code to `mobile`; returns the number as it was understood. Rate limited per
    sender's address and per number, in the same buckets as the sign-in codes."""
    mobile = _clean_mobile(mobile)
    sms_rate_limit(request=request, mobile=mobile)
    code = sms_code_create(digest=signup_code_digest(mobile))
    message = _(
        "【智慧关工委】您的五老志愿者报名验证码为 %(code)s，%(minutes)d 分钟内有效。请勿告诉他人。"
    ) % {
        "code": code,
        "minutes": settings.GUANAI_SMS_CODE_MINUTES,
    }
    try:
        sms_backend().send(mobile=mobile, message=message)
    except SmsDeliveryError as error:
        logger.warning("sign-up code not delivered: %s", error)
        raise SmsNotSent() from error
    audit.record(
        actor=None, action="auth.sms_code_sent", detail={"purpose": "volunteer_signup"}, request=request
    )
    return mobile


@transaction.atomic
def _redeem_code(*, mobile: str, code: str) -> bool:
    """True if `code` is the newest unexpired, unused sign-up code of `mobile` (five tries per code).
    Its own transaction: a wrong try counts even when the caller then refuses the sign-up."""
    return sms_code_matches(digest=signup_code_digest(mobile), code=code)


def _wrong_code() -> ValidationFailed:
    return ValidationFailed(fields={"code": [_("验证码不正确或已过期，请重新获取")]})


@dataclass(frozen=True)
class VerifiedMobile:
    """A mobile number whose owner typed the code sent to it: only its blind index in the volunteers'
    table (the number itself is not kept), and when."""

    phone_index: str
    verified_at: datetime.datetime

    @property
    def is_fresh(self) -> bool:
        return timezone.now() - self.verified_at <= datetime.timedelta(minutes=VERIFIED_MINUTES)


def signup_verify(*, mobile: str, code: str) -> VerifiedMobile:
    """Prove a mobile number with the sign-up code sent to it (to look up one's applications)."""
    mobile = _clean_mobile(mobile)
    if not code.strip():
        raise ValidationFailed(fields={"code": [_("请填写短信验证码")]})
    if not _redeem_code(mobile=mobile, code=code):
        raise _wrong_code()
    index = blind_index(Volunteer, "phone", mobile)
    assert index is not None
    return VerifiedMobile(phone_index=index, verified_at=timezone.now())


def _fresh(verified: VerifiedMobile) -> None:
    if not verified.is_fresh:
        raise PermissionDeniedError(_("验证已过期，请重新获取验证码"))


# --- Invitations ---------------------------------------------------------------------------------


def invitation_resolve(*, token: str) -> Invitation:
    """The invitation a link's token stands for, if it can still be used; InvitationUnusable saying why
    not otherwise."""
    token = token.strip()
    invitation = None
    if token and len(token) <= TOKEN_MAX_LENGTH:
        invitation = Invitation.objects.select_related("region").filter(digest=sm3_hex(token)).first()
    if invitation is None:
        raise InvitationUnusable(_("邀请链接无效，请向邀请您的关工委重新索取。"))
    if invitation.revoked_at is not None:
        raise InvitationUnusable(_("该邀请链接已被撤销，请向邀请您的关工委重新索取。"))
    if invitation.expires_at <= timezone.now():
        raise InvitationUnusable(_("该邀请链接已过期，请向邀请您的关工委重新索取。"))
    if invitation.used_count >= invitation.max_uses:
        raise InvitationUnusable(_("该邀请链接的报名名额已满，请向邀请您的关工委重新索取。"))
    return invitation


def invitation_state(invitation: Invitation, *, now: datetime.datetime | None = None) -> str:
    """有效 / 已撤销 / 已过期 / 已用完, in words."""
    now = now or timezone.now()
    if invitation.revoked_at is not None:
        return _("已撤销")
    if invitation.expires_at <= now:
        return _("已过期")
    if invitation.used_count >= invitation.max_uses:
        return _("已用完")
    return _("有效")


@transaction.atomic
def invitation_create(
    *,
    actor: Actor,
    region_code: str,
    note: str = "",
    days: int = 30,
    max_uses: int = 50,
    request: HttpRequest | None = None,
) -> tuple[Invitation, str]:
    """A link for elders of a region inside the actor's; returns it with the raw token, which is never
    stored (only its SM3 digest) and cannot be shown again."""
    _require(actor, Permission.VOLUNTEER_MANAGE)
    errors: dict[str, list[str]] = {}
    region = None
    try:
        code = region_codes.normalise_code(region_code)
    except ValueError:
        errors["region_code"] = [_("区划代码应为 12 位数字")]
    else:
        if region_codes.is_within(code, actor.region_code or ""):
            region = Region.objects.filter(code=code).first()
        if region is None:
            errors["region_code"] = [_("该区域不在您的管辖范围内")]
    if not 1 <= days <= INVITATION_MAX_DAYS:
        errors["days"] = [_("有效天数应在 1 到 %(n)d 之间") % {"n": INVITATION_MAX_DAYS}]
    if not 1 <= max_uses <= INVITATION_MAX_USES:
        errors["max_uses"] = [_("可用次数应在 1 到 %(n)d 之间") % {"n": INVITATION_MAX_USES}]
    if errors:
        raise ValidationFailed(fields=errors)
    assert region is not None
    token = secrets.token_urlsafe(24)
    invitation = Invitation.objects.create(
        region=region,
        committee=Committee.objects.filter(region=region, kind=CommitteeKind.REGIONAL).first(),
        digest=sm3_hex(token),
        note=note.strip()[:100],
        created_by=actor.user,
        expires_at=timezone.now() + datetime.timedelta(days=days),
        max_uses=max_uses,
    )
    audit.record(
        actor=actor,
        action="volunteer.invitation_created",
        target=invitation,
        detail={"days": days, "max_uses": max_uses},
        request=request,
    )
    return invitation, token


@transaction.atomic
def invitation_revoke(*, actor: Actor, invitation_id: int, request: HttpRequest | None = None) -> Invitation:
    _require(actor, Permission.VOLUNTEER_MANAGE)
    invitation = Invitation.objects.visible_to(actor).select_for_update().filter(pk=invitation_id).first()
    if invitation is None:
        raise NotFoundError()
    if invitation.revoked_at is not None:
        raise ConflictError(_("该邀请已撤销"))
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit.record(actor=actor, action="volunteer.invitation_revoked", target=invitation, request=request)
    return invitation


def invitation_list(*, actor: Actor) -> QuerySet[Invitation]:
    """The invitations of the actor's region and below, newest first."""
    _require(actor, Permission.VOLUNTEER_MANAGE)
    return (
        Invitation.objects.visible_to(actor)
        .select_related("region", "created_by")
        .order_by("-created_at", "-id")
    )


def _use_invitation(invitation: Invitation) -> None:
    """Count one use, atomically: two elders signing up at once cannot both take the last place."""
    used = Invitation.objects.filter(
        pk=invitation.pk,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
        used_count__lt=F("max_uses"),
    ).update(used_count=F("used_count") + 1)
    if not used:
        raise InvitationUnusable(_("该邀请链接的报名名额已满，请向邀请您的关工委重新索取。"))


# --- Signing up ----------------------------------------------------------------------------------


def _public_input(data: VolunteerInput) -> VolunteerInput:
    """What an applicant may say about themselves: never a background check or coordinates, which the
    committee records."""
    return dataclasses.replace(
        data, check_date=None, check_result="", check_by="", latitude=None, longitude=None
    )


def signup_submit(
    *,
    data: VolunteerInput,
    code: str,
    invitation_token: str | None = None,
    request: HttpRequest | None = None,
) -> Volunteer:
    """A public sign-up, no account needed: the record as 申请中 for the township to review. Accepted
    only with the code sent to `data.phone`. Whether the ID number is already on record is told only
    after the code is right, so that the page cannot be used to find out who is registered."""
    today = timezone.localdate()
    data = _public_input(data)
    errors: dict[str, list[str]] = {}
    mobile = ""
    try:
        mobile = _clean_mobile(data.phone)
        data = dataclasses.replace(data, phone=mobile)
    except ValidationFailed as error:
        errors.update(error.fields)
    if not data.id_number.strip():
        errors["id_number"] = [_("请填写身份证号")]
    invitation = invitation_resolve(token=invitation_token) if invitation_token is not None else None
    values: dict[str, Any] = {}
    already: AlreadyRegistered | None = None
    if not errors:
        try:
            values = validated(data, actor=None, today=today, current=None)
        except AlreadyRegistered as error:
            already = error
        except ValidationFailed as error:
            errors.update(error.fields)
    if (
        invitation is not None
        and values
        and not region_codes.is_within(values["region"].code, invitation.region_id)
    ):
        errors["region_code"] = [_("请选择%(region)s范围内的村（社区）") % {"region": invitation.region.name}]
    if not code.strip():
        errors["code"] = [_("请填写短信验证码")]
    if errors:
        raise ValidationFailed(fields=errors)
    if not _redeem_code(mobile=mobile, code=code):
        raise _wrong_code()
    if already is not None:
        raise already
    source = Source.INVITATION if invitation is not None else Source.SIGNUP
    with transaction.atomic():
        if invitation is not None:
            _use_invitation(invitation)
        volunteer = Volunteer(**values, status=Status.APPLYING, status_changed_on=today, source=source)
        apply_names(volunteer)
        try:
            with transaction.atomic():
                volunteer.save()
        except IntegrityError as error:
            # The same ID number signed up at the same moment by another request.
            raise AlreadyRegistered(registered_county(id_number=values["id_number"])) from error
        audit.record(
            actor=None,
            action="volunteer.signup",
            target=volunteer,
            changes=[key for key, value in values.items() if value not in (None, "", 0, False)],
            detail={
                "source": str(source),
                "invitation": invitation.pk if invitation else None,
                "notice_version": SIGNUP_NOTICE_VERSION,
            },
            request=request,
        )
    return volunteer


def signup_applications_of(*, verified: VerifiedMobile) -> QuerySet[Volunteer]:
    """The sign-ups made with a proved mobile number (an elderly couple may share one), newest first."""
    _fresh(verified)
    return (
        Volunteer.objects.filter(phone_index=verified.phone_index, source__in=SIGNUP_SOURCES)
        .select_related("region")
        .order_by("-created_at", "-id")
    )


def signup_state(volunteer: Volunteer) -> tuple[str, str]:
    """Where an application stands, as a code and in words: applying 申请中, returned 已退回 (the
    reason is on the record), approved 已通过, closed 已结束."""
    if volunteer.status == Status.APPLYING:
        if volunteer.return_reason:
            return "returned", _("已退回")
        return "applying", _("申请中")
    if volunteer.status in (Status.ACTIVE, Status.SUSPENDED):
        return "approved", _("已通过")
    return "closed", _("已结束")


def _township_of(code: str) -> str:
    return code[: region_codes.PREFIX_LENGTH[RegionLevel.TOWNSHIP]].ljust(region_codes.CODE_LENGTH, "0")


def signup_resubmit(
    *,
    verified: VerifiedMobile,
    volunteer_id: int,
    data: VolunteerInput,
    request: HttpRequest | None = None,
) -> Volunteer:
    """The applicant corrects a returned sign-up and sends it again (for review anew). The phone stays
    the proved one; an invited applicant stays in the township that reviews the invitation's sign-ups."""
    _fresh(verified)
    with transaction.atomic():
        volunteer = (
            signup_applications_of(verified=verified).select_for_update().filter(pk=volunteer_id).first()
        )
        if volunteer is None:
            raise NotFoundError()
        if volunteer.status != Status.APPLYING or not volunteer.return_reason:
            raise ConflictError(_("该报名不是“已退回”状态，不能修改"))
        data = _public_input(dataclasses.replace(data, phone=volunteer.phone))
        values = validated(data, actor=None, today=timezone.localdate(), current=volunteer)
        if volunteer.source == Source.INVITATION and not region_codes.is_within(
            values["region"].code, _township_of(volunteer.region_id)
        ):
            raise ValidationFailed(
                fields={"region_code": [_("受邀报名只能在原乡镇（街道）范围内选择村（社区）")]}
            )
        public = {key: values[key] for key in PUBLIC_FIELDS}
        changed = [key for key, value in public.items() if getattr(volunteer, key) != value]
        for key, value in public.items():
            setattr(volunteer, key, value)
        apply_names(volunteer)
        volunteer.return_reason = ""
        volunteer.version += 1
        volunteer.save()
        audit.record(
            actor=None,
            action="volunteer.signup",
            target=volunteer,
            changes=changed,
            detail={
                "source": volunteer.source,
                "resubmitted": True,
                "notice_version": SIGNUP_NOTICE_VERSION,
            },
            request=request,
        )
    return volunteer


# --- The township's review -----------------------------------------------------------------------


def signup_applications(*, actor: Actor) -> QuerySet[Volunteer]:
    """申请中 volunteers of the actor's region, oldest first (whoever waited longest is reviewed first)."""
    _require(actor, Permission.VOLUNTEER_MANAGE)
    return (
        Volunteer.objects.visible_to(actor)
        .filter(status=Status.APPLYING)
        .select_related("region")
        .order_by("created_at", "id")
    )


def _locked_application(actor: Actor, volunteer_id: int) -> Volunteer:
    volunteer = (
        Volunteer.objects.visible_to(actor)
        .select_for_update()
        .select_related("region")
        .filter(pk=volunteer_id)
        .first()
    )
    if volunteer is None:
        raise NotFoundError()
    if volunteer.status != Status.APPLYING:
        raise ConflictError(
            _("该报名已处理（当前状态：%(status)s）") % {"status": volunteer.get_status_display()}
        )
    return volunteer


def _notify(mobile: str, message: str) -> None:
    """An SMS after the transaction commits (never for a decision that was rolled back); a gateway
    failure is logged, not shown to the reviewer, whose decision stands."""

    def send() -> None:
        try:
            sms_backend().send(mobile=mobile, message=message)
        except SmsDeliveryError:
            logger.warning("notification SMS not delivered", exc_info=True)

    if _is_mobile(mobile):
        transaction.on_commit(send)


def _free_username(volunteer: Volunteer) -> str:
    username = f"volunteer-{volunteer.pk}"
    while User.objects.filter(username=username).exists():
        username = f"volunteer-{volunteer.pk}-{secrets.token_hex(2)}"
    return username


def _account_for(
    volunteer: Volunteer, *, actor: Actor, request: HttpRequest | None
) -> tuple[User | None, str]:
    """The account the volunteer signs in with, by the mobile number: an existing one (given the
    volunteer's role), or a new one without a password and in elder mode. None when the number is not a
    mobile, or its account already belongs to another volunteer (a shared phone)."""
    mobile = volunteer.phone
    if volunteer.user_id is not None:
        user: User | None = volunteer.user
        how = "kept"
    elif not _is_mobile(mobile):
        return None, "no_mobile"
    else:
        user = User.objects.filter(mobile_index=mobile_digest(mobile)).first()
        if user is not None:
            if Volunteer.objects.filter(user=user).exclude(pk=volunteer.pk).exists():
                return None, "mobile_taken"
            how = "linked"
        else:
            user = user_create(
                username=_free_username(volunteer),
                password=None,
                display_name=volunteer.name,
                mobile=mobile,
                actor=actor,
                request=request,
            )
            user_set_preferences(user=user, elder_mode=True)
            how = "created"
    assert user is not None
    role_assign(user=user, role=Role.VOLUNTEER, region=volunteer.region, actor=actor, request=request)
    return user, how


@transaction.atomic
def signup_approve(*, actor: Actor, volunteer_id: int, request: HttpRequest | None = None) -> Volunteer:
    """申请中 → 在岗 from today, with an account at the volunteer's village that signs in by SMS code;
    the applicant is told by SMS."""
    _require(actor, Permission.VOLUNTEER_MANAGE)
    volunteer = _locked_application(actor, volunteer_id)
    if volunteer.return_reason:
        raise ConflictError(_("该报名已退回，待本人修改后重新提交"))
    today = timezone.localdate()
    user, how = _account_for(volunteer, actor=actor, request=request)
    volunteer.status, volunteer.status_reason, volunteer.status_changed_on = Status.ACTIVE, "", today
    volunteer.joined_on = volunteer.joined_on or today
    volunteer.reviewed_by, volunteer.reviewed_at = actor.user, timezone.now()
    volunteer.user = user
    volunteer.version += 1
    volunteer.save(
        update_fields=[
            "status",
            "status_reason",
            "status_changed_on",
            "joined_on",
            "reviewed_by",
            "reviewed_at",
            "user",
            "version",
            "updated_at",
        ]
    )
    audit.record(
        actor=actor,
        action="volunteer.signup_approved",
        target=volunteer,
        changes=["status", "user"] if user is not None else ["status"],
        detail={"account": how},
        request=request,
    )
    if user is not None:
        message = _(
            "【智慧关工委】%(name)s您好，您的五老志愿者报名已通过审核，欢迎加入！"
            "请用本手机号和短信验证码登录，在“我的”页面查看服务记录。"
        ) % {"name": volunteer.name}
    else:
        message = _(
            "【智慧关工委】%(name)s您好，您的五老志愿者报名已通过审核，欢迎加入！"
            "登录账号请联系所在乡镇（街道）关工委开通。"
        ) % {"name": volunteer.name}
    _notify(volunteer.phone, message)
    return volunteer


@transaction.atomic
def signup_return(
    *, actor: Actor, volunteer_id: int, reason: str, request: HttpRequest | None = None
) -> Volunteer:
    """Send a sign-up back with a reason the applicant sees when they look it up; they correct it and
    send it again."""
    _require(actor, Permission.VOLUNTEER_MANAGE)
    # The application first: another county's (or none) is not found, whatever the form says.
    volunteer = _locked_application(actor, volunteer_id)
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(fields={"reason": [_("请填写退回原因")]})
    if volunteer.source not in SIGNUP_SOURCES:
        # Only an applicant who signed up can look the reason up and correct the application.
        raise ConflictError(_("只有本人报名的申请可以退回修改"))
    if volunteer.return_reason:
        raise ConflictError(_("该报名已退回，待本人修改后重新提交"))
    volunteer.return_reason = reason[:200]
    volunteer.reviewed_by, volunteer.reviewed_at = actor.user, timezone.now()
    volunteer.version += 1
    volunteer.save(update_fields=["return_reason", "reviewed_by", "reviewed_at", "version", "updated_at"])
    audit.record(
        actor=actor,
        action="volunteer.signup_returned",
        target=volunteer,
        changes=["return_reason"],
        request=request,
    )
    _notify(
        volunteer.phone,
        _(
            "【智慧关工委】您的五老志愿者报名需要补充修改。请打开报名页面的“查询报名进度”，"
            "用本手机号查看原因，修改后重新提交。"
        ),
    )
    return volunteer


# --- The chooser of one's village ----------------------------------------------------------------


@dataclass(frozen=True)
class ChooserLevel:
    field: str  # the form field: county, township or region_code (the village)
    label: str
    options: list[tuple[str, str]]
    groups: list[tuple[str, list[tuple[str, str]]]]  # options grouped (counties by city), or empty
    selected: str


@dataclass(frozen=True)
class RegionChooser:
    root: Region  # the province, or an invitation's region
    levels: list[ChooserLevel]  # empty when the root is itself a village
    village: Region | None  # the village chosen (or the root when it is one)


def province_root() -> Region:
    code = region_codes.normalise_code(settings.GUANAI_PROVINCE_CODE)
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise NotFoundError(_("尚未导入本省行政区划"))
    return region


def _children(parent: str, level: RegionLevel) -> list[tuple[str, str]]:
    return list(
        Region.objects.within(parent).filter(level=level).order_by("code").values_list("code", "name")
    )


def _picked(value: str, options: list[tuple[str, str]]) -> str:
    return value if any(code == value for code, _name in options) else ""


def region_chooser(*, root: Region, county: str = "", township: str = "", village: str = "") -> RegionChooser:
    """The selects from the root down to the village (county → township → village), each filled once
    the one above is chosen; a choice that does not lie under the one above is dropped."""
    if root.level == RegionLevel.VILLAGE:
        return RegionChooser(root=root, levels=[], village=root)
    levels: list[ChooserLevel] = []
    if root.level < RegionLevel.COUNTY:
        counties = _children(root.code, RegionLevel.COUNTY)
        groups: list[tuple[str, list[tuple[str, str]]]] = []
        if root.level == RegionLevel.PROVINCE:
            cities = dict(_children(root.code, RegionLevel.CITY))
            for code, name in counties:
                city = cities.get(code[:4].ljust(12, "0"), "")
                if groups and groups[-1][0] == city:
                    groups[-1][1].append((code, name))
                else:
                    groups.append((city, [(code, name)]))
        county = _picked(county, counties)
        levels.append(ChooserLevel("county", _("县（市、区）"), counties, groups, county))
    else:
        county = root.code if root.level == RegionLevel.COUNTY else ""
    if root.level < RegionLevel.TOWNSHIP:
        townships = _children(county, RegionLevel.TOWNSHIP) if county else []
        township = _picked(township, townships)
        levels.append(ChooserLevel("township", _("乡镇（街道）"), townships, [], township))
    else:
        township = root.code
    villages = _children(township, RegionLevel.VILLAGE) if township else []
    village = _picked(village, villages)
    levels.append(ChooserLevel("region_code", _("村（社区）"), villages, [], village))
    chosen = Region.objects.filter(code=village).first() if village else None
    return RegionChooser(root=root, levels=levels, village=chosen)


# --- 我的 -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MyOverview:
    volunteer: Volunteer
    totals: HoursTotals
    this_year: Decimal
    star: int
    star_label: str
    next_star_label: str | None  # None at five stars
    hours_to_next_star: Decimal | None
    claims: list[ServiceHours]  # one's own claims waiting for the organiser, or sent back
    trainings: list[Training]
    honours: list[Honour]
    memberships: list[TeamMembership]


CLAIMS_SHOWN = 20
MONTHS_SHOWN = 12


def mine_overview(*, actor: Actor) -> MyOverview:
    """The signed-in volunteer's own record: hours and stars, claims, training, honours and teams."""
    volunteer = own_volunteer(actor)
    volunteer = Volunteer.objects.select_related("region").get(pk=volunteer.pk)
    totals = hours_totals(volunteer=volunteer)
    thresholds = star_thresholds()
    star = star_level(totals.total, thresholds)
    next_label = str(STAR_LABELS[star + 1]) if star < len(thresholds) else None
    claims = list(
        hours_of(volunteer=volunteer).filter(
            source=HoursSource.CLAIM, state__in=[HoursState.PENDING, HoursState.RETURNED]
        )[:CLAIMS_SHOWN]
    )
    return MyOverview(
        volunteer=volunteer,
        totals=HoursTotals(
            total=totals.total,
            by_year=totals.by_year,
            by_month=totals.by_month[:MONTHS_SHOWN],
            pending=totals.pending,
        ),
        this_year=dict(totals.by_year).get(timezone.localdate().year, Decimal("0")),
        star=star,
        star_label=str(STAR_LABELS[star]),
        next_star_label=next_label,
        hours_to_next_star=thresholds[star] - totals.total if star < len(thresholds) else None,
        claims=claims,
        trainings=list(Training.objects.filter(volunteer=volunteer).order_by("-attended_on", "-id")),
        honours=list(Honour.objects.filter(volunteer=volunteer).order_by("-awarded_on", "-id")),
        memberships=list(
            TeamMembership.objects.filter(volunteer=volunteer, left_on__isnull=True)
            .select_related("team__committee")
            .order_by("team__name", "id")
        ),
    )
