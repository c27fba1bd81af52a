"""Database-level guarantees shared by the apps: migrations, and retrying transient errors."""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Mapping
from typing import ParamSpec, TypeVar

from django.db import OperationalError, connection, connections, migrations, router
from django.db.models import Field, Model

P = ParamSpec("P")
R = TypeVar("R")
M = TypeVar("M", bound=Model)
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


@functools.cache
def _insert_statement(model: type[Model], using: str) -> tuple[str, tuple[Field, ...]]:
    meta, connection = model._meta, connections[using]
    fields = tuple(
        field
        for field in meta.local_concrete_fields
        if not field.generated and field is not meta.auto_field
    )
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    values = ", ".join(["%s"] * len(fields))
    # Only identifiers from the model's own metadata are written into the statement.
    statement = (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({values}) "  # noqa: S608
        f"ON CONFLICT DO NOTHING RETURNING {quote(meta.pk.column)}"
    )
    return statement, fields


def insert_unless_taken(instance: Model) -> bool:
    """INSERT `instance` and set its primary key, or return False when a unique constraint
    already holds such a row: nothing is written and the transaction carries on.

    The database skips the row (ON CONFLICT DO NOTHING, read alike by PostgreSQL and
    SQLite; only a unique constraint skips it, any other failure raises), so "the unique
    constraint decides" costs no savepoint round trips, as `save()` inside `atomic()`
    would. The statement is written once per model: compiling it each time cost more than
    running it. Values are prepared as `save()` prepares them; like `bulk_create`, it
    sends no save signals.
    """
    using = router.db_for_write(type(instance), instance=instance)
    statement, fields = _insert_statement(type(instance), using)
    connection = connections[using]
    params = []
    for field in fields:
        value = field.pre_save(instance, add=True)
        if hasattr(value, "resolve_expression"):
            raise TypeError(f"{field.name}: insert_unless_taken writes plain values only.")
        params.append(field.get_db_prep_save(value, connection=connection))
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        row = cursor.fetchone()
    if row is None:
        return False
    instance.pk = row[0]
    instance._state.adding, instance._state.db = False, using
    return True


def row_locked(model: type[M], field_name: str, value: object) -> M | None:
    """The row of `model` whose unique field equals `value`, locked until the end of the
    transaction where the database has row locks (SQLite serialises writers instead).

    Hand-written SQL through `raw()`: on the hottest paths, compiling the ORM's query
    cost ten times what the query itself costs.
    """
    field, quote = model._meta.get_field(field_name), connection.ops.quote_name
    # Only identifiers from the model's own metadata are written into the statement.
    sql = f"SELECT * FROM {quote(model._meta.db_table)} WHERE {quote(field.column)} = %s"  # noqa: S608
    if connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    params = [field.get_db_prep_value(value, connection)]
    return next(iter(model.objects.raw(sql, params)), None)


def row_update(
    model: type[Model],
    pk: object,
    values: Mapping[str, object],
    *,
    add: Mapping[str, int] | None = None,
    at_least: Mapping[str, int] | None = None,
) -> bool:
    """UPDATE one row by primary key: set `values` (field names or attnames, plain values),
    add `add` to counters, and only if each `at_least` field still holds that much (checked
    in the same statement, so concurrent updates cannot overdraw). True if the row changed.

    Written out for the hottest writes, as `row_locked` is for reads: the ORM's compiling
    of an UPDATE cost three times the statement.
    """
    meta, quote = model._meta, connection.ops.quote_name
    assignments, params, conditions, condition_params = [], [], [], []
    for name, amount in (add or {}).items():
        column = quote(meta.get_field(name).column)
        assignments.append(f"{column} = {column} + %s")
        params.append(amount)
    for name, value in values.items():
        field = meta.get_field(name)
        assignments.append(f"{quote(field.column)} = %s")
        params.append(field.get_db_prep_save(value, connection=connection))
    for name, floor in (at_least or {}).items():
        conditions.append(f" AND {quote(meta.get_field(name).column)} >= %s")
        condition_params.append(floor)
    # Only identifiers from the model's own metadata are written into the statement.
    statement = (
        f"UPDATE {quote(meta.db_table)} SET {', '.join(assignments)} "  # noqa: S608
        f"WHERE {quote(meta.pk.column)} = %s{''.join(conditions)}"
    )
    params += [meta.pk.get_db_prep_value(pk, connection), *condition_params]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount == 1


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
