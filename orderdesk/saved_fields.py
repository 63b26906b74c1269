"""`save_fields(row, *names)`: what `row.save(update_fields=names)` writes, as one plain UPDATE.

Every order transition saves its order and its shipments this way. Django's save() builds and
compiles the UPDATE on every call (the field list, the WHERE, each value's preparation), which
cost more CPU than running it; here the statement is built once per model and set of fields.
No model saved this way has save() logic or save signals: they would be skipped.
"""

from __future__ import annotations

import functools

from django.db import connection, models
from django.utils import timezone

from orderdesk.compiled_queries import fixed_statement_cursor


def save_fields(row: models.Model, *names: str) -> None:
    """Write these fields (names or attnames) of a row already in the database, by its id. Its
    auto_now fields are set to the time now and written too, as save(update_fields=…) does
    when they are named; name them to have them written."""
    sql, fields, stamped = _update_of(type(row), names)
    if stamped:
        now = timezone.now()
        for attname in stamped:
            setattr(row, attname, now)
    params = [field.get_db_prep_save(getattr(row, field.attname), connection) for field in fields]
    params.append(row.pk)
    with fixed_statement_cursor() as cursor:
        cursor.execute(sql, params)


@functools.cache
def _update_of(model: type[models.Model], names: tuple[str, ...]) -> tuple[str, list, tuple[str, ...]]:
    meta = model._meta
    fields = []
    for name in names:
        field = meta.get_field(name)
        if not field.concrete or field.primary_key:
            raise ValueError(f"{model.__name__}.{name} is not a column save_fields can write.")
        if field not in fields:
            fields.append(field)
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"
    stamped = tuple(field.attname for field in fields if getattr(field, "auto_now", False))
    return sql, fields, stamped
