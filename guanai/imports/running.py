"""Running a roster import: the region, the batch record, the one transaction, the audit event.

The same for every roster; what a roster is — its columns, how a row is read, how it is written — comes
in a `RosterKind` (`guanai.minors.importing.MINOR_ROSTER`, `guanai.volunteers.importing.VOLUNTEER_ROSTER`).

All or nothing: the whole file is written in one transaction, the audit event last, so a crash or a kill
leaves nothing of the batch and running the import again completes it. Rows are streamed and written in
chunks. The ImportBatch is written outside that transaction, so a failed import still shows (FAILED, or
RUNNING when the process was killed) while nothing of its rows was kept.

A queued import (a Celery task, acknowledged late) is delivered again when its worker is killed; the
second delivery finds the batch RUNNING. `batch_lease` tells a dead run from a live one: the run holds
a lock the operating system or the database server releases when its process dies.
"""

from __future__ import annotations

import contextlib
import datetime
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, Required, TypedDict, TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanai import audit
from guanai.core import region_codes
from guanai.core.access import Actor, Permission
from guanai.core.errors import NotFoundError, PermissionDeniedError, ValidationFailed
from guanai.core.region_codes import RegionLevel
from guanai.imports.headers import Field, HeaderLayout, RosterTable
from guanai.imports.models import ImportBatch
from guanai.imports.reading import (
    RosterReadError,
    RosterSource,
    SourceRow,
    file_digest,
    open_roster,
    source_name,
)
from guanai.imports.results import ImportResult, RowError
from guanai.regions.models import Region

CHUNK_SIZE = 1000
# The first key of the PostgreSQL advisory locks of import batches (the second is the batch id).
LEASE_LOCK_CLASS = zlib.crc32(b"guanai.imports.batch") & 0x7FFFFFFF

Progress = Callable[[int, int | None], None]
Item = TypeVar("Item")


class RowReading(Protocol):
    """An importer's RowReader: a data row as a prepared row, or as the list of its errors."""

    def column_name(self, key: str) -> str: ...
    def read(self, row: SourceRow) -> tuple[Any | None, list[RowError]]: ...


class RowWriting(Protocol):
    """An importer's BatchWriter (`guanai.imports.writing.RosterBatchWriter`)."""

    def accept(self, row: Any) -> bool: ...
    def write(self, chunk: list[Any]) -> None: ...


class WriterFactory(Protocol):
    def __call__(
        self, *, actor: Actor | None, region: Region, dry_run: bool, result: ImportResult, reader: Any
    ) -> RowWriting: ...


@dataclass(frozen=True)
class RosterKind:
    """What one kind of roster is, for `run_roster_import`.

    name             ImportBatch.kind ("minors", "volunteers")
    permission       what an actor needs to import it
    audit_action     the audit event of a committed import
    fields           its columns
    ignored_headers  columns that are known and carry nothing to import (序号, and the error report's)
    reader           (header layout, import region, today) → the row reader
    writer           the batch writer class, called with actor=, region=, dry_run=, result=, reader=
    """

    name: str
    permission: Permission
    audit_action: str
    fields: tuple[Field, ...]
    ignored_headers: tuple[str, ...]
    reader: Callable[[HeaderLayout, Region, datetime.date], RowReading]
    writer: WriterFactory


class RosterImportOptions(TypedDict, total=False):
    """The keywords of `run_roster_import` after the kind: those of `minor_roster_import` and
    `volunteer_roster_import`, which take them as `**options: Unpack[RosterImportOptions]`."""

    actor: Required[Actor | None]
    path_or_file: Required[RosterSource]
    region_code: Required[str]
    dry_run: Required[bool]
    progress: Progress | None
    mapping: Mapping[str, int] | None
    batch: ImportBatch | None
    chunk_size: int


def run_roster_import(
    kind: RosterKind,
    *,
    actor: Actor | None,
    path_or_file: RosterSource,
    region_code: str,
    dry_run: bool,
    progress: Progress | None = None,
    mapping: Mapping[str, int] | None = None,
    batch: ImportBatch | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> ImportResult:
    """Import a roster of `kind` into `region_code` (a county, township or village).

    actor         who imports (needs `kind.permission` and the region in scope); None for a command
    path_or_file  a path or a binary file object (an upload)
    dry_run       check and match everything, write nothing: the counts say what would happen
    progress      called after each chunk with (data rows read so far, rows in the sheet or None)
    mapping       field key → column index, as a mapping step adjusted it (else detected)
    batch         an ImportBatch made beforehand (an upload view); else one is created

    Raises RosterReadError when the file cannot be read (nothing is written then), PermissionDenied /
    NotFound for an actor who may not import into the region. Refused rows are in `result.errors`.
    """
    region = import_region(actor=actor, region_code=region_code, permission=kind.permission)
    today = timezone.localdate()
    batch = start_batch(
        batch, kind=kind.name, actor=actor, region=region, source=path_or_file, dry_run=dry_run
    )
    result = ImportResult(dry_run=dry_run, batch_id=batch.pk)
    try:
        with open_roster(path_or_file) as roster:
            table = RosterTable(roster, kind.fields, ignore=kind.ignored_headers, mapping=mapping)
            result.header = table.layout
            reader = kind.reader(table.layout, region, today)
            result.columns = {key: reader.column_name(key) for key in table.layout.mapping}
            writer = kind.writer(actor=actor, region=region, dry_run=dry_run, result=result, reader=reader)

            def prepared() -> Iterator[Any]:
                for row in table.data_rows():
                    result.rows += 1
                    valid, errors = reader.read(row)
                    if valid is None:
                        result.errors.extend(errors)
                    elif writer.accept(valid):
                        yield valid

            # One transaction for the whole file (a dry run writes nothing and takes no write lock).
            with contextlib.nullcontext() if dry_run else transaction.atomic():
                for chunk in chunks(prepared(), chunk_size):
                    writer.write(chunk)
                    if progress is not None:
                        progress(result.rows, table.total_rows)
                result.errors.sort(key=lambda error: error.row)
                if not dry_run:
                    audit.record(
                        actor=actor,
                        action=kind.audit_action,
                        target=batch,
                        region_code=region.code,
                        detail={
                            "rows": result.rows,
                            "created": result.created,
                            "updated": result.updated,
                            "unchanged": result.unchanged,
                            "errors": len(result.errors),
                        },
                    )
            if progress is not None:
                progress(result.rows, result.rows)
    except BaseException as error:
        finish_batch(batch, result, failure=error)
        raise
    finish_batch(batch, result)
    return result


def import_region(*, actor: Actor | None, region_code: str, permission: Permission) -> Region:
    """The county, township or village to import into, checked against what the actor may do."""
    try:
        code = region_codes.normalise_code(region_code)
    except ValueError as error:
        raise ValidationFailed(fields={"region": [_("区划代码应为 12 位数字")]}) from error
    if actor is not None:
        if not actor.has(permission):
            raise PermissionDeniedError()
        if actor.region_code is None or not region_codes.is_within(code, actor.region_code):
            raise NotFoundError()
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise NotFoundError()
    if region.level < RegionLevel.COUNTY:
        raise ValidationFailed(fields={"region": [_("请选择县（市、区）、乡镇（街道）或村（社区）导入")]})
    return region


def chunks(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    chunk: list[Item] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def start_batch(
    batch: ImportBatch | None,
    *,
    kind: str,
    actor: Actor | None,
    region: Region,
    source: RosterSource,
    dry_run: bool,
) -> ImportBatch:
    """The batch record of an import, saved as running (created here unless an upload made it)."""
    if batch is None:
        batch = ImportBatch(
            kind=kind,
            region=region,
            created_by=actor.user if actor is not None else None,
            file_name=source_name(source)[:255],
        )
    batch.kind, batch.region = kind, region
    try:
        batch.file_digest = file_digest(source)
    except OSError as error:
        raise RosterReadError("unreadable", _("无法打开文件：%(error)s") % {"error": error}) from error
    batch.is_dry_run = dry_run
    batch.status = ImportBatch.Status.RUNNING
    batch.started_at = timezone.now()
    batch.save()
    return batch


def finish_batch(batch: ImportBatch, result: ImportResult, *, failure: BaseException | None = None) -> None:
    """The batch record as the import ended: its counts and refused rows, or why it failed."""
    batch.finished_at = timezone.now()
    if failure is not None:
        batch.status = ImportBatch.Status.FAILED
        batch.message = (
            failure.message
            if isinstance(failure, RosterReadError)
            else _("导入中断，未写入任何数据，可重新导入。")
        )[:300]
        # The counts of a failed batch describe nothing that was kept.
        batch.rows = batch.created = batch.updated = batch.unchanged = batch.error_count = 0
        batch.errors = []
    else:
        batch.status = ImportBatch.Status.SUCCEEDED
        batch.rows, batch.created, batch.updated = result.rows, result.created, result.updated
        batch.unchanged, batch.error_count = result.unchanged, len(result.errors)
        batch.errors = [error.as_dict() for error in result.errors[: ImportBatch.ERRORS_KEPT]]
        batch.columns = result.columns
    try:
        with transaction.atomic():
            batch.save()
    except Exception:  # the outer transaction is broken; its caller sees the original error
        if failure is None:
            raise


@contextlib.contextmanager
def batch_lease(batch_id: int) -> Iterator[bool]:
    """Hold the right to run import batch `batch_id` for the duration of the block; yields False when a
    live process holds it already.

    Released when the block ends, and by the system when the holder dies (SIGKILL, OOM, lost host):
    on PostgreSQL a session advisory lock, dropped with the connection; on SQLite, which runs on one
    machine, an flock on a file next to the database's private media. So a batch left RUNNING whose lease
    can be taken is one whose run died, and since its rows were written in one transaction that rolled
    back, running it again is safe."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LEASE_LOCK_CLASS, int(batch_id)])
            held = bool(cursor.fetchone()[0])
        try:
            yield held
        finally:
            if held and connection.is_usable():
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LEASE_LOCK_CLASS, int(batch_id)])
        return
    import fcntl
    from pathlib import Path

    directory = Path(settings.MEDIA_ROOT) / "imports" / "leases"
    directory.mkdir(parents=True, exist_ok=True)
    # The file stays: removing it while another process waits on it would let two hold "the" lock.
    with open(directory / f"batch-{int(batch_id)}.lock", "a+b") as lock_file:
        try:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)
