"""The production run, for real: the Procfile's release, then its web (gunicorn) and worker
(Celery) through deploy/procfile.py on loopback, against PostgreSQL and Redis; an order
through the API, its message delivered by the worker under the request's id; then SIGTERM
and a clean exit of both.
"""

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
import requests
from django.conf import settings as django_settings

from orderdesk.api.tests.factories import ORDER_BODY, api_key
from orderdesk.notifications.models import Notification
from orderdesk.notifications.tests.peers import TwilioDouble, free_port
from orderdesk.orders.models import Order
from orderdesk.orders.tests.test_order_message_celery import database_url, wait_until

PROJECT = Path(django_settings.BASE_DIR)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.celery,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("notification_settings"),
]


@pytest.fixture
def production_environment(tmp_path, smtp_server):
    sms = TwilioDouble().start()
    queue = f"orderdesk-production-test-{uuid.uuid4().hex[:12]}"
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "orderdesk.settings",
        "DEBUG": "false",
        "SECRET_KEY": "production-run-test-a-long-random-looking-secret-key-0123456789",
        "CREDENTIALS_KEY": "production-run-test-another-long-random-looking-key-0123456789",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": "https://orders.example.com",
        "SECURE_SSL_REDIRECT": "false",
        "DATA_DIR": str(tmp_path / "data"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "DATABASE_URL": database_url(),
        "CONN_MAX_AGE": "0",
        "CELERY_BROKER_URL": os.environ["TEST_CELERY_BROKER_URL"],
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CELERY_WORKER_NAME": f"{queue}@%h",
        "CELERY_WORKER_CONCURRENCY": "2",
        "WEB_CONCURRENCY": "2",
        "WEB_THREADS": "2",
        "WEB_GRACEFUL_TIMEOUT": "10",
        "LOG_FORMAT": "json",
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": sms.account_sid,
        "TWILIO_AUTH_TOKEN": sms.auth_token,
        "TWILIO_API_BASE": sms.base_url,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_server.port}",
    }
    yield {
        "env": env,
        "base": f"http://127.0.0.1:{port}",
        "sms": sms,
        "log": tmp_path / "run.log",
    }
    sms.stop()
    broker = redis.Redis.from_url(env["CELERY_BROKER_URL"])
    for key in broker.scan_iter(f"*{queue}*"):
        broker.delete(key)


def procfile(env: dict, *names: str, log: Path) -> subprocess.Popen:
    with open(log, "a") as output:
        return subprocess.Popen(
            [sys.executable, "deploy/procfile.py", *names],
            cwd=PROJECT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def json_lines(log: Path) -> list[dict]:
    lines = []
    for line in log.read_text().splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue
    return lines


def test_release_then_web_and_worker_serve_an_order_and_stop_cleanly_on_sigterm(production_environment):
    run = production_environment
    env, base, log = run["env"], run["base"], run["log"]
    key = api_key()

    release = procfile(env, "release", log=log)
    assert release.wait(timeout=300) == 0, log.read_text()
    runner = procfile(env, "web", "worker", log=log)
    try:
        started = wait_until(lambda: "ready." in log.read_text() and _answers(base + "/healthz"), seconds=90)
        assert started, log.read_text()

        ready = requests.get(base + "/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        assert ready.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok", "storage": "ok"}}

        headers = {"Authorization": f"Bearer {key.token}", "X-Forwarded-Proto": "https"}
        created = requests.post(
            base + "/api/v1/orders",
            json=ORDER_BODY,
            headers={**headers, "Idempotency-Key": "production-run-1", "X-Request-ID": "req-create-1"},
            timeout=30,
        )
        assert created.status_code == 201, created.text
        assert created.headers["X-Request-ID"] == "req-create-1"
        order_id = created.json()["id"]
        verified = requests.post(
            base + f"/api/v1/orders/{order_id}/verify-payment",
            headers={**headers, "X-Request-ID": "req-verify-1"},
            timeout=30,
        )
        assert verified.status_code == 200, verified.text
        assert Order.objects.get(pk=order_id).status == Order.Status.PENDING

        # The worker delivers the customer's SMS, logging the task under the verifying request's id.
        assert wait_until(lambda: run["sms"].delivered, seconds=60), log.read_text()
        assert wait_until(
            lambda: any(
                line.get("request_id") == "req-verify-1" and line.get("logger") == "orderdesk.tasks"
                for line in json_lines(log)
            ),
            seconds=30,
        ), log.read_text()
        web_lines = [line for line in json_lines(log) if line.get("logger") == "orderdesk.requests"]
        assert any(
            line["request_id"] == "req-create-1"
            and line["status"] == 201
            and line["path"] == "/api/v1/orders"
            for line in web_lines
        )

        # Static files: hashed names from collectstatic, compressed, cached for good.
        page = requests.get(base + "/accounts/login/", headers={"X-Forwarded-Proto": "https"}, timeout=30)
        assert page.status_code == 200
        stylesheet = next(
            part.split('"')[0]
            for part in page.text.split('href="')[1:]
            if part.startswith("/static/web/app.")
        )
        assert stylesheet != "/static/web/app.css"
        served = requests.get(base + stylesheet, headers={"Accept-Encoding": "gzip"}, timeout=30)
        assert served.status_code == 200
        assert served.headers["Content-Encoding"] == "gzip"
        assert "immutable" in served.headers["Cache-Control"]

        # A message being sent when SIGTERM arrives: the provider takes 5 s to answer, and
        # Celery's warm shutdown waits for it, so it ends sent (and sent once).
        second = requests.post(
            base + "/api/v1/orders",
            json=ORDER_BODY,
            headers={**headers, "Idempotency-Key": "production-run-2"},
            timeout=30,
        ).json()["id"]
        wait_until(
            lambda: not Notification.objects.filter(status__in=["pending", "sending"]).exists(), seconds=60
        )
        asked_before = len(run["sms"].requests)
        run["sms"].stall_next(5)
        assert (
            requests.post(
                base + f"/api/v1/orders/{second}/verify-payment", headers=headers, timeout=30
            ).status_code
            == 200
        )
        assert wait_until(lambda: len(run["sms"].requests) > asked_before, seconds=60), log.read_text()
        in_flight = run["sms"].delivered[-1]
    finally:
        runner.send_signal(signal.SIGTERM)
        try:
            status = runner.wait(timeout=90)
        except subprocess.TimeoutExpired:
            runner.kill()
            raise
    output = log.read_text()
    assert status == 0, output
    assert "Handling signal: term" in output  # gunicorn's graceful stop
    assert "Shutting down: Master" in output
    assert "warm shutdown" in output.lower()  # Celery finishes running tasks before it exits
    finished = Notification.objects.get(channel="sms", recipient=in_flight["to"], body=in_flight["body"])
    assert finished.status == Notification.Status.SENT, (finished.status, finished.last_error)
    assert [d for d in run["sms"].delivered if d["body"] == in_flight["body"]] == [in_flight]


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False
