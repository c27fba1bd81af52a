"""`make run` smoke: the server and a worker come up on the embedded defaults and stop on Ctrl-C."""

import os
import signal
import subprocess
import urllib.request

import pytest

from tests.support import BASE_DIR, free_port, wait_for

pytestmark = pytest.mark.slow


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
            return response.status
    except Exception:
        return 0


def test_make_run_serves_login_and_health_then_stops_on_ctrl_c(tmp_path):
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {"DATABASE_URL", "REDIS_URL", "EMAIL_URL", "DJANGO_SETTINGS_MODULE", "SITE_URL"}
    }
    env.update({"PORT": str(port), "VAR_DIR": str(tmp_path / "var")})
    log = (tmp_path / "make-run.log").open("wb")
    process = subprocess.Popen(
        ["make", "run"], cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: _get(f"{base}/accounts/login/") == 200, timeout=120, interval=1)
        wait_for(lambda: _get(f"{base}/health/") == 200, timeout=30, interval=1)
        output = (tmp_path / "make-run.log").read_text()
        assert f"http://127.0.0.1:{port}/" in output
        assert "anna@example.com / kindred-demo" in output
        wait_for(lambda: b"ready." in (tmp_path / "make-run.log").read_bytes(), timeout=60)
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    assert _get(f"http://127.0.0.1:{port}/health/") == 0
