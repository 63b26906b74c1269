"""Graceful shutdown of the web: gunicorn with deploy/gunicorn.conf.py answers the request that
is running when SIGTERM arrives, then exits 0 (the Procfile's web, on any database)."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
from django.conf import settings as django_settings

from orderdesk.notifications.tests.peers import free_port
from orderdesk.orders.tests.test_order_message_celery import wait_until

PROJECT = Path(django_settings.BASE_DIR)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_sigterm_lets_a_running_request_finish_before_gunicorn_exits(tmp_path):
    """gunicorn with deploy/gunicorn.conf.py: a request running when SIGTERM arrives is answered."""
    port = free_port()
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "graceful-test-a-long-random-looking-secret-key-0123456789abcdef",
        "CREDENTIALS_KEY": "graceful-test-another-long-random-looking-key-0123456789abcdef",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATA_DIR": str(tmp_path / "data"),
        "WEB_CONCURRENCY": "1",
        "WEB_GRACEFUL_TIMEOUT": "20",
        "LOG_FORMAT": "plain",
    }
    log = tmp_path / "gunicorn.log"
    with open(log, "w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "orderdesk.tests.slow_wsgi", "--config", "deploy/gunicorn.conf.py"],
            cwd=PROJECT, env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_until(lambda: _answers(base + "/healthz"), seconds=60), log.read_text()
        answers = []
        slow = threading.Thread(
            target=lambda: answers.append(requests.get(base + "/slow/?seconds=4", timeout=30))
        )
        slow.start()
        time.sleep(1.5)  # the request is running now
        server.send_signal(signal.SIGTERM)
        slow.join(timeout=30)
        status = server.wait(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
    assert [(a.status_code, a.text) for a in answers] == [(200, "answered after 4.0 s")], log.read_text()
    assert status == 0, log.read_text()
    assert "Handling signal: term" in log.read_text()
    assert not _answers(base + "/healthz")
