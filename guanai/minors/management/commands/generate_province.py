from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from tqdm import tqdm

from guanai.core import region_codes
from guanai.core.errors import ValidationFailed
from guanai.minors.generation import generate_minors
from guanai.regions.models import Region
from guanai.volunteers.generation import generate_volunteers


class Command(BaseCommand):
    help = (
        "生成虚构的全省数据，供性能测试和演示使用 (Generate a synthetic province of made-up children "
        "and 五老 volunteers over the real villages, for benchmarks and demos; never on a real registry)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--minors", type=int, default=0, help="number of children to create")
        parser.add_argument("--volunteers", type=int, default=0, help="number of 五老 volunteers to create")
        parser.add_argument("--region", default="330000000000", help="region code, short forms accepted")
        parser.add_argument("--seed", type=int, default=0, help="the same seed gives the same people")
        parser.add_argument("--batch-size", type=int, default=5000, help="people per transaction")
        parser.add_argument(
            "--force",
            action="store_true",
            help="run although GUANAI_DEBUG is off: only on a database that holds no real people",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        minors: int = options["minors"]
        volunteers: int = options["volunteers"]
        if minors < 0 or volunteers < 0:
            raise CommandError(_("数量不能为负数"))
        if not minors and not volunteers:
            raise CommandError(_("请用 --minors N 或 --volunteers M 指定要生成的未成年人或志愿者数量"))
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                _(
                    "GUANAI_DEBUG 未开启，这可能是生产环境：虚构的儿童和志愿者数据不得写入真实的数据库。"
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

        if minors:
            began = time.perf_counter()
            try:
                with tqdm(total=minors, unit="人", desc=str(region), disable=None) as bar:
                    created = generate_minors(
                        count=minors,
                        region_code=code,
                        seed=options["seed"],
                        batch_size=options["batch_size"],
                        progress=bar.update,
                    )
            except ValidationFailed as error:
                raise CommandError(error.summary) from error
            seconds = time.perf_counter() - began
            self.stdout.write(
                _(
                    "已在%(region)s生成未成年人 %(count)d 名（含监护人和同意记录），"
                    "用时 %(seconds).1f 秒，每秒 %(rate).0f 名"
                )
                % {"region": region, "count": created, "seconds": seconds, "rate": created / seconds}
            )
        if volunteers:
            began = time.perf_counter()
            try:
                with tqdm(total=volunteers, unit="人", desc=str(region), disable=None) as bar:
                    created = generate_volunteers(
                        count=volunteers,
                        region_code=code,
                        seed=options["seed"],
                        batch_size=options["batch_size"],
                        progress=bar.update,
                    )
            except ValidationFailed as error:
                raise CommandError(error.summary) from error
            seconds = time.perf_counter() - began
            self.stdout.write(
                _("已在%(region)s生成五老志愿者 %(count)d 名，用时 %(seconds).1f 秒，每秒 %(rate).0f 名")
                % {"region": region, "count": created, "seconds": seconds, "rate": created / seconds}
            )
