from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from guanai.accounts.models import User
from guanai.accounts.services import role_assign, user_create
from guanai.core.access import Role
from guanai.regions.models import Region

pytestmark = pytest.mark.django_db


def current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def admin(username: str, role: Role = Role.COUNTY_ADMIN, code: str = "330127000000") -> Client:
    user = user_create(username=username, password=f"{username.title()}-Pass-2026")
    role_assign(user=user, role=role, region=Region.objects.get(code=code))
    client = Client()
    assert (
        client.post(
            "/login/", {"username": username, "password": f"{username.title()}-Pass-2026"}
        ).status_code
        == 302
    )
    return client


@pytest.mark.parametrize(
    ("role", "code"),
    [
        (Role.PROVINCE_ADMIN, "330000000000"),
        (Role.CITY_ADMIN, "330100000000"),
        (Role.COUNTY_ADMIN, "330127000000"),
        (Role.SECURITY_ADMIN, "330000000000"),
        (Role.AUDITOR, "330000000000"),
        (Role.SYSTEM_ADMIN, "330000000000"),
    ],
)
def test_an_admin_reaches_no_page_before_the_second_factor(regions: None, role: Role, code: str) -> None:
    client = admin("guan", role, code)
    for path in ("/", "/committees/", "/regions/", "/account/", "/audit/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/account/two-factor/setup/?next="), path
    api = client.get("/api/v1/me")
    assert api.status_code == 403
    assert api.json() == {"code": "second_factor_required", "message": "请先完成双因素认证", "fields": {}}


@pytest.mark.parametrize(
    ("role", "code"),
    [(Role.TOWNSHIP_ADMIN, "330127100000"), (Role.VOLUNTEER, "330127100219"), (Role.LAWYER, "330127000000")],
)
def test_other_roles_sign_in_with_the_password_alone(regions: None, role: Role, code: str) -> None:
    client = admin("bao", role, code)
    assert client.get("/").status_code == 200


def test_enrolment_by_qr_code_then_recovery_codes_work_once(regions: None) -> None:
    client = admin("lu")
    page = client.get("/account/two-factor/setup/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html
    assert re.search(r'id="totp-secret">[A-Z2-7 ]{20,}<', html)
    device = TOTPDevice.objects.get(user__username="lu", confirmed=False)
    wrong_code = "000000" if current_code(device) != "000000" else "111111"
    wrong = client.post("/account/two-factor/setup/", {"token": wrong_code})
    assert "验证码不正确" in wrong.content.decode()
    # django-otp slows down guessing after a failure: the right code comes a few seconds later.
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=5), tick=False):
        done = client.post(
            "/account/two-factor/setup/", {"token": current_code(device), "next": "/committees/"}
        )
    assert done.status_code == 200
    codes = re.findall(r"<code>([0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4})</code>", done.content.decode())
    assert len(codes) == 10
    assert client.get("/committees/").status_code == 200  # this session is verified now

    # A new session needs the second factor again; a recovery code works exactly once.
    for attempt, expected in ((codes[0], 302), (codes[0], 200)):
        other = Client()
        other.post("/login/", {"username": "lu", "password": "Lu-Pass-2026"})
        assert other.get("/").status_code == 302
        response = other.post("/account/two-factor/verify/", {"token": attempt, "next": "/"})
        assert response.status_code == expected
        if expected == 200:
            assert "验证码或恢复码不正确" in response.content.decode()
            assert other.get("/").status_code == 302
        else:
            assert other.get("/").status_code == 200


def test_a_totp_code_verifies_a_new_session(regions: None) -> None:
    client = admin("fang")
    device = TOTPDevice.objects.create(user=User.objects.get(username="fang"), name="phone", confirmed=True)
    response = client.post(
        "/account/two-factor/verify/", {"token": current_code(device), "next": "/committees/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/committees/"
    assert client.get("/committees/").status_code == 200
