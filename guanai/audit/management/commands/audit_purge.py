from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guanai.audit.services import audit_purge, current_operator, retention_days
from guanai.core.errors import DomainError


class Command(BaseCommand):
    help = "清理某日期之前的审计日志（至少保留 180 天，见 GUANAI_AUDIT_RETENTION_DAYS）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--before", required=True, help="清理此日期（北京时间 YYYY-MM-DD）之前的记录")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            before = datetime.date.fromisoformat(options["before"])
        except ValueError as error:
            raise CommandError("--before 应为 YYYY-MM-DD 格式的日期") from error
        try:
            result = audit_purge(before=before, operator=current_operator())
        except DomainError as error:
            raise CommandError(error.summary) from error
        self.stdout.write(
            f"已清理 {before.isoformat()} 之前的审计日志 {result.count} 条（保留期 {retention_days()} 天）。"
        )
