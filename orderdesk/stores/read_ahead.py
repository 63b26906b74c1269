"""Reading ahead: a store's next page is fetched and parsed (or a file's next chunk read and
parsed) by a thread of its own while the current batch is written.

Taking a batch in waits on the database, and fetching a page waits on the store; done one
after the other, a backfill's time is the sum of both. The reading thread never touches the
database (Django's connections are per thread, and a batch's transaction is the calling
thread's): it only fetches and parses, and hands whole batches over a queue of at most
`depth`, so memory stays bounded whatever the store's size.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

# How long the reading thread waits to hand a batch over before checking whether the
# consumer has stopped (it then stops too).
_HANDOVER_POLL_SECONDS = 0.2


class _Ended:
    """The reading thread's last word: the end of its items, or the exception it raised."""

    def __init__(self, error: BaseException | None = None):
        self.error = error


def read_ahead(items: Iterable[T], *, depth: int = 1, name: str = "read-ahead") -> Iterator[T]:
    """`items`, produced by a thread of their own at most `depth` ahead of the caller.

    An exception raised while producing them (the store refusing our credentials, a file
    that is not UTF-8) is raised here in the caller, in its place: the items before it are
    all handed over first. When the caller stops early (an exception, or it closes this
    iterator), the thread stops at its next item and closes `items`.
    """
    handover: queue.Queue = queue.Queue(maxsize=depth)
    stopped = threading.Event()

    def hand_over(item) -> bool:
        while not stopped.is_set():
            try:
                handover.put(item, timeout=_HANDOVER_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                if not hand_over(item):
                    return
            hand_over(_Ended())
        except BaseException as error:  # noqa: BLE001 - carried to the caller, who raises it
            hand_over(_Ended(error))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()
    try:
        while True:
            item = handover.get()
            if isinstance(item, _Ended):
                if item.error is not None:
                    raise item.error
                return
            yield item
    finally:
        stopped.set()
