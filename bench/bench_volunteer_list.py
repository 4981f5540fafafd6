"""A county's list of 五老 volunteers at province scale: the list selector against the raw SQL for the same
rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/guanai .venv/bin/python bench/bench_volunteer_list.py

PostgreSQL only. The benchmark works in its own database (BENCH_DATABASE, default bench_guanai_volunteers),
created and migrated through Django's test-database machinery like the test suite's, never in the
database DATABASE_URL names (`harness.py`, shared with bench_minor_list.py). It loads the packaged
regions, generates BENCH_VOLUNTEERS synthetic volunteers over Zhejiang (default 300,000, the
province's scale in DOMAIN.md §10; `guanai.volunteers.generation`) and reports the generation speed,
then runs BENCH_RUNS lists (default 400) as the county administrator of a randomly drawn county, through
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

import os
import random
import statistics
from dataclasses import dataclass
from typing import Any

import harness

harness.setup_django()

from django.db import connection  # noqa: E402

VOLUNTEERS = int(os.environ.get("BENCH_VOLUNTEERS", "300000"))
DATABASE = os.environ.get("BENCH_DATABASE", "bench_guanai_volunteers")
RUNS, PAGE, WARM_UP = harness.RUNS, harness.PAGE, harness.WARM_UP

# What people type into the search box: full pinyin prefixes, initials, part of a Chinese name.
PINYIN = ["wang", "chen", "zhang", "li", "wu", "xu", "zhou", "zhu", "huang", "yang", "lin", "jin", "hu", "ye"]
PINYIN += ["wangjian", "chenguo", "zhangwei", "lihua", "xujun", "zhoumei", "yefang", "oy", "zhuge"]
INITIALS = ["wjg", "cgh", "zwj", "lh", "xm", "cz", "zy", "xjm", "hm", "yf", "lzh", "jy"]
CHINESE = ["建", "芳", "王", "陈国", "张", "英", "李明", "华", "诸葛", "强", "叶", "秀珍"]


def main() -> None:
    harness.in_bench_database("bench_volunteer_list", DATABASE, steps=[prepare, measure])


def prepare() -> None:
    from guanai.volunteers.generation import generate_volunteers
    from guanai.volunteers.models import Volunteer

    harness.load_regions()
    generated = harness.generate_missing(
        VOLUNTEERS, existing=Volunteer.objects.count(), unit="volunteer", generate=generate_volunteers
    )
    if generated is not None:
        missing, seconds = generated
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


def raw_sql(county: str, search: Search) -> harness.RawQueries:
    """The queries as one would write them by hand, for the same rows as the selector."""
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
    return harness.raw_queries(Volunteer._meta.db_table, "v", where, params)


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
    from guanai.volunteers.selectors import VolunteerFilters, volunteer_list, volunteer_rows

    rng = random.Random(20261201)  # noqa: S311 - which searches to run, not a secret
    counties = harness.county_codes()
    timings = harness.ListTimings(MEASURES)
    by_kind: dict[str, list[float]] = {"list": [], "pinyin": [], "initials": [], "Chinese": []}
    rows_found: dict[str, list[int]] = {kind: [] for kind in by_kind}
    for run in range(WARM_UP + RUNS):
        county = rng.choice(counties)
        actor = harness.county_admin(county)
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

        def page(listed: Any = listed) -> list[int]:
            return [volunteer.pk for volunteer in listed[:PAGE]]  # instances, ID number and phone decrypted

        def page_by_ids(listed: Any = listed) -> list[int]:
            ids = list(listed.values_list("pk", flat=True)[:PAGE])  # as volunteer_page reads them, uncounted
            return [volunteer.pk for volunteer in volunteer_rows(ids)]

        results = timings.run(
            run,
            page=page,
            page_by_ids=page_by_ids,
            count=listed.count,
            raw=raw_sql(county, search),
            about=(county, search),
        )
        if run >= WARM_UP:
            rows_found[search.kind].append(results["count"])
            by_kind[search.kind].append(timings.times["page_by_ids"][-1] + timings.times["count"][-1])

    print(f"runs: {RUNS} (after {WARM_UP} to warm up), {len(counties)} counties, page of {PAGE}")
    for kind, found in rows_found.items():
        if found:
            print(
                f"matching rows, {kind:8}: median {statistics.median(found):.0f}, max {max(found)}, "
                f"none {sum(1 for count in found if not count)} of {len(found)}"
            )
    timings.print_table(label_width=40)
    harness.print_by_kind(by_kind, with_max=True)
    explain_typical()


def explain_typical() -> None:
    """The plans of the page of ids for the plain list and a pinyin search in the largest county."""
    from guanai.volunteers.models import Volunteer

    table = Volunteer._meta.db_table
    largest = harness.fetch(
        f"SELECT left(region_id, 6) AS county FROM {table} GROUP BY county ORDER BY count(*) DESC LIMIT 1",  # noqa: S608
        [],
    )
    county = (largest[0] if largest else "331082") + "000000"
    for search in (Search("list", ""), Search("pinyin", "wang")):
        raw = raw_sql(county, search)
        harness.print_plan(
            raw.page_of_ids,
            raw.params,
            f"plan of the page of ids, county {county[:6]}, {search.kind} {search.q!r}:",
        )


if __name__ == "__main__":
    main()
