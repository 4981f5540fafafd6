"""A county's list of 五老 volunteers at province scale: the list selector against the raw SQL for the same
rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/guanai .venv/bin/python bench/bench_volunteer_list.py

PostgreSQL only. The benchmark works in its own database (BENCH_DATABASE, default bench_guanai_volunteers),
created and migrated through Django's test-database machinery like the test suite's, never in the
database DATABASE_URL names. It loads the packaged regions, generates BENCH_VOLUNTEERS synthetic
volunteers over Zhejiang (default 300,000, the province's scale in DOMAIN.md §10;
`guanai.volunteers.generation`) and reports the generation speed, then runs BENCH_RUNS lists (default
400) as the county administrator of a randomly drawn county, through
`volunteer_list(actor=, filters=VolunteerFilters(...))` in the list's order (name pinyin, id), status
在岗 as the list opens. A quarter of the runs are the plain list, with or without one filter (a 五老
category, a specialty, a free weekend morning, capacity left); the others add a name search — a full
pinyin prefix, initials, or part of the Chinese name, as people type them. Measured:

- the first page of 50 as `volunteer_list(...)[:50]`, one query;
- the same page with the ids first: `volunteer_page(listed, offset=0, limit=50)`, whose page of ids
  PostgreSQL answers with an index-only scan of `volunteer_list_covering`, then 50 rows by primary key;
- the count a paginator asks for.

Each is compared with hand-written SQL with the same WHERE, ORDER BY and LIMIT, run in the same loop
(same ids and counts, checked; which of the two goes first alternates). Times are wall-clock in this
process around the call: server time without HTTP and templates.

BENCH_KEEP=1 keeps the database afterwards and reuses its volunteers next time; without it the database
is dropped at the end.
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
# next run. Its volunteers are made up: these keys protect nothing.
os.environ.setdefault("GUANAI_FIELD_KEYS", "bench1:" + base64.b64encode(b"bench-field-key!").decode())
os.environ.setdefault(
    "GUANAI_BLIND_INDEX_KEY", base64.b64encode(b"bench-blind-index-key-of-32bytes").decode()
)

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

VOLUNTEERS = int(os.environ.get("BENCH_VOLUNTEERS", "300000"))
RUNS = int(os.environ.get("BENCH_RUNS", "400"))
DATABASE = os.environ.get("BENCH_DATABASE", "bench_guanai_volunteers")
KEEP = os.environ.get("BENCH_KEEP") == "1"
PAGE = 50
WARM_UP = 20

# What people type into the search box: full pinyin prefixes, initials, part of a Chinese name.
PINYIN = ["wang", "chen", "zhang", "li", "wu", "xu", "zhou", "zhu", "huang", "yang", "lin", "jin", "hu", "ye"]
PINYIN += ["wangjian", "chenguo", "zhangwei", "lihua", "xujun", "zhoumei", "yefang", "oy", "zhuge"]
INITIALS = ["wjg", "cgh", "zwj", "lh", "xm", "cz", "zy", "xjm", "hm", "yf", "lzh", "jy"]
CHINESE = ["建", "芳", "王", "陈国", "张", "英", "李明", "华", "诸葛", "强", "叶", "秀珍"]


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("bench_volunteer_list needs PostgreSQL: set DATABASE_URL=postgres://…")
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

    from guanai.regions.models import Region
    from guanai.regions.services import read_packaged_rows, regions_load
    from guanai.volunteers.generation import generate_volunteers
    from guanai.volunteers.models import Volunteer

    if not Region.objects.filter(code="330127100219").exists():
        began = time.perf_counter()
        result = regions_load(rows=read_packaged_rows())
        print(f"regions loaded: {result.created} in {time.perf_counter() - began:.1f} s")
    existing = Volunteer.objects.count()
    if existing < VOLUNTEERS:
        missing = VOLUNTEERS - existing
        began = time.perf_counter()
        with tqdm(total=missing, unit="volunteer", mininterval=30, file=sys.stderr) as bar:
            generate_volunteers(count=missing, seed=existing, progress=bar.update)
        seconds = time.perf_counter() - began
        print(f"generated {missing:,} volunteers in {seconds:.0f} s: {missing / seconds:,.0f} volunteers/s")
    # Statistics and the visibility map as autovacuum would leave them (index-only scans need the latter).
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {Volunteer._meta.db_table}")
        # to_regclass: NULL (no size) when the index has been dropped to measure without it.
        cursor.execute(
            "SELECT pg_relation_size(to_regclass('volunteer_list_covering')), pg_relation_size(%s)",
            [Volunteer._meta.db_table],
        )
        index_size, table_size = cursor.fetchone()
    covering = f"{index_size / 2**20:.0f} MB" if index_size is not None else "absent"
    print(
        f"volunteers in the database: {Volunteer.objects.count():,} "
        f"(table {table_size / 2**20:.0f} MB, volunteer_list_covering {covering})"
    )


@dataclass(frozen=True)
class Search:
    kind: str  # "list", "pinyin", "initials" or "Chinese"
    q: str
    categories: int = 0
    specialties: int = 0
    availability: int = 0
    has_capacity: bool = False


@dataclass(frozen=True)
class RawQueries:
    page: str  # the selector's query as one statement
    page_by_ids: str  # the page of ids first, then its rows
    count: str
    params: list[Any]


def raw_sql(county: str, search: Search) -> RawQueries:
    """The queries as one would write them by hand, for the same rows as the selector."""
    from guanai.regions.models import Region
    from guanai.volunteers.models import Volunteer

    low, high = county[:6] + "000000", county[:6] + "999999"
    where = "v.region_id >= %s AND v.region_id <= %s AND v.status = 'active'"
    params: list[Any] = [low, high]
    for column, bits in (
        ("categories", search.categories),
        ("specialties", search.specialties),
        ("availability", search.availability),
    ):
        if bits:
            where += f" AND (v.{column} & %s) = %s"
            params += [bits, bits]
    if search.has_capacity:
        where += " AND v.max_children > v.paired_count"
    if search.q and search.q.isascii():
        where += " AND (v.name_initials LIKE %s OR v.name_pinyin LIKE %s)"
        params += [search.q + "%", search.q + "%"]
    elif search.q:
        where += " AND v.name LIKE %s"
        params.append("%" + search.q + "%")
    volunteer, region = Volunteer._meta.db_table, Region._meta.db_table
    # Table names and the WHERE text are this module's own; the values go as parameters.
    rows = f"SELECT v.*, r.* FROM {volunteer} v JOIN {region} r ON r.code = v.region_id"  # noqa: S608
    order = "ORDER BY v.name_pinyin, v.id"
    ids = f"SELECT v.id FROM {volunteer} v WHERE {where} {order} LIMIT {PAGE}"  # noqa: S608
    return RawQueries(
        page=f"{rows} WHERE {where} {order} LIMIT {PAGE}",
        page_by_ids=f"{rows} WHERE v.id IN ({ids}) {order}",
        count=f"SELECT COUNT(*) FROM {volunteer} v WHERE {where}",  # noqa: S608
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
    ("page, one query (volunteer_list[:50])", "page", "raw_page"),
    ("page, ids first (volunteer_page)", "page_by_ids", "raw_page_by_ids"),
    ("count (the paginator's)", "count", "raw_count"),
]


def draw_search(rng: random.Random) -> Search:
    from guanai.volunteers.vocabulary import ElderCategory, Specialty, availability_bit

    kind = rng.choice(["list", "pinyin", "initials", "Chinese"])
    q = (
        ""
        if kind == "list"
        else rng.choice({"pinyin": PINYIN, "initials": INITIALS, "Chinese": CHINESE}[kind])
    )
    narrowing = rng.choice(["none", "category", "specialty", "availability", "capacity"])
    if narrowing == "category":
        return Search(kind, q, categories=int(rng.choice([ElderCategory.TEACHER, ElderCategory.CADRE])))
    if narrowing == "specialty":
        return Search(kind, q, specialties=int(rng.choice([Specialty.TEACHING, Specialty.RED_HISTORY])))
    if narrowing == "availability":
        return Search(kind, q, availability=availability_bit(5, 0))  # Saturday morning
    if narrowing == "capacity":
        return Search(kind, q, has_capacity=True)
    return Search(kind, q)


def measure() -> None:
    from guanai.accounts.models import RoleAssignment, User
    from guanai.core.access import Actor, Role
    from guanai.core.region_codes import RegionLevel
    from guanai.regions.models import Region
    from guanai.volunteers.selectors import VolunteerFilters, volunteer_list, volunteer_page

    rng = random.Random(20261201)  # noqa: S311 - which searches to run, not a secret
    user, _created = User.objects.get_or_create(username="bench-county-admin")
    counties = list(
        Region.objects.within("330000000000").filter(level=RegionLevel.COUNTY).values_list("code", flat=True)
    )
    timings: dict[str, list[float]] = {key: [] for _label, *keys in MEASURES for key in keys}
    by_kind: dict[str, list[float]] = {"list": [], "pinyin": [], "initials": [], "Chinese": []}
    rows_found: dict[str, list[int]] = {kind: [] for kind in by_kind}
    for run in range(WARM_UP + RUNS):
        county = rng.choice(counties)
        actor = Actor(
            user=user, assignment=RoleAssignment(user=user, role=Role.COUNTY_ADMIN, region_id=county)
        )
        search = draw_search(rng)
        listed = volunteer_list(
            actor=actor,
            filters=VolunteerFilters(
                categories=search.categories,
                specialties=search.specialties,
                availability=search.availability,
                has_capacity=search.has_capacity,
                q=search.q or None,
            ),
        )
        raw = raw_sql(county, search)

        def page(listed: Any = listed) -> list[int]:
            return [volunteer.pk for volunteer in listed[:PAGE]]  # instances, ID number and phone decrypted

        def page_by_ids(listed: Any = listed) -> list[int]:
            return [volunteer.pk for volunteer in volunteer_page(listed, offset=0, limit=PAGE)]

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
        assert results["count"] == results["raw_count"], (county, search)
        if run >= WARM_UP:
            rows_found[search.kind].append(results["count"])
            by_kind[search.kind].append(timings["page_by_ids"][-1] + timings["count"][-1])

    print(f"runs: {RUNS} (after {WARM_UP} to warm up), {len(counties)} counties, page of {PAGE}")
    for kind, found in rows_found.items():
        if found:
            print(
                f"matching rows, {kind:8}: median {statistics.median(found):.0f}, max {max(found)}, "
                f"none {sum(1 for count in found if not count)} of {len(found)}"
            )
    print(f"{'':40}{'ORM p50':>9}{'p95':>8}{'max':>8}{'raw p50':>9}{'p95':>8}{'max':>8}{'p95 ratio':>11}")
    for label, orm_key, raw_key in MEASURES:
        orm_times, raw_times = timings[orm_key], timings[raw_key]
        ratio = percentile(orm_times, 0.95) / percentile(raw_times, 0.95)
        print(
            f"{label:40}{percentile(orm_times, 0.5):9.1f}{percentile(orm_times, 0.95):8.1f}"
            f"{max(orm_times):8.1f}{percentile(raw_times, 0.5):9.1f}{percentile(raw_times, 0.95):8.1f}"
            f"{max(raw_times):8.1f}{ratio:11.2f}"
        )
    print("ids first + count, ORM, by kind of search (ms):")
    for kind, values in by_kind.items():
        if values:
            p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
            print(f"    {kind:10} n={len(values):3}  p50 {p50:6.1f}  p95 {p95:6.1f}  max {max(values):6.1f}")
    explain_typical()


def explain_typical() -> None:
    """The plans of the page of ids for the plain list and a pinyin search in the largest county."""
    from guanai.volunteers.models import Volunteer

    table = Volunteer._meta.db_table
    largest = fetch(
        f"SELECT left(region_id, 6) AS county FROM {table} GROUP BY county ORDER BY count(*) DESC LIMIT 1",  # noqa: S608
        [],
    )
    county = (largest[0] if largest else "331082") + "000000"
    for search in (Search("list", ""), Search("pinyin", "wang")):
        raw = raw_sql(county, search)
        ids = raw.page_by_ids.split(" IN (", 1)[1].rsplit(") ORDER BY", 1)[0]
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + ids, raw.params)
            print(f"plan of the page of ids, county {county[:6]}, {search.kind} {search.q!r}:")
            for (line,) in cursor.fetchall():
                print("   ", line)


if __name__ == "__main__":
    main()
