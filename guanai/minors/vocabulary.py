"""The registry's vocabulary: target groups (DOMAIN.md §3), needs, and the facts behind each group.

Categories and needs are stored as bit sets (one integer column each): a child may be in several groups
at once, filters stay one indexed column and a bitwise AND, and an import writes one row per child.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.db.models import F, QuerySet
from django.utils.translation import gettext_lazy as _


class Category(enum.IntFlag):
    LEFT_BEHIND = 1  # 农村留守儿童
    PLIGHT_POVERTY = 2  # 困境儿童 一类：家庭贫困
    PLIGHT_DISABILITY = 4  # 困境儿童 二类：自身残疾
    PLIGHT_GUARDIANSHIP = 8  # 困境儿童 三类：监护缺失或不当
    UNSUPPORTED = 16  # 事实无人抚养儿童
    MIGRANT = 32  # 新居民子女
    HARDSHIP = 64  # 困难家庭
    SPECIAL = 128  # 特殊青少年 (失足失范 / 涉罪涉毒): a sealed record


CATEGORY_LABELS: dict[Category, object] = {
    Category.LEFT_BEHIND: _("农村留守儿童"),
    Category.PLIGHT_POVERTY: _("困境儿童（家庭贫困）"),
    Category.PLIGHT_DISABILITY: _("困境儿童（自身残疾）"),
    Category.PLIGHT_GUARDIANSHIP: _("困境儿童（监护缺失或不当）"),
    Category.UNSUPPORTED: _("事实无人抚养儿童"),
    Category.MIGRANT: _("新居民子女"),
    Category.HARDSHIP: _("困难家庭"),
    Category.SPECIAL: _("特殊青少年"),
}


class Need(enum.IntFlag):
    STUDY = 1
    PSYCHOLOGICAL = 2
    LEGAL = 4
    ECONOMIC = 8
    HEALTH = 16
    SAFETY = 32
    OTHER = 64


NEED_LABELS: dict[Need, object] = {
    Need.STUDY: _("学业"),
    Need.PSYCHOLOGICAL: _("心理"),
    Need.LEGAL: _("法律"),
    Need.ECONOMIC: _("经济"),
    Need.HEALTH: _("健康"),
    Need.SAFETY: _("安全"),
    Need.OTHER: _("其他"),
}

# The facts recorded behind the groups (key → label); values are short free text.
FACTS: dict[str, object] = {
    "father_situation": _("父亲情况（外出务工地点、患病、服刑、失联等）"),
    "mother_situation": _("母亲情况（外出务工地点、患病、服刑、失联等）"),
    "illness": _("本人或家庭成员患病情况"),
    "disability_grade": _("残疾类别与等级"),
    "imprisonment": _("父母服刑或强制隔离戒毒情况（起止时间）"),
    "hardship_type": _("困难家庭类型（低保、低边、建档立卡等）"),
    "other": _("其他情况"),
}


class Gender(models.TextChoices):
    MALE = "male", _("男")
    FEMALE = "female", _("女")


class HouseholdType(models.TextChoices):
    RURAL = "rural", _("农业户口")
    URBAN = "urban", _("非农业户口")


class RiskLevel(models.TextChoices):
    LOW = "low", _("低")
    MEDIUM = "medium", _("中")
    HIGH = "high", _("高")


class Status(models.TextChoices):
    ACTIVE = "active", _("在册")
    CLOSED = "closed", _("已结案")
    AGED_OUT = "aged_out", _("已满18周岁")


class SpecialKind(models.TextChoices):
    MISCONDUCT = "misconduct", _("失足失范")
    OFFENCE_OR_DRUGS = "offence_or_drugs", _("涉罪涉毒")


class ConsentScope(models.TextChoices):
    REGISTRATION = "registration", _("登记建档")
    PAIRING = "pairing", _("结对关爱")
    REFERRAL = "referral", _("转介服务")
    SHARING = "sharing", _("信息共享")


def bits(flags: Iterable[enum.IntFlag]) -> int:
    total = 0
    for flag in flags:
        total |= int(flag)
    return total


def members(flag_type: type[Category] | type[Need], value: int) -> list[Category] | list[Need]:
    return [flag for flag in flag_type if value & int(flag)]  # type: ignore[return-value]


def with_all_bits(queryset: QuerySet[Any], field: str, value: int) -> QuerySet[Any]:
    """Rows whose bit set `field` holds every bit of `value`."""
    if not value:
        return queryset
    alias = f"{field}_selected"
    return queryset.alias(**{alias: F(field).bitand(value)}).filter(**{alias: value})
