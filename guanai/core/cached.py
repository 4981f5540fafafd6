"""Answers read from the database, kept in the cache while none of the tables they read has changed.

Any INSERT, UPDATE or DELETE that goes through Django's connection (model saves, queryset updates, bulk
writes, raw SQL alike) moves its table's *generation* on, at once and again when its transaction commits.
`remember` keys an answer on the generations of the tables it was read from, so no answer outlives a
committed change to them. Entries also expire after their TTL: the bound for writes made outside Django
(psql, another program) and for a cache that is not shared between processes (locmem, the embedded
default).

Its uses, each on the path of busy requests (bench/RESULTS.md, "Load"):

- `cached_count(queryset)`: a list's "共 N 条". At county scale that COUNT reads every matching row (20,000
  children in the load test: 20–25 ms of database time on every page), and staff paging through a list ask
  for the same total again and again. It is keyed on the exact statement and its parameters — which carry
  the actor's visible regions, the sealed filter, today's date and every filter, so two actors with
  different scopes never share a total. The API's lists take it with their page (`counted_page_ids`), keyed
  on the page's own statement, so that one compiled statement serves both.
- the bearer token and the role assignments every API request is authenticated with
  (`guanai.accounts.selectors`): revoking a token, deactivating a user or ending an assignment is a write
  to those tables, so it takes effect at the next request.
- a month's indicators read from the dashboards' snapshots (`guanai.dashboards.api`), while neither the
  snapshots nor the regions change: the beat rebuilds the snapshots hourly.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar, cast

from django.apps import apps
from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.db.models import QuerySet
from django.dispatch import receiver
from django.utils.functional import cached_property

COUNT_TTL = 60
GENERATION_TTL = 24 * 3600
_WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
_tables: frozenset[str] | None = None
T = TypeVar("T")


def _known_tables() -> frozenset[str]:
    global _tables
    if _tables is None:
        _tables = frozenset(model._meta.db_table for model in apps.get_models(include_auto_created=True))
    return _tables


def _generation_key(table: str) -> str:
    return f"table-generation:{table}"


def tables_changed(*tables: str) -> None:
    """Move the generations of these tables on: every answer remembered from one of them is forgotten."""
    backend = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(backend, RedisCache):
        # One round trip for all (Django's incr takes two, and a third when the key is missing): a missing
        # generation starts from a random value, so none is ever reused by an answer still in the cache.
        keys = [backend.make_and_validate_key(_generation_key(table)) for table in tables]
        if not keys:
            return
        pipeline = backend._cache.get_client(keys[0], write=True).pipeline(transaction=False)
        for key in keys:
            pipeline.set(key, secrets.randbelow(2**62), ex=GENERATION_TTL, nx=True)
            pipeline.incr(key)
        pipeline.execute()
        return
    for table in tables:
        key = _generation_key(table)
        try:
            cache.incr(key)
        except ValueError:  # not there (yet, or any more): start from a random value, as above
            cache.set(key, secrets.randbelow(2**62), GENERATION_TTL)


class Recalled:
    """Answers read together from the cache in one round trip (`recall`), each taken with `get`."""

    def __init__(self, found: dict[str, Any], entries: dict[str, tuple[str, list[str]]]) -> None:
        self._found = found
        self._entries = entries

    def get(
        self, key: str, compute: Callable[[], T], *, ttl: int, keep: Callable[[T], bool] | None = None
    ) -> T:
        """The answer kept for `key` if none of its tables has changed since; else `compute()`, kept under
        the generations read with it (so a change made meanwhile makes it stale at once)."""
        entry, generation_keys = self._entries[key]
        generations = [self._found.get(name) for name in generation_keys]
        kept = self._found.get(entry)
        if kept is not None and kept[0] == generations:
            return cast(T, kept[1])
        answer = compute()
        # A miss is cheap to repeat, and keeping it would let anyone fill the cache.
        if answer is not None and (keep is None or keep(answer)):
            cache.set(entry, (generations, answer), ttl)
        return answer


@functools.cache
def code_fingerprint() -> str:
    """The code that computes the remembered answers (every Python file of the project's packages).

    An answer is taken only by the code that kept it: after an upgrade the workers still running the old
    release and the new ones never read each other's entries, whose shapes may differ (a tuple where an
    object was, say); the old entries simply expire."""
    digest = hashlib.sha256()
    for package in _PACKAGES:
        for path in sorted(package.rglob("*.py")):
            digest.update(str(path.relative_to(package.parent)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


_PACKAGES = [Path(__file__).resolve().parents[1], Path(settings.BASE_DIR) / "config"]


def recall(wanted: dict[str, Iterable[str]]) -> Recalled:
    """The entries of these keys and the generations of their tables, in one round trip."""
    fingerprint = code_fingerprint()
    entries = {
        key: (
            "cached:" + hashlib.sha256(f"{fingerprint}:{key}".encode()).hexdigest(),
            [_generation_key(table) for table in sorted(set(tables))],
        )
        for key, tables in wanted.items()
    }
    names = {name for entry, generation_keys in entries.values() for name in (entry, *generation_keys)}
    return Recalled(cache.get_many(sorted(names)), entries)


def remember(
    key: str,
    tables: Iterable[str],
    compute: Callable[[], T],
    *,
    ttl: int,
    keep: Callable[[T], bool] | None = None,
) -> T:
    """`compute()`, from the cache while none of `tables` has changed since it was computed (and for at most
    `ttl` seconds). `key` must name everything else the answer depends on. None is never kept, nor an
    answer `keep` refuses (one that read more than `tables`).

    The entry holds the generations it was computed under, and is read with them in one round trip."""
    return recall({key: tables}).get(key, compute, ttl=ttl, keep=keep)


def cached_count(queryset: QuerySet[Any]) -> int:
    """`queryset.count()`, from the cache while none of the tables it reads has changed."""
    try:
        statement, params = queryset.order_by().query.get_compiler(queryset.db).as_sql()
    except EmptyResultSet:  # a filter nothing can match (an empty `__in`): no query at all, as count() does
        return 0
    return _count_of(queryset, statement, params)


def _count_of(queryset: QuerySet[Any], statement: str, params: Any) -> int:
    """The number of rows of `queryset`, whose rows `statement` (with `params`) reads: the statement keys
    the remembered total and names the tables it depends on."""
    tables = [table for table in _known_tables() if f'"{table}"' in statement]
    key = repr(("count", statement, params, queryset.db))
    return remember(key, tables, queryset.count, ttl=COUNT_TTL)


# The LIMIT and OFFSET that every backend writes at the end of a sliced statement, as literal numbers.
_SLICE = re.compile(r"\s+LIMIT\s+\d+(?:\s+OFFSET\s+\d+)?$")


def counted_page_ids(queryset: QuerySet[Any], *, offset: int, limit: int) -> tuple[list[Any], int]:
    """The primary keys of rows `offset` to `offset + limit` of `queryset`, in its order, and the number of
    its rows (`cached_count`), with one compiled statement for both.

    Compiling a list's statement costs as much as running it; `cached_count` compiled a second one only to
    key the total. Here the page's own statement without its LIMIT and OFFSET is the key: it reads exactly
    the rows that are counted. (It keeps its ORDER BY: the same list in another order is counted again.)"""
    page = queryset.values_list("pk", flat=True)[offset : offset + limit]
    try:
        statement, params = page.query.get_compiler(queryset.db).as_sql()
    except EmptyResultSet:
        return [], 0
    whole, sliced = _SLICE.subn("", statement)
    if sliced != 1:  # a backend that writes its slice otherwise: key the total on its own statement
        return list(page), cached_count(queryset)
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(statement, params)
        ids = [row[0] for row in cursor.fetchall()]
    return ids, _count_of(queryset, whole, params)


def _note_writes(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    result = execute(sql, params, many, context)
    match = _WRITE.match(sql)
    if match and match.group(1) in _known_tables():
        table = match.group(1)
        tables_changed(table)  # for reads in this transaction, and at once when there is none
        connection = context["connection"]
        if not connection.get_autocommit():
            # Again at commit: a total counted meanwhile by another request saw the table before the change.
            connection.__dict__.setdefault(_UNCOMMITTED, set()).add(table)
    return result


_UNCOMMITTED = "_guanai_tables_changed"


@receiver(connection_created)
def _watch_writes(sender: object, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """Watch every write of this connection, and announce its tables again when it commits."""
    if _note_writes in connection.execute_wrappers:
        return
    connection.execute_wrappers.append(_note_writes)
    commit = connection.commit

    def commit_and_announce() -> None:
        commit()
        changed = connection.__dict__.pop(_UNCOMMITTED, None)
        if changed:
            tables_changed(*sorted(changed))

    rollback = connection.rollback

    def rollback_and_forget() -> None:
        rollback()
        connection.__dict__.pop(_UNCOMMITTED, None)

    connection.commit = commit_and_announce  # type: ignore[method-assign]
    connection.rollback = rollback_and_forget  # type: ignore[method-assign]


class CachedCountPaginator(Paginator):
    """A paginator whose total is `cached_count`: for the registries' list pages, paged through often."""

    @cached_property
    def count(self) -> int:
        if isinstance(self.object_list, QuerySet):
            return cached_count(self.object_list)
        return len(self.object_list)
