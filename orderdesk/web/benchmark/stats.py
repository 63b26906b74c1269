"""Percentiles and one figure's summary, as the bench reports them."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], share: float) -> float:
    """The value below which `share` (0–100) of the values lie: nearest rank, so p99 of 200
    requests is the second slowest, never an average of two."""
    if not values:
        raise ValueError("No values to take a percentile of.")
    if not 0 < share <= 100:
        raise ValueError("A percentile is above 0 and at most 100.")
    ordered = sorted(values)
    rank = math.ceil(share / 100 * len(ordered))
    return ordered[rank - 1]


def summarize(timings_ms: Sequence[float], queries: Sequence[int]) -> dict:
    """p50/p95/p99/max in milliseconds and the SQL statements per request (least, most)."""
    return {
        "requests": len(timings_ms),
        "p50_ms": round(percentile(timings_ms, 50), 2),
        "p95_ms": round(percentile(timings_ms, 95), 2),
        "p99_ms": round(percentile(timings_ms, 99), 2),
        "max_ms": round(max(timings_ms), 2),
        "sql_min": min(queries) if queries else None,
        "sql_max": max(queries) if queries else None,
    }


class CountedQueries:
    """The statements run on `connection` inside, counted (`count`) as Django's query log counts
    them: each one through Django's execute wrappers (the project's prepared statements and
    COPY go through them too), and BEGIN, COMMIT and ROLLBACK, which Django sends without a
    cursor, by its connection's own methods for them.

    Not the query log itself (CaptureQueriesContext): logging a statement writes it out with
    its parameters (psycopg's mogrify), which for a statement with a few dozen parameters cost
    more than the statement, and the bench times what is inside. It made the auto-allocation's
    one statement look a fifth dearer than it is."""

    def __init__(self, connection):
        self.connection = connection
        self.count = 0
        self._watching = None

    def _counted(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)

    def _counting(self, method, *, when=lambda *args: True):
        def counted(*args):
            if when(*args):
                self.count += 1
            return method(*args)

        return counted

    def __enter__(self) -> CountedQueries:
        self.count = 0
        connection = self.connection
        self._watching = connection.execute_wrapper(self._counted)
        self._watching.__enter__()
        # Instance attributes over the class's methods, deleted on the way out. A BEGIN is the
        # switch to autocommit off (SQLite's BEGIN goes through a cursor instead: counted above).
        connection._commit = self._counting(connection._commit)
        connection._rollback = self._counting(connection._rollback)
        connection._set_autocommit = self._counting(
            connection._set_autocommit, when=lambda autocommit: not autocommit
        )
        return self

    def __exit__(self, *exc_info) -> None:
        for name in ("_commit", "_rollback", "_set_autocommit"):
            delattr(self.connection, name)
        self._watching.__exit__(*exc_info)
