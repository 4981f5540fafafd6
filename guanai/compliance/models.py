"""Impact assessments (个人信息保护影响评估, 个人信息保护法 art. 55–56) and personal-information incidents
(个人信息安全事件, art. 57), kept by the security administrator of a committee's region.

An assessment is a record of evidence: once made it is not edited; a later assessment of the same
processing supersedes it and both are kept. It is kept at least three years (`keep_until`), and the only
way to delete one (`guanai.compliance.services.assessment_delete`) refuses before that day. An incident is
never deleted. What an incident says about what happened, its causes, remedies and harm can name people,
so those texts are encrypted; its plain columns hold only choices, counts, dates and the authority's
reference — never a child's name.
"""

from __future__ import annotations

import datetime

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from guanai.compliance.vocabulary import (
    ALL_DATA_CATEGORIES,
    AuthorityChannel,
    Conclusion,
    DataCategory,
    IncidentKind,
    IncidentStatus,
    IndividualsChannel,
    IndividualsDecision,
    LegalBasis,
    ProcessingKind,
)
from guanai.core.access import RegionScoped, RegionScopedQuerySet
from guanai.core.crypto import EncryptedTextField


class ImpactAssessmentQuerySet(RegionScopedQuerySet["ImpactAssessment"]):
    pass


class ImpactAssessment(RegionScoped, models.Model):
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("评估事项"), max_length=100)
    processing_kind = models.CharField(_("处理活动类型"), max_length=16, choices=ProcessingKind.choices)
    processing_description = models.TextField(_("处理活动说明"))
    purpose = models.TextField(_("处理目的"))
    legal_basis = models.CharField(_("处理依据"), max_length=16, choices=LegalBasis.choices)
    data_categories = models.TextField(_("涉及的个人信息种类"))
    involves_sensitive_data = models.BooleanField(_("涉及敏感个人信息"), default=False)
    involves_children_under_14 = models.BooleanField(_("涉及不满十四周岁未成年人的个人信息"), default=False)
    risks = models.TextField(_("发现的风险"))
    measures = models.TextField(_("采取的保护措施"))
    conclusion = models.CharField(_("评估结论"), max_length=12, choices=Conclusion.choices)
    conclusion_note = models.TextField(_("结论说明"), blank=True, default="")
    assessors = models.CharField(_("评估人员"), max_length=200)
    assessed_on = models.DateField(_("评估日期"))
    keep_until = models.DateField(_("保存至"))
    supersedes = models.OneToOneField(
        "self",
        verbose_name=_("替代的评估"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="superseded_by",
    )
    recorded_by = models.ForeignKey(
        "accounts.User", verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    objects = ImpactAssessmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("个人信息保护影响评估")
        verbose_name_plural = _("个人信息保护影响评估")
        ordering = ["-assessed_on", "-id"]
        indexes = [
            models.Index(fields=["region", "assessed_on"], name="compliance_assessment_region"),
            models.Index(fields=["processing_kind"], name="compliance_assessment_kind"),
        ]
        constraints = [
            models.CheckConstraint(
                # Art. 56: kept at least three years; `keep_until` is set by the service, three years on.
                condition=Q(keep_until__gt=F("assessed_on")),
                name="compliance_assessment_kept_after_assessment",
            ),
            models.CheckConstraint(
                # Art. 28: the personal information of a child under 14 is sensitive.
                condition=Q(involves_children_under_14=False) | Q(involves_sensitive_data=True),
                name="compliance_assessment_children_data_is_sensitive",
            ),
            models.CheckConstraint(
                condition=Q(conclusion__in=Conclusion.values), name="compliance_assessment_conclusion_known"
            ),
        ]

    def __str__(self) -> str:
        return str(
            _("%(title)s（%(date)s）")
            % {"title": self.title, "date": date_format(self.assessed_on, "Y年n月j日")}
        )

    def is_kept_on(self, day: datetime.date) -> bool:
        """Whether the assessment must still be kept on `day`."""
        return day < self.keep_until


class PrivacyIncidentQuerySet(RegionScopedQuerySet["PrivacyIncident"]):
    def overdue(self, now: datetime.datetime) -> PrivacyIncidentQuerySet:
        """Incidents not reported to the authority whose reporting time has passed (at exactly the time,
        not yet: the clock allows its N hours)."""
        return self.filter(authority_notified_at__isnull=True, report_due_at__lt=now)

    def not_overdue(self, now: datetime.datetime) -> PrivacyIncidentQuerySet:
        """Incidents reported to the authority, or whose reporting time has not passed."""
        return self.filter(Q(authority_notified_at__isnull=False) | Q(report_due_at__gte=now))


class PrivacyIncident(RegionScoped, models.Model):
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("事件类型"), max_length=16, choices=IncidentKind.choices)
    discovered_at = models.DateTimeField(_("发现时间"))
    report_due_at = models.DateTimeField(_("报告期限"))
    description = EncryptedTextField(_("事件经过"))
    data_categories = models.PositiveIntegerField(_("涉及的个人信息种类"), default=0)
    affected_count = models.PositiveIntegerField(_("涉及人数"))
    affected_minors_count = models.PositiveIntegerField(_("其中未成年人人数"))
    causes = EncryptedTextField(_("原因"), blank=True, default="")
    remedial_measures = EncryptedTextField(_("已采取的补救措施"), blank=True, default="")
    possible_harm = EncryptedTextField(_("可能造成的危害"), blank=True, default="")
    status = models.CharField(
        _("状态"), max_length=10, choices=IncidentStatus.choices, default=IncidentStatus.OPEN
    )
    # Notice to the 网信 authority or the competent department.
    authority_notified_at = models.DateTimeField(_("报告主管部门时间"), null=True, blank=True)
    authority_channel = models.CharField(
        _("报告方式"), max_length=10, choices=AuthorityChannel.choices, blank=True, default=""
    )
    authority_name = models.CharField(_("报告对象"), max_length=100, blank=True, default="")
    authority_reference = models.CharField(_("报告编号或回执"), max_length=60, blank=True, default="")
    authority_notified_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Notice to the people affected or their guardians, or why not (art. 57 para 2).
    individuals_decision = models.CharField(
        _("通知个人情况"),
        max_length=14,
        choices=IndividualsDecision.choices,
        default=IndividualsDecision.PENDING,
    )
    individuals_notified_at = models.DateTimeField(_("通知个人时间"), null=True, blank=True)
    individuals_channel = models.CharField(
        _("通知方式"), max_length=14, choices=IndividualsChannel.choices, blank=True, default=""
    )
    individuals_not_notified_reason = EncryptedTextField(_("不通知的理由"), blank=True, default="")
    individuals_decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    individuals_decided_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Who recorded the notice; after a decision not to notify, `individuals_decided_*` keep that decision.
    individuals_notified_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The authority may require the notice the processor decided against (art. 57 para 2).
    notice_required_at = models.DateTimeField(_("主管部门要求通知时间"), null=True, blank=True)
    notice_required_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reported_at = models.DateTimeField(_("登记时间"), default=timezone.now)
    reported_by = models.ForeignKey(
        "accounts.User", verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    contained_at = models.DateTimeField(_("控制时间"), null=True, blank=True)
    contained_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(_("版本"), default=1)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = PrivacyIncidentQuerySet.as_manager()

    class Meta:
        verbose_name = _("个人信息安全事件")
        verbose_name_plural = _("个人信息安全事件")
        ordering = ["-discovered_at", "-id"]
        indexes = [
            models.Index(fields=["region", "status"], name="compliance_incident_region"),
            models.Index(fields=["authority_notified_at", "report_due_at"], name="compliance_incident_clock"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(affected_minors_count__lte=F("affected_count")),
                name="compliance_incident_minors_among_affected",
            ),
            models.CheckConstraint(
                # Never negative: a PositiveIntegerField.
                condition=Q(data_categories__lte=ALL_DATA_CATEGORIES),
                name="compliance_incident_categories_known",
            ),
            models.CheckConstraint(
                condition=Q(status__in=IncidentStatus.values), name="compliance_incident_status_known"
            ),
            models.CheckConstraint(
                condition=Q(status="open")
                | (Q(status="contained") & Q(contained_at__isnull=False) & Q(closed_at__isnull=True))
                | (Q(status="closed") & Q(contained_at__isnull=False) & Q(closed_at__isnull=False)),
                name="compliance_incident_status_has_its_times",
            ),
            models.CheckConstraint(
                condition=Q(authority_notified_at__isnull=True)
                | (~Q(authority_channel="") & ~Q(authority_name="")),
                name="compliance_incident_authority_notice_complete",
            ),
            models.CheckConstraint(
                condition=Q(individuals_decision="pending")
                | (
                    Q(individuals_decision="notified")
                    & Q(individuals_notified_at__isnull=False)
                    & ~Q(individuals_channel="")
                )
                # The reason is encrypted (the database cannot compare it); the service requires it.
                | Q(individuals_decision="not_notified", individuals_decided_at__isnull=False),
                name="compliance_incident_individuals_decision_complete",
            ),
        ]

    def __str__(self) -> str:
        # Never what happened nor whom it touched: an incident may be named in logs and lists.
        return str(_("个人信息安全事件 第%(number)s号") % {"number": self.pk})

    def is_overdue(self, now: datetime.datetime) -> bool:
        """Not reported to the authority, and its reporting time has passed."""
        return self.authority_notified_at is None and now > self.report_due_at

    @property
    def data_category_labels(self) -> list[str]:
        return [str(category.label) for category in DataCategory if self.data_categories & category.value]

    @property
    def is_closed(self) -> bool:
        return self.status == IncidentStatus.CLOSED
