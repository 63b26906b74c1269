"""The outbox's promises: retried with backoff, failed after the limit, never sent twice."""

import datetime
import threading

import pytest
from django.db import close_old_connections
from django.utils import timezone

from orderdesk.notifications.delivery import backoff_seconds, deliver_due_notifications, deliver_notification
from orderdesk.notifications.models import Notification
from orderdesk.notifications.tests.fixtures import sms_files
from orderdesk.notifications.tests.peers import free_port
from orderdesk.orders import actions
from orderdesk.orders.models import Order
from orderdesk.orders.tests.factories import awaiting_order
from orderdesk.orders.tests.messages import messages_of

from .messages import later, merchant_sms, pay

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("notification_settings")]


def test_waits_between_attempts_double_up_to_the_cap(settings):
    settings.NOTIFICATION_RETRY_BASE_SECONDS = 30
    settings.NOTIFICATION_RETRY_MAX_SECONDS = 600
    assert [backoff_seconds(n) for n in range(1, 7)] == [30, 60, 120, 240, 480, 600]


def test_a_provider_that_keeps_failing_is_tried_up_to_the_limit_then_the_message_fails_with_its_error(
    settings, twilio, actor, django_capture_on_commit_callbacks
):
    settings.NOTIFICATION_MAX_ATTEMPTS = 4
    for _ in range(10):
        twilio.fail_next(503, {"code": 20503, "message": "Service Unavailable", "status": 503})
    started = timezone.now()
    row = merchant_sms(pay(actor, django_capture_on_commit_callbacks))
    finished = timezone.now()
    # The first attempt ran somewhere between those two moments (a loaded machine makes it late).
    first_retry = datetime.timedelta(seconds=30)
    assert started + first_retry <= row.next_attempt_at <= finished + first_retry
    waits = []

    clock = started
    for _ in range(3):
        clock = row.next_attempt_at + datetime.timedelta(seconds=1)
        deliver_due_notifications(now=clock)
        row.refresh_from_db()
        waits.append((row.next_attempt_at - clock).total_seconds())

    assert row.status == Notification.Status.FAILED
    assert row.attempts == 4
    assert row.last_error == "Twilio answered 503: error 20503: Service Unavailable"
    assert [round(w) for w in waits[:2]] == [60, 120]
    assert len(twilio.requests) == 4
    assert deliver_due_notifications(now=clock + datetime.timedelta(days=1)) == {}
    assert len(twilio.requests) == 4


def test_a_sent_message_is_never_sent_again(sms_folder, actor, django_capture_on_commit_callbacks):
    row = merchant_sms(pay(actor, django_capture_on_commit_callbacks))
    assert row.status == Notification.Status.SENT

    assert deliver_notification(row.pk, now=later(seconds=86400)) is None
    assert deliver_due_notifications(now=later(seconds=86400)) == {}
    assert len(sms_files(sms_folder)) == 1


def test_a_message_that_is_not_due_yet_is_left_alone(twilio, actor, django_capture_on_commit_callbacks):
    twilio.fail_next(500, {"code": 20500, "message": "Internal Server Error", "status": 500})
    row = merchant_sms(pay(actor, django_capture_on_commit_callbacks))
    assert deliver_notification(row.pk) is None
    assert len(twilio.requests) == 1


def test_a_message_left_in_sending_by_a_dead_worker_is_sent_by_the_sweep_once_its_lease_runs_out(
    settings, sms_folder, actor, django_capture_on_commit_callbacks
):
    order = awaiting_order(actor)
    with django_capture_on_commit_callbacks(execute=False):
        actions.verify_payment(order.pk, by=actor)  # committed, but delivery never started
    row = messages_of(order).get()
    # What a worker that claimed the row and then died leaves behind.
    lease_end = timezone.now() + datetime.timedelta(seconds=settings.NOTIFICATION_SENDING_LEASE_SECONDS)
    Notification.objects.filter(pk=row.pk).update(status="sending", attempts=1, next_attempt_at=lease_end)

    assert deliver_due_notifications(now=lease_end - datetime.timedelta(seconds=1)) == {}
    assert deliver_due_notifications(now=lease_end + datetime.timedelta(seconds=1)) == {"sent": 1}
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 2)
    assert len(sms_files(sms_folder)) == 1


def test_a_message_whose_last_allowed_attempt_never_finished_is_failed_not_sent_again(
    settings, sms_folder, actor, django_capture_on_commit_callbacks
):
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    order = awaiting_order(actor)
    with django_capture_on_commit_callbacks(execute=False):
        actions.verify_payment(order.pk, by=actor)
    row = messages_of(order).get()
    Notification.objects.filter(pk=row.pk).update(
        status="sending", attempts=3, next_attempt_at=timezone.now()
    )

    assert deliver_due_notifications(now=later(seconds=1)) == {}
    row.refresh_from_db()
    assert row.status == Notification.Status.FAILED
    assert "never finished" in row.last_error
    assert sms_files(sms_folder) == []


def test_a_broken_sms_setup_never_breaks_the_action_that_queued_the_message(
    settings, actor, django_capture_on_commit_callbacks
):
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID = ""  # the backend cannot even be built
    order = awaiting_order(actor)

    with django_capture_on_commit_callbacks(execute=True):
        verified = actions.verify_payment(order.pk, by=actor)

    assert verified.status == Order.Status.PENDING
    row = messages_of(order).get()
    assert (row.status, row.attempts) == ("pending", 1)
    assert "TWILIO_ACCOUNT_SID" in row.last_error


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_one_message_send_it_once(settings, twilio, actor):
    # Real commits here, so delivery starts at once: let the first attempt find Twilio down.
    twilio_url = settings.TWILIO_API_BASE
    settings.TWILIO_API_BASE = f"http://127.0.0.1:{free_port()}"
    order = actions.verify_payment(awaiting_order(actor).pk, by=actor)
    row = messages_of(order).get()
    assert (row.status, row.attempts) == ("pending", 1)
    settings.TWILIO_API_BASE = twilio_url
    twilio.stall_next(0.5)  # the send is slow, so the other workers arrive mid-send

    start = threading.Barrier(3)
    outcomes = []

    def worker():
        try:
            start.wait()
            outcomes.append(deliver_notification(row.pk, now=later(seconds=3600)))
        finally:
            close_old_connections()

    workers = [threading.Thread(target=worker) for _ in range(3)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()

    assert sorted(outcomes, key=str) == sorted(["sent", None, None], key=str)
    assert len(twilio.requests) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 2)


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_racing_over_many_messages_send_each_once(settings, sms_folder, tmp_path, actor):
    # Real commits here, so delivery starts at once: let the first attempts find no folder to write to.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    settings.SMS_FILE_PATH = blocker / "sms"
    for _ in range(8):
        actions.verify_payment(awaiting_order(actor).pk, by=actor)
    assert set(Notification.objects.values_list("status", "attempts")) == {("pending", 1)}
    settings.SMS_FILE_PATH = sms_folder

    start = threading.Barrier(2)
    totals = []

    def sweep():
        try:
            start.wait()
            totals.append(deliver_due_notifications(now=later(seconds=3600)).get("sent", 0))
        finally:
            close_old_connections()

    sweeps = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in sweeps:
        thread.start()
    for thread in sweeps:
        thread.join()

    assert sum(totals) == 8
    assert len(sms_files(sms_folder)) == 8
    assert set(Notification.objects.values_list("status", "attempts")) == {("sent", 2)}
