from __future__ import annotations

import gzip
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sentry_sdk

from config.sentry import sentry_init
from tests.support import BASE_DIR, free_port, wait_for


class SentryIngest:
    """A stand-in for Sentry's ingest endpoint on loopback: keeps every envelope posted."""

    def __init__(self):
        self.envelopes: list[bytes] = []
        ingest = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                ingest.envelopes.append(body)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.dsn = f"http://public@127.0.0.1:{self.server.server_port}/1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def ingest():
    started = SentryIngest()
    yield started
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)
    started.stop()


def _fail_for(email: str, api_key: str) -> None:
    raise LookupError(f"No customer {email}")


def test_an_error_reaches_sentry_without_addresses_or_secrets(ingest):
    sentry_init(dsn=ingest.dsn, environment="test", release=None, traces_sample_rate=0)
    sentry_sdk.add_breadcrumb(message="Invitation to bob@example.org queued")
    try:
        # Built at run time, so that the source lines Sentry sends do not hold it.
        _fail_for("anna@example.com", "KEY." + "-".join(["hidden", "key", "part"]))
    except LookupError:
        sentry_sdk.capture_exception()
    sentry_sdk.flush(timeout=10)
    wait_for(lambda: ingest.envelopes, timeout=10)
    sent = b"\n".join(ingest.envelopes).decode()
    assert "LookupError" in sent
    assert "_fail_for" in sent
    assert "[redacted]" in sent
    assert '"api_key":"[Filtered]"' in sent
    for secret in ("anna@example.com", "bob@example.org", "hidden-key-part"):
        assert secret not in sent


def test_settings_start_sentry_with_django_and_celery_when_a_dsn_is_set():
    probe = (
        "import django, sentry_sdk; django.setup(); client = sentry_sdk.get_client(); "
        "print(client.is_active(), client.options['send_default_pii'], "
        "sorted(client.integrations))"
    )
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test"}
    with_dsn = subprocess.run(
        [sys.executable, "-c", probe],
        env={**environment, "SENTRY_DSN": "http://public@127.0.0.1:9/1"},
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    active, pii, integrations = with_dsn.strip().split(" ", 2)
    assert (active, pii) == ("True", "False")
    assert "'django'" in integrations
    assert "'celery'" in integrations
    environment.pop("SENTRY_DSN", None)
    without = subprocess.run(
        [sys.executable, "-c", probe],
        env=environment,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert without.startswith("False")
