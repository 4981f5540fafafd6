from __future__ import annotations

import datetime

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from guanai.accounts.models import PasswordHistory
from guanai.accounts.passwords import character_classes
from guanai.accounts.services import password_expired, user_create, user_set_password
from guanai.core.errors import ValidationFailed

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("password", "classes"),
    [
        ("abcdefgh", 1),
        ("abcdEFGH", 2),
        ("abcd1234", 2),
        ("abcD1234", 3),
        ("ab-D1234", 4),
        ("中文密码ab12", 3),
    ],
)
def test_character_classes(password: str, classes: int) -> None:
    assert character_classes(password) == classes


@pytest.mark.parametrize(
    "weak",
    ["Ab1-x", "abcdefgh1", "ABCDEFGH-", "12345678", "password", "Qiandaohu"],
)
def test_weak_passwords_are_refused(regions: None, weak: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        user_create(username="wu", password=weak)
    assert list(raised.value.fields) == ["password"]


def test_none_of_the_last_five_passwords_may_be_used_again(regions: None) -> None:
    user = user_create(username="zheng", password="Start-Pass-01")
    for number in range(2, 8):
        user_set_password(user=user, password=f"Next-Pass-{number:02d}")
    assert PasswordHistory.objects.filter(user=user).count() == 5
    # The current one and the five before it are refused; the one before those is allowed again.
    for number in (7, 6, 5, 4, 3, 2):
        with pytest.raises(ValidationFailed, match=r".*") as raised:
            user_set_password(user=user, password=f"Next-Pass-{number:02d}")
        assert "最近 5 次" in raised.value.fields["password"][0]
    user_set_password(user=user, password="Start-Pass-01")
    user.refresh_from_db()
    assert user.check_password("Start-Pass-01")


def test_after_ninety_days_the_password_must_be_changed_before_anything_else(regions: None) -> None:
    user = user_create(username="feng", password="Feng-Pass-2026")
    client = Client()
    assert client.post("/login/", {"username": "feng", "password": "Feng-Pass-2026"}).status_code == 302
    assert client.get("/").status_code == 200
    assert not password_expired(user=user)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=91), tick=False):
        user.refresh_from_db()
        assert password_expired(user=user)
        client.force_login(user)
        response = client.get("/committees/")
        assert response.status_code == 302
        assert response["Location"] == "/account/password/?next=/committees/"
        api = client.get("/api/v1/me")
        assert api.status_code == 403
        assert api.json()["code"] == "password_expired"
        response = client.post(
            "/account/password/",
            {
                "old_password": "Feng-Pass-2026",
                "new_password": "Feng-Pass-2027",
                "new_password_again": "Feng-Pass-2027",
                "next": "/committees/",
            },
        )
        assert response.status_code == 302
        assert response["Location"] == "/committees/"
        assert client.get("/api/v1/me").status_code == 200


def test_the_change_form_checks_the_current_password(regions: None) -> None:
    user = user_create(username="chu", password="Chu-Pass-2026")
    client = Client()
    client.force_login(user)
    response = client.post(
        "/account/password/",
        {"old_password": "wrong", "new_password": "Chu-Pass-2027", "new_password_again": "Chu-Pass-2027"},
    )
    assert response.status_code == 200
    assert "当前密码不正确" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password("Chu-Pass-2026")
