import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orderdesk.settings")

app = Celery("orderdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Tasks carry the request id of the request that queued them, and log under it (request_log.py).
from orderdesk.request_log import connect_celery_signals  # noqa: E402

connect_celery_signals()
