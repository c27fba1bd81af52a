"""Shared set-up for benchmarks: a scratch PostgreSQL database, Django, and printing."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg

BASE_DIR = Path(__file__).resolve().parent.parent
POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")


@contextmanager
def scratch_database(name: str):
    """Create a throwaway database, point Django at it, migrate; drop it afterwards."""
    database = f"kindred_bench_{name}_{os.getpid()}"
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    os.environ.update(
        DATABASE_URL=f"{POSTGRES}/{database}",
        DJANGO_SETTINGS_MODULE="config.settings",
        SECRET_KEY=os.environ.get("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnop"),
        SITE_URL=os.environ.get("SITE_URL", "http://127.0.0.1:8000"),
        VAR_DIR=os.environ.get("VAR_DIR", tempfile.mkdtemp(prefix="kindred-bench-")),
    )
    sys.path.insert(0, str(BASE_DIR))
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        yield database
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@contextmanager
def timed(results: dict, name: str):
    start = time.perf_counter()
    yield
    results[name] = time.perf_counter() - start


def report(title: str, rows: list[tuple[str, str]], figures: dict) -> None:
    """Print a readable table, then one JSON line of the figures."""
    width = max(len(label) for label, _ in rows)
    print(title)
    print("-" * len(title))
    for label, value in rows:
        print(f"{label.ljust(width)}  {value}")
    print(json.dumps(figures, sort_keys=True))
