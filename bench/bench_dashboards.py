"""The committees' dashboard at province scale: the indicators counted live against the daily snapshots,
each against the raw limit measured in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/guanai BENCH_KEEP=1 \
        .venv/bin/python bench/bench_dashboards.py

PostgreSQL only. The benchmark works in its own database (BENCH_DATABASE, default guanai_bench_dash), created
and migrated through Django's test-database machinery like the test suite's (`harness.py`), never in the
database DATABASE_URL names. It loads the packaged regions and generates, in SQL (`INSERT … SELECT` over
`generate_series`, every column copied from one template row made by the ordinary generators, so that the
encrypted fields hold one valid ciphertext), over Zhejiang's villages:

- BENCH_CHILDREN children (default 1,000,000): risk 10 % high, 20 % medium; 5 % closed; 0.5 % sealed;
  registered over the last two years; 70 % with a pairing consent;
- BENCH_VOLUNTEERS volunteers (default 300,000), 95 % active, hours spread over the star bands;
- one pairing per child (default 1,000,000), 80 % active (a third of them overdue), the rest closed;
- BENCH_VISITS visits (default 5,000,000) over the last 400 days; an open mandatory report per 50 pairings.

Then (wall-clock in this process, the server's time without HTTP and templates):

(a) the limit: the province dashboard's figures (children by group, need and risk, eligible, paired,
    visits, overdue, open reports, volunteers by category, specialty and star) grouped by city, in
    hand-written SQL, for the month and a year earlier — the least a live count has to do;
(b) `indicators_for` counted live, for the province, a city and a county (BENCH_LIVE_RUNS, default 5);
(c) `snapshot_build` for the month and the same month a year earlier;
(d) `indicators_for` from the snapshots, for the province, a city and a county (BENCH_RUNS, default 200,
    after 20 to warm up), checked equal to (b), with the ratio of its p95 to the limit's p95.

BENCH_KEEP=1 keeps the database afterwards and reuses its records next time; without it the database is
dropped at the end.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import harness

harness.setup_django()

from django.db import connection, transaction  # noqa: E402

CHILDREN = int(os.environ.get("BENCH_CHILDREN", "1000000"))
VOLUNTEERS = int(os.environ.get("BENCH_VOLUNTEERS", "300000"))
VISITS = int(os.environ.get("BENCH_VISITS", "5000000"))
DATABASE = os.environ.get("BENCH_DATABASE", "guanai_bench_dash")
RUNS = int(os.environ.get("BENCH_RUNS", "200"))
LIVE_RUNS = int(os.environ.get("BENCH_LIVE_RUNS", "5"))
LIMIT_RUNS = int(os.environ.get("BENCH_LIMIT_RUNS", "5"))
PROVINCE = "330000000000"
CITY = "330100000000"  # 杭州市
COUNTY = "330127000000"  # 淳安县


def main() -> None:
    harness.in_bench_database("bench_dashboards", DATABASE, steps=[prepare, measure])


# --- Generation -----------------------------------------------------------------------------------------


def _execute(sql: str, params: list[Any] | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _copy_of(table: str, template_id: int, overrides: dict[str, str], source: str) -> str:
    """INSERT … SELECT of `source` rows into `table`, every column but the id taken from the template row
    unless `overrides` gives its SQL expression."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
            "ORDER BY ordinal_position",
            [table],
        )
        columns = [row[0] for row in cursor.fetchall() if row[0] != "id"]
    unknown = set(overrides) - set(columns)
    if unknown:
        sys.exit(f"{table}: no columns {sorted(unknown)}")
    selected = ", ".join(overrides.get(column, f"t.{column}") for column in columns)
    # Table and column names are the schema's own; the template id is an integer.
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {selected} "  # noqa: S608
        f"FROM (SELECT * FROM {table} WHERE id = {int(template_id)}) t CROSS JOIN {source}"
    )


def _step(label: str, function: Callable[[], int]) -> None:
    began = time.perf_counter()
    with transaction.atomic():
        rows = function()
    print(f"  {label}: {rows:,} rows in {time.perf_counter() - began:.0f} s", flush=True)


def prepare() -> None:
    from guanai.minors.generation import generate_minors
    from guanai.minors.models import Consent, Minor
    from guanai.pairings.models import MandatoryReport, Pairing, Visit
    from guanai.volunteers.generation import generate_volunteers
    from guanai.volunteers.models import Volunteer

    harness.load_regions()
    if Minor.objects.count() >= CHILDREN:
        print(f"children in the database: {Minor.objects.count():,} (kept)")
        return
    if Minor.objects.count() > 1:
        sys.exit("an interrupted generation: drop the database (run once without BENCH_KEEP) and start again")
    began = time.perf_counter()
    if not Minor.objects.exists():
        generate_minors(count=1, seed=0)
    if not Volunteer.objects.exists():
        generate_volunteers(count=1, seed=0)
    minor_template = Minor.objects.order_by("id").values_list("id", flat=True).first()
    volunteer_template = Volunteer.objects.order_by("id").values_list("id", flat=True).first()
    consent_template = Consent.objects.order_by("id").values_list("id", flat=True).first()
    if not (minor_template and volunteer_template and consent_template):
        sys.exit("the template rows were not generated")
    _execute(
        "CREATE TEMP TABLE bench_village AS SELECT (row_number() OVER (ORDER BY code)) - 1 AS n, code "
        "FROM regions_region WHERE level = 5 AND code >= '330000000000' AND code <= '339999999999'"
    )
    villages = _execute("SELECT 1 FROM bench_village")
    print(f"generating in {villages:,} villages of Zhejiang", flush=True)
    # A village per row, spread by a multiplicative hash so that neighbours fall far apart.
    spread = f"JOIN bench_village v ON v.n = (g * 7919) % {villages}"

    children = _copy_of(
        "minors_minor",
        minor_template,
        {
            "region_id": "v.code",
            "id_number": "NULL",
            "id_number_index": "NULL",
            "household_region_id": "NULL",
            "is_sealed": "g % 200 = 0",
            "special_kind": "CASE WHEN g % 200 = 0 THEN 'misconduct' ELSE '' END",
            "categories": "CASE WHEN g % 200 = 0 THEN 128 ELSE (g * 37) % 127 + 1 END",
            "needs": "(g * 53) % 128",
            "risk_level": "CASE WHEN g % 10 = 0 THEN 'high' WHEN g % 10 < 3 THEN 'medium' ELSE 'low' END",
            "status": "CASE WHEN g % 20 = 7 THEN 'closed' ELSE 'active' END",
            "closed_reason": "CASE WHEN g % 20 = 7 THEN 'moved_away' ELSE '' END",
            "created_at": "now() - make_interval(days => ((g * 13) % 730)::int)",
            "updated_at": "now()",
        },
        f"generate_series(1::bigint, {CHILDREN}) g {spread}",
    )
    _step("children", lambda: _execute(children))
    first_child = minor_template + 1
    consents = _copy_of(
        "minors_consent",
        consent_template,
        {
            "minor_id": "m.id",
            "scope": """'["registration", "pairing"]'::jsonb""",
            "given_on": "(m.created_at AT TIME ZONE 'Asia/Shanghai')::date",
            "withdrawn_on": "NULL",
        },
        f"minors_minor m WHERE m.id >= {first_child} AND m.id % 10 < 7",
    )
    _step("consents", lambda: _execute(consents))
    volunteers = _copy_of(
        "volunteers_volunteer",
        volunteer_template,
        {
            "region_id": "v.code",
            "id_number": "NULL",
            "id_number_index": "NULL",
            "phone_index": "NULL",
            "user_id": "NULL",
            "categories": "(g * 13) % 63 + 1",
            "specialties": "(g * 29) % 255",
            "status": "CASE WHEN g % 20 = 3 THEN 'suspended' ELSE 'active' END",
            "status_reason": "CASE WHEN g % 20 = 3 THEN 'bench' ELSE '' END",
            "joined_on": "current_date - ((g * 17) % 3000)::int",
            "hours_total": "(g * 7) % 1800",
            "paired_count": "0",
            "created_at": "now()",
            "updated_at": "now()",
        },
        f"generate_series(1::bigint, {VOLUNTEERS}) g {spread}",
    )
    _step("volunteers", lambda: _execute(volunteers))
    first_volunteer = volunteer_template + 1
    pairings = (
        "INSERT INTO pairings_pairing (state, explanation, started_on, closed_on, close_reason, close_note, "  # noqa: S608
        "last_contact_on, next_contact_due, created_at, updated_at, version, minor_id, volunteer_id) "
        "SELECT CASE WHEN m.id % 10 < 8 THEN 'active' ELSE 'closed' END, '{}'::jsonb, "
        "current_date - (m.id % 700)::int, "
        "CASE WHEN m.id % 10 < 8 THEN NULL ELSE current_date - (m.id % 300)::int END, "
        "CASE WHEN m.id % 10 < 8 THEN '' ELSE 'moved_away' END, '', NULL, "
        "current_date + ((m.id * 11) % 60)::int - 20, now(), now(), 1, m.id, "
        f"{first_volunteer} + (m.id * 31) % {VOLUNTEERS} "
        f"FROM minors_minor m WHERE m.id >= {first_child}"
    )
    _step("pairings", lambda: _execute(pairings))
    per_pairing = max(1, round(VISITS / max(1, Pairing.objects.count())))
    visits = (
        "INSERT INTO pairings_visit (visited_on, mode, duration_minutes, activities, note, study, health, "  # noqa: S608
        "emotion, safety, concerns, photo, created_at, pairing_id) "
        "SELECT current_date - ((p.id * 7 + k * 73) % 400)::int, 'home', 60, 1, '', 'good', 'good', 'good', "
        "'good', 0, '', now(), p.id "
        f"FROM pairings_pairing p CROSS JOIN generate_series(1, {per_pairing}) k"
    )
    _step("visits", lambda: _execute(visits))
    reports = (
        "INSERT INTO pairings_mandatoryreport (concerns, state, opened_at, deadline, outcome, outcome_note, "
        "minor_id) SELECT 1, 'open', now() - make_interval(days => (p.id % 300)::int), "
        "now() - make_interval(days => (p.id % 300)::int) + interval '7 days', '', '', p.minor_id "
        "FROM pairings_pairing p WHERE p.id % 50 = 0"
    )
    _step("open mandatory reports", lambda: _execute(reports))
    for model in (Minor, Consent, Volunteer, Pairing, Visit, MandatoryReport):
        _execute(f"VACUUM ANALYZE {model._meta.db_table}")
    print(
        f"generated {Minor.objects.count():,} children, {Volunteer.objects.count():,} volunteers, "
        f"{Pairing.objects.count():,} pairings, {Visit.objects.count():,} visits in "
        f"{time.perf_counter() - began:.0f} s",
        flush=True,
    )


# --- The limit ------------------------------------------------------------------------------------------


def _limit_sql(code: str, length: int) -> list[str]:
    """The dashboard's figures grouped by the first `length` digits, written by hand: one statement per
    table, as few as the figures allow. Parameters: period start, period end (timestamps), the period's
    first and last day, the counting day (dates)."""
    from guanai.minors.vocabulary import Category, Need
    from guanai.volunteers.vocabulary import ElderCategory, Specialty, star_thresholds

    def bits(column: str, flags: Any) -> str:
        return ", ".join(f"count(*) FILTER (WHERE {column} & {int(flag)} > 0)" for flag in flags)

    limits = [0, *[int(value) for value in star_thresholds()]]
    stars = ", ".join(
        f"count(*) FILTER (WHERE hours_total >= {low}"
        + (f" AND hours_total < {limits[index + 1]})" if index + 1 < len(limits) else ")")
        for index, low in enumerate(limits)
    )
    area = f"left(m.region_id, {length})"
    from guanai.core.region_codes import subtree_range

    low, high = subtree_range(code)
    within = f"m.region_id >= '{low}' AND m.region_id <= '{high}'"  # digits of a checked code
    # The SQL is this script's own; the values go as parameters.
    return [
        f"""SELECT {area}, count(*), {bits("m.categories", Category)}, {bits("m.needs", Need)},
            count(*) FILTER (WHERE m.risk_level = 'low'), count(*) FILTER (WHERE m.risk_level = 'medium'),
            count(*) FILTER (WHERE m.risk_level = 'high'),
            count(*) FILTER (WHERE c.has), count(*) FILTER (WHERE c.has AND p.has)
            FROM minors_minor m
            LEFT JOIN LATERAL (SELECT true AS has FROM minors_consent x WHERE x.minor_id = m.id
                AND x.withdrawn_on IS NULL AND x.given_on <= %(day)s AND x.scope::text LIKE '%%"pairing"%%'
                LIMIT 1) c ON true
            LEFT JOIN LATERAL (SELECT true AS has FROM pairings_pairing y WHERE y.minor_id = m.id
                AND y.state IN ('active', 'closed') AND y.started_on <= %(day)s
                AND (y.closed_on IS NULL OR y.closed_on > %(day)s) LIMIT 1) p ON true
            WHERE {within} AND m.status = 'active' AND NOT m.is_sealed AND m.created_at < %(end)s
            GROUP BY 1""",  # noqa: S608
        f"""SELECT {area}, count(*) FROM minors_minor m
            WHERE {within} AND m.status = 'active' AND m.is_sealed AND m.created_at < %(end)s GROUP BY 1""",  # noqa: S608
        f"""SELECT {area}, count(*) FROM pairings_visit v JOIN pairings_pairing p ON p.id = v.pairing_id
            JOIN minors_minor m ON m.id = p.minor_id
            WHERE {within} AND NOT m.is_sealed AND v.visited_on >= %(first)s AND v.visited_on <= %(last)s
            GROUP BY 1""",  # noqa: S608
        f"""SELECT {area}, count(*) FROM pairings_pairing p JOIN minors_minor m ON m.id = p.minor_id
            WHERE {within} AND NOT m.is_sealed AND p.state = 'active' AND p.next_contact_due < %(day)s
            GROUP BY 1""",  # noqa: S608
        f"""SELECT {area}, count(*) FROM pairings_mandatoryreport r JOIN minors_minor m ON m.id = r.minor_id
            WHERE {within} AND NOT m.is_sealed AND r.opened_at < %(end)s
            AND ((r.state = 'open' AND r.closed_at IS NULL) OR r.closed_at >= %(end)s) GROUP BY 1""",  # noqa: S608
        f"""SELECT left(m.region_id, {length}), count(*), {bits("m.categories", ElderCategory)},
            {bits("m.specialties", Specialty)}, {stars}
            FROM volunteers_volunteer m WHERE {within} AND m.status = 'active'
            AND (m.joined_on IS NULL OR m.joined_on <= %(last)s) GROUP BY 1""",  # noqa: S608
    ]


def _limit(code: str, length: int, month: Any, today: datetime.date) -> dict[str, int]:
    """The raw figures of the month and a year earlier; a few totals, to check against the ORM."""
    totals: dict[str, int] = {}
    for index, period in enumerate((month, month.year_earlier())):
        params = {
            "start": period.start,
            "end": period.end,
            "first": period.first_day,
            "last": period.last_day,
            "day": min(period.last_day, today),
        }
        with connection.cursor() as cursor:
            results = []
            for sql in _limit_sql(code, length):
                cursor.execute(sql, params)
                results.append(cursor.fetchall())
        if index == 0:
            totals["children"] = sum(row[1] for row in results[0])
            totals["paired"] = sum(row[-1] for row in results[0])
            totals["visits"] = sum(row[1] for row in results[2])
            totals["overdue"] = sum(row[1] for row in results[3])
            totals["open_reports"] = sum(row[1] for row in results[4])
            totals["volunteers"] = sum(row[1] for row in results[5])
    return totals


# --- Measuring ------------------------------------------------------------------------------------------


def _times(function: Callable[[], Any], runs: int, warm_up: int) -> tuple[list[float], Any]:
    result = None
    for _run in range(warm_up):
        function()
    times = []
    for _run in range(runs):
        elapsed, result = harness.timed(function)
        times.append(elapsed)
    return times, result


def measure() -> None:
    from django.utils import timezone

    from guanai.dashboards.indicators import Period, indicators_for
    from guanai.dashboards.models import IndicatorSnapshot
    from guanai.dashboards.snapshots import snapshot_build

    today = timezone.localdate()
    month = Period(today.year, today.month)
    shapes = [("province", PROVINCE, 4), ("city 杭州市", CITY, 6), ("county 淳安县", COUNTY, 9)]
    IndicatorSnapshot.objects.all().delete()

    rows: list[tuple[str, str, float, float, float | None]] = []
    limits: dict[str, float] = {}
    for label, code, length in shapes:
        times, totals = _times(functools.partial(_limit, code, length, month, today), LIMIT_RUNS, 1)
        limits[code] = harness.percentile(times, 0.95)
        rows.append(("(a) raw SQL, the limit", label, harness.percentile(times, 0.5), limits[code], None))
        print(f"(a) limit {label}: p95 {limits[code]:.0f} ms {totals}", flush=True)

    live: dict[str, Any] = {}
    for label, code, _length in shapes:
        times, live[code] = _times(
            functools.partial(indicators_for, actor=None, region_code=code, period=str(month), today=today),
            LIVE_RUNS,
            1,
        )
        p95 = harness.percentile(times, 0.95)
        rows.append(
            ("(b) indicators_for, live", label, harness.percentile(times, 0.5), p95, p95 / limits[code])
        )
        print(f"(b) live {label}: p95 {p95:.0f} ms", flush=True)
    if live[PROVINCE].source != "live":
        sys.exit("expected a live count before any snapshot")
    for _label, code, length in shapes:
        raw = _limit(code, length, month, today)
        counted = {key: live[code].total.figures[key].current for key in raw}
        print(f"check {code}: ORM {counted} {'==' if counted == raw else '!= raw'} {raw}", flush=True)

    built: list[tuple[str, int, float]] = []
    for period in (month, month.year_earlier()):
        elapsed, written = harness.timed(functools.partial(snapshot_build, period=period, today=today))
        built.append((str(period), written, elapsed / 1000))
        print(f"(c) snapshot_build {period}: {written:,} rows in {elapsed / 1000:.1f} s", flush=True)

    for label, code, _length in shapes:
        times, result = _times(
            functools.partial(indicators_for, actor=None, region_code=code, period=str(month), today=today),
            RUNS,
            harness.WARM_UP,
        )
        if result.source != "snapshot":
            sys.exit(f"{label}: expected the snapshot")
        same = dataclasses.replace(result, source="", as_of=None) == dataclasses.replace(
            live[code], source="", as_of=None
        )
        p95 = harness.percentile(times, 0.95)
        rows.append(
            ("(d) indicators_for, snapshots", label, harness.percentile(times, 0.5), p95, p95 / limits[code])
        )
        print(f"(d) snapshot {label}: p95 {p95:.1f} ms, same as live: {same}", flush=True)

    print()
    print("| measure | region | p50 ms | p95 ms | p95 / limit p95 |")
    print("|---|---|---:|---:|---:|")
    for measure_label, region, p50, p95, ratio in rows:
        shown = "—" if ratio is None else f"{ratio:.4f}"
        print(f"| {measure_label} | {region} | {p50:,.1f} | {p95:,.1f} | {shown} |")
    print()
    print("| snapshot_build | rows | seconds |")
    print("|---|---:|---:|")
    for built_period, written, seconds in built:
        print(f"| {built_period} | {written:,} | {seconds:.1f} |")


if __name__ == "__main__":
    main()
