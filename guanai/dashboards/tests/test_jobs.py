"""The reports compiled in the background (`guanai.dashboards.jobs`) and their tasks: request, run once,
fail cleanly, report progress, keep files 30 days, and refuse what the actor may not ask for."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from guanai.accounts.selectors import actor_for_user
from guanai.accounts.services import role_assign, user_create
from guanai.audit.models import AuditEvent
from guanai.core.access import Actor, Role
from guanai.core.errors import NotFoundError, PermissionDeniedError, RateLimited, ValidationFailed
from guanai.dashboards import jobs, tasks
from guanai.dashboards.models import ReportJob
from guanai.minors.tests.factories import COMMUNITY_A, VILLAGE_A, MinorFactory
from guanai.regions.models import Region

COUNTY_A = "330127000000"
COUNTY_B = "330182000000"
TOWNSHIP_1 = "330127100000"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def private_media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def county_a(personas: dict[str, Any]) -> Actor:
    for _ in range(6):
        MinorFactory.create(region_id=COMMUNITY_A)
    return actor_for_user(personas["county_a_admin"])


def _actor(personas: dict[str, Any], name: str) -> Actor:
    return actor_for_user(personas[name])


def _pending(actor: Actor, *, kind: str = "returns_xlsx", period: str | None = None) -> ReportJob:
    """A queued job as `report_job_request` leaves it, without running it."""
    return ReportJob.objects.create(
        kind=kind,
        region_id=COUNTY_A,
        period=period or f"{timezone.localdate():%Y-%m}",
        requested_by=actor.user,
    )


def _files(media: Path) -> list[str]:
    directory = media / "reports"
    return sorted(path.name for path in directory.iterdir()) if directory.exists() else []


# --- Running --------------------------------------------------------------------------------------------


def test_a_job_runs_once_and_a_second_run_does_nothing(county_a: Actor, private_media: Path) -> None:
    job = _pending(county_a)
    done = jobs.report_job_run(job_id=job.pk)
    assert done is not None
    assert (done.status, done.progress, done.message) == (ReportJob.Status.SUCCEEDED, 100, "")
    assert done.started_at is not None
    assert done.finished_at is not None
    assert done.file_name.startswith(f"{job.pk}-")
    assert done.file_name.endswith(".xlsx")
    assert _files(private_media) == [done.file_name]
    content = (private_media / "reports" / done.file_name).read_bytes()
    assert content.startswith(b"PK")

    assert jobs.report_job_run(job_id=job.pk) is None
    again = ReportJob.objects.get(pk=job.pk)
    assert (again.status, again.file_name, again.finished_at) == (
        ReportJob.Status.SUCCEEDED,
        done.file_name,
        done.finished_at,
    )
    assert _files(private_media) == [done.file_name]
    assert AuditEvent.objects.filter(action="dashboard.report_generated", target_id=str(job.pk)).count() == 1


def test_a_running_or_missing_job_is_left_alone(county_a: Actor, private_media: Path) -> None:
    job = _pending(county_a)
    ReportJob.objects.filter(pk=job.pk).update(status=ReportJob.Status.RUNNING, progress=40)
    assert jobs.report_job_run(job_id=job.pk) is None
    assert jobs.report_job_run(job_id=job.pk + 1000) is None
    job.refresh_from_db()
    assert (job.status, job.progress, job.file_name) == (ReportJob.Status.RUNNING, 40, "")
    assert _files(private_media) == []


def test_a_run_lost_with_its_worker_is_taken_over_by_the_next_delivery(
    county_a: Actor, private_media: Path
) -> None:
    job = _pending(county_a)
    lost = timezone.now() - jobs.STALE_AFTER - datetime.timedelta(minutes=1)
    ReportJob.objects.filter(pk=job.pk).update(status=ReportJob.Status.RUNNING, progress=40, started_at=lost)
    done = jobs.report_job_run(job_id=job.pk)
    assert done is not None
    assert (done.status, done.progress) == (ReportJob.Status.SUCCEEDED, 100)
    assert done.started_at is not None
    assert done.started_at > lost
    assert _files(private_media) == [done.file_name]


def test_a_run_still_within_its_time_is_not_taken_over(county_a: Actor, private_media: Path) -> None:
    job = _pending(county_a)
    recent = timezone.now() - jobs.STALE_AFTER + datetime.timedelta(minutes=1)
    ReportJob.objects.filter(pk=job.pk).update(
        status=ReportJob.Status.RUNNING, progress=40, started_at=recent
    )
    assert jobs.report_job_run(job_id=job.pk) is None
    job.refresh_from_db()
    assert (job.status, job.progress) == (ReportJob.Status.RUNNING, 40)


def test_the_purge_fails_a_run_stuck_for_an_hour_and_it_no_longer_counts(
    county_a: Actor, private_media: Path
) -> None:
    stuck = [_pending(county_a) for _ in range(jobs.UNFINISHED_LIMIT)]
    long_ago = timezone.now() - 2 * jobs.STALE_AFTER - datetime.timedelta(minutes=1)
    ReportJob.objects.filter(pk__in=[job.pk for job in stuck]).update(
        status=ReportJob.Status.RUNNING, started_at=long_ago
    )
    jobs.report_files_purge()
    assert set(ReportJob.objects.values_list("status", "message")) == {
        (ReportJob.Status.FAILED, "生成中断，请重新申请")
    }
    queued = jobs.report_job_request(actor=county_a, kind="returns_xlsx", region_code=COUNTY_A, period="2026")
    assert queued.status == ReportJob.Status.PENDING


def test_stale_runs_do_not_count_against_the_limit(county_a: Actor, private_media: Path) -> None:
    for _ in range(jobs.UNFINISHED_LIMIT):
        _pending(county_a)
    lost = timezone.now() - jobs.STALE_AFTER - datetime.timedelta(minutes=1)
    ReportJob.objects.update(status=ReportJob.Status.RUNNING, started_at=lost)
    job = jobs.report_job_request(actor=county_a, kind="returns_xlsx", region_code=COUNTY_A, period="2026")
    assert ReportJob.objects.filter(pk=job.pk, status=ReportJob.Status.PENDING).exists()


def test_a_failing_renderer_marks_the_job_failed_and_leaves_no_file(
    county_a: Actor, private_media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**arguments: Any) -> bytes:
        arguments["progress"](30, "统计中")
        raise RuntimeError("the renderer broke")

    monkeypatch.setattr(jobs, "_renderer", lambda kind: broken)
    job = _pending(county_a)
    failed = jobs.report_job_run(job_id=job.pk)
    assert failed is not None
    stored = ReportJob.objects.get(pk=job.pk)
    assert stored.status == ReportJob.Status.FAILED
    assert stored.message == "生成失败，请稍后重试或联系系统管理员（RuntimeError）"
    assert "the renderer broke" not in stored.message  # details go to the log, not the page
    assert stored.file_name == ""
    assert stored.finished_at is not None
    assert stored.progress == 30
    assert _files(private_media) == []
    assert not AuditEvent.objects.filter(action="dashboard.report_generated").exists()
    # A failed job is not run again.
    assert jobs.report_job_run(job_id=job.pk) is None


def test_a_renderer_failing_while_writing_leaves_no_partial_file(
    county_a: Actor, private_media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The renderer returns something that is not bytes: the write fails, and no file stays behind."""
    monkeypatch.setattr(jobs, "_renderer", lambda kind: lambda **arguments: "not bytes")
    job = _pending(county_a)
    jobs.report_job_run(job_id=job.pk)
    stored = ReportJob.objects.get(pk=job.pk)
    assert (stored.status, stored.file_name) == (ReportJob.Status.FAILED, "")
    assert stored.message == "生成失败，请稍后重试或联系系统管理员（TypeError）"
    assert _files(private_media) == []


def test_progress_is_stored_clamped_and_never_goes_back(
    county_a: Actor, private_media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, int, str]] = []

    def renderer(**arguments: Any) -> bytes:
        progress = arguments["progress"]
        for percent, step in ((10, "开始"), (50, "一半"), (30, "回退"), (30, "回退"), (150, "超出")):
            progress(percent, step)
            row = ReportJob.objects.get(pk=job.pk)
            seen.append((row.status, row.progress, row.step))
        return b"report"

    monkeypatch.setattr(jobs, "_renderer", lambda kind: renderer)
    job = _pending(county_a)
    jobs.report_job_run(job_id=job.pk)
    running = ReportJob.Status.RUNNING
    assert seen == [
        (running, 10, "开始"),
        (running, 50, "一半"),
        (running, 50, "回退"),
        (running, 50, "回退"),
        (running, 100, "超出"),
    ]
    job.refresh_from_db()
    assert (job.status, job.progress) == (ReportJob.Status.SUCCEEDED, 100)
    assert (private_media / "reports" / job.file_name).read_bytes() == b"report"


@pytest.mark.parametrize(("kind", "period"), [("returns_xlsx", "month"), ("annual_xlsx", "year")])
def test_the_real_renderers_report_monotonic_progress_to_the_job_row(
    county_a: Actor, private_media: Path, monkeypatch: pytest.MonkeyPatch, kind: str, period: str
) -> None:
    stored: list[int] = []
    real = jobs._renderer

    def watching(chosen: str) -> Callable[..., bytes]:
        render = real(chosen)

        def run(**arguments: Any) -> bytes:
            progress = arguments.pop("progress")

            def spy(percent: int, step: str) -> None:
                progress(percent, step)
                stored.append(ReportJob.objects.get(pk=job.pk).progress)

            return render(**arguments, progress=spy)

        return run

    monkeypatch.setattr(jobs, "_renderer", watching)
    today = timezone.localdate()
    job = _pending(county_a, kind=kind, period=f"{today:%Y-%m}" if period == "month" else str(today.year - 1))
    jobs.report_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ReportJob.Status.SUCCEEDED, job.message
    assert len(stored) >= 2
    assert stored == sorted(stored)
    assert stored[-1] == 100


# --- Purging --------------------------------------------------------------------------------------------


def test_files_older_than_30_days_are_deleted_and_newer_ones_kept(
    county_a: Actor, private_media: Path
) -> None:
    now = timezone.now()
    directory = jobs.report_directory()
    made = {}
    for name, age in (("old", 31), ("edge", 29), ("new", 1)):
        job = _pending(county_a)
        file_name = f"{job.pk}-{name}.xlsx"
        (directory / file_name).write_bytes(b"PK")
        ReportJob.objects.filter(pk=job.pk).update(
            status=ReportJob.Status.SUCCEEDED,
            file_name=file_name,
            created_at=now - datetime.timedelta(days=age),
        )
        made[name] = (job.pk, file_name)
    expired = ReportJob.objects.create(kind="annual_pdf", region_id=COUNTY_A, period="2024")
    ReportJob.objects.filter(pk=expired.pk).update(created_at=now - datetime.timedelta(days=90))

    assert jobs.report_files_purge(now=now) == 1
    assert _files(private_media) == sorted([made["edge"][1], made["new"][1]])
    names = dict(ReportJob.objects.values_list("pk", "file_name"))
    assert names[made["old"][0]] == ""
    assert names[made["edge"][0]] == made["edge"][1]
    assert names[made["new"][0]] == made["new"][1]
    assert ReportJob.objects.count() == 4  # the rows stay, without a file
    assert jobs.report_files_purge(now=now) == 0


def test_the_purge_tolerates_a_file_already_gone(county_a: Actor, private_media: Path) -> None:
    job = _pending(county_a)
    ReportJob.objects.filter(pk=job.pk).update(
        file_name="missing.xlsx", created_at=timezone.now() - datetime.timedelta(days=40)
    )
    assert jobs.report_files_purge() == 1
    job.refresh_from_db()
    assert job.file_name == ""


# --- Requesting -----------------------------------------------------------------------------------------


def test_a_request_is_queued_and_runs_after_the_commit(
    county_a: Actor, private_media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = jobs.report_job_request(
            actor=county_a, kind="returns_xlsx", region_code=TOWNSHIP_1, period="2025"
        )
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert (job.status, job.region_id, job.period, job.requested_by) == (
        ReportJob.Status.PENDING,
        TOWNSHIP_1,
        "2025",
        county_a.user,
    )
    requested = AuditEvent.objects.get(action="dashboard.report_requested")
    assert requested.target_id == str(job.pk)
    assert requested.detail == {"kind": "returns_xlsx", "period": "2025"}
    callbacks[0]()
    job.refresh_from_db()
    assert job.status == ReportJob.Status.SUCCEEDED


def test_a_region_code_is_normalised(county_a: Actor, private_media: Path) -> None:
    job = jobs.report_job_request(actor=county_a, kind="returns_xlsx", region_code="330127", period="2025")
    assert job.region_id == COUNTY_A


@pytest.mark.parametrize("kind", ["annual_pdf", "annual_xlsx"])
def test_the_annual_kinds_refuse_a_month(county_a: Actor, private_media: Path, kind: str) -> None:
    with pytest.raises(ValidationFailed) as failure:
        jobs.report_job_request(actor=county_a, kind=kind, region_code=COUNTY_A, period="2025-05")
    assert failure.value.fields == {"period": ["年度工作统计按年度生成，请填写年份（YYYY）"]}
    assert ReportJob.objects.count() == 0


@pytest.mark.parametrize(
    ("kind", "period", "field", "message"),
    [
        ("monthly_pdf", "2025", "kind", "报表类型不正确"),
        ("returns_xlsx", "25-05", "period", "统计期应为 YYYY-MM（月）或 YYYY（年）格式"),
        ("returns_xlsx", "2999", "period", "统计期尚未开始"),
    ],
)
def test_a_bad_kind_or_period_is_refused(
    county_a: Actor, private_media: Path, kind: str, period: str, field: str, message: str
) -> None:
    with pytest.raises(ValidationFailed) as failure:
        jobs.report_job_request(actor=county_a, kind=kind, region_code=COUNTY_A, period=period)
    assert failure.value.fields == {field: [message]}
    assert ReportJob.objects.count() == 0


def test_the_returns_accept_a_month_and_a_year(county_a: Actor, private_media: Path) -> None:
    month = f"{timezone.localdate():%Y-%m}"
    first = jobs.report_job_request(actor=county_a, kind="returns_xlsx", region_code=COUNTY_A, period=month)
    second = jobs.report_job_request(actor=county_a, kind="returns_xlsx", region_code=COUNTY_A, period="2025")
    assert [first.period, second.period] == [month, "2025"]


@pytest.mark.parametrize(
    ("persona", "region"),
    [
        ("county_a_admin", COUNTY_B),
        ("county_a_admin", "330100000000"),  # the county's own city
        ("township_worker", COUNTY_A),
        ("county_b_admin", TOWNSHIP_1),
    ],
)
def test_a_region_outside_the_actors_subtree_is_not_found(
    personas: dict[str, Any], private_media: Path, persona: str, region: str
) -> None:
    with pytest.raises(NotFoundError):
        jobs.report_job_request(
            actor=_actor(personas, persona), kind="annual_pdf", region_code=region, period="2025"
        )
    assert ReportJob.objects.count() == 0


@pytest.mark.parametrize("persona", ["volunteer", "lawyer", "counsellor", "auditor", "system_admin"])
def test_who_may_not_export_is_refused(personas: dict[str, Any], private_media: Path, persona: str) -> None:
    actor = _actor(personas, persona)
    with pytest.raises(PermissionDeniedError):
        jobs.report_job_request(actor=actor, kind="annual_pdf", region_code=COUNTY_A, period="2025")
    with pytest.raises(PermissionDeniedError):
        jobs.report_jobs_of(actor=actor)
    with pytest.raises(PermissionDeniedError):
        jobs.report_job_get(actor=actor, job_id=1)
    assert ReportJob.objects.count() == 0


def test_the_village_liaison_views_the_dashboards_but_may_not_export(
    regions: None, private_media: Path
) -> None:
    user = user_create(username="p-liaison", password=None, display_name="liaison")
    role_assign(
        user=user,
        role=Role.VILLAGE_LIAISON,
        region=Region.objects.get(code=VILLAGE_A),
        valid_from=datetime.date(2020, 1, 1),
    )
    with pytest.raises(PermissionDeniedError):
        jobs.report_job_request(
            actor=actor_for_user(user), kind="returns_xlsx", region_code=VILLAGE_A, period="2025"
        )
    assert ReportJob.objects.count() == 0


def test_a_fourth_unfinished_report_is_rate_limited(county_a: Actor, private_media: Path) -> None:
    for _ in range(3):
        _pending(county_a)
    with pytest.raises(RateLimited) as refusal:
        jobs.report_job_request(actor=county_a, kind="returns_xlsx", region_code=COUNTY_A, period="2025")
    assert refusal.value.message == "已有 3 份报表正在生成，请稍候再申请"
    assert ReportJob.objects.count() == 3
    assert not AuditEvent.objects.filter(action="dashboard.report_requested").exists()


# --- Reading --------------------------------------------------------------------------------------------


def test_the_actors_own_jobs_newest_first_at_most_20(personas: dict[str, Any], county_a: Actor) -> None:
    made = [_pending(county_a).pk for _ in range(22)]
    other = _pending(_actor(personas, "township_worker"))
    listed = [job.pk for job in jobs.report_jobs_of(actor=county_a)]
    assert listed == list(reversed(made))[:20]
    assert other.pk not in listed


def test_another_users_job_or_one_outside_the_region_is_not_found(
    personas: dict[str, Any], county_a: Actor, private_media: Path
) -> None:
    job = jobs.report_job_request(actor=county_a, kind="returns_xlsx", region_code=TOWNSHIP_1, period="2025")
    jobs.report_job_run(job_id=job.pk)
    assert jobs.report_job_get(actor=county_a, job_id=job.pk).pk == job.pk
    for persona in ("township_worker", "county_b_admin", "province_admin"):
        with pytest.raises(NotFoundError):
            jobs.report_job_get(actor=_actor(personas, persona), job_id=job.pk)
        with pytest.raises(NotFoundError):
            jobs.report_job_file(actor=_actor(personas, persona), job_id=job.pk)
    # A job of the requester for a region no longer theirs (here: made directly for county B).
    foreign = ReportJob.objects.create(
        kind="returns_xlsx", region_id=COUNTY_B, period="2025", requested_by=county_a.user
    )
    with pytest.raises(NotFoundError):
        jobs.report_job_get(actor=county_a, job_id=foreign.pk)
    assert not AuditEvent.objects.filter(action="dashboard.report_downloaded").exists()


def test_the_file_of_a_finished_job_is_described_and_its_download_audited(
    county_a: Actor, private_media: Path
) -> None:
    job = jobs.report_job_request(actor=county_a, kind="returns_xlsx", region_code=COUNTY_A, period="2025")
    jobs.report_job_run(job_id=job.pk)
    job.refresh_from_db()
    report = jobs.report_job_file(actor=county_a, job_id=job.pk)
    assert report.path == private_media / "reports" / job.file_name
    assert report.download_name == "淳安县2025统计报表.xlsx"
    assert report.content_type == XLSX
    event = AuditEvent.objects.get(action="dashboard.report_downloaded")
    assert (event.target_id, event.detail) == (str(job.pk), {"kind": "returns_xlsx"})


def test_an_unfinished_or_purged_job_has_no_file(county_a: Actor, private_media: Path) -> None:
    job = _pending(county_a)
    with pytest.raises(NotFoundError):
        jobs.report_job_file(actor=county_a, job_id=job.pk)
    jobs.report_job_run(job_id=job.pk)
    ReportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - datetime.timedelta(days=31))
    jobs.report_files_purge()
    with pytest.raises(NotFoundError) as missing:
        jobs.report_job_file(actor=county_a, job_id=job.pk)
    assert missing.value.message == "报表文件不存在或已过期，请重新生成"
    assert not AuditEvent.objects.filter(action="dashboard.report_downloaded").exists()


# --- Tasks ----------------------------------------------------------------------------------------------


def test_the_generate_task_runs_a_job_and_skips_it_the_second_time(
    county_a: Actor, private_media: Path
) -> None:
    job = _pending(county_a)
    assert tasks.generate_report.name == "dashboards.generate_report"
    assert tasks.generate_report.apply(kwargs={"job_id": job.pk}).get() == {
        "job_id": job.pk,
        "status": "succeeded",
    }
    assert tasks.generate_report.apply(kwargs={"job_id": job.pk}).get() == {
        "job_id": job.pk,
        "status": "skipped",
    }
    assert len(_files(private_media)) == 1


def test_the_purge_task_deletes_expired_files(county_a: Actor, private_media: Path) -> None:
    job = _pending(county_a)
    jobs.report_job_run(job_id=job.pk)
    assert tasks.purge_report_files.name == "dashboards.purge_report_files"
    assert tasks.purge_report_files.apply().get() == 0
    ReportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - datetime.timedelta(days=31))
    assert tasks.purge_report_files.apply().get() == 1
    assert _files(private_media) == []


def test_the_purge_is_scheduled() -> None:
    scheduled = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert "dashboards.purge_report_files" in scheduled
