from __future__ import annotations

import datetime
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from guanai.accounts.models import ApiToken
from guanai.core.crypto import sm3_hex

pytestmark = pytest.mark.django_db


def issue(username: str, *args: str) -> str:
    out = StringIO()
    call_command("issue_token", username, *args, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_issue_token_prints_a_token_that_is_stored_only_as_its_sm3_digest(personas: Any) -> None:
    raw = issue("p-county-a", "--days", "7")
    assert raw.startswith("gna_")
    token = ApiToken.objects.get()
    assert token.digest == sm3_hex(raw)
    assert raw not in {token.digest, token.prefix}
    assert raw.startswith(token.prefix)
    expected = timezone.now() + datetime.timedelta(days=7)
    assert abs((token.expires_at - expected).total_seconds()) < 60


def test_a_token_authenticates_as_its_user_within_their_region(personas: Any) -> None:
    raw = issue("p-county-b")
    response = Client().get("/api/v1/me", headers=bearer(raw))
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "p-county-b"
    assert body["active_assignment"]["role"] == "county_admin"
    assert [crumb["name"] for crumb in body["breadcrumb"]] == ["浙江省", "杭州市", "建德市"]
    assert Client().get("/api/v1/regions/330127", headers=bearer(raw)).status_code == 404
    assert Client().get("/api/v1/regions/330182", headers=bearer(raw)).status_code == 200
    assert ApiToken.objects.get().last_used_at is not None


def test_last_used_is_written_at_most_once_in_its_resolution(personas: Any) -> None:
    from guanai.accounts.services import TOKEN_LAST_USED_RESOLUTION

    raw = issue("p-county-a")
    assert Client().get("/api/v1/me", headers=bearer(raw)).status_code == 200
    first = ApiToken.objects.get().last_used_at
    assert first is not None
    assert Client().get("/api/v1/me", headers=bearer(raw)).status_code == 200
    assert ApiToken.objects.get().last_used_at == first  # a second request moments later writes nothing
    stale = first - TOKEN_LAST_USED_RESOLUTION
    ApiToken.objects.update(last_used_at=stale)
    assert Client().get("/api/v1/me", headers=bearer(raw)).status_code == 200
    written = ApiToken.objects.get().last_used_at
    assert written is not None
    assert written > first


def test_an_expired_token_is_refused(personas: Any) -> None:
    raw = issue("p-county-a")
    ApiToken.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    response = Client().get("/api/v1/me", headers=bearer(raw))
    assert response.status_code == 401
    assert response.json() == {"code": "not_authenticated", "message": "请先登录", "fields": {}}


def test_a_revoked_token_is_refused(personas: Any) -> None:
    raw = issue("p-county-a")
    assert Client().get("/api/v1/me", headers=bearer(raw)).status_code == 200
    call_command("revoke_token", "--prefix", ApiToken.objects.get().prefix, stdout=StringIO())
    assert Client().get("/api/v1/me", headers=bearer(raw)).status_code == 401
    with pytest.raises(CommandError, match="没有找到有效的令牌"):
        call_command("revoke_token", "--user", "p-county-a", stdout=StringIO())


def test_a_token_of_a_deactivated_user_is_refused(personas: Any) -> None:
    raw = issue("p-county-a")
    personas["county_a_admin"].is_active = False
    personas["county_a_admin"].save()
    assert Client().get("/api/v1/me", headers=bearer(raw)).status_code == 401


def test_authentication_is_remembered_but_every_change_counts_from_the_next_request(personas: Any) -> None:
    from guanai.accounts.models import RoleAssignment

    raw = issue("p-county-a")
    admin = personas["county_a_admin"]
    for _ in range(2):  # the second is answered from what was remembered
        me = Client().get("/api/v1/me", headers=bearer(raw)).json()
        assert me["active_assignment"]["role"] == "county_admin"
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    RoleAssignment.objects.filter(user=admin).update(valid_to=yesterday)  # the assignment has ended
    assert Client().get("/api/v1/me", headers=bearer(raw)).json()["active_assignment"] is None
    assert Client().get("/api/v1/regions/330127", headers=bearer(raw)).status_code == 403
    admin.is_active = False
    admin.save()
    assert Client().get("/api/v1/me", headers=bearer(raw)).status_code == 401


def test_a_forged_token_is_refused(personas: Any) -> None:
    for forged in ("gna_" + "A" * 43, "", "Bearer", "gna_'; DROP TABLE accounts_user; --"):
        response = Client().get("/api/v1/me", headers=bearer(forged))
        assert response.status_code == 401


def test_issue_token_refuses_unknown_users_and_bad_periods(personas: Any) -> None:
    with pytest.raises(CommandError, match="用户不存在"):
        issue("nobody")
    with pytest.raises(CommandError, match="有效天数"):
        issue("p-county-a", "--days", "0")
    assert ApiToken.objects.count() == 0


def test_the_remembered_authentication_holds_no_mobile_number_or_password_hash(personas: Any) -> None:
    from django.core.cache import cache

    admin = personas["county_a_admin"]
    admin.mobile = "13912345678"
    admin.save()
    raw = issue("p-county-a")
    assert Client().get("/api/v1/me", headers=bearer(raw)).status_code == 200
    kept = list(cache._cache.values())  # type: ignore[attr-defined]  # the test settings' locmem cache
    assert kept  # the token and the assignments were remembered
    assert all(b"13912345678" not in value and admin.password.encode() not in value for value in kept)
    assert Client().get("/api/v1/me", headers=bearer(raw)).status_code == 200  # and still authenticate
