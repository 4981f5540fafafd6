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
    # The registry of children (guanai.minors)
    "minor.view": _("查看儿童信息"),
    "minor.create": _("登记儿童"),
    "minor.update": _("修改儿童信息"),
    "minor.close": _("结案"),
    "minor.merged": _("合并重复记录（保留）"),
    "minor.merged_away": _("合并重复记录（并入他档）"),
    "minor.duplicate_dismissed": _("核实为不同儿童"),
    "minor.transfer_requested": _("申请转移"),
    "minor.consent_withdrawn": _("撤回同意"),
    "minors.aged_out": _("年满18周岁自动结案"),
    "minors.export": _("导出名册"),
    "minors.import": _("导入花名册"),
    "export.approved": _("批准导出"),
    "export.declined": _("拒绝导出"),
    # The volunteers (guanai.volunteers)
    "volunteer.create": _("登记志愿者"),
    "volunteer.update": _("修改志愿者信息"),
    "volunteer.status": _("变更志愿者状态"),
    "volunteer.background_check": _("记录背景审查"),
    "volunteer.training": _("记录培训"),
    "volunteer.honour": _("记录所获荣誉"),
    "volunteer.honour_roll_consent": _("设置光荣榜展示"),
    "volunteer.signup": _("志愿者报名"),
    "volunteer.signup_approved": _("通过志愿者报名"),
    "volunteer.signup_returned": _("退回志愿者报名"),
    "volunteer.invitation_created": _("创建报名邀请"),
    "volunteer.invitation_revoked": _("撤销报名邀请"),
    "volunteer.certificate_issued": _("出具服务证明"),
    "volunteer.certificate_revoked": _("作废服务证明"),
    "volunteer.check_reminder_sent": _("发送背景审查到期提醒"),
    "volunteers.import": _("导入志愿者名册"),
    "volunteers.export": _("导出志愿者名册"),
    "hours.record": _("记录服务时长"),
    "hours.claim": _("申报服务时长"),
    "hours.confirm": _("确认服务时长"),
    "hours.return": _("退回服务时长申报"),
    "hours.correct": _("更正服务时长"),
    "team.create": _("新建五老队伍"),
    "team.member_add": _("添加队伍成员"),
    "team.member_remove": _("移出队伍成员"),
    "team.activity": _("记录队伍活动"),
    # Pairings (guanai.pairings)
    "pairing.proposals": _("生成结对建议"),
    "pairing.accept": _("采纳结对建议"),
    "pairing.create": _("建立结对"),
    "pairing.activate": _("开始结对"),
    "pairing.close": _("解除结对"),
    "pairing.conflict": _("申报利益冲突"),
    "visit.record": _("记录走访"),
    "visit.photo": _("上传走访照片"),
    "visit.photo_view": _("查看走访照片"),
    "report.open": _("启动强制报告"),
    "report.close": _("强制报告办结"),
    # Sealed mentoring cases (guanai.mentoring)
    "mentoring.open": _("帮教立案"),
    "mentoring.view": _("查看帮教案件"),
    "mentoring.officer_changed": _("变更帮教案件承办人"),
    "mentoring.mentor_assigned": _("指派帮教人"),
    "mentoring.mentor_removed": _("解除帮教人"),
    "mentoring.goal_added": _("添加帮教目标"),
    "mentoring.goal_updated": _("更新帮教目标进展"),
    "mentoring.review": _("记录月度帮教评估"),
    "mentoring.correction_updated": _("记录社区矫正信息"),
    "mentoring.close": _("帮教案件结案"),
    "mentoring.break_glass": _("依法申请查阅封存案件"),
    "mentoring.break_glass_revoked": _("撤销查阅授权"),
    # Internet-café supervision (guanai.cafes)
    "cafe.create": _("登记网吧"),
    "cafe.update": _("修改网吧信息"),
    "cafe.close": _("登记网吧停业"),
    "cafe.inspection": _("记录网吧巡查"),
    "cafe.finding_follow_up": _("记录网吧问题跟进"),
    "cafe.finding_close": _("办结网吧巡查问题"),
    "cafe.photo_view": _("查看巡查照片"),
    # The audit trail itself
    "audit.purged": _("清理过期审计日志"),
}


def action_label(code: str) -> str | Promise:
    return ACTION_LABELS.get(code, code)
