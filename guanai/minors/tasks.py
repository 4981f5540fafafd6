"""Background work of the registry: thin Celery wrappers around services, idempotent."""

from __future__ import annotations

import logging

from celery import shared_task

from guanai.minors.services import minors_age_out, minors_verification_due

logger = logging.getLogger(__name__)


@shared_task(name="minors.daily_care")
def daily_care() -> dict[str, int]:
    """Daily: close the records of those who turned 18, and count the yearly verifications due (the
    lists themselves are the registry page's 核查逾期 filter)."""
    closed = minors_age_out()
    due = minors_verification_due().count()
    logger.info("minors: %d aged out, %d verifications due", closed, due)
    return {"aged_out": closed, "verification_due": due}


@shared_task(name="minors.import_roster")
def import_roster(
    *,
    batch_id: int,
    user_id: int | None,
    assignment_id: int | None,
    token: str,
    region_code: str,
    dry_run: bool,
    mapping: dict[str, int] | None = None,
    keep_file: bool = True,
) -> dict[str, object]:
    """Run one queued roster import (`services.minor_import_start`): the batch record gets its status,
    counts and refused rows; the progress goes to the cache for the page to poll; a workbook of the
    refused rows is written for download. Idempotent: a batch that succeeded or failed is left alone, and
    so is one another worker is running now; one left RUNNING by a worker that was killed is run again
    when the task is delivered again (acks_late) — its rows were one transaction, which rolled back."""
    from guanai.accounts.models import User
    from guanai.accounts.selectors import actor_for_user
    from guanai.core.errors import DomainError
    from guanai.imports.models import ImportBatch
    from guanai.imports.reading import RosterReadError
    from guanai.imports.running import batch_lease
    from guanai.minors.importing import minor_roster_import, write_error_report
    from guanai.minors.services import (
        import_error_report_path,
        import_progress_set,
        import_upload_path,
    )

    with batch_lease(batch_id) as held:
        if not held:
            return {"batch_id": batch_id, "status": "skipped"}
        batch = ImportBatch.objects.filter(
            pk=batch_id, status__in=[ImportBatch.Status.PENDING, ImportBatch.Status.RUNNING]
        ).first()
        if batch is None:
            return {"batch_id": batch_id, "status": "skipped"}
        if batch.status == ImportBatch.Status.RUNNING:
            logger.warning("minors import %s: the worker running it died, running it again", batch_id)
        user = User.objects.filter(pk=user_id).first() if user_id is not None else None
        actor = actor_for_user(user, assignment_id=assignment_id) if user is not None else None
        path = import_upload_path(token)

        def progress(read: int, total: int | None) -> None:
            import_progress_set(batch_id=batch_id, read=read, total=total)

        try:
            result = minor_roster_import(
                actor=actor,
                path_or_file=str(path),
                region_code=region_code,
                dry_run=dry_run,
                progress=progress,
                mapping=mapping,
                batch=batch,
            )
            if result.errors:
                write_error_report(result, str(path), import_error_report_path(batch_id))
        except (RosterReadError, DomainError) as error:
            # The batch says FAILED with the reason; nothing of the file was kept.
            logger.info("minors import %s failed: %s", batch_id, error)
            return {"batch_id": batch_id, "status": "failed"}
        finally:
            if not keep_file:
                path.unlink(missing_ok=True)
    counts = {key: value for key, value in result.as_json().items() if key != "errors"}
    return {"batch_id": batch_id, "status": "succeeded", **counts}


@shared_task(name="minors.purge_import_files")
def purge_import_files() -> int:
    """Uploaded rosters and error reports hold personal data: removed a day after they were written."""
    import time

    from guanai.minors.services import IMPORT_FILE_RETENTION, import_directory

    limit = time.time() - IMPORT_FILE_RETENTION.total_seconds()
    removed = 0
    for path in import_directory().iterdir():
        if path.is_file() and path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
