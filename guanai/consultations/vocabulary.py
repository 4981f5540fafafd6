"""The online services' vocabulary (DOMAIN.md §8): the two kinds of help, their topics, who asks, how to
be contacted, the states of a request and its outcomes, the parts of a duty day and the hotlines every
urgent requester sees at once."""

from __future__ import annotations

import datetime

from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    LEGAL = "legal", _("法律咨询")
    PSYCHOLOGICAL = "psychological", _("心理咨询")


class Topic(models.TextChoices):
    # Legal (网上律师事务所)
    SCHOOL_BULLYING = "school_bullying", _("校园欺凌")
    GUARDIANSHIP = "guardianship", _("监护与抚养")
    DOMESTIC_VIOLENCE = "domestic_violence", _("家庭暴力")
    ONLINE_HARM = "online_harm", _("网络侵害")
    LABOUR_RIGHTS = "labour_rights", _("劳动权益")
    SUSPECTED_OFFENCE = "suspected_offence", _("涉嫌违法犯罪")
    LEGAL_OTHER = "legal_other", _("其他法律问题")
    # Psychological (心理志愿服务队)
    STUDY_PRESSURE = "study_pressure", _("学习压力")
    PARENT_CHILD = "parent_child", _("亲子关系")
    EMOTIONAL_DISTRESS = "emotional_distress", _("情绪困扰")
    PEER_RELATIONS = "peer_relations", _("同伴关系")
    SELF_HARM = "self_harm", _("自伤或轻生念头")
    PSYCHOLOGICAL_OTHER = "psychological_other", _("其他心理问题")


TOPICS_BY_KIND: dict[str, tuple[str, ...]] = {
    Kind.LEGAL: (
        Topic.SCHOOL_BULLYING,
        Topic.GUARDIANSHIP,
        Topic.DOMESTIC_VIOLENCE,
        Topic.ONLINE_HARM,
        Topic.LABOUR_RIGHTS,
        Topic.SUSPECTED_OFFENCE,
        Topic.LEGAL_OTHER,
    ),
    Kind.PSYCHOLOGICAL: (
        Topic.STUDY_PRESSURE,
        Topic.PARENT_CHILD,
        Topic.EMOTIONAL_DISTRESS,
        Topic.PEER_RELATIONS,
        Topic.SELF_HARM,
        Topic.PSYCHOLOGICAL_OTHER,
    ),
}
KIND_OF_TOPIC: dict[str, str] = {topic: kind for kind, topics in TOPICS_BY_KIND.items() for topic in topics}


class Requester(models.TextChoices):
    SELF = "self", _("本人")
    GUARDIAN = "guardian", _("监护人")
    TEACHER = "teacher", _("老师")
    OTHER = "other", _("其他")


class ContactPreference(models.TextChoices):
    PHONE = "phone", _("电话回访")
    ONLINE = "online", _("在线回复")


class State(models.TextChoices):
    WAITING = "waiting", _("待受理")
    ACCEPTED = "accepted", _("处理中")
    CLOSED = "closed", _("已结束")


class EscalationLevel(models.IntegerChoices):
    """Who has been told about a request nobody accepted in time: the professionals on duty for the
    request's region, then the county (its staff and every professional covering it), then the province's
    on-duty lead."""

    REGION = 0, _("本地值班")
    COUNTY = 1, _("已上报县级")
    PROVINCE = 2, _("已上报省级")


class Outcome(models.TextChoices):
    ADVICE = "advice", _("已提供咨询建议")
    LEGAL_AID = "legal_aid", _("转介法律援助")
    HOTLINE_12355 = "hotline_12355", _("转介12355")
    HOSPITAL = "hospital", _("转介医院")
    POLICE = "police", _("转介公安机关")
    SCHOOL = "school", _("转介学校")
    NO_RESPONSE = "no_response", _("求助人未再回复")


class Sender(models.TextChoices):
    REQUESTER = "requester", _("求助人")
    PROFESSIONAL = "professional", _("志愿者")
    SYSTEM = "system", _("系统")


class DeclineReason(models.TextChoices):
    CONFLICT = "conflict", _("存在利益冲突")
    UNAVAILABLE = "unavailable", _("暂时无法接待")
    OUTSIDE_EXPERTISE = "outside_expertise", _("超出专业范围")


class AppointmentMode(models.TextChoices):
    PHONE = "phone", _("电话")
    VIDEO = "video", _("视频")
    IN_PERSON = "in_person", _("面谈")


class AppointmentState(models.TextChoices):
    BOOKED = "booked", _("已预约")
    CANCELLED = "cancelled", _("已取消")
    DONE = "done", _("已完成")


class ReferralState(models.TextChoices):
    SUBMITTED = "submitted", _("已转介")
    ACCEPTED = "accepted", _("法律援助机构已受理")
    DECLINED = "declined", _("未予受理")


class ArticleState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    WITHDRAWN = "withdrawn", _("已撤回")


class DutyPart(models.IntegerChoices):
    """The parts of a duty day, in Asia/Shanghai time. The night belongs to the day it starts on."""

    MORNING = 0, _("上午 8:00–12:00")
    AFTERNOON = 1, _("下午 12:00–18:00")
    EVENING = 2, _("晚上 18:00–22:00")
    NIGHT = 3, _("夜间 22:00–次日 8:00")


DUTY_PART_HOURS: dict[int, tuple[int, int]] = {
    DutyPart.MORNING: (8, 12),
    DutyPart.AFTERNOON: (12, 18),
    DutyPart.EVENING: (18, 22),
    DutyPart.NIGHT: (22, 32),  # to 08:00 of the next day
}


def duty_slot_at(moment: datetime.datetime) -> tuple[int, int]:
    """(weekday, part) of a local moment: 02:00 on a Tuesday is Monday's night."""
    hour = moment.hour
    if hour < 8:
        return (moment.weekday() - 1) % 7, DutyPart.NIGHT
    if hour < 12:
        return moment.weekday(), DutyPart.MORNING
    if hour < 18:
        return moment.weekday(), DutyPart.AFTERNOON
    if hour < 22:
        return moment.weekday(), DutyPart.EVENING
    return moment.weekday(), DutyPart.NIGHT


# Shown at once to every urgent requester (DOMAIN.md §8), and on every public page of the service.
HOTLINES: tuple[tuple[str, object], ...] = (
    ("12355", _("青少年服务台（心理与法律援助）")),
    ("110", _("报警电话")),
    ("120", _("急救电话")),
)


def hotlines() -> list[dict[str, str]]:
    """The hotlines in the active language, as the API and the pages show them."""
    return [{"number": number, "name": str(name)} for number, name in HOTLINES]
