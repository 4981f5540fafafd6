from __future__ import annotations

import datetime

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from guanai.accounts.services import user_create
from guanai.audit.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=False)


def attempt(client: Client, username: str, password: str) -> int:
    return client.post("/login/", {"username": username, "password": password}).status_code


def test_five_failures_lock_the_account_for_thirty_minutes(regions: None) -> None:
    user_create(username="jiang", password="Jiang-Pass-2026", mobile="13905710002")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        # Failures count against the account whether it is named by username or mobile number.
        statuses = [
            attempt(Client(), name, "wrong-Pass-1") for name in ["jiang", "13905710002"] * 2 + ["jiang"]
        ]
        assert statuses == [200, 200, 200, 200, 429]
        locked = Client().post("/login/", {"username": "jiang", "password": "Jiang-Pass-2026"})
        assert locked.status_code == 429
        assert "已被锁定 30 分钟" in locked.content.decode()
    with time_machine.travel(start + datetime.timedelta(minutes=29), tick=False):
        assert attempt(Client(), "jiang", "Jiang-Pass-2026") == 429
    with time_machine.travel(start + datetime.timedelta(minutes=31), tick=False):
        assert attempt(Client(), "jiang", "Jiang-Pass-2026") == 302
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions.count("auth.login_failed") >= 5
    assert "auth.locked_out" in actions
    assert actions[-1] == "auth.login"


def test_a_lockout_of_one_account_does_not_lock_another(regions: None) -> None:
    user_create(username="shen", password="Shen-Pass-2026")
    user_create(username="han", password="Han-Pass-2026x")
    for _ in range(5):
        attempt(Client(), "shen", "wrong-Pass-1")
    assert attempt(Client(), "shen", "Shen-Pass-2026") == 429
    assert attempt(Client(), "han", "Han-Pass-2026x") == 302


def test_failed_and_successful_logins_are_in_the_users_login_history(regions: None) -> None:
    user = user_create(username="yang", password="Yang-Pass-2026")
    attempt(Client(), "yang", "wrong-Pass-1")
    client = Client(HTTP_USER_AGENT="Mozilla/5.0 (Linux; Android 14) 测试手机")
    assert attempt(client, "yang", "Yang-Pass-2026") == 302
    response = client.get("/account/")
    assert response.status_code == 200
    history = response.context["history"]
    assert [event.action for event in history] == ["auth.login", "auth.login_failed"]
    assert [event.outcome for event in history] == ["success", "failed"]
    assert history[0].ip == "127.0.0.1"
    assert "Android 14" in history[0].user_agent
    assert user.username in {event.actor_username for event in history}


def test_sign_in_attempts_from_one_address_are_rate_limited(regions: None, settings: object) -> None:
    from django.core.cache import cache

    cache.clear()
    # The limit counts in fixed windows: a frozen clock keeps the 31 attempts inside one of them (a slow
    # machine once crossed a window's end halfway and the count started again).
    with time_machine.travel(datetime.datetime(2026, 11, 30, 10, 0, tzinfo=datetime.UTC), tick=False):
        same_address = Client(REMOTE_ADDR="10.1.2.3")
        statuses = [
            same_address.post("/login/", {"username": f"nobody{n}", "password": "x"}).status_code
            for n in range(31)
        ]
        assert statuses == [200] * 30 + [429]
        # Another address is not affected.
        other_address = Client(REMOTE_ADDR="10.1.2.4")
        assert other_address.post("/login/", {"username": "nobody", "password": "x"}).status_code == 200
    cache.clear()
