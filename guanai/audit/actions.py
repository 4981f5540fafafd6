"""The names of audit actions, in words. An action code is `<area>.<what happened>`; a module that records
a new action adds its label here. An action without a label is shown as its code."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ACTION_LABELS: dict[str, str | Promise] = {
    # Signing in and out (guanai.accounts, guanai.web)
    "auth.login": _("登录"),
    "auth.login_failed": _("登录失败"),
    "auth.locked_out": _("账号被锁定"),
    "auth.logout": _("退出登录"),
    "auth.password_changed": _("修改密码"),
    "auth.sms_code_sent": _("发送短信验证码"),
    "auth.second_factor_enrolled": _("启用双因素认证"),
    "auth.second_factor_verified": _("通过双因素认证"),
    "auth.second_factor_failed": _("双因素认证失败"),
    "auth.recovery_code_used": _("使用恢复码"),
    "auth.recovery_codes_renewed": _("重新生成恢复码"),
    # Access
    "access.denied": _("越权访问被拒绝"),
    "personal_data.unmask": _("查看敏感信息原文"),
    # Organisations
    "committee.create": _("新建关工委"),
    "committee.member_add": _("添加关工委成员"),
    # The audit trail itself
    "audit.purged": _("清理过期审计日志"),
}


def action_label(code: str) -> str | Promise:
    return ACTION_LABELS.get(code, code)
