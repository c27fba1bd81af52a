"""Rows that staff rarely change (settings rows, tier lists, system accounts), kept briefly
in each process's own cache ("local") so hot paths skip their round trips.

A value is cached only after the transaction that read it commits: a row read (or created)
in a transaction that is rolled back is never served from the cache. A saved or deleted
row drops its keys at once in the saving process and within the timeout in every other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.core.cache import caches
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import post_delete, post_save

T = TypeVar("T")

# The keys to drop when a row of each model changes (see `forget_on_change`).
_KEYS_BY_MODEL: dict[type[Model], list[str]] = {}


def cached_rows(key: str, load: Callable[[], T], *, seconds: int) -> T:
    """The cached value under `key`, or `load()`'s answer, cached once this transaction commits."""
    cache = caches["local"]
    value = cache.get(key)
    if value is None:
        value = load()
        transaction.on_commit(lambda: cache.set(key, value, seconds))
    return value


def forget(keys: list[str]) -> None:
    """Drop `keys` now, for the rest of this transaction, and again after the commit,
    because a request in between would have cached the rows as they were."""
    caches["local"].delete_many(keys)
    transaction.on_commit(lambda: caches["local"].delete_many(keys))


def forget_on_change(model: type[Model], *keys: str) -> None:
    """Drop `keys` whenever a `model` row is saved or deleted, or written through
    core/sql.py (see `forget_rows_of`)."""
    known = _KEYS_BY_MODEL.setdefault(model, [])
    known.extend(key for key in keys if key not in known)

    def forget_keys(**kwargs) -> None:
        forget(list(keys))

    uid = f"process_cache:{model._meta.label}:{','.join(keys)}"
    post_save.connect(forget_keys, sender=model, weak=False, dispatch_uid=uid)
    post_delete.connect(forget_keys, sender=model, weak=False, dispatch_uid=uid)


def forget_rows_of(model: type[Model]) -> None:
    """What a save of a `model` row drops, for writes that send no save signal."""
    keys = _KEYS_BY_MODEL.get(model)
    if keys:
        forget(list(keys))
