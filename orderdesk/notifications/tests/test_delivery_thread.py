"""Without a Celery broker, a thread of the web process delivers after commit, so the caller
never waits for a provider; tests wait for it with background_jobs.wait_until_idle()."""

import time

import pytest

from orderdesk.accounts.tests.factories import MerchantFactory
from orderdesk.background import background_jobs
from orderdesk.notifications.actions import OutgoingMessage, queue_messages
from orderdesk.notifications.models import Notification

from .fixtures import sms_files, use_smtp
from .peers import SilentSmtpServer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def silent_smtp(settings):
    server = SilentSmtpServer().start()
    use_smtp(settings, server.port)
    yield server
    server.stop()


def message(channel, recipient, key, merchant) -> OutgoingMessage:
    return OutgoingMessage(
        topic="test.thread",
        channel=channel,
        audience=Notification.Audience.MERCHANT,
        recipient=recipient,
        idempotency_key=f"test.thread:{key}",
        merchant_id=merchant.pk,
        subject="Hello",
        body="Hello from the delivery thread",
    )


def test_a_hanging_mail_server_never_holds_up_the_caller_and_the_thread_records_the_timeout(
    settings, silent_smtp, sms_folder
):
    settings.NOTIFICATION_DELIVERY_THREAD = True
    merchant = MerchantFactory()

    started = time.monotonic()
    queue_messages(
        [
            message("email", "owner@shop.example", "email", merchant),
            message("sms", "+639175550101", "sms", merchant),
        ]
    )  # committed at once (autocommit), so handed to the thread at once
    took = time.monotonic() - started

    assert took < 1.0, f"the caller waited {took:.1f} s"
    assert background_jobs.wait_until_idle(timeout=30)
    email = Notification.objects.get(channel="email")
    sms = Notification.objects.get(channel="sms")
    assert (email.status, email.attempts) == ("pending", 1)
    assert "could not be reached" in email.last_error and "timed out" in email.last_error
    assert silent_smtp.accepted  # it did connect, and was kept waiting
    assert sms.status == "sent"
    assert len(sms_files(sms_folder)) == 1


def test_without_the_thread_delivery_happens_in_the_caller(settings, sms_folder):
    settings.NOTIFICATION_DELIVERY_THREAD = False
    queue_messages([message("sms", "+639175550101", "inline", MerchantFactory())])

    assert Notification.objects.get().status == "sent"
    assert len(sms_files(sms_folder)) == 1
