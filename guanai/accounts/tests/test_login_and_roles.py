from __future__ import annotations

import datetime

import pytest
from django.test import Client

from guanai.accounts.models import RoleAssignment
from guanai.accounts.services import role_assign, user_create
from guanai.core.access import Role
from guanai.core.errors import ValidationFailed
from guanai.core.testing import verified_client
from guanai.regions.models import Region

pytestmark = pytest.mark.django_db


def test_sign_in_with_username_or_mobile(regions: None) -> None:
    user_create(username="wang", password="Qdh-2024-xyz", mobile="13905710001")
    for identifier in ("wang", "13905710001"):
        client = Client()
        response = client.post("/login/", {"username": identifier, "password": "Qdh-2024-xyz"})
        assert response.status_code == 302, identifier
        assert response["Location"] == "/"
    response = Client().post("/login/", {"username": "13905710001", "password": "wrong-password"})
    assert response.status_code == 200
    assert "用户名（或手机号）与密码不匹配" in response.content.decode()


def test_a_role_must_sit_at_its_level(regions: None) -> None:
    user = user_create(username="li", password=None)
    with pytest.raises(ValidationFailed) as raised:
        role_assign(user=user, role=Role.COUNTY_ADMIN, region=Region.objects.get(code="330127100000"))
    assert list(raised.value.fields) == ["region"]
    assignment = role_assign(
        user=user, role=Role.COUNTY_ADMIN, region=Region.objects.get(code="330127000000")
    )
    assert assignment.region_id == "330127000000"


def test_the_active_role_can_be_switched_and_expired_roles_do_not_count(regions: None) -> None:
    user = user_create(username="zhao", password=None)
    role_assign(user=user, role=Role.COUNTY_ADMIN, region=Region.objects.get(code="330182000000"))
    volunteer = role_assign(user=user, role=Role.VOLUNTEER, region=Region.objects.get(code="330127100219"))
    role_assign(
        user=user,
        role=Role.PROVINCE_ADMIN,
        region=Region.objects.get(code="330000000000"),
        valid_from=datetime.date(2020, 1, 1),
        valid_to=datetime.date(2021, 1, 1),
    )
    client = verified_client(user)
    me = client.get("/api/v1/me").json()
    assert [a["role"] for a in me["assignments"]] == ["county_admin", "volunteer"]
    assert me["active_assignment"]["region"]["name"] == "建德市"
    response = client.post("/switch-role/", {"assignment": volunteer.pk})
    assert response.status_code == 302
    me = client.get("/api/v1/me").json()
    assert me["active_assignment"]["role"] == "volunteer"
    assert [c["name"] for c in me["breadcrumb"]] == [
        "浙江省",
        "杭州市",
        "淳安县",
        "千岛湖镇",
        "富城村村民委员会",
    ]
    # Someone else's assignment cannot be taken over.
    other = user_create(username="qian", password=None)
    foreign = role_assign(user=other, role=Role.COUNTY_ADMIN, region=Region.objects.get(code="330127000000"))
    assert client.post("/switch-role/", {"assignment": foreign.pk}).status_code == 400
    assert client.get("/api/v1/me").json()["active_assignment"]["role"] == "volunteer"


def test_a_user_without_a_valid_role_sees_nothing(regions: None) -> None:
    user = user_create(username="sun", password=None)
    client = Client()
    client.force_login(user)
    assert client.get("/api/v1/committees/").status_code == 403
    assert client.get("/api/v1/regions/33").status_code == 403
    me = client.get("/api/v1/me").json()
    assert me["active_assignment"] is None
    assert "您的账号还没有有效的角色" in client.get("/").content.decode()


def test_preferences_through_the_api_need_the_csrf_token_in_a_browser_session(regions: None) -> None:
    from guanai.accounts.services import api_token_issue

    user = user_create(username="zhou", password="Zhou-2024-pass")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    refused = browser.patch("/api/v1/me/preferences", '{"elder_mode": true}', content_type="application/json")
    assert refused.status_code == 403
    user.refresh_from_db()
    assert user.elder_mode is False
    browser.get("/")  # the page sets the CSRF cookie, as a browser would receive it
    token = browser.cookies["csrftoken"].value
    accepted = browser.patch(
        "/api/v1/me/preferences",
        '{"elder_mode": true, "language": "zh-hant"}',
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["elder_mode"] is True
    user.refresh_from_db()
    assert (user.elder_mode, user.language) == (True, "zh-hant")
    # A bearer-token client has no cookie and needs no CSRF token.
    _, raw = api_token_issue(user=user, days=1)
    client = Client(enforce_csrf_checks=True)
    response = client.patch(
        "/api/v1/me/preferences",
        '{"language": "xx"}',
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 422
    assert response.json() == {
        "code": "validation_failed",
        "message": "提交的内容有误，请检查后重试",
        "fields": {"language": ["不支持的语言"]},
    }
    user.refresh_from_db()
    assert user.language == "zh-hant"


def test_mobile_numbers_are_stored_encrypted_and_found_by_their_blind_index(regions: None) -> None:
    from django.db import connection

    from guanai.accounts.selectors import user_by_login_identifier

    user = user_create(username="tang", password="Tang-Pass-2026", mobile="13905710007")
    with connection.cursor() as cursor:
        cursor.execute("SELECT mobile, mobile_index FROM accounts_user WHERE id = %s", [user.pk])
        stored, index = cursor.fetchone()
    assert "13905710007" not in stored
    assert "5710007" not in stored
    assert "13905710007" not in index
    assert user_by_login_identifier(identifier="13905710007") == user
    with pytest.raises(ValidationFailed) as raised:
        user_create(username="tang2", password="Tang-Pass-2026", mobile="13905710007")
    assert raised.value.fields == {"mobile": ["该手机号已被其他账号使用"]}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (Role.SYSTEM_ADMIN, Role.AUDITOR),
        (Role.AUDITOR, Role.SECURITY_ADMIN),
        (Role.SECURITY_ADMIN, Role.SYSTEM_ADMIN),
    ],
)
def test_the_system_security_and_audit_administrators_are_three_people(
    regions: None, first: Role, second: Role
) -> None:
    province = Region.objects.get(code="330000000000")
    user = user_create(username="duty-person", password=None)
    role_assign(user=user, role=first, region=province)
    with pytest.raises(ValidationFailed) as refusal:
        role_assign(user=user, role=second, region=province)
    assert refusal.value.fields == {
        "role": [f"系统管理员、安全管理员和审计管理员须由不同人员担任：该用户已是{first.label}"]
    }
    assert list(RoleAssignment.objects.filter(user=user).values_list("role", flat=True)) == [first]
    # Holding the same duty again is no conflict, and another person takes the other duty.
    assert role_assign(user=user, role=first, region=province).role == first
    other = user_create(username="another-person", password=None)
    role_assign(user=other, role=second, region=province)
    assert RoleAssignment.objects.filter(user=other).count() == 1
