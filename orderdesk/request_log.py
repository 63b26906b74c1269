"""One request id from the first line a request logs to the last line of every task it queued.

The id comes from the client or the proxy in front (`X-Request-ID`) or is made here; it goes
back in the response's `X-Request-ID`, rides along in the headers of every Celery task queued
while the request runs, and is set again in the worker while that task runs. LOG_FORMAT=json
writes each log line as one JSON object carrying it.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid

REQUEST_ID_HEADER = "X-Request-ID"
# The Celery task header that carries the id from the web process to the worker.
TASK_HEADER = "request_id"
# What we accept from outside: enough for a UUID or a proxy's id, nothing that could forge a log line.
_ACCEPTED_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

logger = logging.getLogger("orderdesk.requests")
task_logger = logging.getLogger("orderdesk.tasks")


def new_request_id() -> str:
    return uuid.uuid4().hex


def accepted_request_id(offered: str | None) -> str:
    """The id a client or proxy sent when it is a plain token, else a new one."""
    if offered and _ACCEPTED_ID.match(offered):
        return offered
    return new_request_id()


class RequestIdMiddleware:
    """Sets the request id for the request's lifetime and logs one line per request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = accepted_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        token = current_request_id.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            if not request.path.startswith(("/healthz", "/readyz", "/static/")):
                logger.info(
                    "%s %s %s",
                    request.method,
                    request.path,
                    response.status_code,
                    extra={
                        "method": request.method,
                        "path": request.path,
                        "status": response.status_code,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    },
                )
            return response
        finally:
            current_request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Gives every record a `request_id` (empty outside a request or task) for the formatters."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = current_request_id.get() or "-"
        return True


# Attributes every LogRecord has; anything else was passed with `extra=` and goes into the JSON.
_STANDARD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request_id, and any `extra=` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "process": record.process,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)

    converter = time.gmtime


def add_request_id_to_task_headers(headers=None, **_) -> None:
    """Celery's before_task_publish: the current request id goes with the task."""
    request_id = current_request_id.get()
    if request_id and headers is not None:
        headers.setdefault(TASK_HEADER, request_id)


_task_tokens: dict[str, contextvars.Token] = {}


def start_task_with_its_request_id(task_id=None, task=None, **_) -> None:
    """Celery's task_prerun: the worker logs the task's lines under the request id it came with."""
    if task is None:
        return
    # The worker puts a message's headers on task.request (older clients nest them in .headers).
    request_id = getattr(task.request, TASK_HEADER, None) or (task.request.headers or {}).get(TASK_HEADER)
    if not task.request.is_eager:
        # A task queued outside any request (beat's sweep) gets an id of its own.
        _task_tokens[task_id] = current_request_id.set(request_id or new_request_id())
    task_logger.info("task %s started", task.name, extra={"task": task.name, "task_id": task_id})


def finish_task(task_id=None, task=None, state=None, **_) -> None:
    """Celery's task_postrun: logs how the task ended and forgets its request id."""
    task_logger.info(
        "task %s finished: %s",
        getattr(task, "name", "?"),
        state,
        extra={"task": getattr(task, "name", "?"), "task_id": task_id, "state": state},
    )
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        current_request_id.reset(token)


def connect_celery_signals() -> None:
    from celery.signals import before_task_publish, task_postrun, task_prerun

    before_task_publish.connect(add_request_id_to_task_headers, weak=False)
    task_prerun.connect(start_task_with_its_request_id, weak=False)
    task_postrun.connect(finish_task, weak=False)
