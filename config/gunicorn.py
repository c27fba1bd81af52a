"""gunicorn's settings for the Procfile's web process, read from the environment.

Loaded by path (`gunicorn --config config/gunicorn.py`), in the master before any worker
starts: so it also prepares the folder where the workers count requests for `/metrics`
(prometheus_client's multiprocess mode), which must be empty when the server starts.
"""

import os
import shutil
import tempfile
from pathlib import Path


def _number(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


# Other gunicorn options can be given in GUNICORN_CMD_ARGS, which gunicorn reads itself.
bind = f"0.0.0.0:{_number('PORT', 8000)}"
# WEB_CONCURRENCY is the name Procfile platforms set for a dyno's size.
workers = _number("WEB_CONCURRENCY", min(2 * (os.cpu_count() or 1) + 1, 8))
threads = _number("GUNICORN_THREADS", 1)
# A request still running after this long is killed with its worker (and logged).
timeout = _number("GUNICORN_TIMEOUT", 30)
graceful_timeout = _number("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _number("GUNICORN_KEEPALIVE", 5)
# Workers are replaced now and then, so a slow leak never grows without end.
max_requests = _number("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10
# The request log is Django's JSON line per request (config/observability.py).
accesslog = None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Heartbeat files in memory: a slow disk must not make gunicorn think workers hang.
_SHARED_MEMORY = Path("/dev/shm")  # noqa: S108
if _SHARED_MEMORY.is_dir():
    worker_tmp_dir = str(_SHARED_MEMORY)

_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _metrics_dir:
    shutil.rmtree(_metrics_dir, ignore_errors=True)
    Path(_metrics_dir).mkdir(parents=True)
else:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="kindred-metrics-")


def child_exit(server, worker):
    """Forget a dead worker's live gauges (its counters stay in the sums)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
