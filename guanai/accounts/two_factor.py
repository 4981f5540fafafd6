"""Second factor: TOTP enrolment with a QR code, verification, one-time recovery codes (django-otp)."""

from __future__ import annotations

import secrets

import segno
from django.db import transaction
from django.http import HttpRequest
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from guanai import audit
from guanai.accounts.models import User
from guanai.audit.services import Outcome
from guanai.core.access import Actor

RECOVERY_CODE_COUNT = 10


def totp_device_for_enrolment(*, user: User) -> TOTPDevice:
    """The user's unconfirmed authenticator (made on first call), to show as a QR code."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def qr_code_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL as an inline SVG QR code (no image files, no external service)."""
    return str(segno.make(device.config_url, error="m").svg_inline(scale=5, dark="#1a1a1a", light="#ffffff"))


def base32_secret(device: TOTPDevice) -> str:
    import base64

    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@transaction.atomic
def totp_confirm(*, actor: Actor, request: HttpRequest, token: str) -> list[str] | None:
    """Confirm enrolment with a first code; returns the new recovery codes (shown once), or None."""
    user = actor.user
    assert user is not None
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None or not device.verify_token(token.strip()):
        audit.record(
            actor=actor,
            action="auth.second_factor_failed",
            target=user,
            outcome=Outcome.FAILED,
            request=request,
        )
        return None
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    otp_login(request, device)
    codes = recovery_codes_renew(actor=actor, request=request)
    audit.record(actor=actor, action="auth.second_factor_enrolled", target=user, request=request)
    return codes


@transaction.atomic
def recovery_codes_renew(*, actor: Actor, request: HttpRequest | None = None) -> list[str]:
    """Replace the actor's recovery codes with ten new ones; each works once."""
    user = actor.user
    assert user is not None
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name="recovery", defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    # Three groups of four hex digits (48 bits; StaticToken holds 16 characters), easy to copy by hand.
    codes = ["-".join(secrets.token_hex(2) for _ in range(3)) for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    audit.record(actor=actor, action="auth.recovery_codes_renewed", target=user, request=request)
    return codes


def second_factor_verify(*, actor: Actor, request: HttpRequest, token: str) -> bool:
    """Check a TOTP code or a recovery code against the user's confirmed devices; marks the session."""
    user = actor.user
    assert user is not None
    token = token.strip().replace(" ", "")
    device: Device
    for device in devices_for_user(user, confirmed=True):
        if device.verify_is_allowed()[0] and device.verify_token(token):
            otp_login(request, device)
            action = (
                "auth.recovery_code_used"
                if isinstance(device, StaticDevice)
                else "auth.second_factor_verified"
            )
            audit.record(actor=actor, action=action, target=user, request=request)
            return True
    audit.record(
        actor=actor, action="auth.second_factor_failed", target=user, outcome=Outcome.FAILED, request=request
    )
    return False


def recovery_codes_left(*, user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()
