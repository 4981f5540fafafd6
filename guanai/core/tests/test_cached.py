"""A list's cached total is the live COUNT: it is read again after any write to a table it reads."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from guanai.core import cached
from guanai.core.region_codes import RegionLevel
from guanai.regions.models import Region


def villages_of(township: str) -> Any:
    return Region.objects.filter(parent_id=township, level=RegionLevel.VILLAGE).order_by("code")


TOWNSHIP = "330127100000"  # 千岛湖镇


def count_queries(queryset: Any) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        total = cached.cached_count(queryset)
    return total, sum("COUNT(" in query["sql"] for query in captured.captured_queries)


def test_the_total_is_counted_once_then_read_from_the_cache(regions: None) -> None:
    live = villages_of(TOWNSHIP).count()
    assert live > 0
    assert count_queries(villages_of(TOWNSHIP)) == (live, 1)
    assert count_queries(villages_of(TOWNSHIP)) == (live, 0)
    # Another order (as another sort of the same list): the same total.
    assert count_queries(villages_of(TOWNSHIP).order_by("-name")) == (live, 0)


def test_different_filters_do_not_share_a_total(regions: None) -> None:
    first = cached.cached_count(villages_of(TOWNSHIP))
    other = cached.cached_count(villages_of("330127101000"))
    assert first == villages_of(TOWNSHIP).count()
    assert other == villages_of("330127101000").count()
    assert cached.cached_count(villages_of("330127101000").filter(name__contains="石")) == (
        villages_of("330127101000").filter(name__contains="石").count()
    )


def test_a_filter_that_nothing_can_match_counts_nothing_without_a_query(regions: None) -> None:
    assert count_queries(villages_of(TOWNSHIP).filter(code__in=[])) == (0, 0)


def add_village() -> None:
    Region.objects.create(
        code="330127100990",
        name="测试村民委员会",
        short_name="测试村",
        level=RegionLevel.VILLAGE,
        parent_id=TOWNSHIP,
    )


def test_a_saved_row_is_counted(regions: None) -> None:
    before = cached.cached_count(villages_of(TOWNSHIP))
    add_village()
    assert count_queries(villages_of(TOWNSHIP)) == (before + 1, 1)


def test_a_queryset_update_and_raw_sql_are_counted(regions: None) -> None:
    before = cached.cached_count(villages_of(TOWNSHIP))
    moved = villages_of(TOWNSHIP).values_list("code", flat=True)[0]
    Region.objects.filter(code=moved).update(level=RegionLevel.TOWNSHIP)
    assert cached.cached_count(villages_of(TOWNSHIP)) == before - 1
    with connection.cursor() as cursor:
        cursor.execute("UPDATE regions_region SET level = %s WHERE code = %s", [RegionLevel.VILLAGE, moved])
    assert cached.cached_count(villages_of(TOWNSHIP)) == before


def test_a_write_to_another_table_keeps_the_total(regions: None) -> None:
    from guanai.accounts.models import User

    total = cached.cached_count(villages_of(TOWNSHIP))
    User.objects.create_user(username="someone", password=None)
    assert count_queries(villages_of(TOWNSHIP)) == (total, 0)


def zhejiang() -> Any:
    return Region.objects.filter(code__startswith="33").order_by("code")


def page_queries(queryset: Any, offset: int, limit: int) -> tuple[list[Any], int, int, int]:
    with CaptureQueriesContext(connection) as captured:
        ids, total = cached.counted_page_ids(queryset, offset=offset, limit=limit)
    counts = sum("COUNT(" in query["sql"] for query in captured.captured_queries)
    return ids, total, counts, len(captured.captured_queries)


def test_a_page_of_ids_comes_with_its_total_counted_once_for_every_page(regions: None) -> None:
    codes = list(zhejiang().values_list("code", flat=True))
    assert len(codes) == 11
    assert page_queries(zhejiang(), 0, 2) == (codes[:2], len(codes), 1, 2)
    assert page_queries(zhejiang(), 2, 2) == (codes[2:4], len(codes), 0, 1)
    assert page_queries(zhejiang(), len(codes), 2) == ([], len(codes), 0, 1)
    # Another filter is another total; a saved row is counted at the next page.
    assert page_queries(zhejiang().filter(code=codes[1]), 0, 2) == ([codes[1]], 1, 1, 2)
    add_village()
    assert page_queries(zhejiang(), 2, 2) == (codes[2:4], len(codes) + 1, 1, 2)


def test_a_page_of_a_filter_that_nothing_can_match_is_empty_without_a_query(regions: None) -> None:
    assert page_queries(zhejiang().filter(code__in=[]), 0, 50) == ([], 0, 0, 0)


def test_a_statement_whose_slice_is_not_recognised_is_paged_and_counted_all_the_same(
    regions: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    codes = list(zhejiang().values_list("code", flat=True))
    monkeypatch.setattr(cached, "_SLICE", re.compile(r"(?!)"))  # matches nothing
    assert page_queries(zhejiang(), 1, 2) == (codes[1:3], len(codes), 1, 2)
    assert page_queries(zhejiang(), 3, 2) == (codes[3:5], len(codes), 0, 1)


@pytest.mark.django_db(transaction=True)
def test_a_transaction_announces_its_tables_again_when_it_commits(regions: None) -> None:
    key = cached._generation_key(Region._meta.db_table)
    with transaction.atomic():
        Region.objects.filter(code=TOWNSHIP).update(name="千岛湖镇人民政府")
        during = cache.get(key)
        assert during is not None
    assert cache.get(key) != during  # moved on again at commit: a total counted meanwhile is not reused
    with transaction.atomic():
        Region.objects.filter(code=TOWNSHIP).update(name="千岛湖镇")
        during = cache.get(key)
        transaction.set_rollback(True)
    assert cache.get(key) == during  # nothing committed, nothing announced


def test_with_redis_a_write_moves_the_generation_on_in_one_round_trip(regions: None) -> None:
    """The production cache: generations live in Redis, moved on by a pipelined SET NX + INCR."""
    import redis

    url = os.environ.get("GUANAI_TEST_CACHE_REDIS_URL", "redis://127.0.0.1:6379/14")
    redis.Redis.from_url(url, socket_connect_timeout=1).flushdb()
    backend = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}
    with override_settings(CACHES=backend):
        from django.core.cache import caches

        caches["default"].clear()
        live = villages_of(TOWNSHIP).count()
        assert count_queries(villages_of(TOWNSHIP)) == (live, 1)
        assert count_queries(villages_of(TOWNSHIP)) == (live, 0)
        key = cached._generation_key(Region._meta.db_table)
        assert cache.get(key) is None  # no write yet: no generation
        Region.objects.filter(parent_id=TOWNSHIP).order_by("code")[:1].get().delete()
        first = cache.get(key)
        assert isinstance(first, int)  # started from a random value
        assert count_queries(villages_of(TOWNSHIP)) == (live - 1, 1)
        Region.objects.filter(parent_id=TOWNSHIP).order_by("code")[:1].get().delete()
        assert cache.get(key) == first + 1
        assert count_queries(villages_of(TOWNSHIP)) == (live - 2, 1)
        cached.tables_changed("a_table_never_seen")
        assert isinstance(cache.get(cached._generation_key("a_table_never_seen")), int)
        caches["default"].clear()


def test_answers_recalled_together_are_read_in_one_round_trip_and_each_kept_by_its_own_tables(
    regions: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    computed: list[str] = []
    reads: list[list[str]] = []
    get_many = cache.get_many

    def counted_get_many(keys: list[str]) -> dict[str, Any]:
        reads.append(list(keys))
        return get_many(keys)

    monkeypatch.setattr(cache, "get_many", counted_get_many)

    def villages() -> int:
        computed.append("villages")
        return villages_of(TOWNSHIP).count()

    def events() -> str:
        computed.append("events")
        return "none yet"

    def both() -> tuple[int, str]:
        kept = cached.recall({"villages": ["regions_region"], "events": ["audit_auditevent"]})
        return kept.get("villages", villages, ttl=60), kept.get("events", events, ttl=60)

    live = villages_of(TOWNSHIP).count()
    assert both() == (live, "none yet")
    assert both() == (live, "none yet")
    assert computed == ["villages", "events"]  # the second time, both from the cache
    assert len(reads) == 2  # one read of the cache for both answers, each time
    Region.objects.filter(code=TOWNSHIP).update(name="千岛湖镇")  # a write to the first answer's table only
    assert both() == (live, "none yet")
    assert computed == ["villages", "events", "villages"]


def test_an_answer_kept_by_another_release_of_the_code_is_not_taken(
    regions: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    computed: list[str] = []

    def answer() -> str:
        computed.append("computed")
        return f"answer {len(computed)}"

    assert cached.remember("release", ["regions_region"], answer, ttl=60) == "answer 1"
    assert cached.remember("release", ["regions_region"], answer, ttl=60) == "answer 1"
    monkeypatch.setattr(cached, "code_fingerprint", lambda: "another release")
    assert cached.remember("release", ["regions_region"], answer, ttl=60) == "answer 2"
    assert cached.code_fingerprint() == "another release"


def test_the_code_fingerprint_changes_with_any_file_of_the_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "guanai"
    (package / "minors").mkdir(parents=True)
    (package / "minors" / "api.py").write_text("ANSWER = 1\n", "utf-8")
    (package / "notes.txt").write_text("not code", "utf-8")
    monkeypatch.setattr(cached, "_PACKAGES", [package])
    fingerprint = cached.code_fingerprint.__wrapped__
    first = fingerprint()
    assert fingerprint() == first
    (package / "notes.txt").write_text("still not code", "utf-8")
    assert fingerprint() == first
    (package / "minors" / "api.py").write_text("ANSWER = 2\n", "utf-8")
    assert fingerprint() != first
