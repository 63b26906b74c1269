"""Percentiles and one figure's summary, as the bench reports them."""

from __future__ import annotations

import math
from collections.abc import Sequence

from django.test.utils import CaptureQueriesContext


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


class CountedQueries(CaptureQueriesContext):
    """The statements run inside, counted. Django's query log keeps its last 9,000 entries and
    is emptied only when a request starts: after 9,000 statements outside a request its length
    stops growing and CaptureQueriesContext, which counts by that length, counts 0. Emptied
    here first, every count is whole."""

    def __enter__(self):
        self.connection.queries_log.clear()
        return super().__enter__()
