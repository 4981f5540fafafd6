"""The pairings' vocabulary: lifecycle, closing reasons, visits and mandatory reports (DOMAIN.md §4, §7)."""

from __future__ import annotations

import enum

from django.db import models
from django.utils.translation import gettext_lazy as _


class PairingState(models.TextChoices):
    PROPOSED = "proposed", _("拟结对")
    ACTIVE = "active", _("结对中")
    CLOSED = "closed", _("已解除")


class CloseReason(models.TextChoices):
    AGED_OUT = "aged_out", _("已满18周岁")
    MOVED_AWAY = "moved_away", _("迁出")
    GOAL_REACHED = "goal_reached", _("目标达成")
    VOLUNTEER_UNABLE = "volunteer_unable", _("志愿者无法继续")
    CONSENT_WITHDRAWN = "consent_withdrawn", _("监护人撤回同意")
    SAFETY = "safety", _("安全顾虑")
    OTHER = "other", _("其他")


# Reasons after which the child should be offered another volunteer (a rematch suggestion).
REMATCH_REASONS = frozenset({CloseReason.VOLUNTEER_UNABLE, CloseReason.SAFETY, CloseReason.OTHER})


class VisitMode(models.TextChoices):
    HOME = "home", _("入户")
    SCHOOL = "school", _("到校")
    PHONE = "phone", _("电话")
    VIDEO = "video", _("视频")
    ACTIVITY = "activity", _("活动")


class VisitActivity(enum.IntFlag):
    """Quick picks of what was done (a bit set)."""

    TALK = 1  # 谈心聊天
    HOMEWORK = 2  # 辅导功课
    SAFETY_EDUCATION = 4  # 安全教育
    GUARDIAN_CONTACT = 8  # 联系监护人
    SUPPLIES = 16  # 送学习生活用品
    HEALTH = 32  # 关注身体健康
    OUTING = 64  # 陪同参加活动


VISIT_ACTIVITY_LABELS: dict[VisitActivity, object] = {
    VisitActivity.TALK: _("谈心聊天"),
    VisitActivity.HOMEWORK: _("辅导功课"),
    VisitActivity.SAFETY_EDUCATION: _("安全教育"),
    VisitActivity.GUARDIAN_CONTACT: _("联系监护人"),
    VisitActivity.SUPPLIES: _("送学习生活用品"),
    VisitActivity.HEALTH: _("关注身体健康"),
    VisitActivity.OUTING: _("陪同参加活动"),
}


class Condition(models.TextChoices):
    """The child's condition in one area (学习, 健康, 情绪, 安全), as the visitor saw it."""

    GOOD = "good", _("良好")
    FAIR = "fair", _("一般")
    CONCERN = "concern", _("需关注")


class SafetyConcern(enum.IntFlag):
    """Concerns that oblige a mandatory report (强制报告, 未成年人保护法 art.11)."""

    ABUSE = 1  # 遭受虐待、暴力
    NEGLECT = 2  # 疏于照料
    SELF_HARM = 4  # 自伤自杀风险
    NO_CARER = 8  # 无人照料


SAFETY_CONCERN_LABELS: dict[SafetyConcern, object] = {
    SafetyConcern.ABUSE: _("疑似遭受虐待或暴力"),
    SafetyConcern.NEGLECT: _("疏于照料"),
    SafetyConcern.SELF_HARM: _("有自伤或轻生风险"),
    SafetyConcern.NO_CARER: _("无人照料"),
}


class ReportState(models.TextChoices):
    OPEN = "open", _("待处置")
    CLOSED = "closed", _("已办结")


class ReportOutcome(models.TextChoices):
    POLICE = "police", _("已报告公安机关")
    CIVIL_AFFAIRS = "civil_affairs", _("已转民政部门")
    SCHOOL = "school", _("已告知学校")
    GUARDIAN_REMEDIED = "guardian_remedied", _("监护人已整改")
    MEDICAL = "medical", _("已送医或转介心理服务")
    UNFOUNDED = "unfounded", _("经核实无安全问题")
