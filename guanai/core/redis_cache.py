"""Django's Redis cache backend, keeping one redis-py client per connection pool.

Django's client builds a new `redis.Redis` for every cache call, and redis-py's constructor copies its table
of about 170 response callbacks each time: about a tenth of a small API request's CPU, which calls the cache
two or three times (the token, the role assignments, a remembered count; bench/RESULTS.md, "Load"). A
`redis.Redis` holds no connection of its own — every command borrows one from the pool — so one per pool
serves every call, as redis-py intends. Behaviour is otherwise Django's own.
"""

# mypy: disable-error-code="attr-defined"
# (Django's client keeps its pools in attributes its type stubs do not declare.)

from __future__ import annotations

from typing import Any

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[Any, Any] = {}  # by pool

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # Django's choice of server, and its pool
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
