from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from guanai.audit.services import current_operator
from guanai.consultations.retention import (
    consultations_expired_counts,
    consultations_purge_expired,
    retention_cutoff,
    retention_years,
)


class Command(BaseCommand):
    help = (
        "删除结束已超过保存期限（GUANAI_CONSULTATION_RETENTION_YEARS 年）的网上求助中的个人信息，"
        "保留统计所需的类别、地区、时间和处理结果 (Erase the personal data of online requests closed "
        "longer ago than the retention period; the daily task consultations.purge_expired does the same)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="只统计将要删除的数量，不做任何修改")

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        if options["dry_run"]:
            counts = consultations_expired_counts(now=now)
            text = _(
                "试运行，未做任何修改。保存期限 %(years)d 年，%(cutoff)s 之前结束的求助："
                "将删除 %(consultations)d 件求助的个人信息、%(messages)d 条留言、%(attachments)d 个附件、"
                "%(appointments)d 条预约备注和 %(referrals)d 份法律援助案情摘要。"
            )
        else:
            counts = consultations_purge_expired(now=now, operator=current_operator())
            text = _(
                "保存期限 %(years)d 年，%(cutoff)s 之前结束的求助："
                "已删除 %(consultations)d 件求助的个人信息、%(messages)d 条留言、%(attachments)d 个附件、"
                "%(appointments)d 条预约备注和 %(referrals)d 份法律援助案情摘要。"
            )
        cutoff = timezone.localtime(retention_cutoff(now=now))
        shown = _("%(year)d年%(month)d月%(day)d日 %(time)s") % {
            "year": cutoff.year,
            "month": cutoff.month,
            "day": cutoff.day,
            "time": f"{cutoff:%H:%M}",
        }
        self.stdout.write(text % {"years": retention_years(), "cutoff": shown, **counts})
