from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guanai.audit.selectors import VERIFY_CHUNK_SIZE, audit_chain_verify


class Command(BaseCommand):
    help = "校验审计日志的哈希链：报告第一条被修改、插入或删除的记录 (exit code 1)。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--chunk-size", type=int, default=VERIFY_CHUNK_SIZE, help="每次读取的记录数")

    def handle(self, *args: Any, **options: Any) -> None:
        verdict = audit_chain_verify(chunk_size=max(1, options["chunk_size"]))
        if not verdict.is_intact:
            where = f"第 {verdict.broken_event_id} 条记录" if verdict.broken_event_id is not None else ""
            raise CommandError(f"审计日志已被篡改：{where}{verdict.reason}（此前 {verdict.count} 条完好）。")
        self.stdout.write(f"审计日志完整：{verdict.count} 条")
