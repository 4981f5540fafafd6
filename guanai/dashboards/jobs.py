"""Reports compiled in the background (issue 8, points 6 and 7): the annual work report as PDF or Excel and
the statistical returns as Excel, for a region inside the actor's and a period.

A request makes a `ReportJob` and queues its run after the commit (run at once without a broker). The run
writes its progress to the job row — the page polls it — and the file to private storage, named by the job
and a random token so that no path can be guessed. Only the requester downloads it, and only while the region
is still theirs; every download is an audit event. Files are deleted after `ReportJob.FILE_RETENTION_DAYS`.
"""

from __future__ import annotations

import datetime
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from guanai import audit
from guanai.accounts.models import User
from guanai.core.access import Actor, Permission
from guanai.core.errors import NotFoundError, PermissionDeniedError, RateLimited, ValidationFailed
from guanai.dashboards.indicators import indicator_region, parse_period
from guanai.dashboards.models import ReportJob

logger = logging.getLogger(__name__)

UNFINISHED_LIMIT = 3  # reports one person may have waiting or running at a time
# A run that has not finished after this long was lost with its worker (the province's report takes minutes
# at most): Celery delivers the task again (late acknowledgement) and the new delivery takes the job over;
# the nightly purge marks one still stuck as failed, so it no longer counts against the requester's limit.
STALE_AFTER = datetime.timedelta(minutes=30)
LISTED = 20  # the requester's most recent jobs shown on the page
Kind = ReportJob.Kind
Status = ReportJob.Status

CONTENT_TYPES = {
    ".pdf": "application/pdf",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def report_directory() -> Path:
    """Where compiled reports wait for download, under the private media root (never served)."""
    directory = Path(settings.MEDIA_ROOT) / "reports"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _suffix(kind: str) -> str:
    return ".pdf" if kind == Kind.ANNUAL_PDF else ".xlsx"


def _require(actor: Actor) -> None:
    if not actor.has(Permission.DASHBOARD_EXPORT):
        raise PermissionDeniedError()


def report_job_request(*, actor: Actor, kind: str, region_code: str, period: str) -> ReportJob:
    """Queue one report for a region inside the actor's. The annual report takes a year ("YYYY"); the
    statistical returns a month or a year."""
    _require(actor)
    if kind not in Kind.values:
        raise ValidationFailed(fields={"kind": [_("报表类型不正确")]})
    code = indicator_region(actor=actor, region_code=region_code)
    parsed = parse_period(period)
    if kind != Kind.RETURNS_XLSX and not parsed.is_year:
        raise ValidationFailed(fields={"period": [_("年度工作统计按年度生成，请填写年份（YYYY）")]})
    if parsed.first_day > timezone.localdate():
        raise ValidationFailed(fields={"period": [_("统计期尚未开始")]})
    with transaction.atomic():
        # The requester's row locked, so that two requests at once cannot both pass the limit.
        User.objects.select_for_update().filter(pk=actor.user.pk if actor.user else None).first()
        unfinished = _unfinished(ReportJob.objects.filter(requested_by=actor.user)).count()
        if unfinished >= UNFINISHED_LIMIT:
            raise RateLimited(_("已有 %(count)d 份报表正在生成，请稍候再申请") % {"count": unfinished})
        job = ReportJob.objects.create(kind=kind, region_id=code, period=str(parsed), requested_by=actor.user)
        audit.record(
            actor=actor,
            action="dashboard.report_requested",
            target=job,
            detail={"kind": kind, "period": str(parsed)},
        )
        from guanai.dashboards import tasks

        transaction.on_commit(lambda: tasks.generate_report.delay(job_id=job.pk))
    return job


def _unfinished(jobs: QuerySet[ReportJob], *, now: datetime.datetime | None = None) -> QuerySet[ReportJob]:
    """Waiting, or running and not yet stale."""
    cutoff = (now or timezone.now()) - STALE_AFTER
    running = Q(status=Status.RUNNING) & (Q(started_at__isnull=True) | Q(started_at__gte=cutoff))
    return jobs.filter(Q(status=Status.PENDING) | running)


Renderer = Callable[..., bytes]


def _renderer(kind: str) -> Renderer:
    if kind == Kind.RETURNS_XLSX:
        from guanai.dashboards.returns import statistical_returns_xlsx

        return statistical_returns_xlsx
    from guanai.dashboards.reports import annual_report_pdf, annual_report_xlsx

    return annual_report_pdf if kind == Kind.ANNUAL_PDF else annual_report_xlsx


@dataclass
class _Progress:
    """Writes the job's progress when the percentage moves, so the page sees it without a write per row."""

    job: ReportJob

    def __call__(self, percent: int, step: str) -> None:
        percent = max(0, min(int(percent), 100))
        if percent == self.job.progress and step[:100] == self.job.step:
            return
        self.job.progress = max(percent, self.job.progress)
        self.job.step = step[:100]
        ReportJob.objects.filter(pk=self.job.pk).update(progress=self.job.progress, step=self.job.step)


def report_job_run(*, job_id: int) -> ReportJob | None:
    """Compile one queued report. Idempotent: a job running (taken by another worker) or finished is left
    alone; a run stale for `STALE_AFTER` (its worker died) is taken over by the task's second delivery."""
    now = timezone.now()
    claimable = Q(status=Status.PENDING) | Q(status=Status.RUNNING, started_at__lt=now - STALE_AFTER)
    claimed = ReportJob.objects.filter(claimable, pk=job_id).update(
        status=Status.RUNNING, started_at=now, progress=0, step=""
    )
    if not claimed:
        return None
    job = ReportJob.objects.get(pk=job_id)
    render = _renderer(job.kind)
    file_name = f"{job.pk}-{secrets.token_hex(12)}{_suffix(job.kind)}"
    path = report_directory() / file_name
    arguments: dict[str, object] = {"actor": None, "region_code": job.region_id}
    if job.kind == Kind.RETURNS_XLSX:
        arguments["period"] = job.period
    else:
        arguments["year"] = int(job.period)
    try:
        content = render(**arguments, progress=_Progress(job))
        path.write_bytes(content)
    except Exception as error:
        # The requester sees that it failed and may ask again; the details go to the log, not the page.
        logger.exception("dashboards: report job %s failed", job_id)
        path.unlink(missing_ok=True)
        ReportJob.objects.filter(pk=job_id).update(
            status=Status.FAILED,
            message=_("生成失败，请稍后重试或联系系统管理员（%(error)s）") % {"error": type(error).__name__},
            finished_at=timezone.now(),
        )
        job.refresh_from_db()
        return job
    ReportJob.objects.filter(pk=job_id).update(
        status=Status.SUCCEEDED, progress=100, file_name=file_name, finished_at=timezone.now()
    )
    job.refresh_from_db()
    audit.record(actor=None, action="dashboard.report_generated", target=job, detail={"kind": job.kind})
    return job


def report_jobs_of(*, actor: Actor) -> QuerySet[ReportJob]:
    """The actor's own recent reports, newest first."""
    _require(actor)
    return (
        ReportJob.objects.filter(requested_by=actor.user)
        .select_related("region")
        .order_by("-created_at", "-id")[:LISTED]
    )


def report_job_get(*, actor: Actor, job_id: int) -> ReportJob:
    """One of the actor's own reports, for a region still inside the actor's (else 404)."""
    _require(actor)
    job = ReportJob.objects.filter(pk=job_id, requested_by=actor.user).select_related("region").first()
    if job is None:
        raise NotFoundError()
    indicator_region(actor=actor, region_code=job.region_id)
    return job


@dataclass(frozen=True)
class ReportFile:
    path: Path
    download_name: str
    content_type: str

    def response(self) -> FileResponse:
        """The file as a download, never cached: the page and the API answer with it alike."""
        response = FileResponse(
            self.path.open("rb"),
            as_attachment=True,
            filename=self.download_name,
            content_type=self.content_type,
        )
        response["Cache-Control"] = "private, no-store"
        return response


def report_job_file(*, actor: Actor, job_id: int) -> ReportFile:
    """The compiled file of one of the actor's reports; the download is an audit event."""
    job = report_job_get(actor=actor, job_id=job_id)
    path = report_directory() / job.file_name if job.file_name else None
    if job.status != Status.SUCCEEDED or path is None or not path.is_file():
        raise NotFoundError(_("报表文件不存在或已过期，请重新生成"))
    audit.record(actor=actor, action="dashboard.report_downloaded", target=job, detail={"kind": job.kind})
    suffix = _suffix(job.kind)
    title = _("统计报表") if job.kind == Kind.RETURNS_XLSX else _("年度工作统计")
    return ReportFile(
        path=path,
        download_name=f"{job.region.name}{job.period}{title}{suffix}",
        content_type=CONTENT_TYPES[suffix],
    )


def report_files_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete the files of reports older than the retention period; the job rows stay, without a file.
    A run stuck for twice `STALE_AFTER` is marked failed (its requester may ask again)."""
    now = now or timezone.now()
    ReportJob.objects.filter(status=Status.RUNNING, started_at__lt=now - 2 * STALE_AFTER).update(
        status=Status.FAILED, message=_("生成中断，请重新申请"), finished_at=now
    )
    cutoff = now - datetime.timedelta(days=ReportJob.FILE_RETENTION_DAYS)
    removed = 0
    for job in ReportJob.objects.filter(created_at__lt=cutoff).exclude(file_name=""):
        (report_directory() / job.file_name).unlink(missing_ok=True)
        ReportJob.objects.filter(pk=job.pk).update(file_name="")
        removed += 1
    return removed
