"""Password rules of 等保 2.0 level 3, as Django password validators (settings.AUTH_PASSWORD_VALIDATORS)."""

from __future__ import annotations

import string
from typing import Any

from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def character_classes(password: str) -> int:
    """How many of the four classes a password uses: lower case, upper case, digits, other symbols."""
    classes = [
        any(c in string.ascii_lowercase for c in password),
        any(c in string.ascii_uppercase for c in password),
        any(c in string.digits for c in password),
        any(not (c in string.ascii_letters or c in string.digits) for c in password),
    ]
    return sum(classes)


class CharacterClassesValidator:
    def __init__(self, minimum_classes: int = 3) -> None:
        self.minimum_classes = minimum_classes

    def validate(self, password: str, user: Any = None) -> None:
        if character_classes(password) < self.minimum_classes:
            raise ValidationError(self.get_help_text(), code="password_too_few_classes")

    def get_help_text(self) -> str:
        return _("密码须包含小写字母、大写字母、数字、符号中的至少 %(count)d 类。") % {
            "count": self.minimum_classes
        }


class PasswordHistoryValidator:
    """Refuses the current password and the last `remembered` ones (their hashes are kept)."""

    def __init__(self, remembered: int = 5) -> None:
        self.remembered = remembered

    def validate(self, password: str, user: Any = None) -> None:
        if user is None or user.pk is None:
            return
        from guanai.accounts.models import PasswordHistory

        earlier = PasswordHistory.objects.filter(user=user).order_by("-created_at", "-id")[: self.remembered]
        hashes = [user.password, *earlier.values_list("password", flat=True)]
        if any(encoded and check_password(password, encoded) for encoded in hashes):
            raise ValidationError(self.get_help_text(), code="password_reused")

    def get_help_text(self) -> str:
        return _("新密码不能与最近 %(count)d 次使用过的密码相同。") % {"count": self.remembered}
