from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from guanai.core.access import RegionScoped, RegionScopedQuerySet


class ImportBatchQuerySet(RegionScopedQuerySet["ImportBatch"]):
    pass


class ImportBatch(RegionScoped, models.Model):
    """One import of one roster file into one region: who, when, which file (its SHA-256), how it went.

    The rows themselves are written in one transaction with the audit event; this record is written
    outside it, so a failed or interrupted import still shows here (FAILED, or RUNNING if the process
    was killed) while nothing of its rows was kept. It holds no personal values: the refused rows are
    kept as row number, column, code and reason, the first ERRORS_KEPT of them.
    """

    ERRORS_KEPT = 5000

    class Status(models.TextChoices):
        PENDING = "pending", _("待导入")
        RUNNING = "running", _("导入中")
        SUCCEEDED = "succeeded", _("已完成")
        FAILED = "failed", _("失败")

    kind = models.CharField(_("导入类型"), max_length=40)
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("导入地区"), on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("导入人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    file_name = models.CharField(_("文件名"), max_length=255, blank=True)
    file_digest = models.CharField(_("文件摘要（SHA-256）"), max_length=64, blank=True, db_index=True)
    is_dry_run = models.BooleanField(_("试导入"), default=False)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    message = models.CharField(_("说明"), max_length=300, blank=True)
    rows = models.PositiveIntegerField(_("数据行数"), default=0)
    created = models.PositiveIntegerField(_("新增"), default=0)
    updated = models.PositiveIntegerField(_("更新"), default=0)
    unchanged = models.PositiveIntegerField(_("未变"), default=0)
    error_count = models.PositiveIntegerField(_("错误数"), default=0)
    errors = models.JSONField(_("错误"), default=list, blank=True)
    columns = models.JSONField(_("列对应"), default=dict, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    objects = ImportBatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("导入批次")
        verbose_name_plural = _("导入批次")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["region", "kind", "-created_at"], name="import_batch_region_kind")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} {self.file_name}"
