from __future__ import annotations

from django.contrib.auth import authenticate, login, update_session_auth_hash
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from guanai import audit
from guanai.accounts.forms import PasswordChangeForm, SmsLoginForm, TokenForm
from guanai.accounts.selectors import actor_for_user, login_history, user_get, user_list
from guanai.accounts.services import sms_code_send, user_set_password
from guanai.accounts.two_factor import (
    base32_secret,
    qr_code_svg,
    recovery_codes_left,
    recovery_codes_renew,
    second_factor_verify,
    totp_confirm,
    totp_device_for_enrolment,
)
from guanai.audit.services import Outcome
from guanai.core.access import Permission, permission_required, public, request_actor
from guanai.core.errors import RateLimited, ValidationFailed
from guanai.core.masking import mask_field, unmask_field


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or reverse("web:home")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return reverse("web:home")
    return target


@require_GET
@permission_required(Permission.SIGNED_IN)
def security(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    user = actor.user
    assert user is not None
    context = {
        "history": login_history(user=user),
        "has_authenticator": TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
        "recovery_codes_left": recovery_codes_left(user=user),
    }
    return render(request, "accounts/security.html", context)


@require_http_methods(["GET", "POST"])
@permission_required(Permission.SIGNED_IN)
def password_change(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    user = actor.user
    assert user is not None
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not user.check_password(form.cleaned_data["old_password"]):
            form.add_error("old_password", _("当前密码不正确"))
        else:
            try:
                user_set_password(
                    user=user, password=form.cleaned_data["new_password"], actor=actor, request=request
                )
            except ValidationFailed as error:
                for message in error.fields.get("password", [error.message]):
                    form.add_error("new_password", message)
            else:
                update_session_auth_hash(request, user)
                return HttpResponseRedirect(_next(request))
    return render(request, "accounts/password_change.html", {"form": form, "next": _next(request)})


@require_http_methods(["GET", "POST"])
@permission_required(Permission.SIGNED_IN)
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    user = actor.user
    assert user is not None
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists() and not user.is_verified():  # type: ignore[attr-defined]
        # Replacing an authenticator needs the current one (or a recovery code) first.
        return HttpResponseRedirect(
            f"{reverse('accounts:two_factor_verify')}?next={reverse('accounts:two_factor_setup')}"
        )
    device = totp_device_for_enrolment(user=user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = totp_confirm(actor=actor, request=request, token=form.cleaned_data["token"])
        if codes is not None:
            return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": _next(request)})
        form.add_error("token", _("验证码不正确，请核对手机上的时间后重试"))
    context = {
        "form": form,
        "qr_code": qr_code_svg(device),
        "secret": base32_secret(device),
        "next": _next(request),
    }
    return render(request, "accounts/two_factor_setup.html", context)


@require_http_methods(["GET", "POST"])
@permission_required(Permission.SIGNED_IN)
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if second_factor_verify(actor=actor, request=request, token=form.cleaned_data["token"]):
            return HttpResponseRedirect(_next(request))
        form.add_error("token", _("验证码或恢复码不正确"))
    return render(request, "accounts/two_factor_verify.html", {"form": form, "next": _next(request)})


@require_POST
@permission_required(Permission.SIGNED_IN)
def recovery_codes_new(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    assert actor.user is not None
    codes = recovery_codes_renew(actor=actor, request=request)
    return render(
        request, "accounts/recovery_codes.html", {"codes": codes, "next": reverse("accounts:security")}
    )


@require_POST
@permission_required(Permission.SIGNED_IN)
def keepalive(request: HttpRequest) -> HttpResponse:
    """Touching the session (SESSION_SAVE_EVERY_REQUEST) restarts the 30-minute idle clock."""
    return HttpResponse(status=204)


@require_http_methods(["GET", "POST"])
@public
def sms_login(request: HttpRequest) -> HttpResponse:
    """Sign in with the mobile number and a code sent to it: first "send", then "sign in"."""
    form = SmsLoginForm(request.POST or None)
    sent = False
    if request.method == "POST" and form.is_valid():
        mobile = form.cleaned_data["mobile"]
        if request.POST.get("action") == "send":
            try:
                sms_code_send(mobile=mobile, request=request)
                sent = True
            except ValidationFailed as error:
                form.add_error("mobile", error.summary)
            except RateLimited as error:
                form.add_error(None, error.message)
        else:
            user = authenticate(request, mobile=mobile, sms_code=form.cleaned_data["sms_code"])
            if user is not None:
                login(request, user, backend="guanai.accounts.backends.SmsCodeBackend")
                audit.record(
                    actor=actor_for_user(user),
                    action="auth.login",
                    target=user,
                    request=request,
                    detail={"method": "sms"},
                )
                return HttpResponseRedirect(_next(request))
            audit.record(
                actor=None,
                action="auth.login_failed",
                username=mobile[:3] + "****" + mobile[-4:],
                outcome=Outcome.FAILED,
                request=request,
                detail={"method": "sms"},
            )
            form.add_error("sms_code", _("验证码不正确或已过期"))
    return render(request, "accounts/sms_login.html", {"form": form, "sent": sent, "next": _next(request)})


@require_GET
@permission_required(Permission.ACCOUNT_VIEW)
def users(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    search = request.GET.get("q", "").strip()[:50]
    page = Paginator(user_list(actor=actor, search=search), 50).get_page(request.GET.get("page"))
    rows = [(user, mask_field(user, "mobile") if user.mobile else "") for user in page]
    context = {"page": page, "rows": rows, "q": search, "may_unmask": actor.has(Permission.ACCOUNT_MANAGE)}
    return render(request, "accounts/users.html", context)


@require_POST
@permission_required(Permission.ACCOUNT_MANAGE)
def user_unmask_mobile(request: HttpRequest, user_id: int) -> HttpResponse:
    """The mobile number of one account in the clear, for the htmx button; an audit event each time."""
    actor = request_actor(request)
    user = user_get(actor=actor, user_id=user_id)
    value = unmask_field(actor=actor, instance=user, field_name="mobile", request=request)
    return render(request, "accounts/partials/_unmasked.html", {"value": value})
