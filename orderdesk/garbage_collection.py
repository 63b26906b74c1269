"""Fewer passes of Python's cyclic garbage collector while a store's orders are taken in.

A backfill makes millions of short-lived objects (decoded JSON, parsed orders, rows) while it
holds a batch of a thousand orders and their rows alive. With the default thresholds (a
young-generation pass every 700 net allocations) those batches are scanned over and over and
pushed into the old generation, whose full passes walk the whole process's heap: measured on
a 10,000-order backfill, about a quarter of the run's CPU went to the collector. Reference
counting frees nearly all of these objects anyway; the collector is only for cycles.

While at least one run is inside `fewer_collections()`, the young generation is collected
every YOUNG_THRESHOLD allocations instead; the first run in saves the process's thresholds and
the last one out puts them back (runs may overlap in threads of one process). It lives here,
beside background.py, not in the stores app: the thresholds are the whole process's.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# Young objects between collector passes while a run is inside (Python's default: 700). Cyclic
# garbage waits at most this many allocations; the older generations follow it as usual.
YOUNG_THRESHOLD = 50_000

_lock = threading.Lock()
_inside = 0
_saved: tuple[int, ...] | None = None


@contextmanager
def fewer_collections() -> Iterator[None]:
    """The collector's young generation passes every YOUNG_THRESHOLD allocations meanwhile."""
    global _inside, _saved
    with _lock:
        if _inside == 0:
            _saved = gc.get_threshold()
            if _saved[0] and _saved[0] < YOUNG_THRESHOLD:
                gc.set_threshold(YOUNG_THRESHOLD, *_saved[1:])
        _inside += 1
    try:
        yield
    finally:
        with _lock:
            _inside -= 1
            if _inside == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                _saved = None
