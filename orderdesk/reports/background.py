"""Where a report's background work runs: a Celery worker when a broker is configured, otherwise a
thread of this process, started after the asking transaction commits (inline in tests)."""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import connections, transaction

logger = logging.getLogger(__name__)


def after_commit(task, *args) -> None:
    """Run the Celery task `task` with `args` once the current transaction commits."""

    def start():
        from orderdesk.celery import app

        if not app.conf.task_always_eager:
            task.delay(*args)
        elif settings.REPORTS_BACKGROUND_THREAD:
            threading.Thread(target=_run_and_close, args=(task, args), daemon=True).start()
        else:
            task.apply(args=args)

    transaction.on_commit(start, robust=True)


def _run_and_close(task, args) -> None:
    try:
        task.apply(args=args)
    except Exception:
        logger.exception("Background report work %s%r failed.", task.name, args)
    finally:
        connections.close_all()
