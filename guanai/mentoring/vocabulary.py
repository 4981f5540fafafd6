"""The vocabulary of mentoring cases (帮教) for special youth (特殊青少年: 失足失范, 涉罪涉毒).

The law behind the rules (DOMAIN.md §4): 未成年人保护法 art.103 and 社区矫正法 art.54 forbid disclosing the
name, image, address or school of a minor in a case; 刑事诉讼法 art.286 and 预防未成年人犯罪法 art.59 seal
juvenile records, to be released only for a judicial need or a lawful query. Hence a case is seen by its
officer and mentors only, and anyone else states one of the lawful bases below for three hours' access.
"""

from __future__ import annotations

import datetime

from django.db import models
from django.utils.translation import gettext_lazy as _

from guanai.core.access import Role

# Break-the-glass access lasts this long, then the case answers 404 again.
ACCESS_GRANT_DURATION = datetime.timedelta(hours=3)

# The case number printed on the case: a prefix, the year and eight characters drawn at random from an
# alphabet without look-alikes (0/O, 1/I/L), 31**8 ≈ 8.5e11 possibilities — not guessable, easy to read
# out on the telephone.
REFERENCE_PREFIX = "BJ"
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REFERENCE_RANDOM_LENGTH = 8

# Staff who may be a case's officer (承办人): the county's and the townships' committee staff, holding a
# role in the case's county. Village liaisons see registry records masked and are not case officers.
OFFICER_ROLES: frozenset[str] = frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP_ADMIN})


class CaseState(models.TextChoices):
    OPEN = "open", _("帮教中")
    CLOSED = "closed", _("已结案")


class CaseOutcome(models.TextChoices):
    """How a case ended."""

    REINTEGRATED = "reintegrated", _("顺利回归（复学、就业）")
    CORRECTION_COMPLETED = "correction_completed", _("社区矫正期满解除")
    AGED_OUT = "aged_out", _("年满18周岁，转出帮教")
    MOVED_AWAY = "moved_away", _("迁出本地，转介接续")
    REOFFENDED = "reoffended", _("再次违法犯罪，移交司法机关")
    OTHER = "other", _("其他")


class GoalStatus(models.TextChoices):
    PLANNED = "planned", _("未开始")
    IN_PROGRESS = "in_progress", _("进行中")
    ACHIEVED = "achieved", _("已达成")
    DROPPED = "dropped", _("已调整取消")


class LawfulBasis(models.TextChoices):
    """Why someone who is neither the officer nor a mentor may open a sealed case (刑事诉讼法 art.286:
    sealed records are released only to judicial organs for a case, or to units querying under national
    rules; 未成年人保护法: the child's safety comes first)."""

    JUDICIAL_NEED = "judicial_need", _("司法机关办案需要（刑事诉讼法第二百八十六条）")
    LAWFUL_QUERY = "lawful_query", _("有关单位根据国家规定查询")
    CHILD_SAFETY = "child_safety", _("未成年人人身安全的紧急需要")
    CASE_CONTINUITY = "case_continuity", _("承办人缺位期间的帮教工作衔接")


# The shortest account of the reason that is accepted beside the lawful basis.
REASON_TEXT_MIN_LENGTH = 10
