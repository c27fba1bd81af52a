"""A counter in the shared cache, for rate limits: one atomic command on Redis.

Django's Redis backend counts with two round trips per hit (`add`, then `incr`, which
checks that the key exists first), so on Redis the counter runs a small script through a
client of its own, made once per process from the cache's own location (redis-py's pool
reconnects after a fork); other backends use `add` and `incr`.
"""

from __future__ import annotations

import functools

import redis
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from redis.commands.core import Script

# Atomic in Redis; run by its digest (EVALSHA), so a call sends a few bytes.
COUNT_SCRIPT = """
redis.call('SET', KEYS[1], 0, 'EX', ARGV[1], 'NX')
return redis.call('INCR', KEYS[1])
"""


@functools.cache
def _count_script(location: str) -> Script:
    return redis.Redis.from_url(location).register_script(COUNT_SCRIPT)


def cache_count(key: str, timeout: int) -> int:
    """Add one to a counter in the shared cache that expires `timeout` seconds after it was
    started; returns the new count (atomic, so processes sharing the cache agree)."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        location = settings.CACHES["default"]["LOCATION"]
        # The first server is the one Django's backend writes to.
        primary = location if isinstance(location, str) else location[0]
        primary = primary.split(",")[0]
        return _count_script(primary)(keys=[cache.make_and_validate_key(key)], args=[timeout])
    cache.add(key, 0, timeout)
    return cache.incr(key)
