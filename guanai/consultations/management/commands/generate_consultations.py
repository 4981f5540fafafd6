from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from tqdm import tqdm

from guanai.consultations.generation import generate_consultations
from guanai.core import region_codes
from guanai.core.errors import ValidationFailed
from guanai.regions.models import Region


class Command(BaseCommand):
    help = (
        "生成虚构的历史网上求助，供性能测试和演示使用 (Generate made-up historical requests for online legal "
        "and psychological help over the real villages and townships of a region, for benchmarks and demos; "
        "never on a real desk)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--region", default="330000000000", help="region code, short forms accepted")
        parser.add_argument("--count", type=int, required=True, help="number of requests to create")
        parser.add_argument("--days", type=int, default=365, help="spread over this many days up to now")
        parser.add_argument("--seed", type=int, default=0, help="the same seed gives the same requests")
        parser.add_argument("--batch-size", type=int, default=10_000, help="requests per transaction")
        parser.add_argument(
            "--encrypt-each-row",
            action="store_true",
            help="encrypt every placeholder value on its own (slower; by default one ciphertext per batch)",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="run although GUANAI_DEBUG is off: only on a database that holds no real requests",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        count: int = options["count"]
        if count <= 0:
            raise CommandError(_("请用 --count N 指定要生成的求助数量（正整数）"))
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                _(
                    "GUANAI_DEBUG 未开启，这可能是生产环境：虚构的求助不得写入真实的数据库。"
                    "确认这是测试库后，加 --force 重新运行。"
                )
            )
        try:
            code = region_codes.normalise_code(options["region"])
        except ValueError as error:
            raise CommandError(_("区划代码“%(code)s”无效") % {"code": options["region"]}) from error
        region = Region.objects.filter(code=code).first()
        if region is None:
            raise CommandError(
                _("区划 %(code)s 不存在：请先运行 python manage.py load_regions") % {"code": code}
            )
        began = time.perf_counter()
        try:
            with tqdm(total=count, unit="件", desc=str(region), disable=None) as bar:
                created = generate_consultations(
                    count=count,
                    region_code=code,
                    days=options["days"],
                    seed=options["seed"],
                    batch_size=options["batch_size"],
                    encrypt_each_row=options["encrypt_each_row"],
                    progress=bar.update,
                )
        except ValidationFailed as error:
            raise CommandError(error.summary) from error
        seconds = time.perf_counter() - began
        self.stdout.write(
            _(
                "已在%(region)s生成近 %(days)d 天的网上求助 %(count)d 件，"
                "用时 %(seconds).1f 秒，每秒 %(rate).0f 件"
            )
            % {
                "region": region,
                "days": options["days"],
                "count": created,
                "seconds": seconds,
                "rate": created / seconds if seconds else 0,
            }
        )
