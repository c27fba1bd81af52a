from __future__ import annotations

import os

import pytest

from tests.partners.conftest import PartnerClient
from tests.partners.factories import PartnerFactory
from tests.support import RedisServer


@pytest.fixture
def api():
    return PartnerClient(PartnerFactory())


@pytest.fixture
def redis_server():
    """A private Redis to stop and start; the shared one is never touched.

    Missing redis-server fails in CI (it must run there) and skips with a
    reason elsewhere (`make test` without services).
    """
    if not RedisServer.available():
        if os.environ.get("CI"):
            pytest.fail("redis-server is needed for the broker fault tests")
        pytest.skip("redis-server is not installed")
    server = RedisServer().start()
    yield server
    server.stop()
