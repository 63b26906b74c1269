"""New rows written in as few statements as the database allows, for the write paths that
record orders: INSERT … VALUES (…), (…) RETURNING id of unsaved model instances (`insert`),
or of plain tuples of column values when nothing needs the instance (`insert_values`).

Like QuerySet.bulk_create (no save(), no signals; none of these models has either), but each
column's value goes through the one conversion its field type needs, chosen once per
column, instead of Django's per-value compilation: a batch of 500 orders writes about
5,000 rows, and that compilation was most of the time it took.
"""

from __future__ import annotations

import datetime
import functools
import operator
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models.base import ModelState
from django.utils import timezone

from orderdesk.compiled_queries import fixed_statement_cursor, through_execute_wrappers

M = TypeVar("M", bound=models.Model)


def new_row(model: type[M], values: dict) -> M:
    """An unsaved instance of `model` with these attribute values (attnames: `order_id`, not
    `order`) and every other field at its default, as `model(**values)` makes it, in a
    fraction of its time: no field-by-field __init__ (no model of orders has an init signal).
    A batch of a thousand orders makes some ten thousand of these."""
    row = model.__new__(model)
    row._state = ModelState()
    fixed, made = _defaults(model)
    attributes = row.__dict__
    attributes.update(fixed)
    for attname, make in made:
        if attname not in values:
            attributes[attname] = make()
    attributes.update(values)
    return row


def _defaults(model: type[models.Model]) -> tuple[dict, list[tuple[str, Callable]]]:
    """The model's default values: fixed ones, and callables made anew for each row."""
    found = _DEFAULTS.get(model)
    if found is None:
        fixed, made = {}, []
        for field in model._meta.concrete_fields:
            if field.has_default() and callable(field.default):
                made.append((field.attname, _utc_now if field.default is timezone.now else field.default))
            else:
                fixed[field.attname] = _python_default(field)
        found = _DEFAULTS[model] = (fixed, made)
    return found


_DEFAULTS: dict = {}


def _utc_now() -> datetime.datetime:
    """timezone.now() with USE_TZ on (as Orderdesk runs), without its settings lookup."""
    return datetime.datetime.now(datetime.UTC)


def _python_default(field: models.Field):
    """The field's default as a value to insert: a column with only a database default
    (db_default=Value(…)) gets that value, never the DatabaseDefault marker."""
    if not field.has_default() and field.has_db_default():
        given = field.db_default
        if hasattr(given, "resolve_expression"):
            if not hasattr(given, "value"):
                raise TypeError(f"{field.name}'s database default is an expression; give its value.")
            return given.value
        return given
    return field.get_default()


def insert(rows: Sequence[models.Model], *, bulk: bool = False) -> None:
    """Write these new instances of one model and give each its id (in the order given).
    `bulk`: a batch's rows (see _write)."""
    if not rows:
        return
    plan = _plan(type(rows[0]))
    _stamp(plan, rows)
    pks = _write(plan, [plan.values(row.__dict__) for row in rows], returning=True, bulk=bulk)
    for row, pk in zip(rows, pks, strict=True):
        row.pk = pk
        row._state.adding = False
        row._state.db = DEFAULT_DB_ALIAS  # `connection` is always the default database's


def insert_sql_of(rows: Sequence[models.Model], *, casts: bool = False) -> tuple[str, list]:
    """The INSERT of these new instances' values, and its parameters, for a statement that adds
    to it (a RETURNING, a WITH around it); nothing is written and no ids are given. `INSERT …
    VALUES (…)`, or with `casts` `INSERT … SELECT …` (to add a WHERE), each value cast to its
    column's type (PostgreSQL), as a SELECT list, unlike VALUES, gives them no type of its own."""
    model = type(rows[0])
    plan = _plan(model)
    _stamp(plan, rows)
    values = _converted(plan.converting, [plan.values(row.__dict__) for row in rows])
    params = [value for row in values for value in row]
    if not casts:
        return _insert_sql(plan, len(rows), returning=False), params
    quote = connection.ops.quote_name
    selects = " UNION ALL ".join([_select_list(model, casts)] * len(rows))
    return f"INSERT INTO {quote(plan.meta.db_table)} ({plan.columns}) {selects}", params


def _cast(field: models.Field) -> str:
    """The type a value is cast to in a SELECT list: the column's, but without a length or a
    scale, which a cast would silently cut to where the column refuses (text too long, money
    with more digits than it holds)."""
    if isinstance(field, models.CharField):
        return connection.ops.cast_char_field_without_max_length
    if isinstance(field, models.DecimalField):
        return "numeric"
    return field.cast_db_type(connection)


@functools.cache
def _select_list(model: type[models.Model], casts: bool) -> str:
    fields = _plan(model).fields
    if casts:
        return "SELECT " + ", ".join(f"%s::{_cast(field)}" for field in fields)
    return "SELECT " + ", ".join(["%s"] * len(fields))


@dataclass(frozen=True, eq=False)
class _Plan:
    meta: Any
    fields: list
    columns: str
    values: Callable
    stamped: tuple[str, ...]
    converting: list[tuple[int, Callable]]


def _plan(model: type[models.Model], attnames: tuple[str, ...] | None = None) -> _Plan:
    """What an INSERT of the model needs, worked out once: these columns (attnames; None: all but
    the id, in order), how to read them off an instance, and how each value is converted."""
    found = _PLANS.get((model, attnames))
    if found is None:
        meta = model._meta
        if attnames is None:
            fields = [f for f in meta.concrete_fields if not f.primary_key]
        else:
            by_attname = {f.attname: f for f in meta.concrete_fields}
            fields = [by_attname[name] for name in attnames]
        quote = connection.ops.quote_name
        found = _PLANS[(model, attnames)] = _Plan(
            meta=meta,
            fields=fields,
            columns=", ".join(quote(f.column) for f in fields),
            values=operator.itemgetter(*(f.attname for f in fields)),
            stamped=tuple(
                f.attname
                for f in fields
                if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
            ),
            converting=[
                (index, convert) for index, field in enumerate(fields) if (convert := _converter(field))
            ],
        )
    return found


_PLANS: dict = {}


def _stamp(plan: _Plan, rows: Sequence[models.Model]) -> None:
    """What pre_save would set on the auto_now fields, once for the batch."""
    if plan.stamped:
        now = timezone.now()
        for row in rows:
            for attname in plan.stamped:
                row.__dict__[attname] = now


def insert_values(
    model: type[models.Model], attnames: Sequence[str], rows: Iterable[tuple], *, bulk: bool = False
) -> None:
    """Write new rows of `model` given as tuples of these fields' values (attnames, in this
    order); the model's other fields get their defaults (auto_now ones the time now). For rows
    nothing reads back: no instances are made, no ids returned."""
    rows = list(rows)
    if not rows:
        return
    meta = model._meta
    attnames = tuple(attnames)
    rest = tuple(f.attname for f in meta.concrete_fields if not f.primary_key and f.attname not in attnames)
    plan = _plan(model, attnames + rest)
    now = timezone.now()
    extra = tuple(
        now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else _python_default(f)
        for f in plan.fields[len(attnames) :]
    )
    if extra:
        rows = [row + extra for row in rows]
    _write(plan, rows, returning=False, bulk=bulk)


def _converted(converting: list[tuple[int, Callable]], rows: list[tuple]) -> list:
    """These tuples of Python values as query parameters, converted column by column."""
    if not converting:
        return rows
    this_thread = connections[DEFAULT_DB_ALIAS]
    converting = [(index, make(this_thread)) for index, make in converting]
    converted = []
    for row in rows:
        row = list(row)
        for index, convert in converting:
            row[index] = convert(row[index])
        converted.append(row)
    return converted


def _write(plan: _Plan, rows: list[tuple], *, returning: bool, bulk: bool = False) -> list:
    """INSERT these tuples of the plan's columns' Python values, converted column by column; the
    new ids when `returning`.

    On PostgreSQL a batch's rows (`bulk`, asked for by the batched write path whatever its
    size, so that its statements do not depend on it) go in by COPY, after one statement that
    takes their ids from the table's sequence when they are wanted; one order's rows go by
    VALUES. A multi-row VALUES of thousands of rows costs its parameters' parsing in psycopg
    (a regular expression over every placeholder: most of a batch's time) and its planning
    in the server; COPY has neither, and psycopg writes its rows in C."""
    rows = _converted(plan.converting, rows)
    if bulk and connection.vendor == "postgresql":
        return _copy(plan, rows, returning=returning)
    per_statement = (
        len(rows) if len(rows) <= 20 else max(1, min(len(rows), _max_parameters() // len(plan.fields)))
    )
    pks: list = []
    with fixed_statement_cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            cursor.execute(
                _insert_sql(plan, len(chunk), returning), [value for row in chunk for value in row]
            )
            if returning:
                pks.extend(pk for (pk,) in cursor.fetchall())
    return pks


def _copy(plan: _Plan, rows: list, *, returning: bool) -> list:
    """COPY the rows in (PostgreSQL), with ids taken from the table's sequence first when
    `returning` (in the rows' order, as INSERT … RETURNING gives them). The COPY is counted
    as one statement where queries are logged (tests count statements by that log)."""
    meta = plan.meta
    quote = connection.ops.quote_name
    columns = plan.columns
    pks: list = []
    with connection.cursor() as cursor:
        if returning:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, len(rows)],
            )
            pks = [pk for (pk,) in cursor.fetchall()]
            columns = f"{quote(meta.pk.column)}, {columns}"
            rows = [(pk, *row) for pk, row in zip(pks, rows, strict=True)]
        sql = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN"
        started = time.monotonic()

        def copy_rows(sql, params, many, context):
            with cursor.cursor.copy(sql) as copy:
                write = copy.write_row
                for row in rows:
                    write(row)

        through_execute_wrappers(connection, copy_rows, sql, None, cursor=cursor)
    if connection.queries_logged:
        # What CursorDebugWrapper records of an execute().
        connection.queries_log.append(
            {"sql": f"{sql} -- {len(rows)} rows", "time": f"{time.monotonic() - started:.3f}"}
        )
    return pks


def _insert_sql(plan: _Plan, rows: int, returning: bool) -> str:
    """INSERT … VALUES of this many rows; those of a few rows (one order's) are kept."""
    key = (plan, rows, returning)
    sql = _SQL.get(key)
    if sql is None:
        quote = connection.ops.quote_name
        placeholder = "(" + ", ".join(["%s"] * len(plan.fields)) + ")"
        sql = (
            f"INSERT INTO {quote(plan.meta.db_table)} ({plan.columns}) VALUES {', '.join([placeholder] * rows)}"
            + (f" RETURNING {quote(plan.meta.pk.column)}" if returning else "")
        )
        if rows <= 20:
            _SQL[key] = sql
    return sql


_SQL: dict = {}


def _converter(field: models.Field) -> Callable | None:
    """How to make the conversion a Python value of this field needs to become a query
    parameter, given the connection it goes to (None: no conversion). Made once per batch with
    the thread's own connection object: reaching it through `django.db.connection`, a proxy to
    a thread-local, for each of a batch's hundred thousand values was a third of the time."""
    postgresql = connection.vendor == "postgresql"
    if isinstance(field, models.DateTimeField):
        if postgresql:
            return None  # psycopg takes aware times as they are (adapt_datetimefield_value)
        if connection.vendor == "sqlite" and settings.USE_TZ:
            return _sqlite_aware_time
        return lambda conn: lambda value: None if value is None else conn.ops.adapt_datetimefield_value(value)
    if isinstance(field, models.DateField):
        if postgresql:
            return None
        return lambda conn: lambda value: None if value is None else conn.ops.adapt_datefield_value(value)
    if isinstance(field, models.DecimalField):
        return None  # both take a Decimal as it is (adapt_decimalfield_value; Django adapts it for SQLite)
    if isinstance(field, models.JSONField):
        # What JSONField.get_db_prep_save does with a plain value (None is SQL NULL).
        return lambda conn: functools.partial(_json_value, conn.ops.adapt_json_value, field.encoder)
    if isinstance(field, models.FileField) or field.get_internal_type() not in _AS_THEY_ARE:
        return lambda conn: lambda value: field.get_db_prep_save(value, conn)
    return None


def _json_value(adapt: Callable, encoder, value):
    return None if value is None else adapt(value, encoder)


def _sqlite_aware_time(conn) -> Callable:
    """What SQLite's adapt_datetimefield_value does to an aware time, without its checks."""
    zone, adapt = conn.timezone, conn.ops.adapt_datetimefield_value
    return lambda value: (
        None
        if value is None
        else str(value.astimezone(zone).replace(tzinfo=None))
        if value.tzinfo is not None
        else adapt(value)
    )


# Field types whose Python values both databases take as they are.
_AS_THEY_ARE = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "EmailField",
    "ForeignKey",
    "IntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SlugField",
    "SmallIntegerField",
    "TextField",
    "URLField",
}


def _max_parameters() -> int:
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return min(connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER), 30_000)
    return 30_000  # PostgreSQL takes 65,535; half keeps each statement a sensible size
