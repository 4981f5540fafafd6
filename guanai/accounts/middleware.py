from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import Resolver404, resolve, reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from guanai.accounts.selectors import actor_for_user
from guanai.core.access import ANONYMOUS, Actor

ACTIVE_ASSIGNMENT_SESSION_KEY = "guanai_active_assignment"


def session_actor(request: HttpRequest) -> Actor:
    user = request.user
    if not user.is_authenticated:
        return ANONYMOUS
    return actor_for_user(user, assignment_id=request.session.get(ACTIVE_ASSIGNMENT_SESSION_KEY))


class ActorMiddleware:
    """Sets `request.actor`: the signed-in user under their active role assignment."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.actor = SimpleLazyObject(lambda: session_actor(request))  # type: ignore[attr-defined]
        return self.get_response(request)


# Pages a signed-in person can always reach, even before the second factor or a password change.
ALWAYS_REACHABLE = {
    "web:logout",
    "web:elder_mode",
    "web:set_language",
    "web:health",
    "accounts:two_factor_setup",
    "accounts:two_factor_verify",
    "accounts:password_change",
    "accounts:keepalive",
}


class AccountSecurityMiddleware:
    """Before anything else a signed-in administrator completes the second factor (TOTP or a recovery
    code), and anyone whose password is older than 90 days changes it. Bearer-token API clients are not
    affected: their token was issued to them by an operator."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            refusal = self._refusal(request)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    def _refusal(self, request: HttpRequest) -> HttpResponse | None:
        from guanai.accounts.services import password_expired

        try:
            view_name = resolve(request.path_info).view_name
        except Resolver404:
            return None
        if view_name in ALWAYS_REACHABLE:
            return None
        actor = request.actor  # type: ignore[attr-defined]
        user = request.user
        if actor.requires_second_factor and not user.is_verified():  # type: ignore[union-attr]
            has_device = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
            target = "accounts:two_factor_verify" if has_device else "accounts:two_factor_setup"
            return self._redirect_or_refuse(
                request, target, "second_factor_required", _("请先完成双因素认证")
            )
        if password_expired(user=user):  # type: ignore[arg-type]
            return self._redirect_or_refuse(
                request,
                "accounts:password_change",
                "password_expired",
                _("密码已超过 90 天未修改，请先修改密码"),
            )
        return None

    @staticmethod
    def _redirect_or_refuse(request: HttpRequest, target: str, code: str, message: str) -> HttpResponse:
        if request.path_info.startswith("/api/"):
            return JsonResponse({"code": code, "message": message, "fields": {}}, status=403)
        return HttpResponseRedirect(f"{reverse(target)}?next={quote(request.get_full_path())}")
