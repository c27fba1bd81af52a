"""The shared cache: Django's Redis backend with a reused client, and a counter for rate limits.

The partner API touches the cache on every request, so its cost shows: Django's
backend builds a new `redis.Redis` object for each call (about 100 µs of Python
here), and its `incr` makes two round trips. The client is thread- and fork-safe
(its pool reconnects after a fork), so one per pool is enough.
"""

from __future__ import annotations

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        if id(pool) not in self._clients:
            self._clients[id(pool)] = self._client(connection_pool=pool)
        return self._clients[id(pool)]


# Atomic in Redis; run by its digest (EVALSHA), so a call sends a few bytes.
COUNT_SCRIPT = """
redis.call('SET', KEYS[1], 0, 'EX', ARGV[1], 'NX')
return redis.call('INCR', KEYS[1])
"""


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
        self._count_script = None

    def count(self, key: str, timeout: int) -> int:
        """One command: start the counter at 0 with its expiry if it is new, add one."""
        key = self.make_and_validate_key(key)
        client = self._cache.get_client(key, write=True)
        if self._count_script is None or self._count_script.registered_client is not client:
            self._count_script = client.register_script(COUNT_SCRIPT)
        return self._count_script(keys=[key], args=[timeout])


def cache_count(key: str, timeout: int) -> int:
    """Add one to a counter in the shared cache that expires `timeout` seconds after it was
    started; returns the new count (atomic, so processes sharing the cache agree)."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        return cache.count(key, timeout)
    cache.add(key, 0, timeout)
    return cache.incr(key)
