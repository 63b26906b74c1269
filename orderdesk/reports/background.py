"""Where a report's background work runs: a Celery worker when a broker is configured, otherwise the
embedded run's background jobs (orderdesk.background), after the asking transaction commits
(inline in tests)."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction


def after_commit(task, *args) -> None:
    """Run the Celery task `task` with `args` once the current transaction commits."""

    def start():
        from orderdesk.celery import app

        if not app.conf.task_always_eager:
            task.delay(*args)
        elif settings.REPORTS_BACKGROUND_THREAD:
            from orderdesk.background import REPORTS, background_jobs

            background_jobs.submit(
                REPORTS, lambda: task.apply(args=args), about=f"report work {task.name}{args!r}"
            )
        else:
            task.apply(args=args)

    transaction.on_commit(start, robust=True)
