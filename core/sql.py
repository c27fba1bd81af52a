"""Written-out statements, the project's one place for SQL that the ORM does not write.

Each statement is built from the model's own metadata (tables and columns quoted from
`_meta`; every value a parameter), values are prepared and results converted as the ORM
does, and a write drops what a save of the row would drop from the process cache
(core/process_cache.py). They send no save signals, like `bulk_create`, and use the
one database the project has. tests/core/test_sql.py holds each to the ORM's answer.

Why each is here rather than in the ORM:
- `insert_unless_taken`: the unique constraint decides without a savepoint's round trips.
- `first_compiled_once`: the ORM's own statement, compiled once per process; the bench shows
  the partner customer read, and the widget panel's customer read, losing far more than a
  tenth of their rate when compiled per request.
- `row_locked`, `row_update`, `insert_rows`: on the purchase path, where compiling the ORM's
  statement costs more than running it.
- `insert_selected`: rows made from other rows in one INSERT ... SELECT (a settlement
  batch's notices), instead of reading them into Python and sending them back.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import (
    Expression,
    Field,
    ForeignKey,
    JSONField,
    Lookup,
    Model,
    QuerySet,
    Value,
)
from django.db.models.constants import OnConflict
from django.db.models.query import get_related_populators
from django.utils import timezone
from psycopg.types.json import Jsonb

from core.process_cache import forget_rows_of

M = TypeVar("M", bound=Model)


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def table(model: type[Model]) -> str:
    """`model`'s table name, quoted, for a statement written out."""
    return _quote(model._meta.db_table)


def column(model: type[Model], field_name: str) -> str:
    """The column of `model`'s field `field_name`, quoted, for a statement written out."""
    return _quote(model._meta.get_field(field_name).column)


@functools.cache
def _insert_statement(
    model: type[Model], rows: int, unless_taken: bool
) -> tuple[str, tuple[Field, ...]]:
    meta = model._meta
    fields = tuple(
        field
        for field in meta.local_concrete_fields
        if not field.generated and field is not meta.auto_field
    )
    columns = ", ".join(_quote(field.column) for field in fields)
    values = ", ".join([f"({', '.join(['%s'] * len(fields))})"] * rows)
    skip = " ON CONFLICT DO NOTHING" if unless_taken else ""
    statement = (
        f"INSERT INTO {table(model)} ({columns}) VALUES {values}{skip} "  # noqa: S608
        f"RETURNING {_quote(meta.pk.column)}"
    )
    return statement, fields


def _insert(instances: Sequence[Model], *, unless_taken: bool) -> list[tuple]:
    model = type(instances[0])
    statement, fields = _insert_statement(model, len(instances), unless_taken)
    params = []
    for instance in instances:
        for field in fields:
            value = field.pre_save(instance, add=True)
            if hasattr(value, "resolve_expression"):
                raise TypeError(f"{field.name}: written-out inserts take plain values only.")
            params.append(field.get_db_prep_save(value, connection=connection))
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        returned = cursor.fetchall()
    for instance, (pk,) in zip(instances, returned, strict=False):
        instance.pk = pk
        instance._state.adding, instance._state.db = False, DEFAULT_DB_ALIAS
    if returned:
        forget_rows_of(model)
    return returned


def insert_unless_taken(instance: Model) -> bool:
    """INSERT `instance` and set its primary key, or return False when a unique constraint
    already holds such a row: nothing is written and the transaction carries on.

    The database skips the row (ON CONFLICT DO NOTHING, read alike by PostgreSQL and
    SQLite; only a unique constraint skips it, any other failure raises), so "the unique
    constraint decides" costs no savepoint round trips, as `save()` inside `atomic()` would.
    """
    return bool(_insert([instance], unless_taken=True))


def insert_rows(instances: Sequence[Model]) -> None:
    """INSERT rows of one model in one statement and set their primary keys (as
    `bulk_create` does; the database returns them in the order given)."""
    _insert(instances, unless_taken=False)


def insert_selected(
    model: type[Model], source: QuerySet, values: Mapping[str, Expression | object]
) -> int:
    """INSERT one `model` row per row of `source`, each field's value the expression (or
    constant) given for it in `values`; rows a unique constraint already holds are skipped.
    Returns how many were written. The SELECT is the ORM's own, compiled from `source`."""
    aliases = {
        f"insert_{index}": value if hasattr(value, "resolve_expression") else Value(value)
        for index, value in enumerate(values.values())
    }
    columns = ", ".join(_quote(model._meta.get_field(name).column) for name in values)
    select, params = source.values(**aliases).query.sql_with_params()
    fields = [model._meta.get_field(name) for name in values]
    insert = connection.ops.insert_statement(on_conflict=OnConflict.IGNORE)
    suffix = connection.ops.on_conflict_suffix_sql(fields, OnConflict.IGNORE, None, None)
    with connection.cursor() as cursor:
        cursor.execute(f"{insert} {table(model)} ({columns}) {select} {suffix}", params)
        written = cursor.rowcount
    if written:
        forget_rows_of(model)
    return written


@functools.cache
def _select_plan(model: type[Model]) -> tuple[str, list[str], list]:
    fields = model._meta.concrete_fields
    alias = table(model)
    columns = ", ".join(f"{alias}.{_quote(field.column)}" for field in fields)
    converters = []
    for field in fields:
        col = field.get_col(alias)
        converters.append(
            (col, connection.ops.get_db_converters(col) + field.get_db_converters(connection))
        )
    return columns, [field.attname for field in fields], converters


def row_locked(model: type[M], field_name: str, value: object) -> M | None:
    """The row of `model` whose unique field equals `value`, locked until the end of the
    transaction where the database has row locks (SQLite serialises writers instead)."""
    field = model._meta.get_field(field_name)
    columns, attnames, converters = _select_plan(model)
    statement = f"SELECT {columns} FROM {table(model)} WHERE {_quote(field.column)} = %s"  # noqa: S608
    if connection.features.has_select_for_update:
        statement += " FOR UPDATE"
    with connection.cursor() as cursor:
        cursor.execute(statement, [field.get_db_prep_value(value, connection)])
        row = cursor.fetchone()
    if row is None:
        return None
    values = []
    for value_, (col, field_converters) in zip(row, converters, strict=True):
        for converter in field_converters:
            value_ = converter(value_, col, connection)
        values.append(value_)
    return model.from_db(DEFAULT_DB_ALIAS, attnames, values)


def row_update(
    model: type[Model],
    pk: object,
    values: Mapping[str, object],
    *,
    add: Mapping[str, int] | None = None,
    at_least: Mapping[str, int] | None = None,
    where: Mapping[str, object] | None = None,
) -> bool:
    """UPDATE one row by primary key: set `values` (field names or attnames, plain values),
    add `add` to counters, and only if each `at_least` field still holds that much and each
    `where` field still equals its value (checked in the same statement, so concurrent
    updates cannot overdraw or overwrite). True if the row changed.
    """
    meta = model._meta
    assignments, params, conditions, condition_params = [], [], [], []
    for name, amount in (add or {}).items():
        col = column(model, name)
        assignments.append(f"{col} = {col} + %s")
        params.append(amount)
    for name, value in values.items():
        field = meta.get_field(name)
        assignments.append(f"{_quote(field.column)} = %s")
        params.append(field.get_db_prep_save(value, connection=connection))
    for name, floor in (at_least or {}).items():
        conditions.append(f" AND {column(model, name)} >= %s")
        condition_params.append(floor)
    for name, value in (where or {}).items():
        field = meta.get_field(name)
        conditions.append(f" AND {_quote(field.column)} = %s")
        condition_params.append(field.get_db_prep_value(value, connection))
    statement = (
        f"UPDATE {table(model)} SET {', '.join(assignments)} "  # noqa: S608
        f"WHERE {_quote(meta.pk.column)} = %s{''.join(conditions)}"
    )
    params += [meta.pk.get_db_prep_value(pk, connection), *condition_params]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        changed = cursor.rowcount == 1
    if changed:
        forget_rows_of(model)
    return changed


# Stand-ins a queryset is compiled with, told apart from every other value in it.
_SENTINEL_INT = -7_130_279_347


def _sentinel(kind: type, number: int) -> int | str | uuid.UUID:
    if kind is uuid.UUID:
        return uuid.uuid4()
    if kind is str:
        return f"compiled-once-{uuid.uuid4().hex}"
    return _SENTINEL_INT - number


@dataclass(frozen=True)
class _Compiled:
    """A statement compiled once, and how each of its rows becomes an instance (with the
    rows `select_related` reads along and the annotations), as the ORM's iterable does."""

    statement: str
    params: tuple
    # Each value's position among the parameters, and whether it is sent as text.
    slots: dict[str, tuple[int, bool]]
    model: type[Model]
    columns: slice
    init_list: list[str]
    related_populators: list
    annotations: dict[str, int]
    converters: list[tuple[int, tuple[list, Expression]]]


@functools.cache
def _compiled(build: Callable[..., QuerySet], names: tuple[tuple[str, type], ...]) -> _Compiled:
    sentinels = {name: _sentinel(kind, number) for number, (name, kind) in enumerate(names)}
    queryset = build(**sentinels)[:1]
    # The ORM's own compiling and row plan (what ModelIterable does), outside its public
    # API: see above.
    compiler = queryset.query.get_compiler(using=DEFAULT_DB_ALIAS)
    statement, params = compiler.as_sql()
    slots = {}
    for name, sentinel in sentinels.items():
        found = [
            (position, isinstance(param, str))
            for position, param in enumerate(params)
            if param == sentinel or (isinstance(sentinel, uuid.UUID) and param == sentinel.hex)
        ]
        if len(found) != 1:
            raise ValueError(f"{name} must appear once in the statement, as a parameter.")
        slots[name] = found[0]
    select, klass_info = compiler.select, compiler.klass_info
    fields = klass_info["select_fields"]
    columns = slice(fields[0], fields[-1] + 1)
    converters = compiler.get_converters([column[0] for column in select[: compiler.col_count]])
    return _Compiled(
        statement=statement,
        params=tuple(params),
        slots=slots,
        model=klass_info["model"],
        columns=columns,
        init_list=[column[0].target.attname for column in select[columns]],
        related_populators=get_related_populators(klass_info, select, DEFAULT_DB_ALIAS),
        annotations=dict(compiler.annotation_col_map),
        converters=list(converters.items()),
    )


def first_compiled_once(
    build: Callable[..., QuerySet[M]], **values: int | str | uuid.UUID
) -> M | None:
    """The first row of `build(**values)`, the ORM's own statement compiled once per process
    and run with these values: the queryset stays the one description of the row.

    Each value must reach the statement as one parameter (compared, not computed on), and
    nothing else in the queryset may change between calls (use `Now()`, not the time of
    the call); values are integers, strings or UUIDs. The row comes back as the queryset's
    would: fields and annotations converted, `select_related` rows read along.
    """
    names = tuple(sorted((name, type(value)) for name, value in values.items()))
    compiled = _compiled(build, names)
    params = list(compiled.params)
    for name, (position, as_text) in compiled.slots.items():
        value = values[name]
        params[position] = value.hex if as_text and isinstance(value, uuid.UUID) else value
    with connection.cursor() as cursor:
        cursor.execute(compiled.statement, params)
        row = cursor.fetchone()
    if row is None:
        return None
    row = list(row)
    for position, (converters, expression) in compiled.converters:
        value = row[position]
        for converter in converters:
            value = converter(value, expression, connection)
        row[position] = value
    instance = compiled.model.from_db(DEFAULT_DB_ALIAS, compiled.init_list, row[compiled.columns])
    for populator in compiled.related_populators:
        populator.populate(row, instance)
    for name, position in compiled.annotations.items():
        setattr(instance, name, row[position])
    return instance


@functools.cache
def _copy_plan(
    model: type[Model], with_keys: bool
) -> tuple[str, tuple[tuple[str, str, object], ...]]:
    """The COPY statement of a model's table, and how each column's value is found."""
    meta = model._meta
    columns = []
    plan = []
    for field in meta.local_concrete_fields:
        if field.generated or (field is meta.pk and not with_keys):
            continue
        columns.append(_quote(field.column))
        if field is meta.pk:
            plan.append((field.attname, "pk", None))
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            plan.append((field.attname, "now", None))
        elif field.has_default() and callable(field.default):
            plan.append((field.attname, "call", field.default))
        else:
            plan.append((field.attname, "value", field.get_default()))
    statement = f"COPY {_quote(meta.db_table)} ({', '.join(columns)}) FROM STDIN"
    return statement, tuple(plan)


@functools.cache
def _copy_json_columns(model: type[Model], with_keys: bool) -> tuple[int, ...]:
    """Positions of the COPY's JSON columns: their values are sent as JSON documents."""
    fields = [
        field
        for field in model._meta.local_concrete_fields
        if not (field.generated or (field is model._meta.pk and not with_keys))
    ]
    return tuple(n for n, field in enumerate(fields) if isinstance(field, JSONField))


def copy_rows(
    model: type[Model], rows: Sequence[Mapping[str, object]], *, keys: bool = True
) -> list[int]:
    """INSERT many rows of one model and return their primary keys, in order.

    On PostgreSQL with COPY, the import's bulk path: several times faster than a multi-row
    INSERT, for COPY takes the values as they are instead of a statement to parse. COPY
    returns nothing, so the keys are drawn from the table's sequence first and written
    with the rows. Values are plain Python values by attname; a missing one gets the
    field's default (`auto_now` fields: now). No save signals, and a unique constraint
    fails the whole statement (no skipping, unlike `insert_unless_taken`). Elsewhere
    `bulk_create` does the same. With `keys=False` the database numbers the rows itself
    and nothing is returned: for rows nobody refers to.
    """
    if not rows:
        return []
    if connection.vendor != "postgresql":
        created = model.objects.bulk_create([model(**row) for row in rows])
        return [instance.pk for instance in created] if keys else []
    statement, plan = _copy_plan(model, keys)
    json_columns = _copy_json_columns(model, keys)
    meta = model._meta
    now = timezone.now()
    drawn: list[int | None] = [None] * len(rows)
    if keys:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, len(rows)],
            )
            drawn = [key for (key,) in cursor.fetchall()]
    raw = connection.connection
    # Through Django's wrapper, a refused row raises Django's IntegrityError, as an INSERT
    # would, for callers that retry on it.
    with connection.wrap_database_errors, raw.cursor() as cursor, cursor.copy(statement) as copy:
        for key, row in zip(drawn, rows, strict=True):
            values = [
                key
                if how == "pk"
                else row[name]
                if name in row
                else now
                if how == "now"
                else default()
                if how == "call"
                else default
                for name, how, default in plan
            ]
            for position in json_columns:
                values[position] = Jsonb(values[position])
            copy.write_row(values)
    return drawn if keys else []


class AnyOf(Lookup):
    """`field__any_of=[...]`: `= ANY(%s)` with the list as one array parameter on PostgreSQL
    (IN elsewhere). A bulk lookup of a thousand values then costs one parameter to send and
    one statement shape to prepare, not a thousand placeholders to parse each time."""

    lookup_name = "any_of"

    def get_prep_lookup(self):
        return [self.lhs.output_field.get_prep_value(value) for value in self.rhs]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        if not values:
            return "1 = 0", list(lhs_params)
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]


# Related fields keep lookups of their own: they are given this one as well.
Field.register_lookup(AnyOf)
ForeignKey.register_lookup(AnyOf)
