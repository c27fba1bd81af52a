"""The counter rate limits use, on a real Redis behind Django's own backend."""

import threading

import pytest
import redis
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

from core.cache import cache_count

REDIS_BACKEND = "django.core.cache.backends.redis.RedisCache"


@pytest.fixture
def redis_cache(redis_server, settings):
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_server.url,
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
