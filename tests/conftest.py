from __future__ import annotations

import os

import pytest
from django.core.cache import caches

from tests.support import CeleryWorker, RedisServer, SmtpSink, login_with_second_factor


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _process_cache():
    """The per-process cache may hold rows a previous test's rollback or flush removed."""
    caches["local"].clear()


@pytest.fixture
def smtp_sink():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def celery_worker(transactional_db, smtp_sink):
    """A real worker process that sends email to `smtp_sink`; the test's rows must be committed."""
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
