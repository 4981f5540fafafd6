"""python manage.py audit_report --year 2026 [--region 33] [--format text|csv] [--output FILE]

The yearly compliance audit report (个人信息保护合规审计), run by the operator from the server's shell (no
actor: any region; without --region the whole tree). The work is `guanai.audit.reports`; producing the
report is an `audit.report` event naming the operating-system account."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from guanai.audit.reports import audit_compliance_report, report_csv, report_text
from guanai.audit.services import audit_report_record
from guanai.core.errors import NotFoundError, ValidationFailed


class Command(BaseCommand):
    help = "生成年度个人信息保护合规审计报告（按北京时间的自然年统计，表格或 CSV）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", required=True, help="统计年度，如 2026（北京时间 1 月 1 日 0 时起）")
        parser.add_argument("--region", default="", help="区划代码，如 33、330127；默认全部区划")
        parser.add_argument("--format", default="text", choices=["text", "csv"], help="text（表格）或 csv")
        parser.add_argument("--output", default="", help="写入此文件；默认输出到屏幕")

    def handle(self, *args: Any, **options: Any) -> None:
        value = str(options["year"]).strip()
        if len(value) != 4 or not value.isascii() or not value.isdigit():
            raise CommandError(_("年份“%(year)s”无效：应为四位数字，如 2026") % {"year": value})
        try:
            report = audit_compliance_report(
                actor=None, year=int(value), region=str(options["region"]), check_chain=True
            )
        except ValidationFailed as error:
            raise CommandError(error.summary) from error
        except NotFoundError as error:
            raise CommandError(_("区划 %(code)s 不存在") % {"code": options["region"]}) from error
        file_format = options["format"]
        content = report_csv(report) if file_format == "csv" else report_text(report)
        if options["output"]:
            self._write(Path(options["output"]), content)
        else:
            self.stdout.write(content, ending="")
        audit_report_record(
            actor=None, year=report.year, region_code=report.region_code, file_format=file_format
        )
        if options["output"]:
            self.stderr.write(
                _("已生成%(title)s：%(path)s") % {"title": report.title, "path": options["output"]}
            )

    def _write(self, out: Path, content: str) -> None:
        """Written whole or not at all: a half-written report must not be taken for a finished one."""
        try:
            descriptor, temporary = tempfile.mkstemp(dir=out.parent, prefix=".audit_report-")
        except OSError as error:
            raise CommandError(
                _("无法写入 %(path)s：%(reason)s") % {"path": out, "reason": error.strerror}
            ) from error
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
                handle.write(content)
            Path(temporary).replace(out)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
