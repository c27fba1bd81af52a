"""A real server under load: gunicorn on the bench database, wrk on loopback."""

from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import urlopen

from common import BASE_DIR

GUNICORN = str(Path(BASE_DIR) / ".venv" / "bin" / "gunicorn")

# The bench process and the server it starts: a Redis broker and cache, plain HTTP on loopback.
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/8")
os.environ.update(
    HTTPS="0",
    ALLOWED_HOSTS="127.0.0.1,testserver",
    LOG_LEVEL="WARNING",
    PARTNER_API_RATE="100000000/minute",
)

# A wrk script's preamble: each wrk thread gets its own `tid`, for unique Idempotency-Keys.
LUA_THREAD_ID = """
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(*, workers: int = 4, threads: int = 1):
    """Serve the project (production settings, bench URLs) on a free loopback port."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "0",
        "HTTPS": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "PARTNER_API_RATE": "100000000/minute",
        "LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [GUNICORN, "config.wsgi", f"--workers={workers}", f"--threads={threads}",
         f"--bind=127.0.0.1:{port}", "--log-level=warning"],
        cwd=BASE_DIR, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    # Every worker has loaded Django once enough answers come back in a row.
    deadline, answered = time.monotonic() + 60, 0
    while answered < 4 * workers and time.monotonic() < deadline:
        try:
            with urlopen(f"{url}/health/", timeout=10) as response:  # noqa: S310
                answered += response.status == 200
        except (OSError, HTTPError):
            time.sleep(0.2)
    try:
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=30)


def _workers(master: subprocess.Popen) -> list[str]:
    return Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()


def worker_rss_kib(master: subprocess.Popen) -> list[int]:
    """Resident memory of each gunicorn worker (children of the master)."""
    children = _workers(master)
    sizes = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        sizes.append(int(re.search(r"VmRSS:\s+(\d+)", status).group(1)))
    return sizes


def _cpu_seconds(pid: str) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _backends_of(database: str) -> list[str]:
    """The PostgreSQL server processes connected to `database` (the workers keep theirs)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [database])
        return [str(pid) for (pid,) in cursor.fetchall()]


def cpu_seconds(
    master: subprocess.Popen, *, database: str | None = None
) -> dict[str, dict[str, float]]:
    """Processor time used so far by each gunicorn worker and each of PostgreSQL's
    processes: those serving `database` when it is given (on a machine other clients
    share), else all of this machine's server (the bench is then taken to be its only
    client). By process, so that one ending between two readings is not counted as time
    given back."""
    if database is not None:
        pids = _backends_of(database)
    else:
        pids = [
            entry.name
            for entry in Path("/proc").iterdir()
            if entry.name.isdigit() and _command(entry) == "postgres"
        ]
    postgres = {}
    for pid in pids:
        try:
            postgres[pid] = _cpu_seconds(pid)
        except OSError:
            continue  # a process that ended meanwhile
    return {"app": {pid: _cpu_seconds(pid) for pid in _workers(master)}, "database": postgres}


def cpu_seconds_between(before: dict[str, float], after: dict[str, float]) -> float:
    """Processor time the processes of `after` used since `before` (all of it for one
    that started meanwhile)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def _command(entry: Path) -> str:
    try:
        return (entry / "comm").read_text().strip()
    except OSError:
        return ""  # a process that ended meanwhile


@dataclass
class Load:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, *, script: str, seconds: int, connections: int = 16, threads: int = 2) -> Load:
    """Run wrk with a Lua script; parse rate, latency percentiles and non-2xx answers."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    output = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
         "-s", handle.name, url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    os.unlink(handle.name)
    latency = dict(re.findall(r"^\s+(50|99)(?:\.000)?%\s+(\S+)", output, flags=re.M))
    if "99" not in latency:
        raise RuntimeError(f"wrk printed no latency distribution:\n{output}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return Load(
        requests_per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        p50_ms=_ms(latency["50"]),
        p99_ms=_ms(latency["99"]),
        requests=int(re.search(r"(\d+) requests in", output).group(1)),
        errors=(int(errors.group(1)) if errors else 0)
        + (sum(map(int, socket_errors.groups())) if socket_errors else 0),
    )


@dataclass
class Rounds:
    """Each phase's load and processor time per request, round after round: a figure is
    the median over the rounds, so a slow spell of the machine during one phase does not
    decide it, and a ratio is taken within each round, against a phase of that round."""

    runs: list[tuple[dict[str, Load], dict[str, dict[str, float]]]]

    def median(self, name: str, figure: str) -> float:
        return round(statistics.median(getattr(loads[name], figure) for loads, _ in self.runs), 2)

    def ratios_by_round(self, name: str, *, to: str = "bare") -> list[float]:
        return [
            loads[name].requests_per_second / loads[to].requests_per_second
            for loads, _ in self.runs
        ]

    def ratio(self, name: str, *, to: str = "bare") -> float:
        return round(statistics.median(self.ratios_by_round(name, to=to)), 3)

    def ratios_each_round(self, *names: str) -> list[dict[str, float]]:
        """For each round, the ratio of each named phase to the bare view's in that round."""
        by_name = [self.ratios_by_round(name) for name in names]
        return [
            {name: round(value, 3) for name, value in zip(names, ratios, strict=True)}
            for ratios in zip(*by_name, strict=True)
        ]

    def errors(self, *names: str) -> int:
        return sum(
            load.errors
            for loads, _ in self.runs
            for name, load in loads.items()
            if not names or name in names
        )

    def requests(self, name: str) -> int:
        return sum(loads[name].requests for loads, _ in self.runs)

    def cpu_ms(self, name: str) -> dict[str, float]:
        """Median processor time per request of the app's workers and of PostgreSQL."""
        return {
            part: round(statistics.median(cpu[name][part] for _, cpu in self.runs), 3)
            for part in ("app", "database")
        }


def load_rounds(
    url: str,
    master: subprocess.Popen,
    scripts: dict[str, str | Callable[[int], str]],
    *,
    rounds: int,
    seconds: int,
    database: str | None = None,
) -> Rounds:
    """Run every phase's wrk script in turn, for `rounds` rounds (a script given as a
    function is made afresh for each round), measuring processor time around each."""
    runs = []
    for round_ in range(rounds):
        loads, cpu_ms = {}, {}
        for name, script in scripts.items():
            before = cpu_seconds(master, database=database)
            loads[name] = wrk(url, script=script(round_) if callable(script) else script,
                              seconds=seconds)  # fmt: skip
            after = cpu_seconds(master, database=database)
            cpu_ms[name] = {
                part: cpu_seconds_between(before[part], after[part])
                * 1000
                / max(loads[name].requests, 1)
                for part in after
            }
        runs.append((loads, cpu_ms))
    return Rounds(runs)
