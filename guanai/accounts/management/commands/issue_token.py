from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guanai.accounts.models import User
from guanai.accounts.services import api_token_issue
from guanai.core.errors import ValidationFailed


class Command(BaseCommand):
    help = (
        "签发接口令牌并打印一次 (Issue an API bearer token for a user; it is printed once and stored hashed)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--days", type=int, default=None, help="有效天数 (默认 GUANAI_API_TOKEN_DAYS)")
        parser.add_argument("--name", default="", help="用途说明")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = User.objects.get(username=options["username"])
        except User.DoesNotExist as error:
            raise CommandError(f"用户不存在: {options['username']}") from error
        try:
            token, raw = api_token_issue(user=user, days=options["days"], name=options["name"])
        except ValidationFailed as error:
            raise CommandError(error.summary) from error
        self.stderr.write(f"令牌 {token.prefix}… 有效至 {token.expires_at:%Y-%m-%d %H:%M %Z}")
        self.stdout.write(raw)
