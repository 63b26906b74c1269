"""Model instances from rows read by plain SQL, for the write paths (recording an order, the
moves of an order action, claiming messages to send).

`columns(Model)` is the select list of the model's concrete fields, in their order; `instance`
makes the instance a row of it is, as `Model.from_db` would (the backend's and the field's
converters applied, `_state` saying it came from the database), without the field-by-field
__init__ (no model read here has an init signal). The ORM's compiling of a query was most of
the cost of the few small reads each new order makes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, models
from django.db.models.base import ModelState

M = TypeVar("M", bound=models.Model)


def columns(model: type[models.Model], alias: str = "") -> str:
    """The model's concrete columns, quoted and comma-separated, each prefixed by `alias.` if given."""
    return _columns(model, alias)


@functools.cache
def _columns(model: type[models.Model], alias: str) -> str:
    quote = connection.ops.quote_name
    prefix = f"{quote(alias)}." if alias else ""
    return ", ".join(prefix + quote(field.column) for field in model._meta.concrete_fields)


def width(model: type[models.Model]) -> int:
    """How many values `columns(model)` selects."""
    return len(model._meta.concrete_fields)


def instance(model: type[M], values: Sequence) -> M:
    """The instance whose columns (as `columns(model)` lists them) have these values."""
    attnames, converting = _reading(model)
    if converting:
        values = list(values)
        for index, field, converters in converting:
            value = values[index]
            for convert in converters:
                value = convert(value, field, connection)
            values[index] = value
    row = model.__new__(model)
    row.__dict__.update(zip(attnames, values, strict=True))
    state = row._state = ModelState()
    state.adding = False
    state.db = DEFAULT_DB_ALIAS  # `connection` is always the default database's
    return row


@functools.cache
def _reading(model: type[models.Model]) -> tuple[tuple[str, ...], list[tuple[int, object, list[Callable]]]]:
    """The attnames of the model's concrete fields, and for each field whose database values need
    converting: its position, its column expression and its converters (backend's, then field's)."""
    fields = model._meta.concrete_fields
    converting = []
    for index, field in enumerate(fields):
        column = field.get_col(model._meta.db_table)
        converters = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if converters:
            converting.append((index, column, converters))
    return tuple(field.attname for field in fields), converting
