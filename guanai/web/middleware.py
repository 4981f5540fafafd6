"""Deny by default: a page that declares no permission is refused, whoever asks.

The JSON API under /api/v1 enforces the same rule itself (`guanai.core.api`). Refusals are audit events.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from guanai.audit.services import audit_access_denied
from guanai.core.access import Permission, declared_permission, request_actor
from guanai.core.errors import NotFoundError, PermissionDeniedError

logger = logging.getLogger(__name__)

API_NAMESPACE = "api"


class DeclaredPermissionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        match = request.resolver_match
        if match is not None and API_NAMESPACE in match.namespaces:
            return None
        permission = declared_permission(view_func)
        if permission is None:
            logger.error("refused %s: the view %r declares no permission", request.path, view_func)
            return forbidden(request, _("此页面未声明访问权限，已拒绝访问。"))
        if permission == Permission.PUBLIC:
            return None
        actor = request_actor(request)
        if not actor.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not actor.has(permission):
            return forbidden(request, _("您当前的角色无权访问此页面。"))
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A page's selector refusing an object answers like the API does: 404 for what the actor may
        not see (as if it did not exist), 403 for what their role may not do."""
        if isinstance(exception, NotFoundError):
            message = _("页面不存在，或不在您的管辖范围内。")
            return render(request, "web/error.html", {"status": 404, "message": message}, status=404)
        if isinstance(exception, PermissionDeniedError):
            return forbidden(request, exception.message)
        return None


def forbidden(request: HttpRequest, message: str) -> HttpResponse:
    """The 403 page; every refusal is an audit event (who tried what, where)."""
    audit_access_denied(request=request)
    return render(request, "web/error.html", {"status": 403, "message": message}, status=403)
