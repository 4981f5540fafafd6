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


class Command(BaseCommand):
    help = (
        "生成虚构的全省数据，供性能测试和演示使用 (Generate a synthetic province of made-up children "
        "over the real villages, for benchmarks and demos; never on a real registry)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--minors", type=int, default=0, help="number of children to create")
        parser.add_argument(
            "--volunteers", type=int, default=0, help="number of volunteers (comes with the volunteer module)"
        )
        parser.add_argument("--region", default="330000000000", help="region code, short forms accepted")
        parser.add_argument("--seed", type=int, default=0, help="the same seed gives the same children")
        parser.add_argument("--batch-size", type=int, default=5000, help="children per transaction")
        parser.add_argument(
            "--force",
            action="store_true",
            help="run although GUANAI_DEBUG is off: only on a database that holds no real children",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        minors: int = options["minors"]
        volunteers: int = options["volunteers"]
        if minors < 0 or volunteers < 0:
            raise CommandError(_("数量不能为负数"))
        if not minors and not volunteers:
            raise CommandError(_("请用 --minors N 指定要生成的未成年人数量"))
        if minors and not settings.DEBUG and not options["force"]:
            raise CommandError(
                _(
                    "GUANAI_DEBUG 未开启，这可能是生产环境：虚构的儿童数据不得写入真实的登记库。"
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
            self.stdout.write(
                _(
                    "志愿者的虚构数据随志愿者模块提供，尚未实现："
                    "本次没有生成志愿者（--volunteers %(count)d 被忽略）"
                )
                % {"count": volunteers}
            )
