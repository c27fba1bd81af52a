import os
import subprocess
import sys

from tests.support import BASE_DIR


def _check(*command, **env):
    """A manage.py command as typed in a new terminal: none of this process's settings."""
    base = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "SITE_URL"}}
    base["KINDRED_DEVELOPMENT_ENV"] = str(BASE_DIR / "var" / "no-such-file.env")
    return subprocess.run(
        [sys.executable, "manage.py", *(command or ["check"])],
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


def test_a_development_key_starting_with_a_dollar_is_read_as_it_is(tmp_path):
    (tmp_path / "development-secret-key").write_text("$" + "k" * 50)
    result = _check(DEBUG="1", VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr


def test_without_prepared_statements_server_side_cursors_are_off_too():
    """Behind a transaction-mode pooler neither survives from one transaction to the next."""
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/kindred",
        "DATABASE_PREPARED_STATEMENTS": "0",
        "DEBUG": "1",
    }
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; "
        "from django.conf import settings; django.setup(); "
        "db = settings.DATABASES['default']; "
        "print(db.get('DISABLE_SERVER_SIDE_CURSORS'), 'prepare_threshold' in db.get('OPTIONS', {}))"
    )
    printed = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert printed == ["True", "False"]


def test_a_command_in_a_new_terminal_runs_with_what_make_run_chose(tmp_path):
    written = tmp_path / "development.env"
    subprocess.run(
        [sys.executable, "-m", "config.devenv", "--port", "8123", "--path", str(written)],
        cwd=BASE_DIR,
        check=True,
    )
    shown = _check(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DEBUG, settings.SITE_URL)",
        VAR_DIR=str(tmp_path),
        KINDRED_DEVELOPMENT_ENV=str(written),
    )
    assert shown.stdout.splitlines()[-1].split() == ["True", "http://127.0.0.1:8123"], shown.stderr
    migrated = _check("migrate", "-v0", VAR_DIR=str(tmp_path), KINDRED_DEVELOPMENT_ENV=str(written))
    assert migrated.returncode == 0, migrated.stderr
    created = _check(
        "create_partner", "Shop", VAR_DIR=str(tmp_path), KINDRED_DEVELOPMENT_ENV=str(written)
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip().splitlines()[-1].count(".") == 1  # the key, alone


def test_a_process_given_its_own_secret_key_ignores_the_development_file(tmp_path):
    written = tmp_path / "development.env"
    written.write_text("DEBUG=1\n")
    shown = _check(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DEBUG)",
        VAR_DIR=str(tmp_path),
        KINDRED_DEVELOPMENT_ENV=str(written),
        SECRET_KEY="k" * 50,
        SITE_URL="https://kindred.example.com",
        ALLOWED_HOSTS="kindred.example.com",
    )
    assert shown.stdout.splitlines()[-1].split() == ["False"], shown.stderr
