"""Online help at province scale: the professional's queue, the supervisors' overview and list at 1,000,000
historical requests, and the public intake's rate — each against the raw limit measured in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/guanai BENCH_KEEP=1 \
        .venv/bin/python bench/bench_consultations.py

PostgreSQL only. The benchmark works in its own database (BENCH_DATABASE, default guanai_bench_consultations),
created and migrated through Django's test-database machinery like the test suite's (`harness.py`), never in
the database DATABASE_URL names. It loads the packaged regions and generates BENCH_CONSULTATIONS synthetic
requests (default 1,000,000) over Zhejiang and the last 365 days with `guanai.consultations.generation`
(batches of 10,000, one transaction each; with its pool of synthetic lawyers and counsellors per county),
reporting the rate, and the rate of BENCH_ENCRYPTION_SAMPLE requests (default 20,000, rolled back) generated
with one shared ciphertext per batch and with every value encrypted per row. Then, each ORM measurement
alternating with its raw SQL in the same loop (same rows or figures, checked), times wall-clock around the
call in this process (server time without HTTP and templates):

(a) the queue: `routing.professional_queue(volunteer=, now=)` of a randomly drawn professional of the pool
    (their waiting requests, and the urgent unassigned ones offered to them through their duty slots),
    evaluated with its rows (decrypted, as the page reads them), against hand-written SQL for the same rows;
(b) the overview: `statistics.consultation_statistics(actor=, ...)` for the province, a random city and a
    random county, for the last full calendar month and for the last 365 days, against hand-written
    PostgreSQL (GROUPING SETS with percentile_cont, the open-now aggregate and the region names). Measured
    without, then with the covering index `consultation_statistics_covering`, made here by hand (raw SQL:
    see `STATISTICS_INDEX`; not in the migrations);
(c) the metadata list: the first page and page 100 of `statistics.supervision_requests(actor=)` read ids
    first (`supervision_page`) and the paginator's count, for the province and a random county, against
    hand-written SQL;
(d) intake: BENCH_INTAKE (default 500) requests POSTed through Django's test Client to
    /api/v1/public/consultations (rate limits raised by a settings override), in one county whose pool
    professionals get accounts with the lawyer or counsellor role, so that routing assigns them; the rate
    against the bulk ORM insert of the same rows (fields encrypted, retrieval digests hashed, one
    `bulk_create`), and, between the two, `intake.consultation_submit` called directly.

BENCH_KEEP=1 keeps the database afterwards and reuses its requests next time; without it the database is
dropped at the end. BENCH_RUNS (default 400) queue runs; BENCH_OVERVIEW_RUNS (default 20) per overview shape;
BENCH_LIST_RUNS (default 100) list runs.
"""

from __future__ import annotations

import datetime
import functools
import json
import os
import random
import statistics as stats
import sys
import time
from collections.abc import Callable
from typing import Any

import harness

harness.setup_django()

from django.db import connection, transaction  # noqa: E402

CONSULTATIONS = int(os.environ.get("BENCH_CONSULTATIONS", "1000000"))
DATABASE = os.environ.get("BENCH_DATABASE", "guanai_bench_consultations")
ENCRYPTION_SAMPLE = int(os.environ.get("BENCH_ENCRYPTION_SAMPLE", "20000"))
OVERVIEW_RUNS = int(os.environ.get("BENCH_OVERVIEW_RUNS", "20"))
LIST_RUNS = int(os.environ.get("BENCH_LIST_RUNS", "100"))
INTAKE = int(os.environ.get("BENCH_INTAKE", "500"))
RUNS, PAGE, WARM_UP = harness.RUNS, harness.PAGE, harness.WARM_UP
PROVINCE = "330000000000"
INTAKE_COUNTY = "330127000000"  # 淳安县
DEEP_PAGE = 100
STATISTICS_INDEX = (
    "CREATE INDEX consultation_statistics_covering ON consultations_consultation (region_id, created_at) "
    "INCLUDE (topic, is_urgent, accepted_at, first_reply_at, accept_breached, reply_breached, rating)"
)


def main() -> None:
    harness.in_bench_database(
        "bench_consultations",
        DATABASE,
        steps=[prepare, measure_queue, measure_overview, measure_list, measure_intake],
    )


# --- Preparing --------------------------------------------------------------------------------------------


def table() -> str:
    from guanai.consultations.models import Consultation

    return Consultation._meta.db_table


def prepare() -> None:
    from guanai.consultations.generation import generate_consultations
    from guanai.consultations.models import Consultation

    harness.load_regions()
    generated = harness.generate_missing(
        CONSULTATIONS,
        existing=Consultation.objects.count(),
        unit="request",
        generate=functools.partial(generate_consultations, region_code=PROVINCE, days=365, batch_size=10_000),
    )
    if generated is not None:
        missing, seconds = generated
        print(f"generated {missing:,} requests in {seconds:.0f} s: {missing / seconds:,.0f} requests/s")
    if ENCRYPTION_SAMPLE:
        encryption_sample()
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS consultation_statistics_covering")
        cursor.execute(f"VACUUM ANALYZE {table()}")
        cursor.execute("SELECT pg_relation_size(%s), pg_indexes_size(%s)", [table(), table()])
        table_size, index_size = cursor.fetchone()
        cursor.execute(
            f"SELECT count(*) FILTER (WHERE state = 'waiting'), count(*) FILTER (WHERE state = 'accepted'), "  # noqa: S608
            f"count(*) FILTER (WHERE is_urgent), min(created_at), max(created_at) FROM {table()}"
        )
        waiting, accepted, urgent, first, last = cursor.fetchone()
    print(
        f"requests in the database: {Consultation.objects.count():,} (table {table_size / 2**20:.0f} MB, "
        f"indexes {index_size / 2**20:.0f} MB); waiting {waiting:,}, accepted {accepted:,}, "
        f"urgent {urgent:,}; "
        f"made {first:%Y-%m-%d} to {last:%Y-%m-%d}"
    )


def encryption_sample() -> None:
    """The generation rate with one ciphertext per batch and with every value encrypted, rolled back."""
    from guanai.consultations.generation import generate_consultations

    rates = {}
    for encrypt_each_row in (False, True):
        with transaction.atomic():
            began = time.perf_counter()
            generate_consultations(
                count=ENCRYPTION_SAMPLE,
                region_code=PROVINCE,
                seed=7_000_000 + int(encrypt_each_row),
                batch_size=10_000,
                encrypt_each_row=encrypt_each_row,
            )
            rates[encrypt_each_row] = ENCRYPTION_SAMPLE / (time.perf_counter() - began)
            transaction.set_rollback(True)
    print(
        f"generation of {ENCRYPTION_SAMPLE:,} (rolled back): shared ciphertexts "
        f"{rates[False]:,.0f} requests/s, "
        f"encrypted per row {rates[True]:,.0f} requests/s (ratio {rates[True] / rates[False]:.2f})"
    )


# --- Timing -----------------------------------------------------------------------------------------------


class Timings:
    """Milliseconds of each measurement after the warm-up runs, ORM and raw alternating which goes first."""

    def __init__(self, measures: list[tuple[str, str, str]], warm_up: int) -> None:
        self.measures = measures
        self.warm_up = warm_up
        self.times: dict[str, list[float]] = {key: [] for _label, *keys in measures for key in keys}

    def run(self, run: int, functions: dict[str, Callable[[], Any]]) -> dict[str, Any]:
        results: dict[str, Any] = {}
        for _label, orm_key, raw_key in self.measures:
            if orm_key not in functions:
                continue
            for key in (orm_key, raw_key) if run % 2 else (raw_key, orm_key):
                milliseconds, results[key] = harness.timed(functions[key])
                if run >= self.warm_up:
                    self.times[key].append(milliseconds)
        return results

    def print_table(self, label_width: int) -> None:
        percentile = harness.percentile
        print(
            f"{'':{label_width}}{'ORM p50':>9}{'p95':>8}{'max':>8}{'raw p50':>9}{'p95':>8}{'max':>8}"
            f"{'p95 ratio':>11}"
        )
        for label, orm_key, raw_key in self.measures:
            orm_times, raw_times = self.times[orm_key], self.times[raw_key]
            if not orm_times:
                continue
            ratio = percentile(orm_times, 0.95) / percentile(raw_times, 0.95)
            print(
                f"{label:{label_width}}{percentile(orm_times, 0.5):9.1f}{percentile(orm_times, 0.95):8.1f}"
                f"{max(orm_times):8.1f}{percentile(raw_times, 0.5):9.1f}{percentile(raw_times, 0.95):8.1f}"
                f"{max(raw_times):8.1f}{ratio:11.2f}"
            )


def admin(role: str, code: str) -> Any:
    """An Actor: an administrator of `code` in `role` (one user for all, made on the first call)."""
    from guanai.accounts.models import RoleAssignment
    from guanai.core.access import Actor

    user = harness._bench_user()
    return Actor(user=user, assignment=RoleAssignment(user=user, role=role, region_id=code))


def regions_of_level(level: int) -> list[str]:
    from guanai.regions.models import Region

    return list(
        Region.objects.within(PROVINCE).filter(level=level).order_by("code").values_list("code", flat=True)
    )


# --- (a) The professional's queue -------------------------------------------------------------------------


def raw_queue(volunteer: Any, now: datetime.datetime) -> tuple[str, list[Any]]:
    """The queue as one would write it by hand: waiting, assigned to the professional, or urgent, unassigned,
    offered through one of their duty slots at the request's escalation level (on duty now: level 0; any
    slot: its county from level 1; a lead slot: level 2), not declined by them."""
    from django.utils import timezone

    from guanai.consultations import routing
    from guanai.consultations.vocabulary import Kind, duty_slot_at
    from guanai.core import region_codes

    kinds = routing.volunteer_kinds(volunteer)
    weekday, part = duty_slot_at(timezone.localtime(now))
    parts: set[tuple[str, int, str]] = set()
    for kind, region, day, day_part, is_lead in volunteer.duty_slots.filter(kind__in=kinds).values_list(
        "kind", "region_id", "weekday", "part", "is_lead"
    ):
        if is_lead:
            parts.add((kind, 2, region))
            continue
        if (day, day_part) == (weekday, part):
            parts.add((kind, 0, region))
        parts.add((kind, 1, routing.county_of(region)))
    offers, params = [], []
    for kind, level, region in sorted(parts):
        low, high = region_codes.subtree_range(region)
        offers.append(
            "(c.region_id BETWEEN %s AND %s AND c.escalation_level >= %s"
            + (" AND c.kind = %s)" if kind != Kind.PSYCHOLOGICAL else ")")
        )
        params += [low, high, level] + ([kind] if kind != Kind.PSYCHOLOGICAL else [])
    offered = " OR ".join(offers) or "FALSE"
    sql = (
        f"SELECT c.id, c.*, r.* FROM {table()} c JOIN regions_region r ON r.code = c.region_id "  # noqa: S608
        f"WHERE c.state = 'waiting' AND (c.assigned_to_id = %s OR (c.assigned_to_id IS NULL AND c.is_urgent "
        f"AND ({offered}) AND c.id NOT IN (SELECT consultation_id FROM consultations_consultationdecline "
        f"WHERE volunteer_id = %s))) ORDER BY c.is_urgent DESC, c.created_at, c.id"
    )
    return sql, [volunteer.pk, *params, volunteer.pk]


def measure_queue() -> None:
    from django.utils import timezone

    from guanai.consultations import routing
    from guanai.consultations.models import DutySlot
    from guanai.volunteers.models import Volunteer

    rng = random.Random(20261130)  # noqa: S311 - which professionals to ask for, not a secret
    now = timezone.now()
    professional_ids = sorted(set(DutySlot.objects.values_list("volunteer_id", flat=True)))
    timings = Timings([("queue (professional_queue, rows)", "queue", "raw_queue")], WARM_UP)
    sizes = []

    def queue(volunteer: Volunteer) -> list[int]:
        return [row.pk for row in routing.professional_queue(volunteer=volunteer, now=now)]

    def raw(volunteer: Volunteer) -> list[int]:
        sql, params = raw_queue(volunteer, now)  # reads the duty slots, as the ORM's queue does
        return harness.fetch(sql, params)

    for run in range(WARM_UP + RUNS):
        volunteer = Volunteer.objects.get(pk=rng.choice(professional_ids))
        results = timings.run(
            run,
            {"queue": functools.partial(queue, volunteer), "raw_queue": functools.partial(raw, volunteer)},
        )
        assert results["queue"] == results["raw_queue"], volunteer.pk
        if run >= WARM_UP:
            sizes.append(len(results["queue"]))
    print(
        f"\n(a) queue: {RUNS} runs over {len(professional_ids)} professionals; rows per queue median "
        f"{stats.median(sizes):.0f}, max {max(sizes)}"
    )
    timings.print_table(label_width=36)
    sql, params = raw_queue(volunteer, now)
    harness.print_plan(sql, params, "plan of the last raw queue:")


# --- (b) The supervisors' overview ------------------------------------------------------------------------


def periods(today: datetime.date) -> dict[str, tuple[datetime.date, datetime.date]]:
    last_of_previous = today.replace(day=1) - datetime.timedelta(days=1)
    return {
        "month": (last_of_previous.replace(day=1), last_of_previous),
        "year": (today - datetime.timedelta(days=364), today),
    }


def raw_overview(code: str, period: Any, now: datetime.datetime) -> Callable[[], dict[str, Any]]:
    """The same figures as hand-written PostgreSQL: one GROUPING SETS aggregate with percentile_cont over
    exact minutes, the open-now aggregate, the region names."""
    from guanai.consultations.statistics import _area_length
    from guanai.core import region_codes

    low, high = region_codes.subtree_range(code)
    length = _area_length(code)
    aggregate = f"""
        SELECT GROUPING(area), GROUPING(topic), area, topic, count(*), count(*) FILTER (WHERE is_urgent),
          count(*) FILTER (WHERE is_urgent AND (accepted_at IS NOT NULL OR accept_breached)),
          count(*) FILTER (WHERE is_urgent AND accepted_at IS NOT NULL AND NOT accept_breached),
          count(*) FILTER (WHERE first_reply_at IS NOT NULL OR reply_breached),
          count(*) FILTER (WHERE first_reply_at IS NOT NULL AND NOT reply_breached),
          count(rating), sum(rating), count(*) FILTER (WHERE rating >= 4),
          percentile_cont(0.5) WITHIN GROUP (ORDER BY accept_minutes),
          percentile_cont(0.9) WITHIN GROUP (ORDER BY accept_minutes),
          percentile_cont(0.5) WITHIN GROUP (ORDER BY accept_minutes) FILTER (WHERE is_urgent),
          percentile_cont(0.9) WITHIN GROUP (ORDER BY accept_minutes) FILTER (WHERE is_urgent),
          percentile_cont(0.5) WITHIN GROUP (ORDER BY reply_minutes),
          percentile_cont(0.9) WITHIN GROUP (ORDER BY reply_minutes)
        FROM (
          SELECT substr(region_id, 1, {length}) AS area, topic, is_urgent, accepted_at, accept_breached,
            first_reply_at, reply_breached, rating,
            EXTRACT(EPOCH FROM accepted_at - created_at) / 60 AS accept_minutes,
            EXTRACT(EPOCH FROM first_reply_at - created_at) / 60 AS reply_minutes
          FROM {table()}
          WHERE region_id BETWEEN %s AND %s AND created_at >= %s AND created_at < %s
        ) AS period
        GROUP BY GROUPING SETS ((area), (topic), ())
    """  # noqa: S608
    open_now = f"""
        SELECT substr(region_id, 1, {length}) AS area, count(*) FILTER (WHERE state = 'waiting'),
          count(*) FILTER (WHERE state = 'accepted'),
          count(*) FILTER (WHERE state = 'waiting' AND assigned_to_id IS NULL AND NOT is_urgent),
          count(*) FILTER (WHERE state = 'waiting' AND is_urgent),
          count(*) FILTER (WHERE (state = 'waiting' AND accept_due_at <= %s) OR reply_due_at <= %s)
        FROM {table()} WHERE region_id BETWEEN %s AND %s AND state IN ('waiting', 'accepted') GROUP BY area
    """  # noqa: S608
    names = "SELECT code, name FROM regions_region WHERE code = %s OR parent_id = %s ORDER BY code"

    def run() -> dict[str, Any]:
        with connection.cursor() as cursor:
            cursor.execute(names, [code, code])
            cursor.fetchall()
            cursor.execute(aggregate, [low, high, period.start, period.end])
            rows = cursor.fetchall()
            cursor.execute(open_now, [now, now, low, high])
            opened = cursor.fetchall()
        overall = next(row for row in rows if row[0] == 1 and row[1] == 1)
        return {
            "overall": overall,
            "areas": sorted((row[2], row[4]) for row in rows if row[0] == 0),
            "open": opened,
        }

    return run


def figures_match(orm: Any, raw: dict[str, Any], errors: list[float]) -> None:
    """Counts equal; medians and 90th percentiles within their buckets (the raw ones are exact). A raw row:
    grouping flags, area, topic, then the counts (4–12) and the percentiles (13–18)."""
    overall, figures = raw["overall"], orm.overall
    counts = (
        figures.total,
        figures.urgent,
        figures.crisis_decided,
        figures.crisis_on_time,
        figures.reply_measured,
        figures.reply_on_time,
        figures.ratings,
        figures.rating_sum,
        figures.satisfied,
    )
    assert counts == tuple(value or 0 for value in overall[4:13]), (counts, overall)
    areas = {area.ljust(12, "0"): total for area, total in raw["areas"]}
    assert {row.code: row.figures.total for row in orm.by_region if row.figures.total} == areas
    assert orm.open_now.total == sum(row[1] + row[2] for row in raw["open"])
    assert orm.open_now.overdue == sum(row[5] for row in raw["open"])
    for bucketed, exact in (
        (figures.accept_minutes.median, overall[13]),
        (figures.accept_minutes.p90, overall[14]),
        (figures.first_reply_minutes.median, overall[17]),
        (figures.first_reply_minutes.p90, overall[18]),
    ):
        if exact:
            errors.append((float(exact) - (bucketed or 0.0)) / float(exact))


def measure_overview() -> None:
    from django.utils import timezone

    from guanai.consultations.statistics import consultation_statistics, counted_rows, statistics_period
    from guanai.core.access import Role
    from guanai.core.region_codes import RegionLevel

    now = timezone.now()
    cities, counties = regions_of_level(RegionLevel.CITY), regions_of_level(RegionLevel.COUNTY)
    shapes = [(level, span) for level in ("province", "city", "county") for span in ("month", "year")]
    spans = periods(timezone.localdate(now))
    for with_index in (False, True):
        if with_index:
            began = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(STATISTICS_INDEX)
                cursor.execute(f"VACUUM ANALYZE {table()}")
                cursor.execute("SELECT pg_relation_size('consultation_statistics_covering')")
                size = cursor.fetchone()[0]
            print(
                f"\ncovering index made in {time.perf_counter() - began:.0f} s ({size / 2**20:.0f} MB): "
                f"{STATISTICS_INDEX}"
            )
        rng = random.Random(20261201)  # noqa: S311 - which regions to look at, not a secret
        timings = Timings(
            [(f"{level} {span}", f"{level} {span}", f"raw {level} {span}") for level, span in shapes], 2
        )
        errors: list[float] = []
        totals: dict[str, list[int]] = {f"{level} {span}": [] for level, span in shapes}
        for run in range(2 + OVERVIEW_RUNS):
            for level, span in shapes:
                code = {"province": PROVINCE, "city": rng.choice(cities), "county": rng.choice(counties)}[
                    level
                ]
                role = {
                    "province": Role.PROVINCE_ADMIN,
                    "city": Role.CITY_ADMIN,
                    "county": Role.COUNTY_ADMIN,
                }[level]
                actor = admin(role, code)
                date_from, date_to = spans[span]
                period = statistics_period(date_from=date_from, date_to=date_to)
                key = f"{level} {span}"
                results = timings.run(
                    run,
                    {
                        key: functools.partial(
                            consultation_statistics,
                            actor=actor,
                            date_from=date_from,
                            date_to=date_to,
                            now=now,
                        ),
                        f"raw {key}": raw_overview(code, period, now),
                    },
                )
                figures_match(results[key], results[f"raw {key}"], errors)
                if run >= 2:
                    totals[key].append(results[key].overall.total)
        print(
            f"\n(b) overview, {'with' if with_index else 'without'} consultation_statistics_covering: "
            f"{OVERVIEW_RUNS} runs per shape (after 2 to warm up); "
            f"month {spans['month'][0]}–{spans['month'][1]}, "
            f"year {spans['year'][0]}–{spans['year'][1]}"
        )
        for key, values in totals.items():
            print(
                f"    requests in the period, {key:14}: median {stats.median(values):>9,.0f}, "
                f"max {max(values):>9,}"
            )
        timings.print_table(label_width=16)
        print(
            f"bucketed median / p90 vs exact (percentile_cont): mean error {stats.mean(errors) * 100:.2f} %, "
            f"largest {max(errors) * 100:.2f} % (below the exact value), {len(errors)} compared"
        )
        for span in ("month", "year"):
            first = counted_rows(
                PROVINCE, statistics_period(date_from=spans[span][0], date_to=spans[span][1])
            )
            sql, params = first.query.sql_with_params()
            harness.print_plan(sql, list(params), f"plan of the overview's first scan, province, {span}:")


# --- (c) The metadata list --------------------------------------------------------------------------------


def raw_list(code: str, offset: int) -> tuple[Callable[[], list[int]], Callable[[], int]]:
    from guanai.consultations.statistics import METADATA_FIELDS
    from guanai.core import region_codes

    low, high = region_codes.subtree_range(code)
    columns = ", ".join(
        f"c.{name}" if "__" not in name else ("r.name" if name.startswith("region") else "v.name")
        for name in METADATA_FIELDS
        if name not in ("region", "assigned_to")
    )
    ids = (
        f"SELECT c.id FROM {table()} c WHERE c.region_id BETWEEN %s AND %s "  # noqa: S608
        f"ORDER BY c.created_at DESC, c.id DESC LIMIT {PAGE} OFFSET {offset}"
    )
    page = (
        f"SELECT c.id, c.region_id, c.assigned_to_id, {columns} FROM {table()} c "  # noqa: S608
        "JOIN regions_region r ON r.code = c.region_id "
        "LEFT JOIN volunteers_volunteer v ON v.id = c.assigned_to_id "
        f"WHERE c.id IN ({ids}) ORDER BY c.created_at DESC, c.id DESC"
    )
    count = f"SELECT count(*) FROM {table()} c WHERE c.region_id BETWEEN %s AND %s"  # noqa: S608
    return (
        functools.partial(harness.fetch, page, [low, high]),
        functools.partial(harness.fetch_one, count, [low, high]),
    )


def measure_list() -> None:
    from django.utils import timezone

    from guanai.consultations.statistics import supervision_page, supervision_requests
    from guanai.core.access import Role
    from guanai.core.region_codes import RegionLevel

    rng = random.Random(20261202)  # noqa: S311
    counties = regions_of_level(RegionLevel.COUNTY)
    now = timezone.now()
    measures = [
        (f"{who} {what}", f"{who} {what}", f"raw {who} {what}")
        for who in ("province", "county")
        for what in ("page 1", f"page {DEEP_PAGE}", "count")
    ]
    timings = Timings(measures, WARM_UP)
    for run in range(WARM_UP + LIST_RUNS):
        for who in ("province", "county"):
            code = PROVINCE if who == "province" else rng.choice(counties)
            actor = admin(Role.PROVINCE_ADMIN if who == "province" else Role.COUNTY_ADMIN, code)
            listed = supervision_requests(actor=actor, now=now)
            functions: dict[str, Callable[[], Any]] = {}
            for page_number in (1, DEEP_PAGE):
                offset = (page_number - 1) * PAGE
                raw_page, raw_count = raw_list(code, offset)
                functions[f"{who} page {page_number}"] = functools.partial(
                    lambda listed, offset: [
                        row.pk for row in supervision_page(listed, offset=offset, limit=PAGE)
                    ],
                    listed,
                    offset,
                )
                functions[f"raw {who} page {page_number}"] = raw_page
            functions[f"{who} count"] = listed.count
            functions[f"raw {who} count"] = raw_count
            results = timings.run(run, functions)
            for what in ("page 1", f"page {DEEP_PAGE}", "count"):
                assert results[f"{who} {what}"] == results[f"raw {who} {what}"], (who, what, code)
    print(
        f"\n(c) metadata list: {LIST_RUNS} runs (after {WARM_UP}), page of {PAGE}, ids first; "
        "a random county per run"
    )
    timings.print_table(label_width=20)


# --- (d) Intake -------------------------------------------------------------------------------------------

DESCRIPTIONS = {
    "study_pressure": "快要中考了，每天晚上都学到十二点，还是觉得什么都没记住，一想到考试就心慌。",
    "parent_child": "我和妈妈一说话就吵架，她总拿我和别人比，我觉得在家里很压抑，不知道怎么和她沟通。",
    "emotional_distress": "最近总是提不起精神，上课也听不进去，经常一个人偷偷哭，也说不清是为什么。",
    "peer_relations": "转学以后一直没交到朋友，课间总是一个人坐着，觉得班上的同学都不喜欢我。",
    "self_harm": "我觉得活着没有意思，最近有时候想伤害自己，不知道该和谁说。",
    "school_bullying": "孩子在学校被几个同学推搡，还被抢了零花钱，班主任说是闹着玩，我们该怎么办？",
    "guardianship": "父母离婚后孩子跟着奶奶生活，父亲一直不给抚养费，想问可以怎样要求他支付。",
    "online_harm": "孩子在网上认识的人一直让她发照片，不发就威胁要把聊天记录发给同学，现在她很害怕。",
    "legal_other": "孩子偷偷用我的手机给游戏充值了三千多元，想问这笔钱能不能要回来，需要准备什么材料。",
}


def intake_payloads(villages: list[str], count: int, rng: random.Random) -> list[dict[str, Any]]:
    from guanai.consultations.vocabulary import KIND_OF_TOPIC

    payloads = []
    ordinary = [topic for topic in DESCRIPTIONS if topic != "self_harm"]
    for number in range(count):
        # About 3 % urgent, as the generator's history (DESCRIPTIONS are checked: only self-harm triggers).
        topic = "self_harm" if number % 33 == 0 else rng.choice(ordinary)
        by_phone = rng.random() < 0.3
        age = rng.randint(10, 17)
        payloads.append(
            {
                "kind": KIND_OF_TOPIC[topic],
                "topic": topic,
                "requester": rng.choice(["self", "self", "guardian", "teacher"]),
                "region_code": rng.choice(villages),
                "description": DESCRIPTIONS[topic] + f"（{number}）",
                "contact_preference": "phone" if by_phone else "online",
                "contact_phone": f"139{rng.randrange(10**8):08d}" if by_phone else "",
                "requester_name": "小同学" if rng.random() < 0.4 else "",
                "requester_age": age,
                "consent": True,
                "guardian_consent": age < 14,
            }
        )
    return payloads


def give_accounts(county: str) -> int:
    """Accounts with the lawyer or counsellor role for the county's pool professionals (routing offers
    requests only to professionals who can sign in)."""
    from guanai.accounts.services import role_assign, user_create
    from guanai.consultations import routing
    from guanai.consultations.vocabulary import Kind
    from guanai.core import region_codes
    from guanai.core.access import Role
    from guanai.regions.models import Region
    from guanai.volunteers.models import Volunteer

    region = Region.objects.get(code=county)
    given = 0
    for volunteer in Volunteer.objects.filter(region_codes.within_q("region_id", county), user__isnull=True):
        kinds = routing.volunteer_kinds(volunteer)
        if not kinds:
            continue
        user = user_create(
            username=f"bench-professional-{volunteer.pk}", password=None, display_name=volunteer.name
        )
        role = Role.LAWYER if Kind.LEGAL in kinds else Role.COUNSELLOR
        role_assign(user=user, role=role, region=region, valid_from=datetime.date(2020, 1, 1))
        Volunteer.objects.filter(pk=volunteer.pk).update(user=user)
        given += 1
    return given


def measure_intake() -> None:
    from django.test import Client, RequestFactory, override_settings

    from guanai.consultations import codes, intake
    from guanai.consultations.intake import IntakeData
    from guanai.consultations.models import Consultation
    from guanai.core import region_codes
    from guanai.core.region_codes import RegionLevel
    from guanai.regions.models import Region

    rng = random.Random(20261203)  # noqa: S311
    villages = list(
        Region.objects.within(INTAKE_COUNTY).filter(level=RegionLevel.VILLAGE).values_list("code", flat=True)
    )
    given = give_accounts(INTAKE_COUNTY)
    warm = 20
    payloads = intake_payloads(villages, warm + INTAKE, rng)
    client = Client()
    limits = {
        "GUANAI_CONSULTATION_RATE_PER_IP": "1000000/h",
        "GUANAI_CONSULTATION_RATE_PER_PHONE": "1000000/d",
    }
    with override_settings(**limits):
        began = 0.0
        urgent = 0
        for number, payload in enumerate(payloads):
            if number == warm:
                began = time.perf_counter()
            response = client.post(
                "/api/v1/public/consultations", data=json.dumps(payload), content_type="application/json"
            )
            assert response.status_code == 201, response.content
            urgent += response.json()["urgent"]
        api_rate = INTAKE / (time.perf_counter() - began)
        factory = RequestFactory()
        service_payloads = intake_payloads(villages, INTAKE, rng)
        began = time.perf_counter()
        for payload in service_payloads:
            request = factory.post("/api/v1/public/consultations", REMOTE_ADDR="10.1.2.3")
            intake.consultation_submit(request=request, data=IntakeData(**payload))
        service_rate = INTAKE / (time.perf_counter() - began)
    bulk_payloads = intake_payloads(villages, INTAKE, rng)
    began = time.perf_counter()
    rows = []
    for number, payload in enumerate(bulk_payloads):
        reference = f"ZB{number:08d}"
        values = {key: value for key, value in payload.items() if key not in ("consent", "region_code")}
        rows.append(
            Consultation(
                reference=reference,
                retrieval_digest=codes.retrieval_digest(reference, codes.new_retrieval_code()),
                region_id=payload["region_code"],
                consent_version="2026-11",
                **values,
            )
        )
    with transaction.atomic():
        Consultation.objects.bulk_create(rows)
    bulk_rate = INTAKE / (time.perf_counter() - began)
    # The intake's own requests (references "ZX…"; the generator's are "ZS…", the bulk ones "ZB…").
    submitted = Consultation.objects.filter(
        region_codes.within_q("region_id", INTAKE_COUNTY), reference__startswith="ZX"
    )
    assigned = submitted.filter(assigned_to__isnull=False).count()
    print(
        f"\n(d) intake: {INTAKE} requests after {warm} to warm up, in {INTAKE_COUNTY[:6]} "
        f"({len(villages)} villages; "
        f"{given} professionals given accounts; {assigned} of the {submitted.count()} submitted assigned at "
        f"once, {urgent} of the API's urgent)"
    )
    print(f"    POST /api/v1/public/consultations (test Client): {api_rate:8.1f} requests/s")
    print(f"    intake.consultation_submit directly:              {service_rate:8.1f} requests/s")
    print(f"    bulk ORM insert of the same rows (the limit):     {bulk_rate:8.1f} rows/s")
    print(f"    API / limit: {api_rate / bulk_rate:.3f}; service / limit: {service_rate / bulk_rate:.3f}")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        sys.exit(__doc__)
    main()
