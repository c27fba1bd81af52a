from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import caches
from django.utils import translation

from tests.support import CeleryWorker, RedisServer, SmtpSink, login_with_second_factor


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def pytest_sessionstart(session):
    """Compile a catalogue whose .mo is missing or older than its .po, as `make install`
    does, so that a plain pytest after editing a translation tests the edit."""
    for po in Path(settings.BASE_DIR).glob("locale/*/LC_MESSAGES/django.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            subprocess.run(["msgfmt", "--check-format", "-o", str(mo), str(po)], check=True)


@pytest.fixture(autouse=True)
def _default_language():
    """A request's language stays active in its thread after the response: never into the
    next test, where an email rendered outside a request would take it."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _process_cache():
    """The caches may hold rows (and page fragments built from rows) that a previous test's
    rollback or flush removed."""
    caches["local"].clear()
    caches["default"].clear()


@pytest.fixture
def smtp_sink():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def celery_worker(transactional_db, smtp_sink, settings):
    """A real worker process that sends email to `smtp_sink`; the test's rows must be committed.

    Emails this process stores in the outbox are left to the worker, too."""
    settings.EMAIL_OUTBOX_SEND_AT_ONCE = False
    worker = CeleryWorker(env={"EMAIL_URL": smtp_sink.url, "EMAIL_RETRY_BACKOFF": "1"}).start()
    yield worker
    worker.stop()


@pytest.fixture
def tasks_inline():
    """Enqueued tasks run at once in the test's process; the worker path has its own tests."""
    from config.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def redis_server():
    """A private Redis to stop and start; the shared one is never touched.

    Missing redis-server fails in CI (it must run there) and skips with a
    reason elsewhere (`make test` without services).
    """
    if not RedisServer.available():
        if os.environ.get("CI"):
            pytest.fail("redis-server is needed for the broker and cache tests")
        pytest.skip("redis-server is not installed")
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def admin_client(client, admin_user):
    """pytest-django's, with the second factor the admin asks of every staff member."""
    login_with_second_factor(client, admin_user)
    return client
