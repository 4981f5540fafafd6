"""django-axes hooks: which account a failure counts against, and what a locked-out person sees."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from guanai import audit
from guanai.audit.services import Outcome
from guanai.core.http import client_ip as _client_ip


def canonical_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """Failures count against the account, whether the person typed its username or its mobile number,
    so alternating the two does not double the attempts."""
    from guanai.accounts.selectors import user_by_login_identifier

    credentials = credentials or {}
    typed = credentials.get("username") or credentials.get("mobile")
    if typed is None:
        typed = (
            request.POST.get("username") or request.POST.get("mobile") if request.method == "POST" else None
        )
    if not typed:
        return None
    user = user_by_login_identifier(identifier=str(typed))
    return user.username if user is not None else str(typed).strip()


def client_ip(request: HttpRequest) -> str | None:
    return _client_ip(request)


def locked_out_response(
    request: HttpRequest, credentials: dict[str, Any] | None, *args: Any, **kwargs: Any
) -> HttpResponse:
    username = canonical_username(request, credentials)
    audit.record(
        actor=None, action="auth.locked_out", username=username or "", outcome=Outcome.DENIED, request=request
    )
    message = _("连续登录失败次数过多，该账号已被锁定 30 分钟。请稍后再试，或联系本级管理员。")
    return render(request, "web/error.html", {"status": 429, "message": message}, status=429)
