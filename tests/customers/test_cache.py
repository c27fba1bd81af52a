"""The shared cache's Redis backend and the counter rate limits use, on a real Redis."""

import threading

import pytest
from django.core.cache import caches

from customers.cache import RedisCache, cache_count


@pytest.fixture
def redis_cache(redis_server, settings):
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "customers.cache.RedisCache", "LOCATION": redis_server.url},
    }
    cache = caches["default"]
    assert isinstance(cache, RedisCache)
    return cache


def test_the_counter_starts_at_one_and_expires_with_its_window(redis_cache):
    assert [cache_count("hits", 30) for _ in range(3)] == [1, 2, 3]
    assert redis_cache.get("hits") == 3
    client = redis_cache._cache.get_client(write=True)
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


def test_one_client_is_reused_and_values_round_trip(redis_cache):
    assert redis_cache._cache.get_client() is redis_cache._cache.get_client()
    redis_cache.set("row", {"a": [1, 2]}, 30)
    assert redis_cache.get("row") == {"a": [1, 2]}
    assert redis_cache.add("row", "other", 30) is False
    redis_cache.delete_many(["row"])
    assert redis_cache.get("row") is None


def test_the_counter_works_on_other_backends(settings):
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    assert [cache_count("local-hits", 30) for _ in range(2)] == [1, 2]
