"""The body of the roster import commands (`import_minors`, `import_volunteers`).

    python manage.py import_<roster> FILE --region CODE [--dry-run] [--error-report OUT.xlsx] [--json]

Runs as the system (no user): the audit event has no actor. A progress bar goes to stderr; with --json
stdout holds exactly one JSON object {"rows", "created", "updated", "unchanged", "errors": [...]}.
The exit code is non-zero only when the file itself cannot be read (or the region does not exist):
refused rows are part of a successful run.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any, Unpack

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from tqdm import tqdm

from guanai.core.errors import DomainError
from guanai.imports.reading import RosterReadError
from guanai.imports.results import ImportResult, write_error_report
from guanai.imports.running import RosterImportOptions

ERRORS_SHOWN = 50


class RosterImportCommand(BaseCommand):
    """A command that imports one kind of roster: a subclass says which, as
    `import_roster = staticmethod(minor_roster_import)`."""

    def import_roster(self, **options: Unpack[RosterImportOptions]) -> ImportResult:
        raise NotImplementedError

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path, help="the roster: .xlsx, .xls or .csv")
        parser.add_argument("--region", required=True, help="code of the county, township or village")
        parser.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
        parser.add_argument("--error-report", type=Path, help="write the refused rows to this .xlsx")
        parser.add_argument("--json", action="store_true", help="print the result as one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(_("找不到文件：%(path)s") % {"path": path})
        bar = tqdm(total=None, unit="行", desc=_("导入"), file=self.stderr, disable=None)

        def progress(done: int, total: int | None) -> None:
            if total is not None and bar.total != total:
                bar.total = total
            bar.n = done
            bar.refresh()

        try:
            result = self.import_roster(
                actor=None,
                path_or_file=path,
                region_code=options["region"],
                dry_run=options["dry_run"],
                progress=progress,
            )
        except RosterReadError as error:
            raise CommandError(
                _("无法读取文件 %(file)s：%(reason)s") % {"file": path.name, "reason": error.message}
            ) from error
        except DomainError as error:
            raise CommandError(error.summary) from error
        finally:
            bar.close()
        report: Path | None = options["error_report"]
        if report is not None and result.errors:
            write_error_report(result, path, report)
        if options["json"]:
            self.stdout.write(json.dumps(result.as_json(), ensure_ascii=False))
            return
        self._summary(result, report)

    def _summary(self, result: ImportResult, report: Path | None) -> None:
        verb = _("试导入（未写入）") if result.dry_run else _("导入完成")
        self.stdout.write(
            _(
                "%(verb)s：共 %(rows)d 行，新增 %(created)d，更新 %(updated)d，未变 %(unchanged)d，"
                "拒绝 %(refused)d 行。"
            )
            % {
                "verb": verb,
                "rows": result.rows,
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "refused": len(result.refused_rows),
            }
        )
        for error in result.errors[:ERRORS_SHOWN]:
            self.stdout.write(f"  第 {error.row} 行 【{error.column}】 {error.message}（{error.code}）")
        if len(result.errors) > ERRORS_SHOWN:
            self.stdout.write(_("  ……另有 %(count)d 条错误") % {"count": len(result.errors) - ERRORS_SHOWN})
        if report is not None and result.errors:
            self.stdout.write(_("错误行已写入 %(path)s，修改后可直接重新导入。") % {"path": report})
