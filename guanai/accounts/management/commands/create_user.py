from __future__ import annotations

import getpass
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from guanai.accounts.services import role_assign, user_create
from guanai.core.access import Role
from guanai.core.errors import ValidationFailed
from guanai.core.region_codes import normalise_code
from guanai.regions.models import Region


class Command(BaseCommand):
    help = (
        "创建账号并分配角色，例如部署后的第一位系统管理员 "
        "(Create an account with one role; the password is asked for, or read from standard input)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[role.value for role in Role])
        parser.add_argument("--region", required=True, help="区划代码，如 33、330127")
        parser.add_argument("--display-name", default="")
        parser.add_argument("--mobile", default=None)
        parser.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            region = Region.objects.get(code=normalise_code(options["region"]))
        except (ValueError, Region.DoesNotExist) as error:
            raise CommandError(f"区划不存在: {options['region']}（请先运行 load_regions）") from error
        if options["password_stdin"]:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass("密码: ")
            if password != getpass.getpass("再次输入密码: "):
                raise CommandError("两次输入的密码不一致")
        try:
            with transaction.atomic():
                user = user_create(
                    username=options["username"],
                    password=password,
                    display_name=options["display_name"],
                    mobile=options["mobile"],
                )
                assignment = role_assign(user=user, role=options["role"], region=region)
        except ValidationFailed as error:
            raise CommandError(error.summary) from error
        self.stdout.write(f"已创建 {user.username}：{assignment.get_role_display()} · {region.name}")
