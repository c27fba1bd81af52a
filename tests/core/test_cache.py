"""The shared cache on a real Redis: the counter rate limits use, and what the cache does
when Redis goes away and comes back."""

import logging
import threading

import pytest
import redis
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

from core import cache as core_cache
from core.cache import ResilientRedisCache, cache_count


@pytest.fixture
def redis_cache(redis_server, settings):
    """The production backend and options (config/settings.py) on a private Redis."""
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "core.cache.ResilientRedisCache",
            "LOCATION": redis_server.url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        },
    }
    cache = caches["default"]
    assert isinstance(cache, RedisCache)
    return cache


def test_the_counter_starts_at_one_and_expires_with_its_window(redis_cache, redis_server):
    assert [cache_count("hits", 30) for _ in range(3)] == [1, 2, 3]
    assert redis_cache.get("hits") == 3
    client = redis.Redis.from_url(redis_server.url)
    assert 0 < client.ttl(redis_cache.make_key("hits")) <= 30


def test_the_counter_loses_no_hit_to_concurrent_processes(redis_cache):
    def hit():
        for _ in range(50):
            cache_count("shared", 60)

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert redis_cache.get("shared") == 400


def test_the_counter_works_on_other_backends(settings):
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    assert [cache_count("local-hits", 30) for _ in range(2)] == [1, 2]


def test_without_redis_the_cache_answers_from_the_process_and_says_so_once(
    redis_cache, redis_server, caplog, monkeypatch
):
    monkeypatch.setattr(core_cache, "OUTAGE_RETRY_SECONDS", 0.2)
    redis_cache.set("qr", b"png", 60)
    assert cache_count("hits", 60) == 1
    redis_server.stop()
    with caplog.at_level(logging.WARNING, logger="core.cache"):
        # A miss, not an error: the caller computes the value again.
        assert redis_cache.get("qr") is None
        redis_cache.set("qr", b"again", 60)
        assert redis_cache.get("qr") == b"again"
        # Counted in this process from zero: a limit holds, a little loosely.
        assert [cache_count("hits", 60) for _ in range(3)] == [1, 2, 3]
        assert redis_cache.add("lock", 1, 60) and not redis_cache.add("lock", 1, 60)
        assert redis_cache.degraded
    unreachable = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(unreachable) == 1

    redis_server.start()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="core.cache"):
        threading.Event().wait(0.3)
        # Redis again (empty after its restart), not the copy this process held.
        assert redis_cache.get("qr") is None
        assert not redis_cache.degraded
        assert cache_count("hits", 60) == 1
    assert any("reachable again" in r.getMessage() for r in caplog.records)


def test_while_redis_is_away_it_is_not_asked_on_every_call(redis_cache, redis_server, monkeypatch):
    redis_server.stop()
    asked = []
    real = RedisCache.get
    monkeypatch.setattr(RedisCache, "get", lambda *a, **k: asked.append(1) or real(*a, **k))
    # ResilientRedisCache wrapped Django's method when it was defined.
    monkeypatch.setattr(ResilientRedisCache, "get", core_cache._resilient("get"))
    for _ in range(20):
        assert redis_cache.get("anything", "default") == "default"
    assert len(asked) == 1
