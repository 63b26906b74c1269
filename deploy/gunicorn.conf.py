"""gunicorn's settings for Orderdesk's web processes (Procfile `web`), all from the environment
through orderdesk/settings.py: WEB_CONCURRENCY, WEB_THREADS, WEB_TIMEOUT, WEB_GRACEFUL_TIMEOUT,
WEB_KEEPALIVE, WEB_MAX_REQUESTS, HOST and PORT (README "Running in production")."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orderdesk.settings")

from django.conf import settings  # noqa: E402
from gunicorn import glogging  # noqa: E402

bind = [f"{settings.HOST}:{settings.PORT}"]
workers = settings.WEB_CONCURRENCY
# Threads per worker: requests that wait on the database or a store's API overlap.
threads = settings.WEB_THREADS
# A request running longer than this is killed with its worker (and logged).
timeout = settings.WEB_TIMEOUT
# On SIGTERM, requests already running get this long to finish before their worker is stopped.
graceful_timeout = settings.WEB_GRACEFUL_TIMEOUT
keepalive = settings.WEB_KEEPALIVE
# A worker is replaced after this many requests (plus up to 10%), so slow leaks never pile up.
max_requests = settings.WEB_MAX_REQUESTS
max_requests_jitter = max(1, settings.WEB_MAX_REQUESTS // 10) if settings.WEB_MAX_REQUESTS else 0
# Django imported once, before the fork: workers start in milliseconds and share memory.
preload_app = True


def when_ready(server):
    """In the master, after Django is loaded and before the workers are forked: the URLconf with
    every view module imported and its patterns worked out, and the API's serializers built, so
    no worker pays for them on its first requests (each used to, once per worker). Nothing here
    opens a database connection, which a fork would share between processes."""
    from django.urls import get_resolver

    from orderdesk.api import views as api_views

    resolver = get_resolver()
    resolver.reverse_dict  # noqa: B018 — imports every included URLconf and fills the reverse tables
    api_views.prepare()


# Heartbeat files in memory: a worker on a slow disk is not taken for a hung one.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None


class LoggerWithoutAccessLines(glogging.Logger):
    """gunicorn's logger, without its access line unless `accesslog` is set: gunicorn writes one
    for every request whenever logconfig_dict is given, and Django already logs each request
    (orderdesk/request_log.py, with its request id). Building that line took about 4% of the
    web process's CPU of an API create."""

    def access(self, resp, req, environ, request_time):
        if self.cfg.accesslog:
            super().access(resp, req, environ, request_time)


# Each request is logged by Django (orderdesk/request_log.py) with its request id; gunicorn's
# own lines go through the same handlers and format (LOG_FORMAT).
accesslog = None
logger_class = LoggerWithoutAccessLines
logconfig_dict = {
    **settings.LOGGING,
    "loggers": {
        **settings.LOGGING["loggers"],
        "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
        "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": True},
    },
}
proc_name = "orderdesk-web"
