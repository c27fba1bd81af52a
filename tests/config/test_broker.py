"""The embedded broker's connection is quiet: kombu warns on every connection naming no host."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support import BASE_DIR

SCRIPT = """
import logging
import django
django.setup()
from config.celery import app
logging.basicConfig(level=logging.WARNING)
with app.connection_for_write() as connection:
    print(connection.transport_cls, dict(connection.info())["hostname"])
    connection.clone().release()
"""


def test_embedded_broker_connection_names_its_host(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REDIS_URL", "DJANGO_SETTINGS_MODULE", "CELERY_BROKER_DIR"}
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=BASE_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1",
             "VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "filesystem"
    assert "No hostname" not in result.stderr
