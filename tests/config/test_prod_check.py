from __future__ import annotations

import subprocess

import psycopg
import pytest
from django.db import connection

from config.prod_check import procfile_processes
from tests.support import BASE_DIR, database_url


def test_the_procfile_has_one_beat_a_worker_per_queue_and_gunicorn_from_the_environment():
    processes = procfile_processes()
    assert [name for name, command in processes.items() if " beat" in command] == ["beat"]
    queues = [
        queue
        for command in processes.values()
        if "--queues=" in command
        for queue in command.split("--queues=")[1].split()[0].split(",")
    ]
    assert sorted(queues) == ["default", "email", "ledger", "webhooks"]
    assert not any("--beat" in command for command in processes.values())
    assert "gunicorn --config config/gunicorn.py config.wsgi" in processes["web"]
    assert processes["release"] == "python manage.py migrate --noinput"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="production runs on PostgreSQL")
def test_make_prod_check_starts_the_procfile_and_finds_it_ready(redis_server):
    server, _, name = database_url().rpartition("/")
    check_database = f"{name}_prod_check"
    try:
        finished = subprocess.run(
            [
                "make", "-o", "install", "prod-check",
                f"PROD_CHECK_DATABASE_URL={server}/{check_database}",
                f"PROD_CHECK_REDIS_URL={redis_server.url}",
            ],
            cwd=BASE_DIR, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{check_database}" WITH (FORCE)')
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-6000:]
    assert "ok: /health/ answers 200" in finished.stdout
    assert "ok: workers answer: email, webhooks, worker" in finished.stdout
    assert "prod-check passed" in finished.stdout
