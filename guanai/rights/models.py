from __future__ import annotations

import datetime
from typing import Self

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanai.core import access
from guanai.core.access import Actor, Permission, RegionScoped, RegionScopedQuerySet
from guanai.core.crypto import EncryptedTextField
from guanai.rights.vocabulary import Kind, RequesterRole, Status, Verification


class DataSubjectRequestQuerySet(RegionScopedQuerySet["DataSubjectRequest"]):
    def visible_to(self, actor: Actor) -> Self:
        """Requests about children the actor may see in the registry: inside their region, never a sealed
        record's (a request names the child it concerns, so it is as confidential as the record)."""
        return self.filter(access.minor_visibility_q(actor, prefix="minor__"))

    def open(self) -> Self:
        return self.filter(status=Status.RECEIVED)

    def overdue_on(self, day: datetime.date) -> Self:
        """Open requests whose last day (`due_on`) lies before `day`."""
        return self.open().filter(due_on__lt=day)


class DataSubjectRequest(RegionScoped, models.Model):
    """A request by a guardian, or by a child of 14 or over, to see, copy, correct or delete what the
    registry holds about the child (个人信息保护法 art.44–47; 未成年人网络保护条例 art.34). It is answered by
    `due_on`; a refusal is written, with its reasons (art.50)."""

    region_scope_field = "minor__region_id"

    minor = models.ForeignKey(
        "minors.Minor",
        verbose_name=_("儿童"),
        on_delete=models.PROTECT,
        related_name="subject_requests",
    )
    requester_role = models.CharField(_("申请人身份"), max_length=10, choices=RequesterRole.choices)
    requester_name = EncryptedTextField(
        _("申请人姓名"), mask="name", unmask_permission=Permission.MINOR_UNMASK
    )
    requester_contact = EncryptedTextField(
        _("申请人联系方式"),
        blank=True,
        default="",
        mask="phone",
        unmask_permission=Permission.MINOR_UNMASK,
    )
    verification = models.CharField(_("身份与监护关系核验"), max_length=20, choices=Verification.choices)
    kind = models.CharField(_("请求类型"), max_length=12, choices=Kind.choices)
    description = EncryptedTextField(_("请求内容"), mask="text", unmask_permission=Permission.MINOR_UNMASK)
    received_on = models.DateField(_("收到日期"))
    due_on = models.DateField(_("答复期限"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.RECEIVED)
    # The record's version when the request arrived: a correction is done once the record has been saved
    # since (guanai.minors.services.minor_update).
    minor_version_at_receipt = models.PositiveIntegerField(_("收到时的记录版本"), editable=False)
    copy_produced_at = models.DateTimeField(_("副本生成时间"), null=True, blank=True, editable=False)
    outcome_note = EncryptedTextField(
        _("办理情况"), blank=True, default="", mask="text", unmask_permission=Permission.MINOR_UNMASK
    )
    refusal_reasons = EncryptedTextField(
        _("不予办理的理由"), blank=True, default="", mask="text", unmask_permission=Permission.MINOR_UNMASK
    )
    received_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("登记人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    handled_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("办理人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    handled_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    objects = DataSubjectRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("个人信息主体请求")
        verbose_name_plural = _("个人信息主体请求")
        ordering = ["due_on", "id"]
        indexes = [
            # The clock: open requests by their last day (the list's "overdue" filter, the reminders).
            models.Index(fields=["status", "due_on"], name="subject_request_clock"),
            models.Index(fields=["minor", "status"], name="subject_request_minor"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(due_on__gte=models.F("received_on")), name="subject_request_due"
            ),
            models.CheckConstraint(
                condition=Q(status="received") | Q(handled_at__isnull=False),
                name="subject_request_handled_when_closed",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == Status.RECEIVED

    def is_overdue_on(self, day: datetime.date) -> bool:
        """Still open after its last day: on `due_on` itself a request is due, not overdue."""
        return self.is_open and self.due_on < day
