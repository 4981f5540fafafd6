from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from guanai.accounts.models import User


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
        identifier = username.strip()
        field = "mobile" if identifier.isdigit() and len(identifier) == 11 else "username"
        user = User.objects.filter(**{field: identifier}).first()
        if user is None:
            # Spend the same time as a real check, so response time does not reveal which names exist.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
