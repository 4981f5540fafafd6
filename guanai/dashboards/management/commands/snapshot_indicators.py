"""Build the daily indicator snapshots: the current month by default, one month (--period), or a range of
months (--from, --to) to backfill. Prints the rows written and the seconds taken per month."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from guanai.core.errors import ValidationFailed
from guanai.dashboards.indicators import Period, parse_period
from guanai.dashboards.snapshots import month_range, snapshot_build


def _month(value: str, option: str) -> Period:
    try:
        period = parse_period(value)
    except ValidationFailed as error:
        raise CommandError(f"{option}: {error.summary}") from error
    if period.is_year:
        raise CommandError(f"{option}: 快照按月生成，应为 YYYY-MM 格式")
    return period


class Command(BaseCommand):
    help = "生成指标快照（默认本月；--period 指定月份；--from/--to 补算一段月份）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", help="月份 YYYY-MM")
        parser.add_argument("--from", dest="first", help="起始月份 YYYY-MM（含）")
        parser.add_argument("--to", dest="last", help="截止月份 YYYY-MM（含）")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["period"] and (options["first"] or options["last"]):
            raise CommandError("--period 不能与 --from/--to 同时使用")
        today = timezone.localdate()
        current = Period(today.year, today.month)
        if options["first"] or options["last"]:
            first = _month(options["first"], "--from") if options["first"] else current
            last = _month(options["last"], "--to") if options["last"] else current
            if (first.year, first.month or 0) > (last.year, last.month or 0):
                raise CommandError("--from 应不晚于 --to")
            periods = month_range(first, last)
        elif options["period"]:
            periods = [_month(options["period"], "--period")]
        else:
            periods = [current]
        for period in periods:
            began = time.perf_counter()
            rows = snapshot_build(period=period, today=today)
            self.stdout.write(f"{period}: {rows} rows in {time.perf_counter() - began:.1f} s")
