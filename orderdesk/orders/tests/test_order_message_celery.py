"""The Celery path, as production runs it: a web process with CELERY_BROKER_URL set
publishes after commit, a `celery -A orderdesk worker` process delivers.

Both are subprocesses pointed at this test's database (hence transactional tests),
a queue of their own on the broker, SMS files in a temporary folder and a loopback
SMTP server; this process's Celery app stays untouched. The worker test runs when
TEST_CELERY_BROKER_URL is set (.ci/run sets it to Redis): see the root conftest.
"""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.notifications.delivery import deliver_due_notifications
from orderdesk.notifications.tests.fixtures import sms_files
from orderdesk.notifications.tests.peers import free_port
from orderdesk.orders.tests.factories import awaiting_order
from orderdesk.orders.tests.messages import messages_of

PROJECT = Path(django_settings.BASE_DIR)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("notification_settings")]


def database_url() -> str:
    """The URL of the database this test runs on (the test database), for the other processes."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def environment(tmp_path, smtp_server):
    """What the web and worker processes share: database, queue, SMS folder, SMTP server."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "orderdesk.settings",
        "DATABASE_URL": database_url(),
        "CELERY_TASK_DEFAULT_QUEUE": f"orderdesk-notify-test-{uuid.uuid4().hex[:12]}",
        "SMS_BACKEND": "file",
        "SMS_FILE_PATH": str(tmp_path / "sms"),
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_server.port}",
        "SITE_URL": "https://orderdesk.example",
        "CONN_MAX_AGE": "0",
    }


def verify_payment_in_a_web_process(env: dict, order, actor, *, also_start_again: bool = False) -> str:
    """Verify the payment as a request would, in a process of its own; returns its output."""
    code = (
        "from orderdesk.accounts.actors import Actor\n"
        "from orderdesk.accounts.models import User\n"
        "from orderdesk.orders import actions\n"
        f"order = actions.verify_payment({order.pk}, by=Actor.for_user(User.objects.get(pk={actor.user.pk})))\n"
        "print('verified', order.status)\n"
    )
    if also_start_again:
        # A second start for the same rows, as a sweep or a broker redelivery would make.
        code += (
            "from orderdesk.notifications.delivery import start_delivery\n"
            "from orderdesk.orders.tests.messages import messages_of\n"
            "start_delivery(list(messages_of(order).values_list('pk', flat=True)))\n"
        )
    return run_in_a_web_process(env, code)


def run_in_a_web_process(env: dict, code: str) -> str:
    """Run this code by `manage.py shell` in a process of its own; returns its output."""
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


@pytest.fixture
def worker(environment, tmp_path):
    env = {**environment, "CELERY_BROKER_URL": os.environ["TEST_CELERY_BROKER_URL"]}
    queue = env["CELERY_TASK_DEFAULT_QUEUE"]
    log = tmp_path / "worker.log"
    with open(log, "w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "orderdesk", "worker", "-Q", queue, "-n", f"{queue}@%h",
             "--pool", "threads", "--concurrency", "4", "--loglevel", "INFO",
             "--without-heartbeat", "--without-mingle", "--without-gossip"],
            cwd=PROJECT, env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while "ready." not in log.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"The Celery worker did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield {"env": env, "log": log}
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        # Leave the shared broker as we found it: this run's queue and its bindings go.
        broker = redis.Redis.from_url(env["CELERY_BROKER_URL"])
        for key in broker.scan_iter(f"*{queue}*"):
            broker.delete(key)


def wait_until(condition, seconds=30) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


@pytest.mark.celery
def test_a_celery_worker_delivers_each_message_exactly_once_even_when_started_twice(
    worker, tmp_path, smtp_server
):
    actor = owner_actor()
    order = awaiting_order(actor)

    output = verify_payment_in_a_web_process(worker["env"], order, actor, also_start_again=True)

    assert "verified pending" in output
    rows = messages_of(order)
    assert rows.count() == 2
    assert wait_until(lambda: set(rows.values_list("status", flat=True)) == {"sent"}), worker[
        "log"
    ].read_text()
    time.sleep(1)  # room for a duplicate to show up, if one could
    assert set(rows.values_list("attempts", flat=True)) == {1}
    assert len(sms_files(tmp_path / "sms")) == 1
    [email] = smtp_server.messages
    assert email["Subject"] == f"Paid order {order.reference} from Maria Santos"
    log = worker["log"].read_text()
    assert log.count("succeeded in") == 4  # two rows, each started twice: two sends, two skips
    assert log.count("'sent'") == 2


def test_with_the_broker_down_the_request_still_succeeds_and_the_sweep_delivers_later(
    environment, tmp_path, smtp, settings
):
    env = {**environment, "CELERY_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0"}  # nothing listens
    actor = owner_actor()
    order = awaiting_order(actor)

    output = verify_payment_in_a_web_process(env, order, actor)

    assert "verified pending" in output
    assert "Could not start delivery of notification" in output
    rows = messages_of(order)
    assert set(rows.values_list("status", "attempts")) == {("pending", 0)}
    settings.SMS_BACKEND, settings.SMS_FILE_PATH = "file", tmp_path / "sms"
    assert deliver_due_notifications() == {"sent": 2}
    assert len(sms_files(tmp_path / "sms")) == 1
    assert len(smtp.messages) == 1
