from __future__ import annotations

import datetime
import secrets

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanai.accounts.models import ApiToken, RoleAssignment, User
from guanai.core.access import ROLE_REGION_LEVEL, Role
from guanai.core.crypto import sm3_hex
from guanai.core.errors import ValidationFailed, full_clean_or_fail
from guanai.regions.models import Region

TOKEN_PREFIX = "gna_"  # noqa: S105 - a label, not a secret


@transaction.atomic
def user_create(
    *, username: str, password: str | None, display_name: str = "", mobile: str | None = None
) -> User:
    if User.objects.filter(username=username).exists():
        raise ValidationFailed(fields={"username": [_("用户名已存在")]})
    user = User(username=username, display_name=display_name, mobile=mobile or None)
    if password is None:
        user.set_unusable_password()
    else:
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise ValidationFailed(fields={"password": list(error.messages)}) from error
        user.set_password(password)
    full_clean_or_fail(user, exclude=["password"])
    user.save()
    return user


@transaction.atomic
def role_assign(
    *,
    user: User,
    role: Role | str,
    region: Region,
    committee_id: int | None = None,
    valid_from: datetime.date | None = None,
    valid_to: datetime.date | None = None,
) -> RoleAssignment:
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
    return assignment


@transaction.atomic
def api_token_issue(*, user: User, days: int | None = None, name: str = "") -> tuple[ApiToken, str]:
    """Create a token; returns it with the raw value, which is never stored and cannot be shown again."""
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
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
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
