"""The modules shown in the navigation bar, each with the permission that reveals it."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from guanai.core.access import Actor, Permission


@dataclass(frozen=True)
class NavigationItem:
    label: str | Promise
    url_name: str
    permission: Permission
    section: str  # the first path segment, to mark the current module


MODULES = [
    NavigationItem(_("首页"), "web:home", Permission.SIGNED_IN, ""),
    NavigationItem(_("我的"), "volunteer_signup:mine", Permission.VOLUNTEER_SELF, "me"),
    NavigationItem(_("我的结对儿童"), "visits:mine", Permission.VISIT_RECORD, "visits"),
    NavigationItem(_("网吧巡查"), "cafes:inspector_home", Permission.CAFE_INSPECT, "cafes"),
    NavigationItem(_("困难青少年"), "minors:list", Permission.MINOR_VIEW, "minors"),
    # Requests to see, copy, correct or delete a child's data, with their deadline (个人信息保护法 art.44–47).
    NavigationItem(_("个人信息请求"), "rights:list", Permission.MINOR_MANAGE, "rights"),
    NavigationItem(_("五老志愿者"), "volunteers:list", Permission.VOLUNTEER_VIEW, "volunteers"),
    NavigationItem(_("结对关爱"), "pairings:list", Permission.PAIRING_VIEW, "pairings"),
    NavigationItem(_("强制报告"), "visits:reports", Permission.REPORT_MANAGE, "mandatory-reports"),
    NavigationItem(_("网吧监督"), "cafes:list", Permission.CAFE_VIEW, "cafes"),
    # Sealed cases: whoever may open one, and (from 我的) the officers and mentors assigned to one.
    NavigationItem(_("帮教案件"), "mentoring:mine", Permission.MENTORING_MANAGE, "mentoring"),
    # Online help: the professionals answer in their 咨询服务台; supervisors see figures and clocks.
    NavigationItem(
        _("咨询服务台"), "consultations_duty:queue", Permission.CONSULTATION_ANSWER, "consultations"
    ),
    NavigationItem(
        _("网上咨询监管"),
        "consultations_supervision:overview",
        Permission.CONSULTATION_SUPERVISE,
        "consultations",
    ),
    NavigationItem(_("工作指标"), "dashboards:overview", Permission.DASHBOARD_VIEW, "dashboards"),
    NavigationItem(_("关工委组织"), "committees:list", Permission.COMMITTEE_VIEW, "committees"),
    NavigationItem(_("行政区划"), "regions:mine", Permission.REGION_VIEW, "regions"),
    NavigationItem(_("用户"), "accounts:users", Permission.ACCOUNT_VIEW, "account"),
    # Staff access: granted on approval one level up, ended at once, reviewed periodically.
    NavigationItem(_("角色管理"), "accounts:roles", Permission.ACCOUNT_MANAGE, "account"),
    NavigationItem(_("审计日志"), "audit:list", Permission.AUDIT_VIEW, "audit"),
    NavigationItem(_("密钥"), "web:key_status", Permission.KEY_MANAGE, "security"),
    # Impact assessments and personal-information incidents: the security admin keeps them, the auditor reads.
    NavigationItem(_("个人信息保护"), "compliance:incidents", Permission.PRIVACY_VIEW, "compliance"),
]


def navigation_for(actor: Actor) -> list[NavigationItem]:
    return [item for item in MODULES if actor.has(item.permission)]
