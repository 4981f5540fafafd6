"""The volunteers' vocabulary (DOMAIN.md §7): the five kinds of elders (五老), specialties, availability,
status, background checks, teams and service hours.

Elder categories, specialties and availability are bit sets, like the registry's categories and needs:
a volunteer is often several at once (a retired teacher who is also a veteran), a filter is one indexed
column and a bitwise AND, and an import writes one row per volunteer.
"""

from __future__ import annotations

import datetime
import enum
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from guanai.core.labels import per_language


class ElderCategory(enum.IntFlag):
    CADRE = 1  # 老干部
    VETERAN = 2  # 老战士
    EXPERT = 4  # 老专家
    TEACHER = 8  # 老教师
    MODEL_WORKER = 16  # 老模范


ELDER_CATEGORY_LABELS: dict[ElderCategory, object] = {
    ElderCategory.CADRE: _("老干部"),
    ElderCategory.VETERAN: _("老战士"),
    ElderCategory.EXPERT: _("老专家"),
    ElderCategory.TEACHER: _("老教师"),
    ElderCategory.MODEL_WORKER: _("老模范"),
}


class Specialty(enum.IntFlag):
    LAW = 1  # with a licence number
    PSYCHOLOGY = 2  # with a certificate
    TEACHING = 4  # with the subjects taught
    AGRICULTURE_TECHNOLOGY = 8
    HEALTH = 16
    CULTURE_ARTS = 32
    RED_HISTORY = 64  # 红色历史教育 (革命传统教育)


SPECIALTY_LABELS: dict[Specialty, object] = {
    Specialty.LAW: _("法律"),
    Specialty.PSYCHOLOGY: _("心理"),
    Specialty.TEACHING: _("教学辅导"),
    Specialty.AGRICULTURE_TECHNOLOGY: _("农业科技"),
    Specialty.HEALTH: _("医疗健康"),
    Specialty.CULTURE_ARTS: _("文化艺术"),
    Specialty.RED_HISTORY: _("红色历史教育"),
}

# Availability: seven days × three parts of the day, one bit each (bit = day * 3 + part), Monday first.
WEEKDAY_LABELS: tuple[object, ...] = (
    _("周一"),
    _("周二"),
    _("周三"),
    _("周四"),
    _("周五"),
    _("周六"),
    _("周日"),
)
DAY_PART_LABELS: tuple[object, ...] = (_("上午"), _("下午"), _("晚上"))
AVAILABILITY_BITS = 21
ALL_AVAILABILITY = (1 << AVAILABILITY_BITS) - 1


def availability_bit(day: int, part: int) -> int:
    """The bit of weekday `day` (0 = Monday) and part of the day `part` (0 morning, 1 afternoon,
    2 evening)."""
    if not (0 <= day < 7 and 0 <= part < 3):
        raise ValueError("day must be 0..6 and part 0..2")
    return 1 << (day * 3 + part)


def availability_slots(value: int) -> list[tuple[int, int]]:
    return [(day, part) for day in range(7) for part in range(3) if value & availability_bit(day, part)]


@per_language
def availability_label(value: int) -> str:
    """Reads "周一上午、周六下午" — or "不限" when every slot is set, "" when none."""
    if value & ALL_AVAILABILITY == ALL_AVAILABILITY:
        return str(_("不限"))
    return "、".join(
        f"{WEEKDAY_LABELS[day]}{DAY_PART_LABELS[part]}" for day, part in availability_slots(value)
    )


class Status(models.TextChoices):
    APPLYING = "applying", _("申请中")
    ACTIVE = "active", _("在岗")
    SUSPENDED = "suspended", _("暂停")
    WITHDRAWN = "withdrawn", _("退出")
    DECEASED = "deceased", _("已故")


# Which status may follow which; a change away from 在岗 carries a reason.
STATUS_CHANGES: dict[str, frozenset[str]] = {
    Status.APPLYING: frozenset({Status.ACTIVE, Status.WITHDRAWN}),
    Status.ACTIVE: frozenset({Status.SUSPENDED, Status.WITHDRAWN, Status.DECEASED}),
    Status.SUSPENDED: frozenset({Status.ACTIVE, Status.WITHDRAWN, Status.DECEASED}),
    Status.WITHDRAWN: frozenset({Status.ACTIVE, Status.DECEASED}),
    Status.DECEASED: frozenset(),
}


class Source(models.TextChoices):
    STAFF = "staff", _("工作人员登记")
    SIGNUP = "signup", _("本人报名")
    INVITATION = "invitation", _("受邀报名")
    IMPORT = "import", _("名册导入")


class CheckResult(models.TextChoices):
    """The entry and yearly check of 未成年人保护法 art.62 (records of abuse, violence and similar)."""

    CLEAR = "clear", _("无不良记录")
    FLAGGED = "flagged", _("有不良记录")


# A background check is valid for twelve months from its date (DOMAIN.md §4).
CHECK_VALIDITY_DAYS = 365
CHECK_REMINDER_DAYS = 30  # reminders start this many days before a check expires


def check_expires_on(checked_on: datetime.date) -> datetime.date:
    return checked_on + datetime.timedelta(days=CHECK_VALIDITY_DAYS)


class TeamKind(models.TextChoices):
    CARE_GROUP = "care_group", _("五老关爱团")
    STUDIO = "studio", _("五老工作室")
    SERVICE_TEAM = "service_team", _("五老志愿服务队")
    LECTURERS = "lecturers", _("讲师团")
    SCIENCE = "science", _("科技服务团")
    CAFE_SUPERVISORS = "cafe_supervisors", _("网吧义务监督员队")
    ONLINE_PUBLICISTS = "online_publicists", _("五老网宣员队")
    MENTORING = "mentoring", _("帮教团")


class TeamRole(models.TextChoices):
    LEADER = "leader", _("负责人")
    MEMBER = "member", _("成员")


class HoursSource(models.TextChoices):
    """Where a record of service hours comes from. 谁组织谁记录: the organiser records; a volunteer's own
    claim waits for the organiser's confirmation. Later modules record their services automatically."""

    ORGANISER = "organiser", _("组织方记录")
    CLAIM = "claim", _("本人申报")
    ACTIVITY = "activity", _("团队活动")
    VISIT = "visit", _("走访")
    CONSULTATION = "consultation", _("咨询服务")
    IMPORT = "import", _("历史导入")


class HoursState(models.TextChoices):
    PENDING = "pending", _("待确认")
    CONFIRMED = "confirmed", _("已确认")
    RETURNED = "returned", _("已退回")


MAX_HOURS_PER_RECORD = Decimal("24")


def star_thresholds() -> tuple[Decimal, ...]:
    """Confirmed hours needed for one to five stars, from `GUANAI_STAR_THRESHOLDS` (local rules differ:
    the common 100/300/600/1000/1500, Beijing's 100/200/500/800/1000)."""
    return tuple(Decimal(str(hours)) for hours in settings.GUANAI_STAR_THRESHOLDS)


def star_level(hours: Decimal, thresholds: tuple[Decimal, ...] | None = None) -> int:
    """0 to 5: the number of thresholds reached."""
    limits = star_thresholds() if thresholds is None else thresholds
    return sum(1 for limit in limits if hours >= limit)


STAR_LABELS: tuple[object, ...] = (
    _("未评星"),
    _("一星"),
    _("二星"),
    _("三星"),
    _("四星"),
    _("五星"),
)
