"""python manage.py annual_report --region 33 --year 2025 --format pdf --out 浙江省2025年度工作统计.pdf

The annual work report of a region (年度工作统计) as a PDF or an Excel workbook, run by the operator over
the whole tree (no actor). The work itself is `guanai.dashboards.reports`."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _
from tqdm import tqdm

from guanai.core import region_codes
from guanai.core.errors import NotFoundError, ValidationFailed
from guanai.dashboards.reports import FIRST_YEAR, annual_report_pdf, annual_report_xlsx
from guanai.regions.models import Region


class Command(BaseCommand):
    help = "生成地区的年度工作统计（PDF 或 Excel） (Write a region's annual work report as PDF or Excel.)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--region", required=True, help="region code, short forms accepted (33, 3301 …)")
        parser.add_argument("--year", required=True, help="the year reported, e.g. 2025")
        parser.add_argument("--format", required=True, choices=["pdf", "xlsx"], help="pdf or xlsx")
        parser.add_argument("--out", required=True, help="the file to write")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            code = region_codes.normalise_code(str(options["region"]))
        except ValueError as error:
            raise CommandError(
                _("区划代码“%(code)s”无效：应为 2、4、6、9 或 12 位数字") % {"code": options["region"]}
            ) from error
        region = Region.objects.filter(code=code).first()
        if region is None:
            raise CommandError(_("区划 %(code)s 不存在") % {"code": code})
        year = self._year(str(options["year"]))
        out = Path(options["out"])

        build = annual_report_pdf if options["format"] == "pdf" else annual_report_xlsx
        with tqdm(total=100, desc=region.name, unit="%", file=self.stderr._out) as bar:

            def progress(percent: int, step: str) -> None:
                bar.set_postfix_str(step, refresh=False)
                bar.update(percent - bar.n)

            try:
                document = build(actor=None, region_code=code, year=year, progress=progress)
            except (NotFoundError, ValidationFailed) as error:
                raise CommandError(error.summary) from error
        # Written whole or not at all: a half-written report must not be taken for a finished one.
        descriptor, temporary = tempfile.mkstemp(dir=out.parent or None, prefix=".annual_report-")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(document)
            Path(temporary).replace(out)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self.stdout.write(
            _("已生成%(region)s %(year)s 年度工作统计：%(path)s")
            % {"region": region.name, "year": year, "path": out}
        )

    def _year(self, value: str) -> int:
        last = timezone.localdate().year
        if not value.isascii() or not value.isdigit() or not FIRST_YEAR <= int(value) <= last:
            raise CommandError(
                _("年份“%(year)s”无效：应为 %(first)s 至 %(last)s 之间的四位数字")
                % {"year": value, "first": FIRST_YEAR, "last": last}
            )
        return int(value)
