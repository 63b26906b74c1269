"""The embedded run's background jobs (no Celery broker): one runner for every app's work after commit.

Notifications (outbox deliveries), stores (store webhooks taken in, syncs) and reports (exports,
roll-up refreshes) hand it a job once their transaction commits, and the request answers at once.
It lives here, beside celery.py, because it belongs to no domain: it is the in-process stand-in for
the Celery worker, and each app keeps its own rule for when to use it.

Jobs run in lanes, one daemon thread each, started on first use and run one job at a time, so a
long backfill or export never holds up the messages behind it. A job a lane never reaches (the
process stopped) is caught up by its app's sweep or poll.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import close_old_connections, connections

logger = logging.getLogger(__name__)

# The lanes: messages are short and many; store webhooks short; syncs and reports may take minutes.
MESSAGES = "messages"
STORE_WEBHOOKS = "store-webhooks"
STORE_SYNCS = "store-syncs"
REPORTS = "reports"

# How long a short-lived process (a management command) waits at exit for the jobs it queued.
EXIT_WAIT_SECONDS = 30


class _Lane:
    """A queue of jobs run one by one in a daemon thread, started on first use."""

    def __init__(self, name: str):
        self.name = name
        self._jobs: queue.Queue[tuple[Callable[[], object], str]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def submit(self, job: Callable[[], object], about: str) -> None:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=f"background-{self.name}", daemon=True)
                self._thread.start()
        self._jobs.put((job, about))

    def wait_until_idle(self, deadline: float) -> bool:
        with self._jobs.all_tasks_done:
            while self._jobs.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._jobs.all_tasks_done.wait(remaining)
        return True

    def _run(self) -> None:
        while True:
            linger = getattr(settings, "BACKGROUND_IDLE_SECONDS", 0)
            try:
                job, about = self._jobs.get(timeout=linger if linger > 0 else None)
            except queue.Empty:
                # Idle for BACKGROUND_IDLE_SECONDS: give this thread's database connection back.
                connections.close_all()
                continue
            # A connection kept from the last job is dropped when broken or past CONN_MAX_AGE.
            close_old_connections()
            try:
                job()
            except Exception:
                logger.exception(
                    "Background job failed (%s, lane %s); its sweep or poll catches up.", about, self.name
                )
            finally:
                if self._jobs.empty() and not linger > 0:
                    # Idle: give this thread's database connection back (tests drop their database after).
                    connections.close_all()
                self._jobs.task_done()


class BackgroundJobs:
    """The runner: `submit(lane, job)` runs `job()` in that lane's thread; returns at once."""

    def __init__(self):
        self._lanes: dict[str, _Lane] = {}
        self._lock = threading.Lock()
        self._finishes_at_exit = False

    def submit(self, lane: str, job: Callable[[], object], *, about: str = "") -> None:
        self._lane(lane).submit(job, about or getattr(job, "__name__", "a job"))

    def wait_until_idle(self, timeout: float, *, lanes: Iterable[str] | None = None) -> bool:
        """Wait until every job submitted (to these lanes; all by default) ran; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            waited = [lane for name, lane in self._lanes.items() if lanes is None or name in set(lanes)]
        return all(lane.wait_until_idle(deadline) for lane in waited)

    def _lane(self, name: str) -> _Lane:
        with self._lock:
            if name not in self._lanes:
                self._lanes[name] = _Lane(name)
            if not self._finishes_at_exit:
                atexit.register(self._finish_at_exit)
                self._finishes_at_exit = True
            return self._lanes[name]

    def _finish_at_exit(self) -> None:
        # A management command sends the messages it queued (and finishes its jobs) before exiting.
        timeout = max(EXIT_WAIT_SECONDS, settings.NOTIFICATION_SEND_TIMEOUT_SECONDS + 5)
        if not self.wait_until_idle(timeout):
            logger.warning("Exiting with background jobs still queued; the sweeps and polls will catch up.")


background_jobs = BackgroundJobs()
