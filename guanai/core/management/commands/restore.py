from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS
from django.utils.translation import gettext as _

from guanai.core.backup import BackupError, RestoreMismatch, backup_restore


class Command(BaseCommand):
    help = (
        "从备份恢复数据库 (Restore the configured database from a file written by `backup`, then compare "
        "every table with the backup's manifest; a wrong key, a damaged or truncated file changes nothing)."
    )
    # A backup or a disaster restore must not wait for an unrelated check (URLs, templates) to pass.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", type=Path, help=_("备份文件路径"))
        parser.add_argument("--force", action="store_true", help=_("目标数据库已有数据时不再询问，直接覆盖"))

    def handle(self, *args: Any, **options: Any) -> None:
        confirm = None if options["force"] else self.confirm
        try:
            result = backup_restore(
                source=options["source"], confirm=confirm, show_progress=options["verbosity"] >= 1
            )
        except RestoreMismatch as error:
            for table in error.tables:
                self.stderr.write(table)
            raise CommandError(str(error)) from error
        except BackupError as error:
            raise CommandError(str(error)) from error
        manifest = result.manifest
        self.stdout.write(
            _(
                "已恢复 %(created_at)s 的备份（版本 %(version)s）：%(tables)d 张表、%(rows)d 行，"
                "与清单逐表核对一致"
            )
            % {
                "created_at": manifest.created_at,
                "version": manifest.app_version,
                "tables": result.tables,
                "rows": result.rows,
            }
        )
        if result.extra_tables:
            self.stdout.write(
                _("数据库中还有备份里没有的表（未改动）：%(tables)s")
                % {"tables": "、".join(result.extra_tables)}
            )

    def confirm(self) -> bool:
        """Asked only when the target already holds tables; without a terminal there is nobody to ask."""
        name = str(settings.DATABASES[DEFAULT_DB_ALIAS]["NAME"])
        if not sys.stdin.isatty():
            raise CommandError(_("目标数据库 %(name)s 已有数据：确认要覆盖请加 --force") % {"name": name})
        answer = input(
            _("目标数据库 %(name)s 已有数据，将被备份内容覆盖。请输入数据库名确认：") % {"name": name}
        )
        return answer.strip() == name
