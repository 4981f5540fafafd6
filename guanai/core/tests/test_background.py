from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from config.celery import app
from guanai.core.tasks import health_check

REDIS_URL = os.environ.get("GUANAI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.django_db
def test_without_a_broker_tasks_run_eagerly_in_process() -> None:
    assert settings.CELERY_BROKER_URL == ""
    assert app.conf.task_always_eager is True
    result = health_check.delay()
    assert result.successful()
    assert result.get()["status"] == "ok"


def _redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def test_with_a_broker_a_separate_worker_runs_the_task(tmp_path: Path) -> None:
    """CELERY_BROKER_URL set: the task goes through Redis to a real worker process and back."""
    if not _redis_available():
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not reachable at {REDIS_URL} in CI")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_RESULT_BACKEND": REDIS_URL,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite3'}",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        caller = (
            "import django; django.setup();"
            "from config.celery import app; from guanai.core.tasks import health_check;"
            "assert app.conf.task_always_eager is False;"
            "print(health_check.delay().get(timeout=60)['status'])"
        )
        done = subprocess.run(  # noqa: S603
            [sys.executable, "-c", caller],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "ok"
    finally:
        worker.terminate()
        worker.wait(timeout=30)
