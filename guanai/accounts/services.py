from __future__ import annotations

import datetime
import hmac
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django_ratelimit.core import is_ratelimited

from guanai import audit
from guanai.accounts.models import ApiToken, PasswordHistory, RoleAssignment, SmsCode, User
from guanai.accounts.selectors import api_token_lookup, mobile_digest, user_by_login_identifier
from guanai.accounts.sms import sms_backend
from guanai.audit.services import current_operator
from guanai.core.access import ROLE_REGION_LEVEL, Actor, Role
from guanai.core.crypto import sm3_hex
from guanai.core.errors import RateLimited, ValidationFailed, full_clean_or_fail
from guanai.regions.models import Region

TOKEN_PREFIX = "gna_"  # noqa: S105 - a label, not a secret


def _account_event(
    *,
    actor: Actor | None,
    action: str,
    target: Model,
    changes: list[str] | None = None,
    request: HttpRequest | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """An account, role or token change for the audit trail (等保 2.0: account management is audited).
    Without a signed-in actor the change was made from the server's shell (`create_user`, `issue_token`,
    the demo data): the event names the operating-system account that ran it."""
    if actor is None:
        detail = {**(detail or {}), "operator": current_operator()}
    audit.record(
        actor=actor, action=action, target=target, changes=changes or [], request=request, detail=detail
    )


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    display_name: str = "",
    mobile: str | None = None,
    actor: Actor | None = None,
    request: HttpRequest | None = None,
) -> User:
    """A new account (等保 2.0: unique, and an audit event naming who created it; None is a command or
    the system). Without a password it signs in by SMS code only."""
    if User.objects.filter(username=username).exists():
        raise ValidationFailed(fields={"username": [_("用户名已存在")]})
    if mobile and User.objects.filter(mobile_index=mobile_digest(mobile)).exists():
        raise ValidationFailed(fields={"mobile": [_("该手机号已被其他账号使用")]})
    user = User(username=username, display_name=display_name, mobile=mobile or None)
    if password is None:
        user.set_unusable_password()
    else:
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise ValidationFailed(fields={"password": list(error.messages)}) from error
        user.set_password(password)
        user.password_changed_at = timezone.now()
    full_clean_or_fail(user, exclude=["password"])
    user.save()
    changes = ["username", *(["display_name"] if display_name else []), *(["mobile"] if mobile else [])]
    _account_event(
        actor=actor,
        action="account.create",
        target=user,
        changes=[*changes, *(["password"] if password is not None else [])],
        request=request,
    )
    return user


DUTY_SEPARATED_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR})


@transaction.atomic
def role_assign(
    *,
    user: User,
    role: Role | str,
    region: Region,
    committee_id: int | None = None,
    valid_from: datetime.date | None = None,
    valid_to: datetime.date | None = None,
    actor: Actor | None = None,
    request: HttpRequest | None = None,
) -> RoleAssignment:
    """Give `user` the role at `region` (and committee) from `valid_from` to `valid_to`; an assignment that
    exists already is returned unchanged. A new one is an audit event, with the role and its dates."""
    role = Role(role)
    required_level = ROLE_REGION_LEVEL.get(role)
    if required_level is not None and region.level != required_level:
        raise ValidationFailed(
            fields={
                "region": [
                    _("%(role)s 只能分配在%(level)s级区划")
                    % {"role": role.label, "level": required_level.label}
                ]
            }
        )
    if committee_id is not None:
        from guanai.committees.models import Committee

        if not Committee.objects.filter(pk=committee_id, region=region).exists():
            raise ValidationFailed(fields={"committee": [_("关工委不属于该区划")]})
    valid_from = valid_from or timezone.localdate()
    if valid_to is not None and valid_to < valid_from:
        raise ValidationFailed(fields={"valid_to": [_("截止日期不能早于生效日期")]})
    # Separation of duties (等保 2.0): the system, security and audit administrators are three people.
    if role in DUTY_SEPARATED_ROLES:
        others = RoleAssignment.objects.filter(user=user, role__in=DUTY_SEPARATED_ROLES - {role}).values_list(
            "role", flat=True
        )
        held = next(iter(others), None)
        if held is not None:
            raise ValidationFailed(
                fields={
                    "role": [
                        _("系统管理员、安全管理员和审计管理员须由不同人员担任：该用户已是%(held)s")
                        % {"held": Role(held).label}
                    ]
                }
            )
    same = RoleAssignment.objects.filter(user=user, role=role, region=region)
    same = same.filter(committee_id=committee_id) if committee_id else same.filter(committee__isnull=True)
    existing = same.first()
    if existing is not None:
        return existing
    assignment = RoleAssignment.objects.create(
        user=user,
        role=role,
        region=region,
        committee_id=committee_id,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    _account_event(
        actor=actor,
        action="account.role_assigned",
        target=assignment,
        changes=["role", "region", *(["committee"] if committee_id else []), "valid_from", "valid_to"],
        request=request,
        detail={
            "user_id": user.pk,
            "role": role.value,
            "valid_from": valid_from.isoformat(),
            "valid_to": valid_to.isoformat() if valid_to else None,
        },
    )
    return assignment


PASSWORDS_REMEMBERED = 5


@transaction.atomic
def user_set_password(
    *, user: User, password: str, actor: Actor | None = None, request: HttpRequest | None = None
) -> User:
    """Change a password under the rules (three classes, none of the last five), keeping the old hash."""
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ValidationFailed(fields={"password": list(error.messages)}) from error
    if user.has_usable_password():
        PasswordHistory.objects.create(user=user, password=user.password)
        keep = PasswordHistory.objects.filter(user=user).order_by("-created_at", "-id")[:PASSWORDS_REMEMBERED]
        PasswordHistory.objects.filter(user=user).exclude(
            pk__in=list(keep.values_list("pk", flat=True))
        ).delete()
    user.set_password(password)
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "password_changed_at"])
    audit.record(
        actor=actor, action="auth.password_changed", target=user, changes=["password"], request=request
    )
    return user


def password_expired(*, user: User) -> bool:
    if not user.has_usable_password():
        return False
    if user.password_changed_at is None:
        return True
    age = timezone.now() - user.password_changed_at
    return age > datetime.timedelta(days=settings.GUANAI_PASSWORD_MAX_AGE_DAYS)


def sms_code_send(*, mobile: str, request: HttpRequest) -> None:
    """Send a sign-in code to `mobile` if an active account has that number. The answer is the same
    whether or not it has, so the page reveals nobody's number; both the number and the sender's
    address are rate limited."""
    mobile = mobile.strip()
    if not (len(mobile) == 11 and mobile.isascii() and mobile.isdigit() and mobile.startswith("1")):
        raise ValidationFailed(fields={"mobile": [_("手机号码应为以 1 开头的 11 位数字")]})
    digest = mobile_digest(mobile)
    sms_rate_limit(request=request, mobile=mobile)
    user = user_by_login_identifier(identifier=mobile)
    if user is None or not user.is_active:
        return
    code = sms_code_create(digest=digest)
    message = _("【智慧关工委】您的登录验证码为 %(code)s，%(minutes)d 分钟内有效。请勿告诉他人。") % {
        "code": code,
        "minutes": settings.GUANAI_SMS_CODE_MINUTES,
    }
    sms_backend().send(mobile=mobile, message=message)
    audit.record(
        actor=None, action="auth.sms_code_sent", target=user, username=user.username, request=request
    )


def sms_rate_limit(*, request: HttpRequest, mobile: str) -> None:
    """Codes of every purpose share two buckets: per sender's address and per number."""
    digest = mobile_digest(mobile)
    limited = is_ratelimited(
        request, group="sms-ip", key="ip", rate=settings.GUANAI_SMS_RATE_PER_IP, increment=True
    ) or is_ratelimited(
        request,
        group="sms-mobile",
        key=lambda _group, _request: digest,
        rate=settings.GUANAI_SMS_RATE_PER_MOBILE,
        increment=True,
    )
    if limited:
        raise RateLimited(_("验证码发送过于频繁，请稍后再试。"))


def sms_code_create(*, digest: str) -> str:
    """A new six-digit code filed under `digest` (the number's keyed digest, bound to a purpose other
    than sign-in by the caller); only its digest is stored."""
    code = f"{secrets.randbelow(1_000_000):06d}"
    SmsCode.objects.create(
        mobile_digest=digest,
        code_digest=sm3_hex(f"{digest}:{code}"),
        expires_at=timezone.now() + datetime.timedelta(minutes=settings.GUANAI_SMS_CODE_MINUTES),
    )
    return code


SMS_CODE_ATTEMPTS = 5


@transaction.atomic
def sms_code_redeem(*, mobile: str, code: str) -> User | None:
    """The account of `mobile` if `code` is its newest unexpired, unused code (five tries per code)."""
    if not sms_code_matches(digest=mobile_digest(mobile.strip()), code=code):
        return None
    return user_by_login_identifier(identifier=mobile)


@transaction.atomic
def sms_code_matches(*, digest: str, code: str) -> bool:
    """True, and the code used up, if `code` is the newest unexpired, unused code filed under `digest`
    (five tries per code; a wrong try counts)."""
    sent = (
        SmsCode.objects.select_for_update()
        .filter(mobile_digest=digest, used_at__isnull=True, expires_at__gt=timezone.now())
        .order_by("-created_at", "-id")
        .first()
    )
    if sent is None or sent.attempts >= SMS_CODE_ATTEMPTS:
        return False
    sent.attempts += 1
    if not hmac.compare_digest(sent.code_digest, sm3_hex(f"{digest}:{code.strip()}")):
        sent.save(update_fields=["attempts"])
        return False
    sent.used_at = timezone.now()
    sent.save(update_fields=["attempts", "used_at"])
    return True


# "Last used" is kept to the minute it matters at (a token unused for weeks is the one to revoke): written
# at most once in this interval, so the requests of one busy token do not each write, commit and wait for
# the same row's lock (bench/RESULTS.md, "Load").
TOKEN_LAST_USED_RESOLUTION = datetime.timedelta(minutes=5)


def api_token_authenticate(*, raw_token: str, assignment_id: int | None = None) -> Actor | None:
    """The actor a bearer token authenticates (`selectors.api_token_lookup`), its use noted on the token."""
    now = timezone.now()
    found = api_token_lookup(raw_token=raw_token, assignment_id=assignment_id, now=now)
    if found is None:
        return None
    token, actor = found
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return actor


@transaction.atomic
def api_token_issue(
    *, user: User, days: int | None = None, name: str = "", actor: Actor | None = None
) -> tuple[ApiToken, str]:
    """Create a token; returns it with the raw value, which is never stored and cannot be shown again.
    The audit event names the token's owner, prefix and lifetime, never the token."""
    days = settings.GUANAI_API_TOKEN_DAYS if days is None else days
    if not 1 <= days <= 366:
        raise ValidationFailed(fields={"days": [_("有效天数应在 1 到 366 之间")]})
    if not user.is_active:
        raise ValidationFailed(fields={"user": [_("该账号已停用")]})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        digest=sm3_hex(raw),
        prefix=raw[: len(TOKEN_PREFIX) + 6],
        name=name,
        expires_at=timezone.now() + datetime.timedelta(days=days),
    )
    _account_event(
        actor=actor,
        action="account.token_issued",
        target=token,
        detail={"user_id": user.pk, "prefix": token.prefix, "days": days},
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: Actor | None = None) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        _account_event(
            actor=actor,
            action="account.token_revoked",
            target=token,
            changes=["revoked_at"],
            detail={"user_id": token.user_id, "prefix": token.prefix},
        )
    return token


def user_set_preferences(*, user: User, elder_mode: bool | None = None, language: str | None = None) -> User:
    changed: list[str] = []
    if elder_mode is not None and user.elder_mode != elder_mode:
        user.elder_mode = elder_mode
        changed.append("elder_mode")
    if language is not None and user.language != language:
        if language not in dict(settings.LANGUAGES):
            raise ValidationFailed(fields={"language": [_("不支持的语言")]})
        user.language = language
        changed.append("language")
    if changed:
        user.save(update_fields=changed)
    return user
