"""Account management is audited (等保 2.0 level 3, security audit): creating an account, assigning a role,
issuing and revoking an API token are events naming who did it — the signed-in actor, or for a command the
operating-system account that ran it — with field names and never a password, number or token."""

from __future__ import annotations

import datetime
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from guanai.accounts.models import ApiToken, RoleAssignment, User
from guanai.accounts.services import api_token_revoke, role_assign
from guanai.audit.models import AuditEvent
from guanai.audit.services import current_operator
from guanai.core.access import Actor, Role
from guanai.regions.models import Region

pytestmark = pytest.mark.django_db

PASSWORD = "Xitong-Guanli-2026"
MOBILE = "13900000077"


def account_events(after: int = 0) -> list[tuple[str, str, str, str, list[str], dict[str, Any]]]:
    return [
        (e.action, e.actor_username, e.target_type, e.region_code, e.changed_fields, e.detail)
        for e in AuditEvent.objects.filter(id__gt=after, action__startswith="account.").order_by("id")
    ]


def last_event_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def create_user(monkeypatch: pytest.MonkeyPatch, *args: str) -> None:
    monkeypatch.setattr("sys.stdin", StringIO(PASSWORD + "\n"))
    call_command("create_user", *args, "--password-stdin", stdout=StringIO())


def test_create_user_records_the_account_and_its_role_with_the_operator(
    regions: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_user(monkeypatch, "admin1", "--role", "system_admin", "--region", "33", "--mobile", MOBILE)
    user = User.objects.get(username="admin1")
    assignment = RoleAssignment.objects.get(user=user)
    operator = current_operator()
    assert operator  # the account running the tests has a name
    assert account_events() == [
        (
            "account.create",
            "",
            "accounts.user",
            "",
            ["username", "mobile", "password"],
            {"operator": operator},
        ),
        (
            "account.role_assigned",
            "",
            "accounts.roleassignment",
            "330000000000",
            ["role", "region", "valid_from", "valid_to"],
            {
                "user_id": user.pk,
                "role": "system_admin",
                "valid_from": assignment.valid_from.isoformat(),
                "valid_to": None,
                "operator": operator,
            },
        ),
    ]
    trail = str(list(AuditEvent.objects.values_list("detail", "changed_fields", "actor_username")))
    assert MOBILE not in trail
    assert PASSWORD not in trail
    assert user.password not in trail


def test_a_refused_account_records_nothing(regions: None, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(CommandError, match="只能分配在"):
        create_user(monkeypatch, "admin2", "--role", "county_admin", "--region", "33")
    assert not User.objects.filter(username="admin2").exists()
    assert account_events() == []


def test_a_role_assigned_by_an_admin_names_the_admin_and_an_existing_one_records_nothing(
    personas: dict[str, User],
) -> None:
    from guanai.accounts.selectors import actor_for_user

    admin: Actor = actor_for_user(personas["county_b_admin"])
    user = personas["township_worker"]
    region = Region.objects.get(code="330182001000")
    before = last_event_id()
    until = datetime.date(2027, 6, 30)
    assignment = role_assign(user=user, role=Role.TOWNSHIP_ADMIN, region=region, valid_to=until, actor=admin)
    again = role_assign(user=user, role=Role.TOWNSHIP_ADMIN, region=region, actor=admin)
    assert again == assignment
    assert account_events(before) == [
        (
            "account.role_assigned",
            "p-county-b",
            "accounts.roleassignment",
            "330182001000",
            ["role", "region", "valid_from", "valid_to"],
            {
                "user_id": user.pk,
                "role": "township_admin",
                "valid_from": assignment.valid_from.isoformat(),
                "valid_to": "2027-06-30",
            },
        )
    ]


def test_issuing_and_revoking_a_token_are_recorded_without_the_token(personas: dict[str, User]) -> None:
    before = last_event_id()
    out = StringIO()
    call_command("issue_token", "p-county-a", "--days", "7", stdout=out, stderr=StringIO())
    raw = out.getvalue().strip()
    token = ApiToken.objects.get()
    call_command("revoke_token", "--prefix", token.prefix, stdout=StringIO())
    api_token_revoke(token=ApiToken.objects.get())  # revoked already: nothing changes, nothing is recorded
    operator = current_operator()
    user_id = personas["county_a_admin"].pk
    assert account_events(before) == [
        (
            "account.token_issued",
            "",
            "accounts.apitoken",
            "",
            [],
            {"user_id": user_id, "prefix": token.prefix, "days": 7, "operator": operator},
        ),
        (
            "account.token_revoked",
            "",
            "accounts.apitoken",
            "",
            ["revoked_at"],
            {"user_id": user_id, "prefix": token.prefix, "operator": operator},
        ),
    ]
    assert raw not in str(list(AuditEvent.objects.values_list("detail", flat=True)))
    assert token.digest not in str(list(AuditEvent.objects.values_list("detail", flat=True)))
