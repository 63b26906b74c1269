"""Liveness and readiness for load balancers and process managers.

- `/healthz`: the process answers (no database, no broker): restart it when this fails.
- `/readyz`: the database, the Celery broker (when there is one) and the file storage answer:
  send it traffic only while this is 200. A failed check is 503 and logged with its reason.

Both are answered before host checks and the HTTPS redirect, since probes come by the
machine's address over plain HTTP; they say nothing beyond which check failed.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage, storages
from django.db import connection
from django.http import JsonResponse

logger = logging.getLogger(__name__)

LIVENESS_PATH = "/healthz"
READINESS_PATH = "/readyz"
# How long the broker may take to accept a connection before it counts as down.
CHECK_TIMEOUT_SECONDS = 2


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_broker() -> None:
    """The Celery broker accepts a connection (skipped when jobs run in-process)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return
    from orderdesk.celery import app

    with app.connection_for_write() as broker:
        broker.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT_SECONDS)


def check_storage() -> None:
    """The file storage answers: a lookup (a HEAD) in object storage; a writable local folder."""
    if isinstance(storages["default"], FileSystemStorage):
        folder = Path(default_storage.location)
        folder.mkdir(parents=True, exist_ok=True)
        if not os.access(folder, os.W_OK):
            raise PermissionError(f"{folder} is not writable")
        return
    default_storage.exists("readyz-probe")


CHECKS = {"database": check_database, "broker": check_broker, "storage": check_storage}


def readiness() -> tuple[bool, dict]:
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as failure:  # noqa: BLE001 — any failure means not ready; the log says which
            logger.warning("readiness check %s failed: %r", name, failure, extra={"check": name})
            results[name] = "failed"
        else:
            results[name] = "ok"
    return all(result == "ok" for result in results.values()), results


class HealthCheckMiddleware:
    """Answers /healthz and /readyz (GET or HEAD) before anything else looks at the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info.rstrip("/")
        if path not in (LIVENESS_PATH, READINESS_PATH) or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        if path == LIVENESS_PATH:
            response = JsonResponse({"status": "ok"})
        else:
            ready, checks = readiness()
            response = JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks})
            response.status_code = 200 if ready else 503
        response["Cache-Control"] = "no-store"
        return response
