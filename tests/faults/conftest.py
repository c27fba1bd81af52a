from __future__ import annotations

from contextlib import contextmanager

import pytest

from config.celery import app as celery_app
from tests.partners.factories import PartnerFactory
from tests.referrals.factories import active_program
from tests.support import PartnerClient


@pytest.fixture
def api():
    return PartnerClient(PartnerFactory())


@pytest.fixture
def default_program(transactional_db):
    return active_program()


@pytest.fixture
def markers(tmp_path, monkeypatch):
    """The folder where tests/faults/tasks.py leaves its marks (workers inherit the variable)."""
    monkeypatch.setenv("FAULTS_MARKER_DIR", str(tmp_path))
    return tmp_path


@contextmanager
def producer_broker(url: str):
    """Make this process publish tasks to the broker at `url` (a private Redis) for a while.

    The Celery app keeps its connection pools: they are dropped so that the next
    publish connects to the new URL, and dropped again on the way out.
    """
    conf = celery_app.conf
    saved = conf.broker_url, conf.broker_transport_options

    def switch(broker_url: str, options: dict) -> None:
        conf.broker_url, conf.broker_transport_options = broker_url, options
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    # Timeouts: a publish to a dead broker must fail, not hang.
    switch(url, {"socket_connect_timeout": 2, "socket_timeout": 5})
    try:
        yield
    finally:
        switch(*saved)
