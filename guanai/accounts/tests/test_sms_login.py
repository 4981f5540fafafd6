from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from guanai.accounts.models import SmsCode
from guanai.accounts.services import user_create
from guanai.accounts.sms import ConsoleSmsBackend

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_limits() -> None:
    cache.clear()
    ConsoleSmsBackend.outbox.clear()


def sent_code() -> str:
    _mobile, message = ConsoleSmsBackend.outbox[-1]
    match = re.search(r"验证码为 (\d{6})", message)
    assert match is not None
    return match.group(1)


def test_sign_in_with_a_code_sent_by_sms(regions: None) -> None:
    user_create(username="xu", password="Xu-Pass-2026x", mobile="13905710003")
    client = Client()
    response = client.post("/account/sms-login/", {"mobile": "13905710003", "action": "send"})
    assert response.status_code == 200
    assert 'id="sms-sent"' in response.content.decode()
    assert ConsoleSmsBackend.outbox[-1][0] == "13905710003"
    code = sent_code()
    stored = SmsCode.objects.get()
    assert code not in (stored.code_digest, stored.mobile_digest)
    assert "13905710003" not in stored.mobile_digest
    response = client.post(
        "/account/sms-login/", {"mobile": "13905710003", "sms_code": code, "action": "login"}
    )
    assert response.status_code == 302
    assert client.get("/api/v1/me").json()["username"] == "xu"
    # A code works once.
    again = Client().post(
        "/account/sms-login/", {"mobile": "13905710003", "sms_code": code, "action": "login"}
    )
    assert again.status_code == 200
    assert "验证码不正确或已过期" in again.content.decode()


def test_an_unknown_number_gets_the_same_answer_and_no_message(regions: None) -> None:
    response = Client().post("/account/sms-login/", {"mobile": "13905719999", "action": "send"})
    assert response.status_code == 200
    assert 'id="sms-sent"' in response.content.decode()
    assert ConsoleSmsBackend.outbox == []
    assert SmsCode.objects.count() == 0


def test_a_code_expires_after_five_minutes(regions: None) -> None:
    user_create(username="ma", password="Ma-Pass-2026xy", mobile="13905710004")
    Client().post("/account/sms-login/", {"mobile": "13905710004", "action": "send"})
    code = sent_code()
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=6), tick=False):
        response = Client().post(
            "/account/sms-login/", {"mobile": "13905710004", "sms_code": code, "action": "login"}
        )
    assert response.status_code == 200


def test_five_wrong_codes_use_up_the_code(regions: None) -> None:
    user_create(username="he", password="He-Pass-2026xy", mobile="13905710005")
    Client().post("/account/sms-login/", {"mobile": "13905710005", "action": "send"})
    code = sent_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        Client().post("/account/sms-login/", {"mobile": "13905710005", "sms_code": wrong, "action": "login"})
    response = Client().post(
        "/account/sms-login/", {"mobile": "13905710005", "sms_code": code, "action": "login"}
    )
    assert response.status_code in {200, 429}
    assert SmsCode.objects.get().used_at is None


def test_sending_is_rate_limited_per_number(regions: None) -> None:
    user_create(username="lv", password="Lv-Pass-2026xyz", mobile="13905710006")
    answers = [
        Client(REMOTE_ADDR=f"10.0.0.{n}").post(
            "/account/sms-login/", {"mobile": "13905710006", "action": "send"}
        )
        for n in range(6)
    ]
    assert ['id="sms-sent"' in a.content.decode() for a in answers] == [True] * 5 + [False]
    assert "验证码发送过于频繁" in answers[-1].content.decode()
    assert len(ConsoleSmsBackend.outbox) == 5


def test_a_malformed_number_is_a_field_error(regions: None) -> None:
    response = Client().post("/account/sms-login/", {"mobile": "2390571000", "action": "send"})
    assert "手机号码应为以 1 开头的 11 位数字" in response.content.decode()
