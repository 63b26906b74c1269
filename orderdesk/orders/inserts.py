"""New rows written in as few statements as the database allows, for the write paths that
record orders: INSERT … VALUES (…), (…) RETURNING id of unsaved model instances.

Like QuerySet.bulk_create (no save(), no signals; none of these models has either), but each
column's value goes through the one conversion its field type needs, chosen once per
column, instead of Django's per-value compilation: a batch of 500 orders writes about
5,000 rows, and that compilation was most of the time it took.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence

from django.db import connection, models


def insert(rows: Sequence[models.Model]) -> None:
    """Write these new instances of one model and give each its id (in the order given)."""
    if not rows:
        return
    meta = type(rows[0])._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            for row in rows:
                field.pre_save(row, add=True)
    converters = [(field.attname, _converter(field)) for field in fields]
    columns = ", ".join(quote(f.column) for f in fields)
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per_statement = max(1, min(len(rows), _max_parameters() // len(fields)))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            params = []
            for row in chunk:
                values = row.__dict__
                params.extend(
                    convert(values[attname]) if convert else values[attname]
                    for attname, convert in converters
                )
            cursor.execute(
                f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {', '.join([placeholder] * len(chunk))} "
                f"RETURNING {quote(meta.pk.column)}",
                params,
            )
            for row, (pk,) in zip(chunk, cursor.fetchall(), strict=True):
                row.pk = pk
                row._state.adding = False
                row._state.db = connection.alias


def _converter(field: models.Field) -> Callable | None:
    """What a Python value of this field needs to become a query parameter (None: nothing)."""
    ops = connection.ops
    if isinstance(field, models.DateTimeField):
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
