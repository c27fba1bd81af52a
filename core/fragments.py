"""Versions for cached page fragments: a page keys a fragment on the version of the data it
shows, and a change to that data drops the version, so the next page builds it afresh.

A version is read before the data it covers and dropped only after the change commits:
a fragment built from data read before the change is stored under the old version, which
no page asks for again.

Public pages also answer a browser's conditional GET from the same versions
(`anonymous_page_etag`), before reading anything else.
"""

from __future__ import annotations

import functools
import hashlib
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest
from django.utils import translation

_PREFIX = "fragments:version:"


def fragment_versions(*names: str) -> str:
    """The current versions of the data named `names`, as one string a fragment is keyed on:
    one round trip to the cache however many there are (two the first time)."""
    keys = [_PREFIX + name for name in names]
    versions = cache.get_many(keys)
    missing = [key for key in keys if key not in versions]
    if missing:
        for key in missing:
            cache.add(key, uuid.uuid4().hex, None)
        versions.update(cache.get_many(missing))
    return ":".join(versions.get(key, "") for key in keys)


def fragment_version_drop(*names: str) -> None:
    """The data named `names` changed: once the change commits, fragments of it are rebuilt
    (none named, nothing to do)."""
    if not names:
        return
    keys = [_PREFIX + name for name in names]
    transaction.on_commit(lambda: cache.delete_many(keys))


@functools.cache
def _release() -> str:
    """The templates and catalogues this process serves, as of their files' times: the same in
    every worker started from one deployment, new after any of them changes."""
    roots = [Path(settings.BASE_DIR) / "templates", *map(Path, settings.LOCALE_PATHS)]
    stamps = sorted(
        f"{path}:{path.stat().st_mtime_ns}"
        for root in roots
        for path in root.rglob("*")
        if path.suffix in {".html", ".mo"}
    )
    return hashlib.sha256("\n".join(stamps).encode()).hexdigest()[:16]


def anonymous_page_etag(request: HttpRequest, *versions: str, seconds: int) -> str | None:
    """An ETag for a public page as a visitor without a session sees it: the versions of the
    data it shows, its language and the release, and changes every `seconds` (data that
    changes without dropping a version shows that late, as in the fragments). None (no
    conditional answer) for anyone with a session or a message waiting, whose page carries
    more than that data."""
    if (
        request.user.is_authenticated
        or {
            settings.SESSION_COOKIE_NAME,
            "messages",
        }
        & request.COOKIES.keys()
    ):
        return None
    period = str(int(time.time()) // seconds)
    parts = [*versions, translation.get_language(), _release(), period]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]
