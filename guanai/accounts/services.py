from __future__ import annotations

import datetime
import hmac
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django_ratelimit.core import is_ratelimited

from guanai import audit
from guanai.accounts.models import (
    END_REASON_MAX_LENGTH,
    ApiToken,
    PasswordHistory,
    RoleAssignment,
    RoleGrantRequest,
    SmsCode,
    User,
)
from guanai.accounts.selectors import api_token_lookup, mobile_digest, user_by_login_identifier
from guanai.accounts.sms import sms_backend
from guanai.audit.services import current_operator
from guanai.core import region_codes
from guanai.core.access import (
    DUTY_SEPARATED_ROLES,
    ROLE_PERMISSIONS,
    ROLE_REGION_LEVEL,
    Actor,
    Permission,
    Role,
    is_above,
    may_handle_role,
    scope_q,
)
from guanai.core.crypto import sm3_hex
from guanai.core.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimited,
    ValidationFailed,
    full_clean_or_fail,
)
from guanai.core.region_codes import RegionLevel
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


def role_assignment_validate(
    *,
    user: User,
    role: Role,
    region: Region,
    committee_id: int | None,
    valid_from: datetime.date,
    valid_to: datetime.date | None,
) -> None:
    """The rules every assignment keeps, whoever makes it: the role's level of region, the committee in
    that region, an ordered period, and the three separated administrators being three people."""
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
    exists already (and has not ended) is returned unchanged. A new one is an audit event, with the role
    and its dates.

    The internal primitive, unchecked as to who may grant: used by `create_user`, the approval of a
    volunteer's sign-up, the demo data and `role_grant_request_decide` (the checked way for people)."""
    role = Role(role)
    valid_from = valid_from or timezone.localdate()
    role_assignment_validate(
        user=user,
        role=role,
        region=region,
        committee_id=committee_id,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    # An assignment that has ended is history: the same role given again is a new assignment.
    same = RoleAssignment.objects.not_ended(timezone.localdate()).filter(user=user, role=role, region=region)
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


# --- Granting, ending and reviewing staff access ---------------------------------------------------
#
# Staff access is granted on request and approval (儿童个人信息网络保护规定 art. 15: access by staff is
# approved; 未成年人网络保护条例 art. 36–37; 等保 2.0 least privilege), ended at once, and reviewed
# periodically.
#
# - An account manager (ACCOUNT_MANAGE) asks for a role in a region inside their own, giving the reason
#   the person needs it. An administrator one level up decides: someone holding ACCOUNT_MANAGE in a
#   region strictly containing the grant's region; a grant at province level (which has nothing above)
#   is decided by another province-level account manager. Never the requester, never the grantee.
# - The separated administrators (system, security, audit; DUTY_SEPARATED_ROLES): the system
#   administrator manages accounts and so may ask for any role at province level, but a grant, ending or
#   review of one of the three separated roles is decided only by a province administrator acting as such
#   (`access.may_handle_role`). `role_assignment_validate` still refuses one person holding two of them.
# - Who sits above a region is decided in one place (`access.is_above`), as for export approvals.
# - Ending a role needs no approval (reducing access is safe) but a reason; it counts from the next
#   request (the assignments of every request are remembered only while their table is unchanged,
#   `guanai.core.cached`). Nobody ends their own last account-managing role, which would lock the
#   office out by mistake; another administrator does it.
# - Every assignment not ended is confirmed again every GUANAI_ROLE_REVIEW_DAYS by an account manager
#   over its region other than its holder, or ended.


def _duty_role_decided_by_province_admin(actor: Actor, role: str) -> None:
    if not may_handle_role(actor, role):
        raise PermissionDeniedError(_("系统管理员、安全管理员和审计管理员的角色只能由省级管理员办理"))


def _account_manager(actor: Actor) -> User:
    if not actor.has(Permission.ACCOUNT_MANAGE) or actor.user is None or actor.region_code is None:
        raise PermissionDeniedError()
    return actor.user


def _grant_request_for_update(*, actor: Actor, grant_request_id: int) -> RoleGrantRequest:
    grant = RoleGrantRequest.objects.visible_to(actor).select_for_update().filter(pk=grant_request_id).first()
    if grant is None:
        raise NotFoundError()
    return grant


def _pending(grant: RoleGrantRequest) -> None:
    if grant.state != RoleGrantRequest.State.PENDING:
        raise ConflictError(
            _("该申请%(state)s，不能再办理") % {"state": RoleGrantRequest.State(grant.state).label}
        )


@transaction.atomic
def role_grant_request_create(
    *,
    actor: Actor,
    username: str,
    role: Role | str,
    region_code: str,
    reason: str,
    committee_id: int | None = None,
    valid_from: datetime.date | None = None,
    valid_to: datetime.date | None = None,
    request: HttpRequest | None = None,
) -> RoleGrantRequest:
    """Ask for `role` at `region_code` for the existing account `username`, with the reason it is needed.
    The region lies inside the actor's; the assignment's own rules (`role_assignment_validate`) are
    checked now and again on approval."""
    requester = _account_manager(actor)
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(fields={"reason": [_("请说明此人需要该角色的理由")]})
    try:
        role = Role(role)
    except ValueError as error:
        raise ValidationFailed(fields={"role": [_("请选择角色")]}) from error
    region = Region.objects.filter(pk=region_code).filter(scope_q(actor, "code")).first()
    if region is None:
        raise ValidationFailed(fields={"region": [_("该区划不在您的管辖范围内")]})
    user = User.objects.filter(username=username.strip()).first()
    if user is None or not user.is_active:
        raise ValidationFailed(fields={"username": [_("用户不存在或已停用")]})
    today = timezone.localdate()
    valid_from = valid_from or today
    if valid_from < today:
        raise ValidationFailed(fields={"valid_from": [_("生效日期不能早于今天")]})
    role_assignment_validate(
        user=user,
        role=role,
        region=region,
        committee_id=committee_id,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    held = RoleAssignment.objects.valid_on(today).filter(user=user, role=role, region=region)
    held = held.filter(committee_id=committee_id) if committee_id else held.filter(committee__isnull=True)
    if held.exists():
        raise ConflictError(_("该用户已持有该角色"))
    grant = RoleGrantRequest(
        user=user,
        role=role,
        region=region,
        committee_id=committee_id,
        valid_from=valid_from,
        valid_to=valid_to,
        reason=reason,
        requested_by=requester,
    )
    full_clean_or_fail(grant, exclude=["user", "region", "committee", "requested_by"])
    try:
        with transaction.atomic():  # one pending request per user, role and region (a constraint)
            grant.save()
    except IntegrityError as error:
        raise ConflictError(_("该用户在该区划已有同一角色的待审批申请")) from error
    _account_event(
        actor=actor,
        action="account.role_requested",
        target=grant,
        changes=[
            "user",
            "role",
            "region",
            *(["committee"] if committee_id else []),
            "valid_from",
            "valid_to",
            "reason",
        ],
        request=request,
        detail={"user_id": user.pk, "role": role.value},
    )
    return grant


def may_decide_grant(actor: Actor, grant: RoleGrantRequest) -> bool:
    """Whether the actor may approve or decline the request (to show the buttons); the reasons are given
    by `role_grant_request_decide`."""
    try:
        _check_decider(actor, grant)
    except (PermissionDeniedError, NotFoundError):
        return False
    return True


def _check_decider(actor: Actor, grant: RoleGrantRequest) -> None:
    # The grant was read through `visible_to(actor)`: it lies inside the actor's region.
    decider = _account_manager(actor)
    if decider.pk == grant.requested_by_id:
        raise PermissionDeniedError(_("不能审批自己提出的角色申请"))
    if decider.pk == grant.user_id:
        raise PermissionDeniedError(_("不能审批授予自己的角色"))
    province = region_codes.level_of(grant.region_id) == RegionLevel.PROVINCE
    if not province and not is_above(actor, grant.region_id):
        raise PermissionDeniedError(_("角色申请须由上一级管理员审批"))
    _duty_role_decided_by_province_admin(actor, grant.role)


@transaction.atomic
def role_grant_request_decide(
    *,
    actor: Actor,
    grant_request_id: int,
    approve: bool,
    note: str = "",
    request: HttpRequest | None = None,
) -> RoleGrantRequest:
    """Approve (the role is assigned through `role_assign`, the approver its actor, and counts as the
    assignment's first review) or decline (with a reason) a pending request. A request outside the
    actor's region answers 404. Who may decide (`_check_decider`): an account manager strictly above the
    grant's region, or another at province level for a province grant; never the requester or the
    grantee; for the system, security and audit administrators' roles, a province administrator only
    (the section's comment above gives the reasons)."""
    grant = _grant_request_for_update(actor=actor, grant_request_id=grant_request_id)
    _check_decider(actor, grant)
    _pending(grant)
    note = note.strip()
    if not approve and not note:
        raise ValidationFailed(fields={"note": [_("请填写拒绝理由")]})
    now = timezone.now()
    if approve:
        valid_from = max(grant.valid_from, timezone.localdate())
        if grant.valid_to is not None and grant.valid_to < valid_from:
            raise ConflictError(_("申请的截止日期已过，请拒绝后重新申请"))
        assignment = role_assign(
            user=grant.user,
            role=grant.role,
            region=grant.region,
            committee_id=grant.committee_id,
            valid_from=valid_from,
            valid_to=grant.valid_to,
            actor=actor,
            request=request,
        )
        assignment.reviewed_at, assignment.reviewed_by = now, actor.user
        assignment.save(update_fields=["reviewed_at", "reviewed_by"])
        grant.assignment = assignment
    grant.state = RoleGrantRequest.State.APPROVED if approve else RoleGrantRequest.State.DECLINED
    grant.decided_by, grant.decided_at, grant.decision_note = actor.user, now, note
    grant.save(update_fields=["state", "decided_by", "decided_at", "decision_note", "assignment"])
    _account_event(
        actor=actor,
        action="account.role_request_approved" if approve else "account.role_request_declined",
        target=grant,
        changes=["state", *(["decision_note"] if note else [])],
        request=request,
        detail={"user_id": grant.user_id, "role": grant.role},
    )
    return grant


@transaction.atomic
def role_grant_request_withdraw(
    *, actor: Actor, grant_request_id: int, request: HttpRequest | None = None
) -> RoleGrantRequest:
    """The requester takes back their own pending request."""
    requester = _account_manager(actor)
    grant = _grant_request_for_update(actor=actor, grant_request_id=grant_request_id)
    if grant.requested_by_id != requester.pk:
        raise PermissionDeniedError(_("只能撤回自己提出的申请"))
    _pending(grant)
    grant.state = RoleGrantRequest.State.WITHDRAWN
    grant.decided_at = timezone.now()
    grant.save(update_fields=["state", "decided_at"])
    _account_event(
        actor=actor,
        action="account.role_request_withdrawn",
        target=grant,
        changes=["state"],
        request=request,
        detail={"user_id": grant.user_id, "role": grant.role},
    )
    return grant


def _assignment_for_update(*, actor: Actor, assignment_id: int) -> RoleAssignment:
    _account_manager(actor)
    assignment = RoleAssignment.objects.visible_to(actor).select_for_update().filter(pk=assignment_id).first()
    if assignment is None:
        raise NotFoundError()
    return assignment


@transaction.atomic
def role_end(
    *, actor: Actor, assignment_id: int, reason: str, request: HttpRequest | None = None
) -> RoleAssignment:
    """End an assignment at once: it is valid until yesterday, so it no longer counts from the next
    request. An assignment that had not begun before today is closed as a period of yesterday alone."""
    assignment = _assignment_for_update(actor=actor, assignment_id=assignment_id)
    _duty_role_decided_by_province_admin(actor, assignment.role)
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(fields={"reason": [_("请填写结束角色的理由")]})
    if len(reason) > END_REASON_MAX_LENGTH:
        raise ValidationFailed(
            fields={"reason": [_("不能超过%(count)d个字") % {"count": END_REASON_MAX_LENGTH}]}
        )
    today = timezone.localdate()
    if assignment.has_ended(today):
        raise ConflictError(_("该角色已结束"))
    assert actor.user is not None
    if assignment.user_id == actor.user.pk:
        managing_roles = [
            role for role, rights in ROLE_PERMISSIONS.items() if Permission.ACCOUNT_MANAGE in rights
        ]
        others_managing = (
            RoleAssignment.objects.valid_on(today)
            .filter(user=actor.user, role__in=managing_roles)
            .exclude(pk=assignment.pk)
            .exists()
        )
        if assignment.role in managing_roles and not others_managing:
            raise ConflictError(_("这是您唯一的账号管理角色，不能自行结束；请由其他管理员办理"))
    yesterday = today - datetime.timedelta(days=1)
    changes = ["valid_to"]
    if assignment.valid_from > yesterday:
        assignment.valid_from = yesterday
        changes.insert(0, "valid_from")
    assignment.valid_to = yesterday
    assignment.end_reason = reason
    changes.append("end_reason")
    assignment.save(update_fields=changes)
    _account_event(
        actor=actor,
        action="account.role_ended",
        target=assignment,
        changes=changes,
        request=request,
        detail={"user_id": assignment.user_id, "role": assignment.role},
    )
    return assignment


@transaction.atomic
def role_review(*, actor: Actor, assignment_id: int, request: HttpRequest | None = None) -> RoleAssignment:
    """Confirm that the holder still needs the assignment; the review clock starts again."""
    assignment = _assignment_for_update(actor=actor, assignment_id=assignment_id)
    _duty_role_decided_by_province_admin(actor, assignment.role)
    assert actor.user is not None
    if assignment.user_id == actor.user.pk:
        raise PermissionDeniedError(_("不能复核自己的角色"))
    if assignment.has_ended(timezone.localdate()):
        raise ConflictError(_("该角色已结束"))
    assignment.reviewed_at, assignment.reviewed_by = timezone.now(), actor.user
    assignment.save(update_fields=["reviewed_at", "reviewed_by"])
    _account_event(
        actor=actor,
        action="account.role_reviewed",
        target=assignment,
        changes=["reviewed_at", "reviewed_by"],
        request=request,
        detail={"user_id": assignment.user_id, "role": assignment.role},
    )
    return assignment
