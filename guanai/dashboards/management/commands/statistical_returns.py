"""Write the statistical returns (统计报表) of a region for a month or a year as an Excel workbook.

    python manage.py statistical_returns --region CODE --period YYYY-MM|YYYY --out FILE.xlsx

Runs as the operator (no user): any region may be asked for. The file holds the same tables as the page's
download, with the same small-number protection.
"""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from guanai.core.errors import DomainError, NotFoundError
from guanai.dashboards.returns import statistical_returns_xlsx


class Command(BaseCommand):
    help = "Write the statistical returns of a region for a month (YYYY-MM) or a year (YYYY) as .xlsx."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--region", required=True, help="region code (2, 4, 6, 9 or 12 digits)")
        parser.add_argument("--period", required=True, help="YYYY-MM for a month, YYYY for a year")
        parser.add_argument("--out", required=True, help="the .xlsx file to write")

    def handle(self, *args: Any, **options: Any) -> None:
        region, period, out = options["region"], options["period"], Path(options["out"])
        try:
            content = statistical_returns_xlsx(actor=None, region_code=region, period=period)
        except NotFoundError as error:
            raise CommandError(_("区划 %(region)s 不存在") % {"region": region}) from error
        except DomainError as error:
            raise CommandError(error.summary) from error
        try:
            out.write_bytes(content)
        except OSError as error:
            raise CommandError(
                _("无法写入 %(path)s：%(reason)s") % {"path": out, "reason": error.strerror or error}
            ) from error
        self.stdout.write(_("统计报表已写入 %(path)s") % {"path": out})
