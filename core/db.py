"""Database-level guarantees shared by the apps: migrations, and retrying transient errors."""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.db import OperationalError, connection, migrations, transaction
from django.utils.module_loading import import_string

P = ParamSpec("P")
R = TypeVar("R")
TRANSIENT_ATTEMPTS = 3


def append_only(table: str) -> migrations.RunPython:
    """A migration operation that makes PostgreSQL refuse UPDATE and DELETE on `table`.

    An audit trail or a ledger must not be editable by convention only. TRUNCATE (used by
    test database flushes) is not a row operation and stays allowed. Other databases
    (SQLite in development) rely on the services alone.
    """
    function, trigger = f"{table}_refuse_change", f"{table}_append_only"
    forward_sql = f"""
CREATE FUNCTION {function}() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{table} is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER {trigger} BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {function}();
"""
    backward_sql = (
        f"DROP TRIGGER IF EXISTS {trigger} ON {table}; DROP FUNCTION IF EXISTS {function}();"
    )

    def forward(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(forward_sql, params=None)

    def backward(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(backward_sql, params=None)

    return migrations.RunPython(forward, backward)


# serialization_failure and deadlock_detected: PostgreSQL aborted the transaction
# only because another one raced it, so running it again is the documented cure.
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01"})


def is_transient(error: BaseException) -> bool:
    """A database error that a fresh attempt of the same transaction may not meet."""
    if not isinstance(error, OperationalError):
        return False
    if getattr(error.__cause__, "sqlstate", None) in TRANSIENT_SQLSTATES:
        return True
    # SQLite's answer when its busy timeout ran out behind another writer.
    return "database is locked" in str(error)


def transient_retry(func: Callable[P, R]) -> Callable[P, R]:
    """Run a service that owns its transaction again after a transient database error.

    Only the outermost transaction can be retried: inside someone else's
    atomic block the error is raised as it is, since that transaction is lost.
    """

    @functools.wraps(func)
    def retrying(*args: P.args, **kwargs: P.kwargs) -> R:
        attempt = 1
        while True:
            try:
                return func(*args, **kwargs)
            except OperationalError as error:
                if attempt >= TRANSIENT_ATTEMPTS or connection.in_atomic_block:
                    raise
                if not is_transient(error):
                    raise
            # Jittered, so that the two transactions that collided do not collide again.
            time.sleep(random.uniform(0, 0.05 * attempt))
            attempt += 1

    return retrying


def enqueue_after_commit(task: str, *args: object) -> None:
    """Queue the Celery task named by its dotted path once the current transaction commits
    (at once outside one), so a worker never reads rows that are not there yet.

    Robust: with the broker down the change stays committed, and the task's sweeper hands
    on what was lost. The task is looked up only when sent, so a service names a task of
    its own app without importing the tasks module that imports the service.
    """
    transaction.on_commit(lambda: import_string(task).delay(*args), robust=True)


def statistics_refresh(*models: type) -> None:
    """Have PostgreSQL count the rows of these tables again (ANALYZE), now.

    A bulk load into tables that were nearly empty leaves the planner believing they still
    are: it then scans whole tables for lookups an index answers, and a prepared statement
    keeps that plan. Autovacuum catches up only later, so a bulk writer calls this as the
    tables grow. Other databases plan without such statistics.
    """
    if connection.vendor != "postgresql":
        return
    tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in models)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")
