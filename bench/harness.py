"""What the list benchmarks share (bench_minor_list.py, bench_volunteer_list.py): Django set up for a
benchmark database of its own, the province's regions, timing and percentiles, the hand-written SQL a
list selector is compared with, and the table of results.

Imported by the scripts as a sibling module (`import harness`: a script's own folder is first on
sys.path), before anything of Django; `setup_django()` then sets Django up.
"""

from __future__ import annotations

import base64
import functools
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("BENCH_RUNS", "400"))
KEEP = os.environ.get("BENCH_KEEP") == "1"  # keep the benchmark's database, and reuse it next time
PAGE = 50
WARM_UP = 20
# A village of the packaged regions: when it is there, the regions were loaded by an earlier run.
KNOWN_VILLAGE = "330127100219"

# (label, ORM key, raw key): each ORM measurement with the raw SQL it is compared against.
Measures = Sequence[tuple[str, str, str]]


def setup_django() -> None:
    """Django with the test settings and fixed keys (the test settings draw new ones per process), so
    that a kept database can be read by the next run. Its people are made up: these keys protect
    nothing."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
    os.environ.setdefault("GUANAI_FIELD_KEYS", "bench1:" + base64.b64encode(b"bench-field-key!").decode())
    os.environ.setdefault(
        "GUANAI_BLIND_INDEX_KEY", base64.b64encode(b"bench-blind-index-key-of-32bytes").decode()
    )

    import django

    django.setup()


def in_bench_database(script: str, database: str, *, steps: Sequence[Callable[[], None]]) -> None:
    """Run `steps` in the benchmark's own database, created and migrated through Django's test-database
    machinery like the test suite's (never in the database DATABASE_URL names); dropped at the end
    unless BENCH_KEEP=1."""
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit(f"{script} needs PostgreSQL: set DATABASE_URL=postgres://…")
    settings = connection.settings_dict
    original_name = settings["NAME"]
    settings["TEST"]["NAME"] = database
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=KEEP)
    try:
        for step in steps:
            step()
    finally:
        if KEEP:
            print(f"kept database {database} (BENCH_KEEP=1)")
        else:
            connection.creation.destroy_test_db(original_name, verbosity=0)


def load_regions() -> None:
    """The packaged regions, unless an earlier run (BENCH_KEEP=1) loaded them."""
    from guanai.regions.models import Region
    from guanai.regions.services import read_packaged_rows, regions_load

    if not Region.objects.filter(code=KNOWN_VILLAGE).exists():
        began = time.perf_counter()
        result = regions_load(rows=read_packaged_rows())
        print(f"regions loaded: {result.created} in {time.perf_counter() - began:.1f} s")


def generate_missing(
    target: int, *, existing: int, unit: str, generate: Callable[..., object]
) -> tuple[int, float] | None:
    """Generate the people missing to reach `target`, seeded with how many there are (so that a kept
    database grows as a new one would), with a progress bar on stderr: (how many, seconds), or None
    when none were missing."""
    from tqdm import tqdm

    if existing >= target:
        return None
    missing = target - existing
    began = time.perf_counter()
    with tqdm(total=missing, unit=unit, mininterval=30, file=sys.stderr) as bar:
        generate(count=missing, seed=existing, progress=bar.update)
    return missing, time.perf_counter() - began


def county_codes() -> list[str]:
    from guanai.core.region_codes import RegionLevel
    from guanai.regions.models import Region

    return list(
        Region.objects.within("330000000000").filter(level=RegionLevel.COUNTY).values_list("code", flat=True)
    )


def county_admin(county: str) -> Any:
    """An Actor: the administrator of `county` (one user for every county, made on the first call)."""
    from guanai.accounts.models import RoleAssignment
    from guanai.core.access import Actor, Role

    user = _bench_user()
    return Actor(user=user, assignment=RoleAssignment(user=user, role=Role.COUNTY_ADMIN, region_id=county))


@functools.cache
def _bench_user() -> Any:
    from guanai.accounts.models import User

    user, _created = User.objects.get_or_create(username="bench-county-admin")
    return user


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    result = function()
    return (time.perf_counter() - began) * 1000, result


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def fetch(sql: str, params: list[Any]) -> list[Any]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def fetch_one(sql: str, params: list[Any]) -> Any:
    return fetch(sql, params)[0]


@dataclass(frozen=True)
class RawQueries:
    page: str  # the selector's query as one statement
    page_by_ids: str  # the page of ids first, then its rows
    count: str
    params: list[Any]

    @property
    def page_of_ids(self) -> str:
        """The inner query of `page_by_ids`: the page of ids alone."""
        return self.page_by_ids.split(" IN (", 1)[1].rsplit(") ORDER BY", 1)[0]


def raw_queries(table: str, alias: str, where: str, params: list[Any]) -> RawQueries:
    """The queries as one would write them by hand, for the rows of `table` (as `alias`) that `where`
    selects, in the lists' order (name pinyin, id), each row with its region."""
    from guanai.regions.models import Region

    region = Region._meta.db_table
    # Table names and the WHERE text are the scripts' own; the values go as parameters.
    rows = f"SELECT {alias}.*, r.* FROM {table} {alias} JOIN {region} r ON r.code = {alias}.region_id"  # noqa: S608
    order = f"ORDER BY {alias}.name_pinyin, {alias}.id"
    ids = f"SELECT {alias}.id FROM {table} {alias} WHERE {where} {order} LIMIT {PAGE}"  # noqa: S608
    return RawQueries(
        page=f"{rows} WHERE {where} {order} LIMIT {PAGE}",
        page_by_ids=f"{rows} WHERE {alias}.id IN ({ids}) {order}",
        count=f"SELECT COUNT(*) FROM {table} {alias} WHERE {where}",  # noqa: S608
        params=params,
    )


class ListTimings:
    """The times of each measurement of a list benchmark, in milliseconds, after the warm-up runs."""

    def __init__(self, measures: Measures) -> None:
        self.measures = measures
        self.times: dict[str, list[float]] = {key: [] for _label, *keys in measures for key in keys}

    def run(
        self,
        run: int,
        *,
        page: Callable[[], list[int]],
        page_by_ids: Callable[[], list[int]],
        count: Callable[[], int],
        raw: RawQueries,
        about: object,
    ) -> dict[str, Any]:
        """Time the page, the page by ids and the count against their raw SQL, which of the two goes
        first alternating; check that both give the same ids and counts (`about` names the search when
        they do not). The results by key."""
        functions: dict[str, Callable[[], Any]] = {
            "page": page,
            "raw_page": functools.partial(fetch, raw.page, raw.params),
            "page_by_ids": page_by_ids,
            "raw_page_by_ids": functools.partial(fetch, raw.page_by_ids, raw.params),
            "count": count,
            "raw_count": functools.partial(fetch_one, raw.count, raw.params),
        }
        results: dict[str, Any] = {}
        for _label, orm_key, raw_key in self.measures:
            for key in (orm_key, raw_key) if run % 2 else (raw_key, orm_key):
                milliseconds, results[key] = timed(functions[key])
                if run >= WARM_UP:
                    self.times[key].append(milliseconds)
        assert results["page"] == results["raw_page"] == results["page_by_ids"] == results["raw_page_by_ids"]
        assert results["count"] == results["raw_count"], about
        return results

    def print_table(self, label_width: int) -> None:
        """p50, p95 and max of each measurement and of its raw SQL, and the ratio of the p95s."""
        print(
            f"{'':{label_width}}{'ORM p50':>9}{'p95':>8}{'max':>8}{'raw p50':>9}{'p95':>8}{'max':>8}"
            f"{'p95 ratio':>11}"
        )
        for label, orm_key, raw_key in self.measures:
            orm_times, raw_times = self.times[orm_key], self.times[raw_key]
            ratio = percentile(orm_times, 0.95) / percentile(raw_times, 0.95)
            print(
                f"{label:{label_width}}{percentile(orm_times, 0.5):9.1f}{percentile(orm_times, 0.95):8.1f}"
                f"{max(orm_times):8.1f}{percentile(raw_times, 0.5):9.1f}{percentile(raw_times, 0.95):8.1f}"
                f"{max(raw_times):8.1f}{ratio:11.2f}"
            )


def print_by_kind(by_kind: Mapping[str, list[float]], *, with_max: bool) -> None:
    """The page of ids and the count together, by kind of search."""
    print("ids first + count, ORM, by kind of search (ms):")
    for kind, values in by_kind.items():
        if values:
            p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
            line = f"    {kind:10} n={len(values):3}  p50 {p50:6.1f}  p95 {p95:6.1f}"
            print(f"{line}  max {max(values):6.1f}" if with_max else line)


def print_plan(sql: str, params: list[Any], title: str) -> None:
    """PostgreSQL's plan of `sql`, run (EXPLAIN ANALYZE, BUFFERS)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        print(title)
        for (line,) in cursor.fetchall():
            print("   ", line)
