from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from guanai.accounts.models import User
from guanai.accounts.selectors import user_by_login_identifier


class UsernameOrMobileBackend(ModelBackend):
    """Sign in with a username or an 11-digit mobile number and the password."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not username or password is None:
            return None
        user = user_by_login_identifier(identifier=username)
        if user is None:
            # Spend the same time as a real check, so response time does not reveal which names exist.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


class SmsCodeBackend(ModelBackend):
    """Sign in with a mobile number and the one-time code sent to it (guanai.accounts.sms)."""

    def authenticate(  # type: ignore[override]  # credentials are a mobile number and a code
        self,
        request: HttpRequest | None,
        mobile: str | None = None,
        sms_code: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not mobile or not sms_code:
            return None
        from guanai.accounts.services import sms_code_redeem

        user = sms_code_redeem(mobile=mobile, code=sms_code)
        if user is not None and self.user_can_authenticate(user):
            return user
        return None
