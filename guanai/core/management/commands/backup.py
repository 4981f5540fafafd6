from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from guanai.core.backup import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "备份数据库 (Back up the database into one file encrypted with SM4 under GUANAI_BACKUP_KEY: the "
        "SQLite online backup or pg_dump, with a manifest of row counts and SM3 checksums of every table)."
    )
    # A backup or a disaster restore must not wait for an unrelated check (URLs, templates) to pass.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("output", type=Path, help=_("备份文件路径（不得已存在）"))

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = backup_create(output=options["output"], show_progress=options["verbosity"] >= 1)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            _("已备份 %(vendor)s 数据库：%(tables)d 张表，%(rows)d 行，写入 %(path)s（%(size)d 字节）")
            % {
                "vendor": result.vendor,
                "tables": result.tables,
                "rows": result.rows,
                "path": result.path,
                "size": result.file_bytes,
            }
        )
