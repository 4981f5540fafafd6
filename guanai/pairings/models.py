from __future__ import annotations

from typing import Self

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanai.core import access
from guanai.core.access import Actor, Permission, RegionScoped, RegionScopedQuerySet
from guanai.core.crypto import EncryptedTextField
from guanai.pairings.vocabulary import (
    CloseReason,
    Condition,
    PairingState,
    ReportOutcome,
    ReportState,
    VisitMode,
)


class PairingQuerySet(RegionScopedQuerySet["Pairing"]):
    def visible_to(self, actor: Actor) -> Self:
        """Pairings of children the actor may see in the registry (never a sealed record: a special
        youth's mentoring is reached through the mentoring case)."""
        return self.filter(access.minor_visibility_q(actor, prefix="minor__"))

    def of_volunteer(self, actor: Actor) -> Self:
        """The signed-in volunteer's own pairings (我的结对儿童)."""
        if actor.user is None:
            return self.none()
        return self.filter(volunteer__user=actor.user)


class Pairing(RegionScoped, models.Model):
    """A volunteer caring for a child (结对关爱): 拟结对 → 结对中 (only with consent on record) → 已解除
    with a reason. History is kept: a closed pairing stays, a new one is made for a rematch."""

    region_scope_field = "minor__region_id"

    minor = models.ForeignKey(
        "minors.Minor", verbose_name=_("儿童"), on_delete=models.PROTECT, related_name="pairings"
    )
    volunteer = models.ForeignKey(
        "volunteers.Volunteer", verbose_name=_("志愿者"), on_delete=models.PROTECT, related_name="pairings"
    )
    state = models.CharField(
        _("状态"), max_length=10, choices=PairingState.choices, default=PairingState.PROPOSED
    )
    proposed_pair = models.OneToOneField(
        "pairings.ProposedPair", on_delete=models.SET_NULL, null=True, blank=True, related_name="pairing"
    )
    explanation = models.JSONField(_("匹配说明"), default=list, blank=True)
    started_on = models.DateField(_("结对日期"), null=True, blank=True)
    closed_on = models.DateField(_("解除日期"), null=True, blank=True)
    close_reason = models.CharField(_("解除原因"), max_length=20, choices=CloseReason.choices, blank=True)
    close_note = models.CharField(_("解除说明"), max_length=300, blank=True)
    # Contact policy: the last contact (visit, call) and the day by which the next one is due.
    last_contact_on = models.DateField(_("最近联系日期"), null=True, blank=True)
    next_contact_due = models.DateField(_("下次联系期限"), null=True, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(_("版本"), default=1)

    objects = PairingQuerySet.as_manager()

    class Meta:
        verbose_name = _("结对")
        verbose_name_plural = _("结对")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "next_contact_due"], name="pairing_state_due"),
            models.Index(fields=["volunteer", "state"], name="pairing_volunteer_state"),
        ]
        constraints = [
            # One open pairing (proposed or active) per child at a time.
            models.UniqueConstraint(
                fields=["minor"], condition=~Q(state="closed"), name="pairing_one_open_per_minor"
            ),
            models.CheckConstraint(
                condition=~Q(state="closed") | ~Q(close_reason=""), name="pairing_closed_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer_id} ↔ {self.minor_id} ({self.state})"


class ProposalRun(RegionScoped, models.Model):
    """One run of the matching engine for a region, kept so that staff preview it and accept all or some."""

    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    summary = models.JSONField(
        default=dict
    )  # children, volunteers, proposed, unassigned, total_cost, seconds
    unassigned = models.JSONField(default=dict)  # child id → reason code

    objects = RegionScopedQuerySet["ProposalRun"].as_manager()

    class Meta:
        verbose_name = _("结对建议")
        verbose_name_plural = _("结对建议")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.region_id} {self.created_at:%Y-%m-%d}"


class ProposedPair(RegionScoped, models.Model):
    region_scope_field = "run__region_id"

    run = models.ForeignKey(ProposalRun, on_delete=models.CASCADE, related_name="pairs")
    minor = models.ForeignKey("minors.Minor", on_delete=models.CASCADE, related_name="+")
    volunteer = models.ForeignKey("volunteers.Volunteer", on_delete=models.CASCADE, related_name="+")
    cost = models.IntegerField()
    distance_km = models.FloatField(null=True, blank=True)
    explanation = models.JSONField(default=list)
    accepted_at = models.DateTimeField(null=True, blank=True)

    objects = RegionScopedQuerySet["ProposedPair"].as_manager()

    class Meta:
        verbose_name = _("建议的结对")
        verbose_name_plural = _("建议的结对")
        ordering = ["run_id", "id"]
        constraints = [models.UniqueConstraint(fields=["run", "minor"], name="proposed_pair_once_per_run")]

    def __str__(self) -> str:
        return f"{self.volunteer_id} ↔ {self.minor_id}"


class ConflictDeclaration(models.Model):
    """A conflict of interest a volunteer (or staff for them) declared with a child: never paired."""

    volunteer = models.ForeignKey("volunteers.Volunteer", on_delete=models.CASCADE, related_name="conflicts")
    minor = models.ForeignKey("minors.Minor", on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("原因"), max_length=200)
    declared_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    declared_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("利益冲突申报")
        verbose_name_plural = _("利益冲突申报")
        constraints = [models.UniqueConstraint(fields=["volunteer", "minor"], name="conflict_once")]

    def __str__(self) -> str:
        return f"{self.volunteer_id} ✕ {self.minor_id}"


class VisitQuerySet(RegionScopedQuerySet["Visit"]):
    def visible_to(self, actor: Actor) -> Self:
        return self.filter(access.minor_visibility_q(actor, prefix="pairing__minor__"))


class Visit(RegionScoped, models.Model):
    """A visit (走访记录) of the paired volunteer: what was done and how the child is."""

    region_scope_field = "pairing__minor__region_id"

    pairing = models.ForeignKey(Pairing, on_delete=models.PROTECT, related_name="visits")
    visited_on = models.DateField(_("走访日期"))
    mode = models.CharField(_("方式"), max_length=10, choices=VisitMode.choices)
    duration_minutes = models.PositiveSmallIntegerField(_("时长（分钟）"))
    activities = models.PositiveIntegerField(_("走访内容"), default=0)
    note = EncryptedTextField(
        _("情况记录"), blank=True, default="", mask="text", unmask_permission=Permission.MINOR_UNMASK
    )
    study = models.CharField(_("学习"), max_length=8, choices=Condition.choices, default=Condition.GOOD)
    health = models.CharField(_("健康"), max_length=8, choices=Condition.choices, default=Condition.GOOD)
    emotion = models.CharField(_("情绪"), max_length=8, choices=Condition.choices, default=Condition.GOOD)
    safety = models.CharField(_("安全"), max_length=8, choices=Condition.choices, default=Condition.GOOD)
    concerns = models.PositiveIntegerField(_("安全隐患"), default=0)  # SafetyConcern bits
    # Stored privately (outside the static/media roots) with EXIF and location removed.
    photo = models.CharField(max_length=200, blank=True, editable=False)
    recorded_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = VisitQuerySet.as_manager()

    class Meta:
        verbose_name = _("走访记录")
        verbose_name_plural = _("走访记录")
        ordering = ["-visited_on", "-id"]
        indexes = [models.Index(fields=["pairing", "visited_on"], name="visit_pairing_day")]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gt=0) & Q(duration_minutes__lte=1440),
                name="visit_duration_sane",
            )
        ]

    def __str__(self) -> str:
        return f"{self.pairing_id} {self.visited_on}"


class MandatoryReportQuerySet(RegionScopedQuerySet["MandatoryReport"]):
    def visible_to(self, actor: Actor) -> Self:
        return self.filter(access.minor_visibility_q(actor, prefix="minor__"))


class MandatoryReport(RegionScoped, models.Model):
    """强制报告 (未成年人保护法 art.11): opened at once by a visit that found a safety concern, with a
    deadline, and closed only with a stated outcome."""

    region_scope_field = "minor__region_id"

    minor = models.ForeignKey("minors.Minor", on_delete=models.PROTECT, related_name="mandatory_reports")
    visit = models.OneToOneField(
        Visit, on_delete=models.PROTECT, null=True, blank=True, related_name="mandatory_report"
    )
    concerns = models.PositiveIntegerField(_("安全隐患"))
    state = models.CharField(_("状态"), max_length=8, choices=ReportState.choices, default=ReportState.OPEN)
    opened_at = models.DateTimeField(_("报告时间"), auto_now_add=True)
    deadline = models.DateTimeField(_("处置期限"))
    outcome = models.CharField(_("处置结果"), max_length=20, choices=ReportOutcome.choices, blank=True)
    outcome_note = EncryptedTextField(
        _("处置说明"), blank=True, default="", mask="text", unmask_permission=Permission.MINOR_UNMASK
    )
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )

    objects = MandatoryReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("强制报告")
        verbose_name_plural = _("强制报告")
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["state", "deadline"], name="report_state_deadline")]
        constraints = [
            models.CheckConstraint(
                condition=Q(state="open") | ~Q(outcome=""), name="report_closed_has_outcome"
            )
        ]

    def __str__(self) -> str:
        return f"{self.minor_id} {self.opened_at:%Y-%m-%d}"
