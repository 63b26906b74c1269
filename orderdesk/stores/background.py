"""Store work off the request, for the embedded run (no Celery broker): the pattern of
notifications/background.py, for webhook deliveries and syncs.

After commit the request hands the job to a thread of the web process and answers at once.
Two threads, so a long backfill never holds up the webhooks behind it. A job a thread never
reaches (the process stopped) is caught up by the poll: stored deliveries left unprocessed are
taken in, and every store is polled by its cursor.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
from collections.abc import Callable

from django.db import connections

logger = logging.getLogger(__name__)

# How long a short-lived process (a management command) waits at exit for its queued jobs.
EXIT_WAIT_SECONDS = 30


class StoreJobThread:
    """A queue of store jobs run one by one in a daemon thread, started on first use."""

    def __init__(self, name: str):
        self.name = name
        self._jobs: queue.Queue[Callable[[], object]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._finishes_at_exit = False

    def submit(self, job: Callable[[], object]) -> None:
        """Run `job()` in the background; returns at once."""
        self._ensure_running()
        self._jobs.put(job)

    def wait_until_idle(self, timeout: float) -> bool:
        """Wait until every submitted job ran; False if `timeout` seconds passed first."""
        deadline = time.monotonic() + timeout
        with self._jobs.all_tasks_done:
            while self._jobs.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._jobs.all_tasks_done.wait(remaining)
        return True

    def _ensure_running(self) -> None:
        with self._start_lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()
            if not self._finishes_at_exit:
                atexit.register(self._finish_at_exit)
                self._finishes_at_exit = True

    def _finish_at_exit(self) -> None:
        if not self.wait_until_idle(timeout=EXIT_WAIT_SECONDS):
            logger.warning("Exiting with store jobs still queued in %s; the poll will catch up.", self.name)

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                job()
            except Exception:
                logger.exception("A background store job failed; the poll will catch up.")
            finally:
                if self._jobs.empty():
                    # Idle: give the database connection back (tests drop their database after).
                    connections.close_all()
                self._jobs.task_done()


# Webhook deliveries (short) and syncs (a backfill may take minutes) queue apart.
webhook_thread = StoreJobThread("store-webhooks")
sync_thread = StoreJobThread("store-syncs")
