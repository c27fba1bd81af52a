"""Partner API throughput and latency under gunicorn (4 workers) on PostgreSQL.

Measures `GET /api/v1/customers/{id}/` and `POST /api/v1/conversions/` (fresh
idempotency keys and order ids) beside a bare Django view on the same server
doing one primary-key read (the ceiling), in the same run, with 16 keep-alive
connections on loopback. Goals: the read at least 60% of the bare rate with
p99 under 50 ms; the conversion at least 25% with p99 under 150 ms. Also counts
the queries of each request with a short and a long ledger history (they must
not grow with it).

The load comes from threads in this process (wrk and locust are not installed
here); the bare view is measured the same way, so the ratios compare like with like.

    REDIS_URL=redis://127.0.0.1:6379/5 .venv/bin/python bench/partner_api.py [--seconds 8]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from common import BASE_DIR, report, scratch_database

SITE_MODULE = "partner_api_site"
CONNECTIONS = 16


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed() -> tuple[str, str, int]:
    """A partner, its key, and one linked customer: (key, customer public id, customer pk)."""
    from partners.services import partner_create, partner_customer_upsert

    partner, key = partner_create(name="Bench shop")
    customer, _created = partner_customer_upsert(
        partner=partner, external_id="bench-1", email="bench@example.com", first_name="Bea"
    )
    return key, str(customer.public_id), customer.pk


def queries_per_request(key: str, customer_id: str, *, history: int) -> tuple[int, int, int]:
    """Queries of one read and one conversion after `history` earlier conversions."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Api-Key {key}")

    def convert(order: str):
        return client.post(
            "/api/v1/conversions/",
            {"customer": customer_id, "order_id": order, "amount": "12.50", "currency": "EUR"},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=f"seed-{order}",
        )

    for n in range(history):
        convert(f"H-{history}-{n}")
    with CaptureQueriesContext(connection) as read:
        assert client.get(f"/api/v1/customers/{customer_id}/").status_code == 200
    with CaptureQueriesContext(connection) as write:
        assert convert(f"Q-{history}").status_code == 201
    return history, len(read), len(write)


class Server:
    """gunicorn with 4 sync workers serving the project plus one bare view."""

    def __init__(self, env: dict):
        self.port = free_port()
        self.log = Path(env["VAR_DIR"]) / "bench-gunicorn.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", "4",
             "--bind", f"127.0.0.1:{self.port}", "--pythonpath", str(BASE_DIR / "bench"),
             "--access-logfile", "-" if os.environ.get("BENCH_ACCESS_LOG") else "/dev/null"],
            cwd=BASE_DIR, env=env, stdout=self.log.open("wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(self.log.read_text())

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(30)


def load(port: int, request, seconds: float) -> dict:
    """Closed-loop load: CONNECTIONS threads, each sending `request(n)` until time is up."""
    latencies: list[float] = []
    errors = itertools.count()
    counter = itertools.count()
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine = []
        while time.monotonic() < stop_at:
            method, path, body, headers = request(next(counter))
            started = time.perf_counter()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                ok = response.status < 300
            except (OSError, http.client.HTTPException):
                connection.close()
                ok = False
            mine.append(time.perf_counter() - started)
            if not ok:
                next(errors)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    quantiles = statistics.quantiles(latencies, n=100)
    return {
        "rps": round(len(latencies) / seconds, 1),
        "p50_ms": round(quantiles[49] * 1000, 1),
        "p99_ms": round(quantiles[98] * 1000, 1),
        "errors": next(errors),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--history", type=int, default=200)
    args = parser.parse_args()
    # Production settings, minus TLS (loopback) and with the test client's host allowed.
    os.environ.update(HTTPS="0", ALLOWED_HOSTS="127.0.0.1,testserver")
    with scratch_database("partner_api") as _database:
        key, customer_id, customer_pk = seed()
        counts = [queries_per_request(key, customer_id, history=n) for n in (0, args.history)]
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": SITE_MODULE,
            "CONN_MAX_AGE": "600",
            "PARTNER_API_RATE": "100000000/minute",
            "LOG_LEVEL": "WARNING",
        }
        server = Server(env)
        auth = {"Authorization": f"Api-Key {key}"}
        run = f"{os.getpid()}"

        def conversion_request(n: int):
            order = {"customer": customer_id, "order_id": f"B-{run}-{n}", "amount": "12.50",
                     "currency": "EUR"}  # fmt: skip
            headers = {**auth, "Content-Type": "application/json",
                       "Idempotency-Key": f"bench-{run}-{n}"}  # fmt: skip
            return "POST", "/api/v1/conversions/", json.dumps(order), headers

        try:
            load(server.port, lambda n: ("GET", f"/bench/bare/{customer_pk}/", None, {}), 1)
            bare = load(
                server.port,
                lambda n: ("GET", f"/bench/bare/{customer_pk}/", None, {}),
                args.seconds,
            )
            read = load(
                server.port,
                lambda n: ("GET", f"/api/v1/customers/{customer_id}/", None, auth),
                args.seconds,
            )
            convert = load(server.port, conversion_request, args.seconds)
        finally:
            server.stop()
    figures = {
        "bare": bare,
        "customer_read": read,
        "conversion": convert,
        "read_ratio": round(read["rps"] / bare["rps"], 3),
        "conversion_ratio": round(convert["rps"] / bare["rps"], 3),
        "queries": [
            {"history": history, "customer_read": r, "conversion": w} for history, r, w in counts
        ],
    }

    def line(result: dict) -> str:
        return (
            f"{result['rps']:>8} req/s  p50 {result['p50_ms']:>6} ms  "
            f"p99 {result['p99_ms']:>6} ms  errors {result['errors']}"
        )

    report(
        f"Partner API on gunicorn (4 workers), {CONNECTIONS} connections, {args.seconds:g} s each",
        [
            ("bare view (one pk read)", line(bare)),
            ("GET /customers/{id}/", line(read)),
            ("POST /conversions/", line(convert)),
            ("read / bare (goal >= 0.60)", f"{figures['read_ratio']}"),
            ("conversion / bare (goal >= 0.25)", f"{figures['conversion_ratio']}"),
            *(
                (f"queries, history {history}", f"read {r}, conversion {w}")
                for history, r, w in counts
            ),
        ],
        figures,
    )


if __name__ == "__main__":
    main()
