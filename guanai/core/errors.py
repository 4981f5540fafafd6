"""Errors a service or selector raises; the page and the API turn each into its own face.

Every API error has one shape: {"code": "...", "message": "中文说明", "fields": {...}}.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    status = 400
    code = "invalid"
    default_message = _("请求无效")

    def __init__(self, message: str | None = None, *, fields: dict[str, list[str]] | None = None) -> None:
        self.message = str(message if message is not None else self.default_message)
        self.fields = fields or {}
        super().__init__(self.message)


class ValidationFailed(DomainError):
    status = 422
    code = "validation_failed"
    default_message = _("提交的内容有误，请检查后重试")


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
