"""A Redis cache that fails soft: while Redis is unreachable, the site keeps serving.

Everything this project keeps in the cache can be rebuilt or done without: abuse-limit
counters, resolved DID documents, "a render is queued" flags. Django's RedisCache raises
on a lost connection, which would turn every page that counts a rate limit into a 500 while
Redis restarts. This backend logs a warning instead and answers as an empty cache would:
reads miss, writes are dropped, and counters start again from one, so rate limits let
requests through during the outage rather than refusing everyone.
"""

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError)


class ReusingRedisCacheClient(RedisCacheClient):
    """Django's client builds a new redis.Redis (and its table of response callbacks) for
    every cache call, which costs more than the call itself on loopback; a rate-limited
    request makes three. One client per connection pool does the same work: redis.Redis is
    thread-safe, and its pool reconnects after a fork."""

    if TYPE_CHECKING:  # Django's client has these; django-stubs does not declare them.
        _client: type[Any]

        def _get_connection_pool_index(self, write: bool) -> int: ...

        def _get_connection_pool(self, write: bool) -> Any: ...

    def __init__(self, servers: Any, **options: Any) -> None:
        super().__init__(servers, **options)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(
                connection_pool=self._get_connection_pool(write)
            )
        return client


class FailSoftRedisCache(RedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient

    def _soft[T](self, operation: str, call: Callable[[], T], fallback: T) -> T:
        try:
            return call()
        except UNREACHABLE as exc:
            logger.warning("Cache unreachable, %s skipped: %s", operation, exc)
            return fallback

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._soft(
            "get", lambda: super(FailSoftRedisCache, self).get(key, default, version), default
        )

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        return self._soft(
            "get_many", lambda: super(FailSoftRedisCache, self).get_many(keys, version), {}
        )

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._soft(
            "has_key", lambda: super(FailSoftRedisCache, self).has_key(key, version), False
        )

    def add(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> bool:
        return self._soft(
            "add", lambda: super(FailSoftRedisCache, self).add(key, value, timeout, version), False
        )

    def set(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> None:
        self._soft(
            "set", lambda: super(FailSoftRedisCache, self).set(key, value, timeout, version), None
        )

    def set_many(self, data: Any, timeout: Any = None, version: int | None = None) -> list[Any]:
        return self._soft(
            "set_many", lambda: super(FailSoftRedisCache, self).set_many(data, timeout, version), []
        )

    def touch(self, key: Any, timeout: Any = None, version: int | None = None) -> bool:
        return self._soft(
            "touch", lambda: super(FailSoftRedisCache, self).touch(key, timeout, version), False
        )

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._soft(
            "delete", lambda: super(FailSoftRedisCache, self).delete(key, version), False
        )

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        self._soft(
            "delete_many", lambda: super(FailSoftRedisCache, self).delete_many(keys, version), None
        )

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        # As if the key had just been made: a counter restarts during an outage.
        return self._soft(
            "incr", lambda: super(FailSoftRedisCache, self).incr(key, delta, version), delta
        )

    def clear(self) -> None:
        self._soft("clear", lambda: super(FailSoftRedisCache, self).clear(), None)
