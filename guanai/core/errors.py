"""Errors a service or selector raises; the page and the API turn each into its own face.

Every API error has one shape: {"code": "...", "message": "中文说明", "fields": {...}}.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Model
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    status = 400
    code = "invalid"
    default_message = _("请求无效")

    def __init__(self, message: str | None = None, *, fields: dict[str, list[str]] | None = None) -> None:
        self.message = str(message if message is not None else self.default_message)
        self.fields = fields or {}
        super().__init__(self.message)

    @property
    def summary(self) -> str:
        """One line for a page or a command: the field messages when there are any, else the message."""
        return "；".join(message for messages in self.fields.values() for message in messages) or self.message


class ValidationFailed(DomainError):
    status = 422
    code = "validation_failed"
    default_message = _("提交的内容有误，请检查后重试")


def full_clean_or_fail(instance: Model, **options: Any) -> None:
    """Run a model's validation and raise ValidationFailed, with the messages per field, when it fails."""
    try:
        instance.full_clean(**options)
    except ValidationError as error:
        raise ValidationFailed(
            fields={key: list(messages) for key, messages in error.message_dict.items()}
        ) from error


class NotFoundError(DomainError):
    """Also what an actor gets for an object outside their region: the two are indistinguishable."""

    status = 404
    code = "not_found"
    default_message = _("对象不存在，或不在您的管辖范围内")


class PermissionDeniedError(DomainError):
    status = 403
    code = "permission_denied"
    default_message = _("您当前的角色无权进行此操作")


class NotAuthenticatedError(DomainError):
    status = 401
    code = "not_authenticated"
    default_message = _("请先登录")


class ConflictError(DomainError):
    status = 409
    code = "conflict"
    default_message = _("数据已被他人修改，请刷新后重试")


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"
    default_message = _("操作过于频繁，请稍后再试")
