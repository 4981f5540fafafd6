"""A county's list of children at province scale: the list selector against the raw SQL for the same rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/guanai .venv/bin/python bench/bench_minor_list.py

PostgreSQL only. The benchmark works in its own database (BENCH_DATABASE, default bench_guanai_minors),
created and migrated through Django's test-database machinery like the test suite's, never in the
database DATABASE_URL names. It loads the packaged regions, generates BENCH_MINORS synthetic children
over Zhejiang (default 1,000,000; `guanai.minors.generation`) and reports the generation speed, then
runs BENCH_RUNS searches (default 400) as the county administrator of a randomly drawn county: a
category filter (`with_all_bits`) and a name search — a full pinyin prefix, initials, or part of the
Chinese name, as people type them — through `minor_list(actor=, filters=)`, in the list's order:

- the first page of 50 as `minor_list(...)[:50]`, one query (how a Paginator reads it today);
- the same page with the ids first: `Minor.objects.filter(pk__in=listed.values("pk")[:50])`, which
  PostgreSQL answers with an index-only scan of `minor_list_covering` and then reads 50 rows;
- the count the paginator asks for.

Each is compared with hand-written SQL with the same WHERE, ORDER BY and LIMIT, run in the same loop
(same rows and counts, checked; which of the two goes first alternates). Times are wall-clock in this
process around the call: server time without HTTP and templates.

BENCH_KEEP=1 keeps the database afterwards and reuses its children next time (generating a million
takes 15–20 minutes on two cores); without it the database is dropped at the end.
"""

from __future__ import annotations

import base64
import functools
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
# Fixed keys (the test settings draw new ones per process), so that a kept database can be read by the
# next run. Its children are made up: these keys protect nothing.
os.environ.setdefault("GUANAI_FIELD_KEYS", "bench1:" + base64.b64encode(b"bench-field-key!").decode())
os.environ.setdefault(
    "GUANAI_BLIND_INDEX_KEY", base64.b64encode(b"bench-blind-index-key-of-32bytes").decode()
)

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

MINORS = int(os.environ.get("BENCH_MINORS", "1000000"))
RUNS = int(os.environ.get("BENCH_RUNS", "400"))
DATABASE = os.environ.get("BENCH_DATABASE", "bench_guanai_minors")
KEEP = os.environ.get("BENCH_KEEP") == "1"
PAGE = 50
WARM_UP = 20

# What people type into the search box: full pinyin prefixes, initials, part of a Chinese name.
PINYIN = ["wang", "chen", "zhang", "li", "wu", "xu", "zhou", "zhu", "huang", "yang", "lin", "jin", "hu", "ye"]
PINYIN += ["wangxin", "chenyu", "zhangzi", "lihao", "xujia", "zhouyi", "yezi", "oy", "zhuge"]
INITIALS = ["wxy", "cyh", "zzh", "ljy", "wh", "cz", "zy", "xjm", "hm", "yx", "lzh", "jyx"]
CHINESE = ["明", "欣", "王", "陈浩", "张", "涵", "李佳", "杰", "诸葛", "思", "叶", "梓萱"]


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("bench_minor_list needs PostgreSQL: set DATABASE_URL=postgres://…")
    settings = connection.settings_dict
    original_name = settings["NAME"]
    settings["TEST"]["NAME"] = DATABASE
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=KEEP)
    try:
        prepare()
        measure()
    finally:
        if KEEP:
            print(f"kept database {DATABASE} (BENCH_KEEP=1)")
        else:
            connection.creation.destroy_test_db(original_name, verbosity=0)


def prepare() -> None:
    from tqdm import tqdm

    from guanai.minors.generation import generate_minors
    from guanai.minors.models import Consent, Guardian, Minor
    from guanai.regions.models import Region
    from guanai.regions.services import read_packaged_rows, regions_load

    if not Region.objects.filter(code="330127100219").exists():
        began = time.perf_counter()
        result = regions_load(rows=read_packaged_rows())
        print(f"regions loaded: {result.created} in {time.perf_counter() - began:.1f} s")
    existing = Minor.objects.count()
    if existing < MINORS:
        missing = MINORS - existing
        began = time.perf_counter()
        with tqdm(total=missing, unit="minor", mininterval=30, file=sys.stderr) as bar:
            generate_minors(count=missing, seed=existing, progress=bar.update)
        seconds = time.perf_counter() - began
        guardians, consents = Guardian.objects.count(), Consent.objects.count()
        print(
            f"generated {missing:,} children ({guardians:,} guardians, {consents:,} consents in all) "
            f"in {seconds:.0f} s: {missing / seconds:,.0f} children/s"
        )
    # Statistics and the visibility map as autovacuum would leave them (index-only scans need the latter).
    with connection.cursor() as cursor:
        for model in (Minor, Guardian, Consent):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    print(f"children in the database: {Minor.objects.count():,}")


@dataclass(frozen=True)
class RawQueries:
    page: str  # the selector's query as one statement
    page_by_ids: str  # the page of ids first, then its rows
    count: str
    params: list[Any]


def raw_sql(county: str, categories: int, q: str) -> RawQueries:
    """The queries as one would write them by hand, for the same rows as the selector."""
    from guanai.minors.models import Minor
    from guanai.regions.models import Region

    low, high = county[:6] + "000000", county[:6] + "999999"
    where = "m.region_id >= %s AND m.region_id <= %s AND NOT m.is_sealed AND m.status = 'active'"
    where += " AND (m.categories & %s) = %s"
    params: list[Any] = [low, high, categories, categories]
    if q.isascii():
        where += " AND (m.name_initials LIKE %s OR m.name_pinyin LIKE %s)"
        params += [q + "%", q + "%"]
    else:
        where += " AND m.name LIKE %s"
        params.append("%" + q + "%")
    minor, region = Minor._meta.db_table, Region._meta.db_table
    # Table names and the WHERE text are this module's own; the values go as parameters.
    rows = f"SELECT m.*, r.* FROM {minor} m JOIN {region} r ON r.code = m.region_id"  # noqa: S608
    order = "ORDER BY m.name_pinyin, m.id"
    ids = f"SELECT m.id FROM {minor} m WHERE {where} {order} LIMIT {PAGE}"  # noqa: S608
    return RawQueries(
        page=f"{rows} WHERE {where} {order} LIMIT {PAGE}",
        page_by_ids=f"{rows} WHERE m.id IN ({ids}) {order}",
        count=f"SELECT COUNT(*) FROM {minor} m WHERE {where}",  # noqa: S608
        params=params,
    )


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    result = function()
    return (time.perf_counter() - began) * 1000, result


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def fetch(sql: str, params: list[Any]) -> list[Any]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def fetch_one(sql: str, params: list[Any]) -> Any:
    return fetch(sql, params)[0]


# (label, ORM key, raw key): each ORM measurement with the raw SQL it is compared against.
MEASURES = [
    ("page, one query (minor_list as is)", "page", "raw_page"),
    ("page, ids first (proposed)", "page_by_ids", "raw_page_by_ids"),
    ("count (the paginator's)", "count", "raw_count"),
]


def measure() -> None:
    from guanai.accounts.models import RoleAssignment, User
    from guanai.core.access import Actor, Role
    from guanai.core.region_codes import RegionLevel
    from guanai.minors.models import Minor
    from guanai.minors.selectors import MinorFilters, minor_list
    from guanai.minors.vocabulary import Category
    from guanai.regions.models import Region

    rng = random.Random(20261130)  # noqa: S311 - which searches to run, not a secret
    user, _created = User.objects.get_or_create(username="bench-county-admin")
    counties = list(
        Region.objects.within("330000000000").filter(level=RegionLevel.COUNTY).values_list("code", flat=True)
    )
    choices = [
        int(Category.LEFT_BEHIND),
        int(Category.HARDSHIP),
        int(Category.MIGRANT),
        int(Category.PLIGHT_POVERTY),
        int(Category.LEFT_BEHIND | Category.HARDSHIP),
    ]
    timings: dict[str, list[float]] = {key: [] for _label, *keys in MEASURES for key in keys}
    by_kind: dict[str, list[float]] = {"pinyin": [], "initials": [], "Chinese": []}
    rows_found: list[int] = []
    for run in range(WARM_UP + RUNS):
        county = rng.choice(counties)
        actor = Actor(
            user=user, assignment=RoleAssignment(user=user, role=Role.COUNTY_ADMIN, region_id=county)
        )
        categories = rng.choice(choices)
        kind, terms = rng.choice([("pinyin", PINYIN), ("initials", INITIALS), ("Chinese", CHINESE)])
        q = rng.choice(terms)
        listed = minor_list(actor=actor, filters=MinorFilters(categories=categories, q=q))
        raw = raw_sql(county, categories, q)

        def page(listed: Any = listed) -> list[int]:
            return [minor.pk for minor in listed[:PAGE]]  # model instances, ID number and address decrypted

        def page_by_ids(listed: Any = listed) -> list[int]:
            ids = listed.values("pk")[:PAGE]
            rows = Minor.objects.filter(pk__in=ids).select_related("region").order_by(*listed.query.order_by)
            return [minor.pk for minor in rows]

        functions: dict[str, Callable[[], Any]] = {
            "page": page,
            "raw_page": functools.partial(fetch, raw.page, raw.params),
            "page_by_ids": page_by_ids,
            "raw_page_by_ids": functools.partial(fetch, raw.page_by_ids, raw.params),
            "count": listed.count,
            "raw_count": functools.partial(fetch_one, raw.count, raw.params),
        }
        results: dict[str, Any] = {}
        for _label, orm_key, raw_key in MEASURES:
            for key in (orm_key, raw_key) if run % 2 else (raw_key, orm_key):
                milliseconds, results[key] = timed(functions[key])
                if run >= WARM_UP:
                    timings[key].append(milliseconds)
        assert results["page"] == results["raw_page"] == results["page_by_ids"] == results["raw_page_by_ids"]
        assert results["count"] == results["raw_count"], (county, categories, q)
        if run >= WARM_UP:
            rows_found.append(results["count"])
            by_kind[kind].append(timings["page_by_ids"][-1] + timings["count"][-1])

    print(f"runs: {RUNS} (after {WARM_UP} to warm up), {len(counties)} counties, page of {PAGE}")
    print(
        f"matching rows per search: median {statistics.median(rows_found):.0f}, max {max(rows_found)}, "
        f"none {sum(1 for found in rows_found if not found)}"
    )
    print(f"{'':38}{'ORM p50':>9}{'p95':>8}{'max':>8}{'raw p50':>9}{'p95':>8}{'max':>8}{'p95 ratio':>11}")
    for label, orm_key, raw_key in MEASURES:
        orm_times, raw_times = timings[orm_key], timings[raw_key]
        ratio = percentile(orm_times, 0.95) / percentile(raw_times, 0.95)
        print(
            f"{label:38}{percentile(orm_times, 0.5):9.1f}{percentile(orm_times, 0.95):8.1f}"
            f"{max(orm_times):8.1f}{percentile(raw_times, 0.5):9.1f}{percentile(raw_times, 0.95):8.1f}"
            f"{max(raw_times):8.1f}{ratio:11.2f}"
        )
    print("ids first + count, ORM, by kind of search (ms):")
    for kind, values in by_kind.items():
        if values:
            p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
            print(f"    {kind:10} n={len(values):3}  p50 {p50:6.1f}  p95 {p95:6.1f}")
    explain_typical()


def explain_typical() -> None:
    """The plan of the page of ids for one search by part of a Chinese name in a large county."""
    raw = raw_sql("331082000000", 1, "明")
    ids = raw.page_by_ids.split(" IN (", 1)[1].rsplit(") ORDER BY", 1)[0]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + ids, raw.params)
        print("plan of the page of ids for 临海市, 农村留守儿童, '明':")
        for (line,) in cursor.fetchall():
            print("   ", line)


if __name__ == "__main__":
    main()
