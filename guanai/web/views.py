from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_ratelimit.decorators import ratelimit

from guanai import audit
from guanai.accounts.lockout import canonical_username
from guanai.accounts.middleware import ACTIVE_ASSIGNMENT_SESSION_KEY
from guanai.accounts.selectors import actor_for_user
from guanai.accounts.services import user_set_preferences
from guanai.audit.services import Outcome
from guanai.core.access import Permission, permission_required, public, request_actor
from guanai.core.crypto import key_status
from guanai.web.forms import LoginForm
from guanai.web.home import home_counts
from guanai.web.preferences import ELDER_MODE_SESSION_KEY, elder_mode_on


@require_GET
@permission_required(Permission.SIGNED_IN)
def home(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    return render(request, "web/home.html", {"counts": home_counts(actor=actor)})


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    @method_decorator(ratelimit(key="ip", rate=settings.GUANAI_LOGIN_RATE_PER_IP, method="POST", block=True))
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        # Carry a choice made before signing in (elder mode on the login page) onto the account.
        elder_mode_before = bool(self.request.session.get(ELDER_MODE_SESSION_KEY))
        response = super().form_valid(form)
        user = form.get_user()
        audit.record(actor=actor_for_user(user), action="auth.login", target=user, request=self.request)
        if elder_mode_before and not user.elder_mode:
            user_set_preferences(user=user, elder_mode=True)
        if user.language:
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, user.language, samesite="Lax")
        return response

    def form_invalid(self, form: Any) -> HttpResponse:
        typed = self.request.POST.get("username", "")[:150]
        audit.record(
            actor=None,
            action="auth.login_failed",
            username=canonical_username(self.request, {"username": typed}) or "",
            outcome=Outcome.FAILED,
            request=self.request,
        )
        return super().form_invalid(form)


class LogoutView(auth_views.LogoutView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            audit.record(
                actor=request_actor(request), action="auth.logout", target=request.user, request=request
            )
        return super().post(request, *args, **kwargs)


login = public(LoginView.as_view())
logout = permission_required(Permission.SIGNED_IN)(LogoutView.as_view())


def rate_limited(request: HttpRequest, exception: Exception) -> HttpResponse:
    message = _("操作过于频繁，请稍后再试。")
    return render(request, "web/error.html", {"status": 429, "message": message}, status=429)


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.headers.get("referer") or reverse("web:home")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return reverse("web:home")
    return target


@require_POST
@permission_required(Permission.SIGNED_IN)
def switch_assignment(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    wanted = request.POST.get("assignment", "")
    if not any(str(a.pk) == wanted for a in actor.assignments):
        return render(
            request, "web/error.html", {"status": 400, "message": _("无法切换到该角色。")}, status=400
        )
    request.session[ACTIVE_ASSIGNMENT_SESSION_KEY] = int(wanted)
    # Pages of the former role's region make no sense under the new one: go home.
    return HttpResponseRedirect(reverse("web:home"))


@require_POST
@public
def elder_mode(request: HttpRequest) -> HttpResponse:
    """Toggle 长辈模式 (or set it with enabled=1/0). Answers htmx with a full refresh of the page."""
    wanted = request.POST.get("enabled")
    enabled = (wanted == "1") if wanted in {"0", "1"} else not elder_mode_on(request)
    request.session[ELDER_MODE_SESSION_KEY] = enabled
    if request.user.is_authenticated:
        user_set_preferences(user=request.user, elder_mode=enabled)
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return HttpResponseRedirect(_back(request))


@require_POST
@public
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch, remembering the choice on the account when signed in."""
    language = request.POST.get("language", "")
    response = HttpResponseRedirect(_back(request))
    if language in dict(settings.LANGUAGES) and check_for_language(language):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
        if request.user.is_authenticated:
            user_set_preferences(user=request.user, language=language)
    return response


@require_GET
@public
def health(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponseBase:
    return render(
        request,
        "web/error.html",
        {"status": 404, "message": _("页面不存在，或不在您的管辖范围内。")},
        status=404,
    )


def server_error(request: HttpRequest) -> HttpResponseBase:
    # A page that needs no database: the error may be that the database is gone.
    return HttpResponse(loader.render_to_string("web/500.html"), status=500)


@require_GET
@permission_required(Permission.KEY_MANAGE)
def key_status_page(request: HttpRequest) -> HttpResponse:
    """The security administrator's view of the field-encryption keys (ids only) and rotation progress."""
    key_ids, newest, tables = key_status()
    return render(request, "web/key_status.html", {"key_ids": key_ids, "newest": newest, "tables": tables})
