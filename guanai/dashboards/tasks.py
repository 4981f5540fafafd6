"""Background work of the dashboards: thin wrappers, idempotent."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="dashboards.generate_report")
def generate_report(*, job_id: int) -> dict[str, object]:
    """Compile one queued report (`jobs.report_job_request`); a job no longer pending is skipped."""
    from guanai.dashboards.jobs import report_job_run

    job = report_job_run(job_id=job_id)
    return {"job_id": job_id, "status": job.status if job is not None else "skipped"}


@shared_task(name="dashboards.refresh_snapshots")
def refresh_snapshots() -> dict[str, object]:
    """Rebuild the indicator snapshots of the current month (and of the previous one early in a month)."""
    from guanai.dashboards.snapshots import snapshot_refresh

    return dict(snapshot_refresh())


@shared_task(name="dashboards.purge_report_files")
def purge_report_files() -> int:
    """Compiled reports are deleted after `ReportJob.FILE_RETENTION_DAYS`."""
    from guanai.dashboards.jobs import report_files_purge

    return report_files_purge()
