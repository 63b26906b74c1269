"""Delivery in a thread of the web process, for the embedded run (no Celery broker).

After commit the request hands the new rows' ids to this thread and answers at once;
the thread sends them one by one. A row it never reaches (the process stopped) stays
in the outbox, and the sweep sends it.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
from collections.abc import Iterable

from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)


class DeliveryThread:
    def __init__(self):
        self._jobs: queue.Queue[int] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._finishes_at_exit = False

    def submit(self, notification_ids: Iterable[int]) -> None:
        """Queue these rows for delivery in the background; returns at once."""
        self._ensure_running()
        for notification_id in notification_ids:
            self._jobs.put(notification_id)

    def wait_until_idle(self, timeout: float) -> bool:
        """Wait until every submitted row was attempted; False if `timeout` seconds passed first."""
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
            self._thread = threading.Thread(target=self._run, name="notification-delivery", daemon=True)
            self._thread.start()
            if not self._finishes_at_exit:
                # A short-lived process (a management command) sends what it queued before exiting.
                atexit.register(self._finish_at_exit)
                self._finishes_at_exit = True

    def _finish_at_exit(self) -> None:
        if not self.wait_until_idle(timeout=settings.NOTIFICATION_SEND_TIMEOUT_SECONDS + 5):
            logger.warning("Exiting with notifications still queued; the sweep will send them.")

    def _run(self) -> None:
        from .delivery import deliver_notification

        while True:
            notification_id = self._jobs.get()
            try:
                deliver_notification(notification_id)
            except Exception:
                logger.exception(
                    "Background delivery of notification %s failed; the sweep will retry.", notification_id
                )
            finally:
                if self._jobs.empty():
                    # Idle: give the database connection back (tests drop their database after).
                    connections.close_all()
                self._jobs.task_done()


delivery_thread = DeliveryThread()
