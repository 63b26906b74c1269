"""Queries of fixed shape run often (the signed-in user, the order page, Order Tracking):
compiled by the ORM once per process and database, then run with each request's values into
the same model instances (related objects joined with select_related and annotations
included), or the same tuples of a `values_list`, as the ORM would make. For these small reads
the ORM building and compiling the query cost more CPU than running it.

On PostgreSQL a read made with `prepared=True` runs through `prepared_cursor`: its parameters are
bound by the server, so psycopg can prepare the statement once per connection (after
`prepare_threshold` runs, settings.DATABASE_PREPARED_STATEMENTS) and PostgreSQL plans it once
instead of on every request."""

from __future__ import annotations

import datetime
import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

import psycopg
from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import ModelIterable, ValuesListIterable, get_related_populators


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple  # each an int (the call's argument at that position), a _Constant or a _Datetime
    model: type | None  # None: a values_list, its rows returned as tuples
    init_list: list[str]
    fields: tuple[int, int]
    populators: list
    annotations: dict[str, int]
    compiler: object
    converters: dict


@dataclass(frozen=True)
class _Constant:
    value: object

    def value_for(self, arguments, operations):
        return self.value


@dataclass(frozen=True)
class _Datetime:
    """A datetime argument the database takes in its own form (SQLite: text in UTC)."""

    position: int

    def value_for(self, arguments, operations):
        return operations.adapt_datetimefield_value(arguments[self.position])


class CompiledOnce:
    """`build(*arguments)` returns the QuerySet (of model instances, with any select_related and
    annotations; or a `values_list`, not flat); it is built and compiled once per database with
    `placeholders` as arguments, each a value no real argument has, and every placeholder must
    come out as a parameter of its own. Calling with the real arguments runs that SQL and
    returns the list of instances (or of tuples, for a `values_list`)."""

    def __init__(self, build: Callable[..., QuerySet], *placeholders, prepared: bool = False):
        if len(set(placeholders)) != len(placeholders):
            raise ValueError("Each placeholder must be a different value.")
        self.build = build
        self.placeholders = placeholders
        self.prepared = prepared
        self._compiled: dict[tuple[str, str], _Compiled] = {}

    def __call__(self, *arguments, using: str = "default") -> list:
        if len(arguments) != len(self.placeholders):
            raise TypeError(f"Expected {len(self.placeholders)} arguments, got {len(arguments)}.")
        key = (using, connections[using].vendor)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(using)
        wrapper = connections[using]
        params = [arguments[p] if type(p) is int else p.value_for(arguments, wrapper.ops) for p in compiled.params]  # fmt: skip
        if self.prepared and key[1] == "postgresql":
            with prepared_cursor(using) as cursor:
                cursor.execute(compiled.sql, params)
                rows = cursor.fetchall()
        else:
            with wrapper.cursor() as cursor:
                cursor.execute(compiled.sql, params)
                rows = cursor.fetchall()
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, compiled.converters)
            if compiled.model is None:
                return [tuple(row) for row in rows]
        if compiled.model is None:
            return rows
        start, end = compiled.fields
        objects = []
        for row in rows:
            obj = compiled.model.from_db(using, compiled.init_list, row[start:end])
            for populator in compiled.populators:
                populator.populate(row, obj)
            for name, position in compiled.annotations.items():
                setattr(obj, name, row[position])
            objects.append(obj)
        return objects

    def _compile(self, using: str) -> _Compiled:
        queryset = self.build(*self.placeholders)
        # A slice goes into the SQL as it stands (LIMIT), the same on every call.
        if queryset._iterable_class not in (ModelIterable, ValuesListIterable):
            raise ValueError("Compiled once: a QuerySet of model instances or a values_list (not flat).")
        compiler = queryset.query.get_compiler(using)
        sql, params = compiler.as_sql()
        if compiler.has_extra_select or queryset._prefetch_related_lookups:
            raise ValueError("Compiled once: no extra select, no prefetch_related.")
        operations = connections[using].ops
        found = [self._argument_or_constant(param, operations) for param in params]
        arguments = sorted(p if type(p) is int else p.position for p in found if type(p) is not _Constant)
        if arguments != list(range(len(self.placeholders))):
            raise ValueError(f"Compiled once, each placeholder must be one parameter: {params!r}")
        select = compiler.select
        columns = [column for column, _, _ in select[: compiler.col_count]]
        if queryset._iterable_class is ValuesListIterable:
            return _Compiled(
                sql=sql,
                params=tuple(found),
                model=None,
                init_list=[],
                fields=(0, compiler.col_count),
                populators=[],
                annotations={},
                compiler=compiler,
                converters=compiler.get_converters(columns),
            )
        klass_info = compiler.klass_info
        select_fields = klass_info["select_fields"]
        start, end = select_fields[0], select_fields[-1] + 1
        return _Compiled(
            sql=sql,
            params=tuple(found),
            model=klass_info["model"],
            init_list=[column.target.attname for column, _, _ in select[start:end]],
            fields=(start, end),
            populators=get_related_populators(klass_info, select, using),
            annotations=dict(compiler.annotation_col_map or {}),
            compiler=compiler,
            converters=compiler.get_converters(columns),
        )

    def _argument_or_constant(self, param, operations):
        """Which placeholder `param` is (its position), or a constant of the query. A placeholder
        comes out as itself (ints and strings are not adapted by the ORM); a datetime may come
        out in the database's own form (SQLite's text), and each call's is put in that form."""
        for position, placeholder in enumerate(self.placeholders):
            if type(param) is type(placeholder) and param == placeholder:
                return position
            if isinstance(placeholder, datetime.datetime) and param == operations.adapt_datetimefield_value(placeholder):  # fmt: skip
                return _Datetime(position)
        return _Constant(param)


class _PreparedCursor(psycopg.Cursor):
    """Raises Django's database errors and records each statement in Django's query log (DEBUG,
    CaptureQueriesContext) as CursorDebugWrapper does, so query counts still count it."""

    def __init__(self, django_connection, /):
        super().__init__(django_connection.connection)
        self.django_connection = django_connection

    def execute(self, query, params=None, **options):
        connection = self.django_connection
        connection.validate_no_broken_transaction()
        return through_execute_wrappers(
            connection,
            lambda sql, params_, many, context: self._execute_logged(sql, params_, **options),
            query,
            params,
            cursor=self,
        )

    def _execute_logged(self, query, params, **options):
        connection = self.django_connection
        logged = connection.queries_logged
        started = time.monotonic() if logged else 0.0
        try:
            with connection.wrap_database_errors:
                return super().execute(query, params, **options)
        finally:
            if logged:
                connection.queries_log.append(
                    {
                        "sql": connection.ops.compose_sql(query, params),
                        "time": f"{time.monotonic() - started:.3f}",
                    }
                )


def through_execute_wrappers(connection, execute: Callable, sql, params, *, cursor):
    """`execute(sql, params, many, context)` run through Django's execute wrappers
    (connection.execute_wrapper), the last added outermost, as Django's own cursors run them:
    for statements sent past those cursors (prepared ones, COPY), so whatever watches the
    connection's statements (the bench's statement counts) sees them too."""
    run = functools.reduce(
        lambda inner, wrapper: functools.partial(wrapper, inner), connection.execute_wrappers, execute
    )
    return run(sql, params, False, {"connection": connection, "cursor": cursor})


def array_literal(values) -> str:
    """A PostgreSQL array literal of these values (numbers, text, None), for a parameter the
    statement casts to an array type (`%s::bigint[]`): psycopg dumps a Python list element by
    element in Python, which cost more than the rest of the auto-allocation's statement on our
    side (its ten arrays, inside every auto-processed paid order); a string goes as one value."""
    return "{" + ",".join(map(_array_element, values)) + "}"


def _array_element(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"{type(value).__name__} has no array literal here.")


@contextmanager
def prepared_cursor(using: str = "default") -> Iterator[psycopg.Cursor]:
    """A psycopg cursor that binds its parameters on the server, on Django's own connection (so
    in its transaction): psycopg prepares a statement it has run `prepare_threshold` times.
    Django's cursors bind on the client and are never prepared. PostgreSQL only.

    Prepared statements are left to psycopg alone: it deallocates them after a rollback in which
    it prepared one, which would drop any made by hand with PREPARE."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        raise ValueError(f"Prepared statements are PostgreSQL's, not {connection.vendor}'s.")
    # What Django's connection.cursor() does before it makes one.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors, _PreparedCursor(connection) as cursor:
        yield cursor


@contextmanager
def fixed_statement_cursor(using: str = "default") -> Iterator:
    """A cursor for statements whose text is fixed and run on every order transition (the locked
    read, the writes, the counters, the outbox): prepared_cursor on PostgreSQL, where the server
    parsed and planned each of them on every run (for most of them that was more of its CPU than
    running it), and Django's own cursor elsewhere. The parameters must each have a type
    PostgreSQL can tell from their place (a column compared or written, or a cast), as the server
    binds them."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with prepared_cursor(using) as cursor:
            yield cursor
    else:
        with connection.cursor() as cursor:
            yield cursor
