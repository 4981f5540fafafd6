"""Processes killed from outside (issue 9, point 4): an import killed with SIGKILL mid-way leaves no half
batch and a re-run completes; a Celery worker killed mid-task leads to a redelivery that does the work
exactly once.

Real processes against a real on-disk database of their own: a SQLite file, or on PostgreSQL (when the
suite runs there) a database cloned from a migrated template and dropped afterwards. "Mid-way" is seen
from outside: the batch is RUNNING and the import's open transaction has written pages — SQLite's
write-ahead log has grown, PostgreSQL's minors table has grown — while no row is visible.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

from guanai.audit.models import AuditEvent
from guanai.imports.models import ImportBatch
from guanai.minors.models import Minor

ROOT = Path(__file__).resolve().parents[3]
ROWS = 5_000
REGION = "330127100"
REDIS_URL = os.environ.get("GUANAI_TEST_FAULTS_REDIS_URL", "redis://127.0.0.1:6379/9")
# SQLite spills the open transaction's pages to its log once its page cache (2 MB) is full.
WAL_MIDWAY_BYTES = 1 << 20
PG_MIDWAY_BYTES = 1 << 20
MINORS, BATCHES, EVENTS = Minor._meta.db_table, ImportBatch._meta.db_table, AuditEvent._meta.db_table


# --- A database of their own, and a roster --------------------------------------------------------


@dataclass
class FaultDatabase:
    url: str
    media: Path
    sqlite_path: Path | None = None

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings_test",
            "DATABASE_URL": self.url,
            "GUANAI_PRIVATE_MEDIA_ROOT": str(self.media),
            "CELERY_BROKER_URL": "",
            "GUANAI_CACHE_URL": "",
            **extra,
        }

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        if self.sqlite_path is not None:
            with sqlite3.connect(self.sqlite_path, timeout=30) as db:
                return list(db.execute(sql).fetchall())
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as db:
            return list(db.execute(sql).fetchall())

    def count(self, table: str, where: str = "1=1") -> int:
        return int(self.query(f"SELECT count(*) FROM {table} WHERE {where}")[0][0])  # noqa: S608

    def batches(self) -> list[tuple[str, int, int]]:
        return [
            (str(status), int(rows), int(created))
            for status, rows, created in self.query(
                f"SELECT status, rows, created FROM {BATCHES} ORDER BY id"  # noqa: S608
            )
        ]

    def written_midway(self) -> bool:
        """The import's transaction has written pages nobody else can see yet."""
        if self.sqlite_path is not None:
            wal = self.sqlite_path.with_name(self.sqlite_path.name + "-wal")
            return wal.exists() and wal.stat().st_size > WAL_MIDWAY_BYTES
        return int(self.query(f"SELECT pg_relation_size('{MINORS}')")[0][0]) > PG_MIDWAY_BYTES


def _postgres() -> bool:
    return bool(settings.DATABASES["default"]["ENGINE"].endswith("postgresql"))


def _admin_url(name: str = "postgres") -> str:
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{name}"))


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(_admin_url(), autocommit=True) as db:
        db.execute(sql)


SETUP = (
    "import django; django.setup();"
    "from django.core.management import call_command; call_command('migrate', verbosity=0);"
    "from guanai.core.testing import build_region_tree; build_region_tree()"
)


def write_big_roster(path: Path) -> Path:
    """ROWS children of one township, every row valid: 13-year-olds with distinct, checksummed IDs."""
    import datetime

    from guanai.minors.tests.ids import id_number
    from guanai.minors.tests.rosters import child, township_roster, write_xlsx

    start = datetime.date(2013, 1, 1)
    children = [
        child(
            f"儿童{number}",
            id_number=id_number(
                birth=f"{start + datetime.timedelta(days=number // 500):%Y%m%d}", sequence=number % 500 + 1
            ),
        )
        for number in range(ROWS)
    ]
    return write_xlsx(path, township_roster(children))


@dataclass(frozen=True)
class Template:
    database: str  # a SQLite file to copy, or the name of a PostgreSQL template database
    roster: Path


@pytest.fixture(scope="session")
def _template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Template]:
    """Once per session: a database migrated, with the regions, and the big roster — the roster is
    written while the migrations run."""
    base = tmp_path_factory.mktemp("faults-template")
    if _postgres():
        database = f"guanai_faults_tpl_{os.getpid()}"
        _pg_admin(f'CREATE DATABASE "{database}"')
        url = _admin_url(database)
    else:
        database = str(base / "template.sqlite3")
        url = f"sqlite:///{database}"
    try:
        migrating = subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", SETUP],
            cwd=ROOT,
            env=FaultDatabase(url=url, media=base).env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        roster = write_big_roster(base / "花名册.xlsx")
        output, _ = migrating.communicate(timeout=300)
        assert migrating.returncode == 0, output
        if not _postgres():
            with sqlite3.connect(database) as db:  # one file, no log beside it, for copying
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        yield Template(database=database, roster=roster)
    finally:
        if _postgres():
            _pg_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@pytest.fixture
def fault_database(_template: Template, tmp_path: Path) -> Iterator[FaultDatabase]:
    media = tmp_path / "media"
    media.mkdir()
    if not _postgres():
        path = tmp_path / "faults.sqlite3"
        shutil.copyfile(_template.database, path)
        yield FaultDatabase(url=f"sqlite:///{path}", media=media, sqlite_path=path)
        return
    name = f"guanai_faults_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{_template.database}"')
    try:
        yield FaultDatabase(url=_admin_url(name), media=media)
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def big_roster(_template: Template) -> Path:
    return _template.roster


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str, step: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting {timeout:.0f} s for: {what}")
        time.sleep(step)


def batch_running_midway(database: FaultDatabase, process: subprocess.Popen[Any]) -> Callable[[], bool]:
    def check() -> bool:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout is not None else ""
            pytest.fail(f"the process ended before it could be killed: {output!r}")
        return database.batches()[-1:] == [("running", 0, 0)] and database.written_midway()

    return check


# --- An import killed with SIGKILL -----------------------------------------------------------------


def test_an_import_killed_mid_way_leaves_nothing_and_a_rerun_completes(
    fault_database: FaultDatabase, big_roster: Path
) -> None:
    command = [sys.executable, "manage.py", "import_minors", str(big_roster), "--region", REGION, "--json"]
    env = fault_database.env()
    importing = subprocess.Popen(  # noqa: S603
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        wait_for(batch_running_midway(fault_database, importing), timeout=40, what="the import mid-way")
    finally:
        importing.send_signal(signal.SIGKILL)
        importing.wait(timeout=10)
    assert importing.returncode == -signal.SIGKILL

    # No half batch: its rows and its audit event were one transaction. The batch record, written
    # outside it, still says RUNNING — nothing was left to mark it FAILED.
    assert fault_database.count(MINORS) == 0
    assert fault_database.count(EVENTS, "action = 'minors.import'") == 0
    assert fault_database.batches() == [("running", 0, 0)]

    rerun = subprocess.run(  # noqa: S603
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads(rerun.stdout) == {
        "rows": ROWS,
        "created": ROWS,
        "updated": 0,
        "unchanged": 0,
        "errors": [],
    }
    assert fault_database.count(MINORS) == ROWS
    assert fault_database.count(EVENTS, "action = 'minors.import'") == 1
    assert fault_database.batches() == [("running", 0, 0), ("succeeded", ROWS, ROWS)]


# --- A Celery worker killed mid-task ---------------------------------------------------------------


def _redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


# The worker as in production (acks late, one message at a time), with Redis handing an unacknowledged
# message to another worker after 5 s rather than an hour, checked every second.
WORKER = """
from config.celery import app
app.conf.broker_transport_options = {"visibility_timeout": 5, "unacked_restore_interval": 1}
assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
app.worker_main(["worker", "--pool", "solo", "--loglevel", "INFO", "--without-gossip", "--without-mingle",
                 "--without-heartbeat", "--hostname", "faults-%(name)s@%%h"])
"""


def start_worker(database: FaultDatabase, name: str, log: Path) -> subprocess.Popen[Any]:
    env = database.env(CELERY_BROKER_URL=REDIS_URL)
    with open(log, "w") as output:
        return subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", WORKER % {"name": name}],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )


def queue_import(database: FaultDatabase, roster: Path) -> int:
    """An upload waiting in the private media and its PENDING batch, as `minor_import_start` leaves
    them, and the task message sent to the broker."""
    from celery import Celery

    token = uuid.uuid4().hex
    uploads = database.media / "imports" / "minors"
    uploads.mkdir(parents=True)
    shutil.copyfile(roster, uploads / f"upload-{token}")
    code = (
        "import django; django.setup();"
        "from guanai.imports.models import ImportBatch;"
        f"print(ImportBatch.objects.create(kind='minors', region_id='{REGION}000', file_name='x.xlsx').pk)"
    )
    made = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=database.env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    batch_id = int(made.stdout)
    sender = Celery("faults-sender", broker=REDIS_URL)
    sender.send_task(
        "minors.import_roster",
        kwargs={
            "batch_id": batch_id,
            "user_id": None,
            "assignment_id": None,
            "token": token,
            "region_code": REGION,
            "dry_run": False,
        },
    )
    sender.close()
    return batch_id


def test_a_worker_killed_mid_task_is_replaced_and_the_import_is_done_exactly_once(
    fault_database: FaultDatabase, big_roster: Path, tmp_path: Path
) -> None:
    if not _redis_available():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: a real broker is needed to redeliver")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()  # this test's own database number: no stale messages
    first = start_worker(fault_database, "first", tmp_path / "first.log")
    second: subprocess.Popen[Any] | None = None
    try:
        batch_id = queue_import(fault_database, big_roster)
        wait_for(batch_running_midway(fault_database, first), timeout=40, what="the task mid-way")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        assert fault_database.count(MINORS) == 0
        assert fault_database.batches() == [("running", 0, 0)]

        second = start_worker(fault_database, "second", tmp_path / "second.log")
        wait_for(
            lambda: fault_database.batches()[0][0] != "running",
            timeout=50,
            what="the redelivered task to finish",
            step=0.5,
        )
        log = (tmp_path / "second.log").read_text()
        assert f"minors import {batch_id}: the worker running it died, running it again" in log
        assert fault_database.batches() == [("succeeded", ROWS, ROWS)], log
        assert fault_database.count(MINORS) == ROWS
        assert fault_database.count(EVENTS, "action = 'minors.import'") == 1
        # Acknowledged: nothing is left for a third worker to run again.
        wait_for(lambda: "succeeded" in (tmp_path / "second.log").read_text(), timeout=10, what="the ack")
        assert redis.Redis.from_url(REDIS_URL).hlen("unacked") == 0
    finally:
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=30)
