"""Django's Redis cache backend, keeping one redis-py client per connection pool.

Django's client builds a new `redis.Redis` for every cache call, and redis-py's constructor copies its table
of about 170 response callbacks each time: about a tenth of a small API request's CPU, which calls the cache
two or three times (the token, the role assignments, a remembered count; bench/RESULTS.md, "Load"). A
`redis.Redis` holds no connection of its own — every command borrows one from the pool — so one per pool
serves every call, as redis-py intends. Behaviour is otherwise Django's own.
"""

# mypy: disable-error-code="attr-defined"
# (Django's client keeps its pools and options in attributes its type stubs do not declare.)

from __future__ import annotations

from typing import Any

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            if index not in self._pools:  # as Django's _get_connection_pool, for this index
                self._pools[index] = self._pool_class.from_url(self._servers[index], **self._pool_options)
            client = self._clients[index] = self._client(connection_pool=self._pools[index])
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
