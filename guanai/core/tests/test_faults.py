"""Faults inside one request (issue 9, point 4): the database going away answers a clear 503 — a Chinese
page, or the API's error shape — with no stack trace, and a write that answered 503 left nothing behind
while one that answered 2xx/302 is kept; two sessions saving one record give one conflict, no lost update.

"The database goes away" is a query that fails as a lost connection does: `connection.execute_wrapper`
(Django's hook around every query) raises OperationalError before the query runs, at the point the test
chooses. On PostgreSQL one test also kills the request's server process for real (`pg_terminate_backend`).
The processes killed from outside (an import, a Celery worker) are in test_faults_kill.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.db.utils import OperationalError
from django.test import Client
from django.test.utils import modify_settings, override_settings

from guanai.audit.models import AuditEvent
from guanai.core.testing import verified_client
from guanai.minors.models import Minor
from guanai.minors.tests.factories import VILLAGE_A, MinorFactory
from guanai.minors.tests.ids import id_number

MIDDLEWARE = {"prepend": "guanai.web.unavailable.DatabaseUnavailableMiddleware"}
LOST = "server closed the connection unexpectedly"
MINOR_TABLE = Minor._meta.db_table
AUDIT_TABLE = AuditEvent._meta.db_table
PAGE_TEXT = "数据库暂时无法访问，请稍后再试。"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_unavailable_middleware")]


@pytest.fixture
def _unavailable_middleware() -> Iterator[None]:
    # Until config/settings.py lists it first in MIDDLEWARE (prepending twice would be harmless).
    with modify_settings(MIDDLEWARE=MIDDLEWARE):
        yield


@contextmanager
def database_lost(when: Callable[[str], bool]) -> Iterator[list[str]]:
    """Every query for which `when(sql)` holds fails as if the server had gone; yields those queries."""
    failed: list[str] = []

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        if when(sql):
            failed.append(sql)
            raise OperationalError(LOST)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield failed


def touches(table: str, verb: str = "") -> Callable[[str], bool]:
    return lambda sql: f'"{table}"' in sql and sql.lstrip().upper().startswith(verb.upper())


def assert_no_trace(body: str) -> None:
    for leak in ("Traceback", "OperationalError", LOST, 'File "', "django/db"):
        assert leak not in body


def minor_payload(**changes: Any) -> dict[str, Any]:
    return {
        "name": "赵六",
        "region_code": VILLAGE_A,
        "id_number": id_number(birth="20160808", sequence=5),
        "categories": 65,
        "household_type": "rural",
        "guardians": [{"name": "赵大", "relationship": "父亲", "phone": "0571-65010001"}],
        **changes,
    }


# --- The database goes away during a request -------------------------------------------------------


@pytest.mark.parametrize("debug", [False, True])
def test_a_page_whose_query_fails_answers_the_503_page(clients: dict[str, Client], debug: bool) -> None:
    MinorFactory.create(region_id=VILLAGE_A)
    with override_settings(DEBUG=debug), database_lost(touches(MINOR_TABLE)) as failed:
        response = clients["county_a_admin"].get("/minors/")
    assert failed  # the view did reach the database
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["Cache-Control"] == "no-store"
    body = response.content.decode()
    assert "<title>系统暂时无法使用</title>" in body
    assert PAGE_TEXT in body
    assert_no_trace(body)


def test_a_failure_in_another_middleware_answers_503_too(personas: dict[str, Any]) -> None:
    """Every query fails: the session is read by the authentication middleware, before any view."""
    client = verified_client(personas["county_a_admin"])
    client.raise_request_exception = False
    with database_lost(lambda sql: True) as failed:
        response = client.get("/minors/")
    assert failed
    assert response.status_code == 503
    assert PAGE_TEXT in response.content.decode()
    assert_no_trace(response.content.decode())


@pytest.mark.parametrize("debug", [False, True])
def test_an_api_call_whose_query_fails_answers_503_json(clients: dict[str, Client], debug: bool) -> None:
    MinorFactory.create(region_id=VILLAGE_A)
    with override_settings(DEBUG=debug), database_lost(touches(MINOR_TABLE)) as failed:
        response = clients["county_a_admin"].get("/api/v1/minors/")
    assert failed
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json() == {
        "code": "database_unavailable",
        "message": "数据库暂时无法访问，请稍后再试。已保存的数据不受影响，未完成的操作没有保存。",
        "fields": {},
    }
    assert_no_trace(response.content.decode())


def test_an_api_write_that_answered_503_left_nothing_and_the_retry_is_kept(
    clients: dict[str, Client],
) -> None:
    """The server goes at the last statement of the write (its audit event): the minor row, already
    inserted, goes with the transaction. Once the database is back the same request is accepted."""
    client = clients["county_a_admin"]
    body = json.dumps(minor_payload())
    with database_lost(touches(AUDIT_TABLE, "INSERT")) as failed:
        refused = client.post("/api/v1/minors/", body, content_type="application/json")
    assert len(failed) == 1
    assert refused.status_code == 503
    assert Minor.objects.count() == 0
    assert AuditEvent.objects.filter(action="minor.create").count() == 0

    accepted = client.post("/api/v1/minors/", body, content_type="application/json")
    assert accepted.status_code == 201
    minor = Minor.objects.get()
    assert (minor.pk, minor.name, minor.guardians.count()) == (accepted.json()["id"], "赵六", 1)
    assert AuditEvent.objects.filter(action="minor.create").count() == 1


def test_a_page_write_that_answered_503_changed_nothing_and_the_retry_is_kept(
    clients: dict[str, Client],
) -> None:
    from guanai.minors.tests.test_views import edit_data

    client = clients["county_a_admin"]
    minor = MinorFactory.create(region_id=VILLAGE_A, school="千岛湖镇中心小学", categories=1)
    data = edit_data(minor, school="富城小学")
    with database_lost(touches(AUDIT_TABLE, "INSERT")) as failed:
        refused = client.post(f"/minors/{minor.pk}/edit/", data)
    assert len(failed) == 1
    assert refused.status_code == 503
    assert PAGE_TEXT in refused.content.decode()
    minor.refresh_from_db()
    assert (minor.school, minor.version) == ("千岛湖镇中心小学", 1)

    accepted = client.post(f"/minors/{minor.pk}/edit/", data)
    assert accepted.status_code == 302
    minor.refresh_from_db()
    assert (minor.school, minor.version) == ("富城小学", 2)


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_the_server_process_killed_mid_request_answers_503(
    personas: dict[str, Any],
) -> None:
    """Not a raised error but the real thing: the request's PostgreSQL backend is terminated from another
    connection just before the write's audit insert; psycopg reports the closed connection."""
    if connection.vendor != "postgresql":
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    import psycopg

    client = verified_client(personas["county_a_admin"])
    settings_dict = connection.settings_dict
    killed: list[int] = []

    def terminate(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        if not killed and touches(AUDIT_TABLE, "INSERT")(sql):
            pid = connection.connection.info.backend_pid
            with psycopg.connect(
                host=settings_dict["HOST"] or None,
                port=settings_dict["PORT"] or None,
                user=settings_dict["USER"],
                password=settings_dict["PASSWORD"] or None,
                dbname=settings_dict["NAME"],
                autocommit=True,
            ) as other:
                other.execute("SELECT pg_terminate_backend(%s)", [pid])
            killed.append(pid)
        return execute(sql, params, many, context)

    body = json.dumps(minor_payload())
    with connection.execute_wrapper(terminate):
        refused = client.post("/api/v1/minors/", body, content_type="application/json")
    assert len(killed) == 1
    assert refused.status_code == 503
    assert refused.json()["code"] == "database_unavailable"
    # The request's end closed the dead connection; this is a new one, and the server rolled back.
    assert Minor.objects.count() == 0

    accepted = client.post("/api/v1/minors/", body, content_type="application/json")
    assert accepted.status_code == 201
    assert list(Minor.objects.values_list("name", flat=True)) == ["赵六"]


# --- Two sessions, one record ----------------------------------------------------------------------


def test_two_sessions_saving_one_minor_through_the_api_give_one_conflict(
    personas: dict[str, Any],
) -> None:
    first, second = verified_client(personas["county_a_admin"]), verified_client(personas["township_worker"])
    minor = MinorFactory.create(region_id=VILLAGE_A, school="千岛湖镇中心小学", grade="四年级")
    url = f"/api/v1/minors/{minor.pk}"
    seen = [client.get(url).json()["version"] for client in (first, second)]
    assert seen == [1, 1]

    saved = first.patch(
        url, json.dumps({"version": 1, "school": "富城小学"}), content_type="application/json"
    )
    lost = second.patch(url, json.dumps({"version": 1, "grade": "五年级"}), content_type="application/json")

    assert saved.status_code == 200
    assert lost.status_code == 409
    assert lost.json()["code"] == "conflict"
    minor.refresh_from_db()
    assert (minor.school, minor.grade, minor.version) == ("富城小学", "四年级", 2)
    assert AuditEvent.objects.filter(action="minor.update", target_id=str(minor.pk)).count() == 1


def test_two_sessions_saving_one_minor_through_the_pages_give_one_conflict(
    personas: dict[str, Any],
) -> None:
    from guanai.minors.tests.test_views import edit_data

    # The same user in two browsers: two sessions.
    first, second = verified_client(personas["county_a_admin"]), verified_client(personas["county_a_admin"])
    minor = MinorFactory.create(region_id=VILLAGE_A, school="千岛湖镇中心小学", grade="四年级", categories=1)
    url = f"/minors/{minor.pk}/edit/"
    for client in (first, second):
        page = client.get(url)
        assert page.status_code == 200
        assert re.search(r'name="version" value="1"', page.content.decode())
    form = edit_data(minor)

    saved = first.post(url, {**form, "school": "富城小学"})
    lost = second.post(url, {**form, "grade": "五年级"})

    assert saved.status_code == 302
    assert lost.status_code == 409
    assert "该记录已被他人修改（当前版本 2，您编辑的是版本 1）" in lost.content.decode()
    minor.refresh_from_db()
    assert (minor.school, minor.grade, minor.version) == ("富城小学", "四年级", 2)


# --- One run of a queued import at a time ------------------------------------------------------------


def _lease_elsewhere(batch_id: int) -> bool:
    """Whether another worker (a thread with its own database connection) would get the lease."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    from guanai.imports.running import batch_lease

    def attempt() -> bool:
        try:
            with batch_lease(batch_id) as held:
                return held
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(attempt).result(timeout=30)


def test_an_import_batch_lease_is_held_by_one_run_at_a_time(tmp_path: Path) -> None:
    """A redelivered import task runs a RUNNING batch only when the run that started it is gone: its
    lease is released with its process (killed in test_faults_kill.py), or here when the block ends."""
    from guanai.imports.running import batch_lease

    with override_settings(MEDIA_ROOT=tmp_path):  # where SQLite's lock files go
        with batch_lease(41) as held:
            assert held is True
            assert _lease_elsewhere(41) is False
            assert _lease_elsewhere(42) is True
        assert _lease_elsewhere(41) is True
