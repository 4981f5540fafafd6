"""The vocabulary of 网吧义务监督 (internet-café supervision).

未成年人保护法 art.58: an internet café (互联网上网服务营业场所) may not admit minors; it checks the identity
of every customer and posts a notice that minors are not admitted, where everyone can see it. 五老 of the
café supervision teams (网吧义务监督员队) inspect the cafés of their area; what they find goes to the county
committee, which follows it up with the culture market's law enforcement and records the outcome.
"""

from __future__ import annotations

import datetime
import enum

from django.db import models
from django.utils.translation import gettext_lazy as _


class FindingState(models.TextChoices):
    OPEN = "open", _("待处理")
    CLOSED = "closed", _("已办结")


class FindingOutcome(models.TextChoices):
    """How the county closed a finding."""

    RECTIFICATION_ORDERED = "rectification_ordered", _("已责令整改")
    REFERRED_TO_ENFORCEMENT = "referred_to_enforcement", _("已移交文化市场综合执法")
    PENALISED = "penalised", _("已处罚")
    NO_PROBLEM_FOUND = "no_problem_found", _("经核实无问题")


class Problem(enum.IntFlag):
    """What an inspection found wrong; any of them opens a follow-up for the county (a bit set, read from
    the inspection's answers)."""

    MINORS_PRESENT = 1  # 接纳未成年人
    NO_ID_CHECKS = 2  # 未核对身份证件
    NO_NOTICE = 4  # 未悬挂未成年人禁入标志
    OTHER = 8  # 其他问题（巡查员说明）


PROBLEM_LABELS: dict[Problem, object] = {
    Problem.MINORS_PRESENT: _("接纳未成年人上网"),
    Problem.NO_ID_CHECKS: _("未核对上网人员身份证件"),
    Problem.NO_NOTICE: _("未悬挂未成年人禁入标志"),
    Problem.OTHER: _("其他问题"),
}


def problem_labels(problems: int) -> list[str]:
    return [str(label) for problem, label in PROBLEM_LABELS.items() if problems & problem]


# The county answers a finding within this many days of the inspection's record (overdue afterwards).
FOLLOW_UP_DAYS = 15
# A finding of minors in a café is urgent: the county has a week.
MINORS_FOLLOW_UP_DAYS = 7
# An inspection is recorded within a year of the day it took place (a paper form entered late).
RECORDING_WINDOW_DAYS = 365
# An inspection lasts at most a working day; its time is credited to each inspector's service hours.
MAX_DURATION_MINUTES = 720
# More than this many minors in one café is a typing error, not a finding.
MAX_MINORS_FOUND = 500
# A café "not inspected lately" (the list's filter, the dashboard's count).
INSPECTION_DUE_DAYS = 90


def follow_up_deadline(opened_on: datetime.date, *, minors_present: bool) -> datetime.date:
    days = MINORS_FOLLOW_UP_DAYS if minors_present else FOLLOW_UP_DAYS
    return opened_on + datetime.timedelta(days=days)
