from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from guanai.accounts.models import RoleAssignment, User

pytestmark = pytest.mark.django_db


def create(monkeypatch: pytest.MonkeyPatch, password: str, *args: str) -> str:
    monkeypatch.setattr("sys.stdin", StringIO(password + "\n"))
    out = StringIO()
    call_command("create_user", *args, "--password-stdin", stdout=out)
    return out.getvalue()


def test_the_first_system_admin_is_created_with_a_role(
    regions: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = create(monkeypatch, "Xitong-Guanli-2026", "admin1", "--role", "system_admin", "--region", "33")
    assert out.strip() == "已创建 admin1：系统管理员 · 浙江省"
    user = User.objects.get(username="admin1")
    assert user.check_password("Xitong-Guanli-2026")
    assert list(RoleAssignment.objects.filter(user=user).values_list("role", "region_id")) == [
        ("system_admin", "330000000000")
    ]


@pytest.mark.parametrize(
    ("password", "args", "message"),
    [
        ("Xitong-Guanli-2026", ["--role", "county_admin", "--region", "33"], "只能分配在"),
        ("Xitong-Guanli-2026", ["--role", "system_admin", "--region", "99"], "区划不存在"),
        ("12345678", ["--role", "system_admin", "--region", "33"], "密码"),
        ("Xitong-Guanli-2026", ["--role", "system_admin", "--region", "33", "--mobile", "239"], "手机号码"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(
    regions: None, monkeypatch: pytest.MonkeyPatch, password: str, args: list[str], message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        create(monkeypatch, password, "admin2", *args)
    assert not User.objects.filter(username="admin2").exists()
