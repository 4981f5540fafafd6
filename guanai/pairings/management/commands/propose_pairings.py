"""Propose pairings (结对建议) for a city, county or township.

    python manage.py propose_pairings --region CODE [--json] [--save] [--workers N]

Runs as the system (no user). With --json stdout holds exactly one JSON object
{"children": N, "volunteers": N, "proposed": N, "unassigned": N, "total_cost": X, "seconds": S}
(`MatchResult.summary`); without it, a readable summary. --save keeps the run for staff to preview and
accept on the pairings page (an audit event without an actor); nothing is paired by this command.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from guanai.core.errors import DomainError
from guanai.pairings.matching import UnassignedReason
from guanai.pairings.services import proposals_as_system


class Command(BaseCommand):
    help = "Propose pairings of unpaired children with volunteers for a city, county or township."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--region", required=True, help="code of the city, county or township")
        parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
        parser.add_argument("--save", action="store_true", help="keep the run for staff to accept")
        parser.add_argument("--workers", type=int, default=1, help="processes solving the counties")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["workers"] < 1:
            raise CommandError(_("--workers 至少为 1"))
        try:
            result, run = proposals_as_system(
                region_code=options["region"], save=options["save"], workers=options["workers"]
            )
        except DomainError as error:
            raise CommandError(error.summary) from error
        summary = result.summary()
        if options["json"]:
            self.stdout.write(json.dumps(summary))
            return
        self.stdout.write(
            _(
                "儿童 %(children)d 名，志愿者 %(volunteers)d 名：建议结对 %(proposed)d 对，"
                "未匹配 %(unassigned)d 名；总代价 %(total_cost)d，用时 %(seconds).3f 秒。"
            )
            % summary
        )
        for reason, count in sorted(Counter(result.unassigned.values()).items()):
            self.stdout.write(
                _("  未匹配 %(count)d 名：%(reason)s")
                % {"count": count, "reason": UnassignedReason(reason).label}
            )
        if run is not None:
            self.stdout.write(_("已保存为结对建议 #%(id)d，可在结对关爱页面预览并采纳。") % {"id": run.pk})
