"""The short load test: loadtest/run.py for a few seconds on this test's PostgreSQL database and
Redis (README "Load test"); every one of its checks must hold. It starts real processes and
takes a minute or two, so it runs only when asked: ORDERDESK_LOADTEST=1 (`make loadtest` runs
the long one)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from orderdesk.orders.tests.test_order_message_celery import database_url

PROJECT = Path(django_settings.BASE_DIR)

pytestmark = [
    pytest.mark.loadtest,
    pytest.mark.postgres,
    pytest.mark.celery,
    pytest.mark.skipif(
        os.environ.get("ORDERDESK_LOADTEST") != "1", reason="set ORDERDESK_LOADTEST=1 to run it"
    ),
    # The load test's processes write to this test's (already migrated) database; flushed after.
    pytest.mark.django_db(transaction=True),
]


def test_a_short_load_with_a_worker_killed_and_a_web_process_restarted_loses_and_repeats_nothing(tmp_path):
    seconds = os.environ.get("ORDERDESK_LOADTEST_SECONDS", "30")
    done = subprocess.run(
        [
            sys.executable, "-m", "loadtest.run",
            "--seconds", seconds, "--users", "6", "--orders", "30",
            "--database-url", database_url(), "--keep-database",
            "--redis-url", os.environ["TEST_CELERY_BROKER_URL"],
            "--out", str(tmp_path / "loadtest"),
        ],
        cwd=PROJECT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    print(done.stdout[-6000:])
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert "checks hold." in done.stdout
    assert "SIGKILL worker-1" in done.stdout and "SIGTERM web process" in done.stdout
