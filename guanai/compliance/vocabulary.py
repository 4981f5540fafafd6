"""The words of the impact assessments (个人信息保护影响评估, 个人信息保护法 art. 55–56) and of the
personal-information incidents (个人信息安全事件, art. 57)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

# Art. 56: the assessment report and the record of the processing are kept at least three years.
ASSESSMENT_KEEP_YEARS = 3
# A reason for not notifying the people affected must say what avoids the harm, not just "已处理".
REASON_MIN_LENGTH = 10
TEXT_MAX_LENGTH = 4000


class ProcessingKind(models.TextChoices):
    """The processing an assessment is made for (the cases of art. 55, as they occur here)."""

    IMPORT = "import", _("批量导入个人信息（如花名册导入）")
    SHARING = "sharing", _("向其他单位提供（如学校、民政、司法部门）")
    EXPORT = "export", _("导出个人信息")
    AUTOMATED = "automated", _("自动化决策（如结对自动匹配）")
    ENTRUSTED = "entrusted", _("委托第三方处理")
    DISCLOSURE = "disclosure", _("公开个人信息")
    SENSITIVE = "sensitive", _("处理敏感个人信息的其他活动")
    OTHER = "other", _("其他对个人权益有重大影响的处理")


class LegalBasis(models.TextChoices):
    """The lawful bases of processing (个人信息保护法, 个人信息处理规则)."""

    CONSENT = "consent", _("取得个人（不满十四周岁的为其监护人）的同意")
    CONTRACT = "contract", _("订立、履行合同或人力资源管理所必需")
    LEGAL_DUTY = "legal_duty", _("履行法定职责或者法定义务所必需")
    EMERGENCY = "emergency", _("应对突发公共卫生事件或紧急情况下保护生命健康和财产安全所必需")
    PUBLIC_INTEREST = "public_interest", _("为公共利益实施新闻报道、舆论监督等行为")
    PUBLISHED = "published", _("在合理范围内处理已公开的个人信息")
    OTHER_LAW = "other_law", _("法律、行政法规规定的其他情形")


class Conclusion(models.TextChoices):
    ACCEPTABLE = "acceptable", _("风险可控，可以开展")
    CONDITIONAL = "conditional", _("落实所列措施后方可开展")
    REJECTED = "rejected", _("风险过高，不得开展")


class IncidentKind(models.TextChoices):
    LEAK = "leak", _("泄露")
    TAMPERING = "tampering", _("篡改")
    LOSS = "loss", _("丢失")
    UNLAWFUL_ACCESS = "unlawful_access", _("非法访问或越权访问")
    OTHER = "other", _("其他")


class IncidentStatus(models.TextChoices):
    OPEN = "open", _("处置中")
    CONTAINED = "contained", _("已控制")
    CLOSED = "closed", _("已结案")


class AuthorityChannel(models.TextChoices):
    WRITTEN = "written", _("书面报告")
    PLATFORM = "platform", _("网信部门报送平台或电子邮件")
    PHONE = "phone", _("电话（随后书面报告）")
    IN_PERSON = "in_person", _("当面报告")


class IndividualsChannel(models.TextChoices):
    PHONE = "phone", _("电话")
    SMS = "sms", _("短信")
    LETTER = "letter", _("书面通知")
    IN_PERSON = "in_person", _("当面告知")
    ANNOUNCEMENT = "announcement", _("公告（无法逐一通知时）")


class IndividualsDecision(models.TextChoices):
    PENDING = "pending", _("尚未决定")
    NOTIFIED = "notified", _("已通知个人或其监护人")
    NOT_NOTIFIED = "not_notified", _("不通知（所采取的措施能够有效避免危害）")


class DataCategory(models.IntegerChoices):
    """The kinds of personal data an incident touched, as bits: chosen from a list, never typed, so that
    no free text (a child's name) lands in a plain column."""

    NAME = 1, _("姓名")
    ID_NUMBER = 2, _("身份证件号码")
    CONTACT = 4, _("联系电话")
    ADDRESS = 8, _("住址")
    SCHOOL = 16, _("就读学校")
    FAMILY = 32, _("家庭及监护情况")
    HEALTH = 64, _("健康或心理状况")
    JUSTICE = 128, _("违法犯罪或帮教记录")
    PHOTO = 256, _("照片、影像")
    CONSULTATION = 512, _("咨询内容")
    ACCOUNT = 1024, _("账号及登录信息")
    OTHER = 2048, _("其他")


ALL_DATA_CATEGORIES = sum(category.value for category in DataCategory)
