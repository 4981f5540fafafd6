from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from guanai.core.crypto import (
    DecryptionError,
    models_with_encrypted_fields,
    rotate_model_keys,
    rows_under_older_keys,
)
from guanai.core.keys import key_ring


class Command(BaseCommand):
    help = (
        "把所有加密字段重新加密到最新密钥 (Re-encrypt every encrypted field under the newest key, in "
        "batches; an interrupted run resumes where it stopped)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500, help=_("每个事务处理的行数"))
        parser.add_argument("--limit", type=int, default=None, help=_("本次最多处理的行数（其余下次继续）"))
        parser.add_argument("--dry-run", action="store_true", help=_("只统计待重新加密的行数"))

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size: int = options["batch_size"]
        limit: int | None = options["limit"]
        if batch_size < 1 or (limit is not None and limit < 1):
            raise CommandError(_("--batch-size 和 --limit 必须是正整数"))
        newest = key_ring().newest_key_id
        self.stdout.write(_("最新密钥：%(key_id)s") % {"key_id": newest})
        total = 0
        for model in models_with_encrypted_fields():
            label = model._meta.label_lower
            pending = rows_under_older_keys(model).count()
            if options["dry_run"] or pending == 0:
                self.stdout.write(_("%(model)s：%(count)d 行待重新加密") % {"model": label, "count": pending})
                continue
            remaining = None if limit is None else limit - total
            if remaining == 0:
                break
            done = 0
            try:
                for done in rotate_model_keys(model, batch_size=batch_size, limit=remaining):
                    self.stdout.write(f"{label}：{done}/{pending}")
            except DecryptionError as error:
                raise CommandError(str(error)) from error
            total += done
        if options["dry_run"]:
            return
        self.stdout.write(_("本次重新加密 %(count)d 行") % {"count": total})
        if limit is not None and total >= limit:
            self.stdout.write(_("已达到 --limit，剩余的行请再次运行本命令"))
