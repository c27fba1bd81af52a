import os
import subprocess
import sys

from tests.support import BASE_DIR


def _check(**env):
    base = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BASE_DIR,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_without_debug_a_missing_secret_key_is_an_error(tmp_path):
    result = _check(DEBUG="0", VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_with_debug_a_development_key_is_made_once_and_kept(tmp_path):
    assert _check(DEBUG="1", VAR_DIR=str(tmp_path)).returncode == 0
    key = (tmp_path / "development-secret-key").read_text()
    assert _check(DEBUG="1", VAR_DIR=str(tmp_path)).returncode == 0
    assert (tmp_path / "development-secret-key").read_text() == key
    assert len(key) >= 50
