"""The shared cache, and a counter in it for rate limits, that keep answering without Redis.

`ResilientRedisCache` is Django's Redis backend, except that when Redis cannot be reached
it says so once in the log and, for `OUTAGE_RETRY_SECONDS` at a time, serves from a cache
in this process instead of raising: a cached value is recomputed (caches fall through to
the database), and rate limits (allauth's, the partner API's) count per process. The shared
cache holds nothing else, so a value written during an outage only in this process costs
no more than a limit counted a little loosely. When Redis answers again, it is used again.

`cache_count` adds one to a counter with one atomic command on Redis: Django's backend
counts with two round trips per hit (`add`, then `incr`, which checks that the key exists
first), so on Redis the counter runs a small script through a client of its own, made once
per process from the cache's own location (redis-py's pool reconnects after a fork).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import redis
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.commands.core import Script

logger = logging.getLogger(__name__)

# After a failed call, Redis is tried again this long after (one slow connect at most, not
# one per request, while it is away).
OUTAGE_RETRY_SECONDS = 5.0

# Atomic in Redis; run by its digest (EVALSHA), so a call sends a few bytes.
COUNT_SCRIPT = """
redis.call('SET', KEYS[1], 0, 'EX', ARGV[1], 'NX')
return redis.call('INCR', KEYS[1])
"""


class _Outage:
    """Whether this process's Redis cache is away, shared by every thread's backend."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.since: float | None = None
        self.retry_at = 0.0

    def skip(self) -> bool:
        return self.since is not None and time.monotonic() < self.retry_at

    def failed(self, error: Exception) -> None:
        with self.lock:
            now = time.monotonic()
            self.retry_at = now + OUTAGE_RETRY_SECONDS
            if self.since is None:
                self.since = now
                logger.warning(
                    "Redis cache unreachable (%s): rate limits count per process and cached "
                    "values are computed again until it answers",
                    error,
                )

    def answered(self, fallback: LocMemCache) -> None:
        if self.since is None:
            return
        with self.lock:
            if self.since is None:
                return
            logger.warning(
                "Redis cache reachable again after %.0f s", time.monotonic() - self.since
            )
            self.since = None
            fallback.clear()


_OUTAGES: dict[str, _Outage] = {}
_OUTAGES_LOCK = threading.Lock()
UNREACHABLE = (redis.ConnectionError, redis.TimeoutError)


class ReusedRedisCacheClient(RedisCacheClient):
    """Django's client, except that it keeps one redis-py client per server: Django's builds
    a new one (options parsed, callbacks registered) for every command, a measurable part of
    a page that reads its session and a fragment from the cache."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[Any, redis.Redis] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client


class ResilientRedisCache(RedisCache):
    """Django's Redis cache that serves from this process while Redis is away."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedRedisCacheClient
        name = server if isinstance(server, str) else ",".join(server)
        with _OUTAGES_LOCK:
            self._outage = _OUTAGES.setdefault(name, _Outage())
        # One per process and location (locmem shares its store by name across threads).
        self.fallback = LocMemCache(f"redis-fallback:{name}", {"OPTIONS": {"MAX_ENTRIES": 5000}})

    @property
    def degraded(self) -> bool:
        """True while this process serves the cache itself (Redis did not answer)."""
        return self._outage.since is not None

    def resilient(self, on_redis: Callable[[], Any], on_fallback: Callable[[], Any]) -> Any:
        """`on_redis()`, or `on_fallback()` while Redis is away."""
        if self._outage.skip():
            return on_fallback()
        try:
            result = on_redis()
        except UNREACHABLE as error:
            self._outage.failed(error)
            return on_fallback()
        self._outage.answered(self.fallback)
        return result


def _resilient(name: str):
    redis_method = getattr(RedisCache, name)

    @functools.wraps(redis_method)
    def method(self: ResilientRedisCache, *args, **kwargs):
        return self.resilient(
            lambda: redis_method(self, *args, **kwargs),
            lambda: getattr(self.fallback, name)(*args, **kwargs),
        )

    return method


for _name in ("add", "get", "set", "touch", "delete", "get_many", "has_key", "incr",
              "set_many", "delete_many", "clear"):  # fmt: skip
    setattr(ResilientRedisCache, _name, _resilient(_name))


@functools.cache
def _count_script(location: str) -> Script:
    options = settings.CACHES["default"].get("OPTIONS", {})
    timeouts = {
        k: v for k, v in options.items() if k in ("socket_connect_timeout", "socket_timeout")
    }
    return redis.Redis.from_url(location, **timeouts).register_script(COUNT_SCRIPT)


def _fallback_count(cache, key: str, timeout: int) -> int:
    cache.add(key, 0, timeout)
    return cache.incr(key)


def cache_count(key: str, timeout: int) -> int:
    """Add one to a counter in the shared cache that expires `timeout` seconds after it was
    started; returns the new count (atomic, so processes sharing the cache agree; counted in
    this process alone while Redis is away)."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        location = settings.CACHES["default"]["LOCATION"]
        # The first server is the one Django's backend writes to.
        primary = location if isinstance(location, str) else location[0]
        script = _count_script(primary.split(",")[0])

        def on_redis() -> int:
            return script(keys=[cache.make_and_validate_key(key)], args=[timeout])

        if isinstance(cache, ResilientRedisCache):
            return cache.resilient(on_redis, lambda: _fallback_count(cache.fallback, key, timeout))
        return on_redis()
    return _fallback_count(cache, key, timeout)
