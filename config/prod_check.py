"""`make prod-check`: the Procfile as production runs it, on PostgreSQL and Redis, until
every process is up and `/health/` says ready; then everything is stopped.

Production settings (DEBUG off, HTTPS on behind a TLS proxy, a fresh secret key) on the
given database (created when missing) and Redis. The Procfile's `release` line migrates
first; then honcho starts every other process. The check passes when `/health/` answers
200, the liveness check answers, `/metrics` refuses a request without its token and
serves one with it, every worker answers a ping and the beat has started.

    python -m config.prod_check --database-url postgres://... --redis-url redis://...
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

BASE_DIR = Path(__file__).resolve().parent.parent
PROCFILE = BASE_DIR / "Procfile"
STARTUP_SECONDS = 180


class CheckFailed(Exception):
    pass


def procfile_processes() -> dict[str, str]:
    processes = {}
    for line in PROCFILE.read_text().splitlines():
        name, colon, command = line.partition(":")
        if colon and name.strip() and not name.startswith("#"):
            processes[name.strip()] = command.strip()
    return processes


def database_ensure(url: str) -> None:
    """Create the database named in `url` if its server has none of that name."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    server = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True, connect_timeout=10) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(url: str, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - loopback only
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


def wait_until(what: str, check: Callable[[], bool], alive: Callable[[], bool]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if not alive():
            raise CheckFailed(f"The processes stopped before {what}.")
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(1)
    raise CheckFailed(f"Not within {STARTUP_SECONDS} s: {what}.")


def production_environment(*, database_url: str, redis_url: str, var_dir: Path) -> dict:
    port = free_port()
    return {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": f"https://127.0.0.1:{port}",
        "BEHIND_TLS_PROXY": "1",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "EMAIL_URL": "consolemail://",
        "VAR_DIR": str(var_dir),
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "CELERY_CONCURRENCY": "1",
        "CELERY_EMAIL_CONCURRENCY": "2",
        "CELERY_WEBHOOK_CONCURRENCY": "2",
        "METRICS_TOKEN": secrets.token_urlsafe(24),
        "PROMETHEUS_MULTIPROC_DIR": str(var_dir / "metrics"),
    }


def check(env: dict, honcho: subprocess.Popen, log: Path) -> list[str]:
    """What a load balancer and an operator would look at; each line one check passed."""
    base = f"http://127.0.0.1:{env['PORT']}"
    # Production redirects plain http to https: probe as the TLS proxy in front would.
    proxied = {"X-Forwarded-Proto": "https"}

    def alive() -> bool:
        return honcho.poll() is None

    def ready() -> bool:
        return http_get(f"{base}/health/", proxied)[0] == 200

    wait_until("/health/ answers 200", ready, alive)
    done = ["/health/ answers 200 (database and broker reachable)"]
    status, body = http_get(f"{base}/health/live/", proxied)
    if status != 200:
        raise CheckFailed(f"/health/live/ answered {status}")
    done.append("/health/live/ answers 200")
    status, _ = http_get(f"{base}/metrics", proxied)
    if status != 401:
        raise CheckFailed(f"/metrics without its token answered {status}, not 401")
    authorised = {**proxied, "Authorization": f"Bearer {env['METRICS_TOKEN']}"}
    status, body = http_get(f"{base}/metrics", authorised)
    # The readiness probes above were counted by whichever gunicorn workers served them.
    for series in (b'kindred_celery_queue_depth{queue="email"}', b'route="/health/",status="200"'):
        if status != 200 or series not in body:
            raise CheckFailed(f"/metrics with its token answered {status} without {series!r}")
    done.append("/metrics: 401 without its token; with it, the series of every web worker")
    expected = {name for name, command in procfile_processes().items() if "--hostname=" in command}

    def workers_answer() -> bool:
        ping = subprocess.run(
            [sys.executable, "-m", "celery", "-A", "config", "inspect", "ping", "--timeout=5"],
            cwd=BASE_DIR, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        return all(f"{name}@" in ping.stdout for name in expected)

    wait_until(f"the workers {sorted(expected)} answer a ping", workers_answer, alive)
    done.append(f"workers answer: {', '.join(sorted(expected))}")
    wait_until(
        "the beat starts", lambda: "beat: Starting..." in log.read_text(errors="replace"), alive
    )
    done.append("the beat started (one)")
    return done


def stop(honcho: subprocess.Popen) -> None:
    if honcho.poll() is None:
        honcho.send_signal(signal.SIGTERM)
        try:
            honcho.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(honcho.pid, signal.SIGKILL)
            honcho.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="postgres://… (created if missing)")
    parser.add_argument("--redis-url", required=True, help="redis://… (broker and cache)")
    options = parser.parse_args()
    if urlsplit(options.database_url).scheme not in ("postgres", "postgresql"):
        parser.error("--database-url must be a PostgreSQL URL")
    if urlsplit(options.redis_url).scheme not in ("redis", "rediss"):
        parser.error("--redis-url must be a Redis URL")
    processes = procfile_processes()
    if list(processes).count("beat") != 1:
        print("The Procfile must have exactly one beat.", file=sys.stderr)
        return 1
    database_ensure(options.database_url)
    with tempfile.TemporaryDirectory(prefix="kindred-prod-check-") as folder:
        var_dir = Path(folder)
        env = production_environment(
            database_url=options.database_url, redis_url=options.redis_url, var_dir=var_dir
        )
        print("== release:", processes["release"], flush=True)
        subprocess.run(processes["release"], shell=True, cwd=BASE_DIR, env=env, check=True)  # noqa: S602
        running = [name for name in processes if name != "release"]
        log = var_dir / "processes.log"
        print(f"== honcho start {' '.join(running)} (log: {log})", flush=True)
        with log.open("wb") as output:
            honcho = subprocess.Popen(  # noqa: S603 - our own Procfile's process names
                [sys.executable, "-m", "honcho", "-f", str(PROCFILE), "start",
                 "--port", env["PORT"], *running],
                cwd=BASE_DIR, env=env, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
            try:
                for line in check(env, honcho, log):
                    print("ok:", line, flush=True)
            except CheckFailed as failure:
                print(log.read_text(errors="replace")[-6000:], file=sys.stderr)
                print(f"prod-check failed: {failure}", file=sys.stderr)
                return 1
            finally:
                stop(honcho)
    print("prod-check passed: the Procfile's processes started with production settings.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
