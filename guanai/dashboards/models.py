"""What the dashboards keep: the daily snapshots of the indicators, and the report files compiled in the
background (the annual work report and the statistical returns)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanai.core.access import RegionScoped, RegionScopedQuerySet


class IndicatorSnapshot(models.Model):
    """The counts of one area for one period, as the nightly build found them (`snapshots.py`).

    `depth` is the length of the code prefix the records were grouped by (2, 4, 6, 9 or 12), `area` that
    prefix padded to 12 digits: the rows of one depth partition the province, so a region's children are
    the rows of the next depth whose area starts with the region's prefix, and a parent's counts are the
    sum of its children's. Counts of sealed records are kept only at county depth and above.
    """

    period = models.CharField(_("统计期"), max_length=7)
    depth = models.PositiveSmallIntegerField(_("代码前缀长度"))
    area = models.CharField(_("区域代码"), max_length=12)
    counts = models.JSONField(_("计数"), default=dict)
    computed_at = models.DateTimeField(_("计算时间"))
    computed_for = models.DateField(_("数据截至"))

    class Meta:
        verbose_name = _("指标快照")
        verbose_name_plural = _("指标快照")
        constraints = [
            models.UniqueConstraint(
                fields=["period", "depth", "area"], name="indicator_snapshot_unique_area"
            ),
            models.CheckConstraint(
                condition=Q(depth__in=[2, 4, 6, 9, 12]), name="indicator_snapshot_depth_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.area} ({self.depth})"


class ReportJobQuerySet(RegionScopedQuerySet["ReportJob"]):
    pass


class ReportJob(RegionScoped, models.Model):
    """One report compiled in the background for a region and period: who asked, how far it has got, and
    the file (in private storage) when it is done. The file holds only figures, protected as on the
    pages, and is deleted after `FILE_RETENTION_DAYS`."""

    FILE_RETENTION_DAYS = 30

    class Kind(models.TextChoices):
        ANNUAL_PDF = "annual_pdf", _("年度工作统计（PDF）")
        ANNUAL_XLSX = "annual_xlsx", _("年度工作统计（Excel）")
        RETURNS_XLSX = "returns_xlsx", _("统计报表（Excel）")

    class Status(models.TextChoices):
        PENDING = "pending", _("排队中")
        RUNNING = "running", _("生成中")
        SUCCEEDED = "succeeded", _("已完成")
        FAILED = "failed", _("失败")

    kind = models.CharField(_("报表类型"), max_length=20, choices=Kind.choices)
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("统计区域"), on_delete=models.PROTECT, related_name="+"
    )
    period = models.CharField(_("统计期"), max_length=7)
    requested_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("申请人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(_("进度（%）"), default=0)
    step = models.CharField(_("当前步骤"), max_length=100, blank=True)
    message = models.CharField(_("说明"), max_length=300, blank=True)
    file_name = models.CharField(_("文件"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    objects = ReportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("报表生成任务")
        verbose_name_plural = _("报表生成任务")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["requested_by", "-created_at"], name="report_job_requester")]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="report_job_progress_percent"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.region_id} {self.period}"
