"""Issue 15: a slow mail server must not stall the merchant's click. Without Celery the
messages leave from the web process's delivery thread after the request has answered."""

import datetime
import time

import pytest
from django.urls import reverse
from django.utils import timezone

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.background import background_jobs
from orderdesk.notifications.tests.fixtures import sms_files, use_smtp
from orderdesk.notifications.tests.peers import SilentSmtpServer
from orderdesk.orders.models import Order
from orderdesk.orders.tests.factories import awaiting_order, pending_order
from orderdesk.orders.tests.messages import messages_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("notification_settings")]


@pytest.fixture
def hanging_mail(settings, sms_folder):
    """SMTP accepts the connection and never answers; SMS go to files; delivery in the thread."""
    server = SilentSmtpServer().start()
    use_smtp(settings, server.port)
    settings.NOTIFICATION_DELIVERY_THREAD = True
    yield server
    background_jobs.wait_until_idle(timeout=30)
    server.stop()


def timed_post(client, url, data):
    started = time.monotonic()
    response = client.post(url, data)
    return response, time.monotonic() - started


def test_dispatch_answers_at_once_while_the_mail_server_hangs_and_the_email_is_retried_later(
    client, hanging_mail, sms_folder
):
    actor = owner_actor()
    order = pending_order(actor)
    assert background_jobs.wait_until_idle(timeout=30)  # the payment's own messages, out of the way
    client.force_login(actor.user)
    expected_on = timezone.localdate(timezone=actor.merchant.zone) + datetime.timedelta(days=2)

    response, took = timed_post(
        client,
        reverse("orders:dispatch", args=[order.pk]),
        {"delivery_reference": "JT123456", "expected_on": expected_on.isoformat()},
    )

    assert response.status_code == 302
    assert took < 1.0, f"the Dispatch click took {took:.1f} s"
    order.refresh_from_db()
    assert order.status == Order.Status.DISPATCHED
    assert background_jobs.wait_until_idle(timeout=30)
    dispatched = messages_of(order).filter(topic="order.dispatched")
    email, sms = dispatched.get(channel="email"), dispatched.get(channel="sms")
    assert (email.status, email.attempts) == ("pending", 1) and "timed out" in email.last_error
    assert sms.status == "sent" and "JT123456" in sms.body
    assert any("JT123456" in f.read_text() for f in sms_files(sms_folder))


def test_verify_payment_answers_at_once_while_the_mail_server_hangs(client, hanging_mail):
    actor = owner_actor()
    order = awaiting_order(actor)
    client.force_login(actor.user)

    response, took = timed_post(client, reverse("orders:verify_payment", args=[order.pk]), {})

    assert response.status_code == 302
    assert took < 1.0, f"the Verify payment click took {took:.1f} s"
    assert background_jobs.wait_until_idle(timeout=30)
    email = messages_of(order).get(channel="email")
    assert (email.status, email.attempts) == ("pending", 1) and "timed out" in email.last_error
    assert messages_of(order).get(channel="sms").status == "sent"
