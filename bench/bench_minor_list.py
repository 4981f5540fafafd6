"""A county's list of children at province scale: the list selector against the raw SQL for the same rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/guanai .venv/bin/python bench/bench_minor_list.py

PostgreSQL only. The benchmark works in its own database (BENCH_DATABASE, default bench_guanai_minors),
created and migrated through Django's test-database machinery like the test suite's, never in the
database DATABASE_URL names (`harness.py`, shared with bench_volunteer_list.py). It loads the packaged
regions, generates BENCH_MINORS synthetic children over Zhejiang (default 1,000,000;
`guanai.minors.generation`) and reports the generation speed, then
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

import os
import random
import statistics
from typing import Any

import harness

harness.setup_django()

from django.db import connection  # noqa: E402

MINORS = int(os.environ.get("BENCH_MINORS", "1000000"))
DATABASE = os.environ.get("BENCH_DATABASE", "bench_guanai_minors")
RUNS, PAGE, WARM_UP = harness.RUNS, harness.PAGE, harness.WARM_UP

# What people type into the search box: full pinyin prefixes, initials, part of a Chinese name.
PINYIN = ["wang", "chen", "zhang", "li", "wu", "xu", "zhou", "zhu", "huang", "yang", "lin", "jin", "hu", "ye"]
PINYIN += ["wangxin", "chenyu", "zhangzi", "lihao", "xujia", "zhouyi", "yezi", "oy", "zhuge"]
INITIALS = ["wxy", "cyh", "zzh", "ljy", "wh", "cz", "zy", "xjm", "hm", "yx", "lzh", "jyx"]
CHINESE = ["明", "欣", "王", "陈浩", "张", "涵", "李佳", "杰", "诸葛", "思", "叶", "梓萱"]


def main() -> None:
    harness.in_bench_database("bench_minor_list", DATABASE, steps=[prepare, measure])


def prepare() -> None:
    from guanai.minors.generation import generate_minors
    from guanai.minors.models import Consent, Guardian, Minor

    harness.load_regions()
    generated = harness.generate_missing(
        MINORS, existing=Minor.objects.count(), unit="minor", generate=generate_minors
    )
    if generated is not None:
        missing, seconds = generated
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


def raw_sql(county: str, categories: int, q: str) -> harness.RawQueries:
    """The queries as one would write them by hand, for the same rows as the selector."""
    from guanai.minors.models import Minor

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
    return harness.raw_queries(Minor._meta.db_table, "m", where, params)


# (label, ORM key, raw key): each ORM measurement with the raw SQL it is compared against.
MEASURES = [
    ("page, one query (minor_list as is)", "page", "raw_page"),
    ("page, ids first (proposed)", "page_by_ids", "raw_page_by_ids"),
    ("count (the paginator's)", "count", "raw_count"),
]


def measure() -> None:
    from guanai.minors.models import Minor
    from guanai.minors.selectors import MinorFilters, minor_list
    from guanai.minors.vocabulary import Category

    rng = random.Random(20261130)  # noqa: S311 - which searches to run, not a secret
    counties = harness.county_codes()
    choices = [
        int(Category.LEFT_BEHIND),
        int(Category.HARDSHIP),
        int(Category.MIGRANT),
        int(Category.PLIGHT_POVERTY),
        int(Category.LEFT_BEHIND | Category.HARDSHIP),
    ]
    timings = harness.ListTimings(MEASURES)
    by_kind: dict[str, list[float]] = {"pinyin": [], "initials": [], "Chinese": []}
    rows_found: list[int] = []
    for run in range(WARM_UP + RUNS):
        county = rng.choice(counties)
        actor = harness.county_admin(county)
        categories = rng.choice(choices)
        kind, terms = rng.choice([("pinyin", PINYIN), ("initials", INITIALS), ("Chinese", CHINESE)])
        q = rng.choice(terms)
        listed = minor_list(actor=actor, filters=MinorFilters(categories=categories, q=q))

        def page(listed: Any = listed) -> list[int]:
            return [minor.pk for minor in listed[:PAGE]]  # model instances, ID number and address decrypted

        def page_by_ids(listed: Any = listed) -> list[int]:
            ids = listed.values("pk")[:PAGE]
            rows = Minor.objects.filter(pk__in=ids).select_related("region").order_by(*listed.query.order_by)
            return [minor.pk for minor in rows]

        results = timings.run(
            run,
            page=page,
            page_by_ids=page_by_ids,
            count=listed.count,
            raw=raw_sql(county, categories, q),
            about=(county, categories, q),
        )
        if run >= WARM_UP:
            rows_found.append(results["count"])
            by_kind[kind].append(timings.times["page_by_ids"][-1] + timings.times["count"][-1])

    print(f"runs: {RUNS} (after {WARM_UP} to warm up), {len(counties)} counties, page of {PAGE}")
    print(
        f"matching rows per search: median {statistics.median(rows_found):.0f}, max {max(rows_found)}, "
        f"none {sum(1 for found in rows_found if not found)}"
    )
    timings.print_table(label_width=38)
    harness.print_by_kind(by_kind, with_max=False)
    explain_typical()


def explain_typical() -> None:
    """The plan of the page of ids for one search by part of a Chinese name in a large county."""
    raw = raw_sql("331082000000", 1, "明")
    harness.print_plan(raw.page_of_ids, raw.params, "plan of the page of ids for 临海市, 农村留守儿童, '明':")


if __name__ == "__main__":
    main()
