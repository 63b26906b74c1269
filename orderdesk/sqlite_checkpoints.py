"""SQLite's WAL checkpoints, copied by a thread of each process instead of by whichever request commits.

In WAL mode a commit only appends pages to the `-wal` file; a checkpoint copies them into the
database file, with an fsync of the WAL before and of the database after, and the first commit
after a complete checkpoint starts the WAL over (an fsync of its header). SQLite's autocheckpoint
does all of it inside the COMMIT that takes the WAL past `wal_autocheckpoint` pages (1000 by
default): one order in about twenty paid two fsyncs and the copy of 4 MB, and the orders that write
more pages (an auto-allocated one writes twice an unhosted one's) paid it more often.

Here one daemon thread per process and database file runs `PRAGMA wal_checkpoint(PASSIVE)` every
`CHECKPOINT_SECONDS` on a connection of its own (when there is a WAL; next to nothing when no page is
new). PASSIVE never takes the write lock nor waits, so requests keep committing while it copies and
syncs. It cannot start the WAL over (that needs a moment with the WAL fully copied and no write
under way, which a steady stream of orders seldom leaves), so the requests' connections keep
SQLite's autocheckpoint, at `WAL_PAGES` (settings.py): every 40 MB of WAL one commit copies what the
thread has not yet (a second's writes at most) and the next starts the WAL over. The
same autocheckpoint catches up when the thread falls behind or a process never starts it.

Durability is SQLite's with `synchronous=NORMAL` or better: a commit is synced to disk by the
thread's next checkpoint, within about a second, where before it waited for the next
autocheckpoint or the last connection's close.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from urllib.parse import quote

logger = logging.getLogger(__name__)

# How often the thread copies: about the most a commit waits to be synced to disk. Each pass copies
# every page written since the last (the hot ones again) and syncs twice: every 0.25 s cost 4 times
# the CPU of SQLite's own checkpoints in the bench, every second about the same.
CHECKPOINT_SECONDS = 1.0
# wal_autocheckpoint of the requests' connections, in pages of 4 KiB (40 MiB of WAL); settings.py
# spells the same number.
WAL_PAGES = 10_000

_threads: dict[tuple[int, str], threading.Thread] = {}
_threads_lock = threading.Lock()


def checkpoint(path: str) -> tuple[int, int] | None:
    """Copy what the WAL of the database at `path` holds into the database file (PASSIVE: without
    waiting for anyone). Returns the WAL's pages and those copied so far, or None when there is no
    WAL (nothing to copy). Never creates a database where one was removed (a test database)."""
    if not os.path.exists(f"{path}-wal"):
        return None
    # mode=rw: open only a database that is there.
    connection = sqlite3.connect(f"file:{quote(path)}?mode=rw", uri=True, timeout=0, check_same_thread=False)
    try:
        # A checkpoint syncs the WAL and the database only when its connection's synchronous is
        # not OFF; NORMAL says so here whatever a build's default.
        connection.execute("PRAGMA synchronous=NORMAL")
        _, in_wal, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        connection.close()
    return in_wal, copied


def _run(path: str) -> None:
    while True:
        time.sleep(CHECKPOINT_SECONDS)
        checkpoint_once(path)


def checkpoint_once(path: str) -> None:
    """One pass of the thread. A database busy with another checkpoint (a commit's own, or
    another process's thread) is the ordinary case under a stream of writes, not a fault: the
    other copies meanwhile, and this thread tries again next time. Anything else is logged."""
    try:
        checkpoint(path)
    except sqlite3.OperationalError as error:
        if "locked" in str(error) or "busy" in str(error):
            logger.debug("WAL checkpoint of %s skipped: %s", path, error)
        else:
            logger.warning("WAL checkpoint of %s failed: %s", path, error)
    except sqlite3.Error as error:
        logger.warning("WAL checkpoint of %s failed: %s", path, error)


def start_checkpoints(path: str) -> None:
    """Start the checkpoint thread of this process for the database at `path`, once (again in a
    forked child, which does not inherit the parent's threads)."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    key = (os.getpid(), os.path.abspath(path))
    with _threads_lock:
        thread = _threads.get(key)
        if thread is not None and thread.is_alive():
            return
        thread = threading.Thread(target=_run, args=(key[1],), name="sqlite-checkpoints", daemon=True)
        _threads[key] = thread
        thread.start()


def on_connection_created(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        start_checkpoints(str(connection.settings_dict["NAME"]))
