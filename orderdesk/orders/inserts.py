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
import operator
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from django.conf import settings
from django.db import connection, models
from django.db.models.base import ModelState
from django.utils import timezone

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
    meta = type(rows[0])._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            # What pre_save would set, once for the batch.
            for row in rows:
                row.__dict__[field.attname] = now
    values = operator.itemgetter(*(f.attname for f in fields))
    pks = _write(meta, fields, [values(row.__dict__) for row in rows], returning=True, bulk=bulk)
    alias = connection.alias
    for row, pk in zip(rows, pks, strict=True):
        row.pk = pk
        row._state.adding = False
        row._state.db = alias


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
    by_attname = {f.attname: f for f in meta.concrete_fields}
    given = [by_attname[name] for name in attnames]
    rest = [f for f in meta.concrete_fields if not f.primary_key and f.attname not in attnames]
    now = timezone.now()
    extra = tuple(
        now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else _python_default(f)
        for f in rest
    )
    if extra:
        rows = [row + extra for row in rows]
    _write(meta, given + rest, rows, returning=False, bulk=bulk)


def _write(meta, fields: list[models.Field], rows: list[tuple], *, returning: bool, bulk: bool) -> list:
    """INSERT these tuples of the fields' Python values, converted column by column; the new
    ids when `returning`.

    On PostgreSQL a batch's rows (`bulk`, asked for by the batched write path whatever its
    size, so that its statements do not depend on it) go in by COPY, after one statement that
    takes their ids from the table's sequence when they are wanted; one order's rows go by
    VALUES. A multi-row VALUES of thousands of rows costs its parameters' parsing in psycopg
    (a regular expression over every placeholder: most of a batch's time) and its planning
    in the server; COPY has
    neither, and psycopg writes its rows in C."""
    quote = connection.ops.quote_name
    converting = [(index, convert) for index, field in enumerate(fields) if (convert := _converter(field))]
    if converting:
        converted = []
        for row in rows:
            row = list(row)
            for index, convert in converting:
                row[index] = convert(row[index])
            converted.append(row)
        rows = converted
    if bulk and connection.vendor == "postgresql":
        return _copy(meta, fields, rows, returning=returning)
    columns = ", ".join(quote(f.column) for f in fields)
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per_statement = max(1, min(len(rows), _max_parameters() // len(fields)))
    suffix = f" RETURNING {quote(meta.pk.column)}" if returning else ""
    pks: list = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            cursor.execute(
                f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {', '.join([placeholder] * len(chunk))}"
                + suffix,
                [value for row in chunk for value in row],
            )
            if returning:
                pks.extend(pk for (pk,) in cursor.fetchall())
    return pks


def _copy(meta, fields: list[models.Field], rows: list, *, returning: bool) -> list:
    """COPY the rows in (PostgreSQL), with ids taken from the table's sequence first when
    `returning` (in the rows' order, as INSERT … RETURNING gives them). The COPY is counted
    as one statement where queries are logged (tests count statements by that log)."""
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    columns = [quote(f.column) for f in fields]
    pks: list = []
    with connection.cursor() as cursor:
        if returning:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, len(rows)],
            )
            pks = [pk for (pk,) in cursor.fetchall()]
            columns.insert(0, quote(meta.pk.column))
            rows = [(pk, *row) for pk, row in zip(pks, rows, strict=True)]
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        started = time.monotonic()
        with cursor.cursor.copy(sql) as copy:
            write = copy.write_row
            for row in rows:
                write(row)
    if connection.queries_logged:
        # What CursorDebugWrapper records of an execute().
        connection.queries_log.append(
            {"sql": f"{sql} -- {len(rows)} rows", "time": f"{time.monotonic() - started:.3f}"}
        )
    return pks


def _converter(field: models.Field) -> Callable | None:
    """What a Python value of this field needs to become a query parameter (None: nothing)."""
    ops = connection.ops
    if connection.vendor == "postgresql" and isinstance(field, models.DateField | models.DecimalField):
        # PostgreSQL's adapt_date(time)field_value and adapt_decimalfield_value give the value back.
        return None
    if isinstance(field, models.DateTimeField):
        if connection.vendor == "sqlite" and settings.USE_TZ:
            # What SQLite's adapt_datetimefield_value does to an aware time, without its checks.
            zone = connection.timezone
            return lambda value: (
                None
                if value is None
                else str(value.astimezone(zone).replace(tzinfo=None))
                if value.tzinfo is not None
                else ops.adapt_datetimefield_value(value)
            )
        return lambda value: None if value is None else ops.adapt_datetimefield_value(value)
    if isinstance(field, models.DateField):
        return lambda value: None if value is None else ops.adapt_datefield_value(value)
    if isinstance(field, models.DecimalField):
        digits, places = field.max_digits, field.decimal_places
        return lambda value: None if value is None else ops.adapt_decimalfield_value(value, digits, places)
    if (
        isinstance(field, models.JSONField | models.FileField)
        or field.get_internal_type() not in _AS_THEY_ARE
    ):
        return lambda value: field.get_db_prep_save(value, connection)
    return None


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
