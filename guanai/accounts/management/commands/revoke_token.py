from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guanai.accounts.models import ApiToken
from guanai.accounts.services import api_token_revoke


class Command(BaseCommand):
    help = "吊销接口令牌 (Revoke API tokens by their printed prefix, or every token of a user)."

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--prefix", help="令牌前缀, 如 gna_AbC123")
        group.add_argument("--user", help="吊销该用户的全部令牌")

    def handle(self, *args: Any, **options: Any) -> None:
        tokens = ApiToken.objects.filter(revoked_at__isnull=True)
        if options["prefix"]:
            tokens = tokens.filter(prefix=options["prefix"])
        else:
            tokens = tokens.filter(user__username=options["user"])
        revoked = [api_token_revoke(token=token) for token in tokens]
        if not revoked:
            raise CommandError("没有找到有效的令牌")
        self.stdout.write(f"已吊销 {len(revoked)} 个令牌")
