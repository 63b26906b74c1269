"""Queries of fixed shape run often (the signed-in user, the order page): compiled by the ORM
once per process and database, then run with each request's values into the same model
instances (related objects joined with select_related and annotations included) as the ORM
would make. For these small reads the ORM building and compiling the query cost more CPU than
running it.

On PostgreSQL a read made with `prepared=True` runs through `prepared_cursor`: its parameters are
bound by the server, so psycopg can prepare the statement once per connection (after
`prepare_threshold` runs, settings.DATABASE_PREPARED_STATEMENTS) and PostgreSQL plans it once
instead of on every request."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import get_related_populators


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple  # each an int (the call's argument at that position) or a _Constant
    model: type
    init_list: list[str]
    fields: tuple[int, int]
    populators: list
    annotations: dict[str, int]
    compiler: object
    converters: dict


@dataclass(frozen=True)
class _Constant:
    value: object


class CompiledOnce:
    """`build(*arguments)` returns the QuerySet (of model instances, with any select_related and
    annotations); it is built and compiled once per database with `placeholders` as arguments,
    each a value no real argument has, and every placeholder must come out as a parameter of its
    own. Calling with the real arguments runs that SQL and returns the list of instances."""

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
        params = [arguments[p] if type(p) is int else p.value for p in compiled.params]
        if self.prepared and key[1] == "postgresql":
            with prepared_cursor(using) as cursor:
                cursor.execute(compiled.sql, params)
                rows = cursor.fetchall()
        else:
            with connections[using].cursor() as cursor:
                cursor.execute(compiled.sql, params)
                rows = cursor.fetchall()
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, compiled.converters)
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
        if queryset._iterable_class.__name__ != "ModelIterable" or queryset.query.is_sliced:
            raise ValueError("Compiled once: a QuerySet of model instances, not sliced.")
        compiler = queryset.query.get_compiler(using)
        sql, params = compiler.as_sql()
        if compiler.has_extra_select or queryset._prefetch_related_lookups:
            raise ValueError("Compiled once: no extra select, no prefetch_related.")
        found = []
        for param in params:
            # A placeholder comes out as itself (ints and strings are not adapted by the ORM).
            matches = [n for n, placeholder in enumerate(self.placeholders) if type(param) is type(placeholder) and param == placeholder]  # fmt: skip
            found.append(matches[0] if matches else _Constant(param))
        if sorted(p for p in found if type(p) is int) != list(range(len(self.placeholders))):
            raise ValueError(f"Compiled once, each placeholder must be one parameter: {params!r}")
        select, klass_info = compiler.select, compiler.klass_info
        select_fields = klass_info["select_fields"]
        start, end = select_fields[0], select_fields[-1] + 1
        columns = [column for column, _, _ in select[: compiler.col_count]]
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


class _PreparedCursor(psycopg.Cursor):
    """Raises Django's database errors and records each statement in Django's query log (DEBUG,
    CaptureQueriesContext) as CursorDebugWrapper does, so query counts still count it."""

    def __init__(self, django_connection, /):
        super().__init__(django_connection.connection)
        self.django_connection = django_connection

    def execute(self, query, params=None, **options):
        connection = self.django_connection
        connection.validate_no_broken_transaction()
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
