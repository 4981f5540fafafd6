"""Mentoring cases (帮教) for special youth, sealed as the law requires (see `guanai.mentoring.vocabulary`).

A case belongs to a sealed record of the registry (`Minor.is_sealed`, `special_kind` set), which the
registry's lists never show. The case itself is seen by exactly three kinds of people: its officer, its
current mentors (through their volunteer's user account) and a user holding an unexpired access grant
(break-the-glass). Everyone else — the province administrator included — gets 404, as for what does not
exist; `MentoringCaseQuerySet.visible_to` is the one place that says so.
"""

from __future__ import annotations

import datetime
from typing import Self

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanai.core import access
from guanai.core.access import Actor, RegionScoped
from guanai.core.crypto import EncryptedTextField
from guanai.mentoring.vocabulary import CaseOutcome, CaseState, GoalStatus, LawfulBasis


class MentoringCaseQuerySet(models.QuerySet["MentoringCase"]):
    def visible_to(self, actor: Actor) -> Self:
        return self.filter(access.mentoring_case_visibility_q(actor))


class MentoringCase(RegionScoped, models.Model):
    """One mentoring case of a special youth: a plan of goals, monthly reviews, community-correction
    details and, at the end, an outcome. Its region is the county; it is counted only at county level
    and above (`guanai.mentoring.selectors.cases_count`)."""

    reference = models.CharField(_("案件编号"), max_length=20, unique=True, editable=False)
    minor = models.ForeignKey(
        "minors.Minor", verbose_name=_("帮教对象"), on_delete=models.PROTECT, related_name="mentoring_cases"
    )
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("所在县（市、区）"), on_delete=models.PROTECT, related_name="+"
    )
    officer = models.ForeignKey(
        "accounts.User", verbose_name=_("承办人"), on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(_("状态"), max_length=10, choices=CaseState.choices, default=CaseState.OPEN)
    opened_at = models.DateTimeField(_("立案时间"), default=timezone.now)
    opened_by = models.ForeignKey(
        "accounts.User", verbose_name=_("立案人"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Community correction (社区矫正), when the youth is under it.
    correction_agency = models.CharField(_("社区矫正机构"), max_length=100, blank=True)
    correction_officer_name = models.CharField(_("矫正工作人员"), max_length=50, blank=True)
    correction_starts_on = models.DateField(_("矫正期起"), null=True, blank=True)
    correction_ends_on = models.DateField(_("矫正期止"), null=True, blank=True)
    outcome = models.CharField(_("结案情况"), max_length=24, choices=CaseOutcome.choices, blank=True)
    outcome_note = EncryptedTextField(_("结案说明"), blank=True, default="")
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("结案人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    version = models.PositiveIntegerField(_("版本"), default=1)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = MentoringCaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("帮教案件")
        verbose_name_plural = _("帮教案件")
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["officer", "state"], name="mentoring_case_officer_state"),
            models.Index(fields=["region", "state"], name="mentoring_case_region_state"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["minor"], condition=Q(state="open"), name="mentoring_case_one_open_per_minor"
            ),
            models.CheckConstraint(
                condition=Q(state__in=CaseState.values), name="mentoring_case_state_known"
            ),
            models.CheckConstraint(
                condition=(Q(state="open") & Q(outcome="") & Q(closed_at__isnull=True))
                | (Q(state="closed") & Q(outcome__in=CaseOutcome.values) & Q(closed_at__isnull=False)),
                name="mentoring_case_closed_has_outcome",
            ),
            models.CheckConstraint(
                condition=Q(correction_starts_on__isnull=True)
                | Q(correction_ends_on__isnull=True)
                | Q(correction_ends_on__gte=F("correction_starts_on")),
                name="mentoring_case_correction_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        # Never the youth's name: a case may be named in logs, lists and messages.
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.state == CaseState.OPEN


class CaseMentor(models.Model):
    """A volunteer of a mentoring team (帮教团) assigned to a case, from one day to another. Only a
    current assignment (no end) lets the volunteer's account see the case."""

    case = models.ForeignKey(MentoringCase, on_delete=models.CASCADE, related_name="mentors")
    volunteer = models.ForeignKey(
        "volunteers.Volunteer", verbose_name=_("帮教志愿者"), on_delete=models.PROTECT, related_name="+"
    )
    started_on = models.DateField(_("指派日期"))
    ended_on = models.DateField(_("解除日期"), null=True, blank=True)
    assigned_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, related_name="+", editable=False
    )

    class Meta:
        verbose_name = _("帮教志愿者")
        verbose_name_plural = _("帮教志愿者")
        ordering = ["case_id", "started_on", "id"]
        indexes = [models.Index(fields=["volunteer", "ended_on"], name="case_mentor_volunteer_current")]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "volunteer"],
                condition=Q(ended_on__isnull=True),
                name="case_mentor_once_at_a_time",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="case_mentor_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.volunteer_id}"

    @property
    def is_current(self) -> bool:
        return self.ended_on is None


class CaseGoal(models.Model):
    """One goal of the case plan (帮教计划), e.g. back to school, a vocational course, no contact with a
    former group. The text is encrypted: it describes the youth."""

    case = models.ForeignKey(MentoringCase, on_delete=models.CASCADE, related_name="goals")
    description = EncryptedTextField(_("帮教目标"))
    status = models.CharField(
        _("进展"), max_length=12, choices=GoalStatus.choices, default=GoalStatus.PLANNED
    )
    due_on = models.DateField(_("预期完成日期"), null=True, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("帮教目标")
        verbose_name_plural = _("帮教目标")
        ordering = ["case_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=GoalStatus.values), name="case_goal_status_known"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.pk}"


class CaseReview(models.Model):
    """The monthly review (月度帮教评估) by the officer or a mentor: one per case and month."""

    case = models.ForeignKey(MentoringCase, on_delete=models.CASCADE, related_name="reviews")
    month = models.DateField(_("评估月份"), help_text=_("该月的第一天"))
    progress_note = EncryptedTextField(_("帮教进展"))
    recorded_by = models.ForeignKey(
        "accounts.User", verbose_name=_("记录人"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("月度评估")
        verbose_name_plural = _("月度评估")
        ordering = ["case_id", "-month"]
        constraints = [
            models.UniqueConstraint(fields=["case", "month"], name="case_review_once_a_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="case_review_month_first_day"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.month:%Y-%m}"


class AccessGrant(models.Model):
    """Break-the-glass: a user who may not otherwise see the case states a lawful basis and an account,
    and sees the case for three hours. The case's officer is told; the grant ends on its own, or earlier
    when its holder or the officer revokes it."""

    user = models.ForeignKey(
        "accounts.User", verbose_name=_("查阅人"), on_delete=models.PROTECT, related_name="+"
    )
    case = models.ForeignKey(MentoringCase, on_delete=models.PROTECT, related_name="access_grants")
    reason_code = models.CharField(_("法定事由"), max_length=20, choices=LawfulBasis.choices)
    # The account may name people (a court case, a police officer): encrypted like the case's notes.
    reason_text = EncryptedTextField(_("具体说明"))
    granted_at = models.DateTimeField(_("授权时间"))
    expires_at = models.DateTimeField(_("授权截止"))
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("查阅授权")
        verbose_name_plural = _("查阅授权")
        ordering = ["-granted_at", "-id"]
        indexes = [models.Index(fields=["user", "expires_at"], name="access_grant_user_expiry")]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("granted_at")), name="access_grant_expires_after_grant"
            ),
            models.CheckConstraint(
                condition=Q(reason_code__in=LawfulBasis.values), name="access_grant_reason_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.user_id} → {self.expires_at:%Y-%m-%d %H:%M}"

    def is_active_at(self, moment: datetime.datetime) -> bool:
        return self.revoked_at is None and self.expires_at > moment
