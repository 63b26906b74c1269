"""Email through Django's SMTP backend to a real SMTP server on loopback."""

import pytest
from django.utils import timezone

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.notifications.delivery import deliver_due_notifications
from orderdesk.notifications.mail import message_id
from orderdesk.notifications.models import Notification
from orderdesk.notifications.tests.fixtures import use_smtp
from orderdesk.notifications.tests.peers import SmtpServer, free_port, parts_of
from orderdesk.orders import actions
from orderdesk.orders.tests.factories import awaiting_order
from orderdesk.orders.tests.messages import messages_of

from .messages import later

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("notification_settings")]


def test_the_merchants_email_arrives_over_smtp_with_html_and_text_and_the_order_link(
    smtp, sms_folder, django_capture_on_commit_callbacks
):
    actor = owner_actor()
    order = awaiting_order(actor)

    with django_capture_on_commit_callbacks(execute=True):
        actions.verify_payment(order.pk, by=actor)

    [arrived] = smtp.messages
    assert arrived["To"] == actor.merchant.notification_email
    assert arrived["Subject"] == f"Paid order {order.reference} from Maria Santos"
    parts = parts_of(arrived)
    link = f"https://orderdesk.example/orders/{order.pk}/"
    assert link in parts["text/plain"] and f'href="{link}"' in parts["text/html"]
    assert "Linen shirt" in parts["text/plain"] and "Linen shirt" in parts["text/html"]
    row = messages_of(order).get(channel="email")
    assert row.status == Notification.Status.SENT and row.attempts == 1 and row.sent_at
    assert arrived["Message-ID"] == row.provider_message_id == message_id(row)


def test_a_customer_email_comes_from_the_shops_name(smtp, sms_folder, django_capture_on_commit_callbacks):
    from orderdesk.orders.tests.factories import pending_order

    actor = owner_actor()
    order = pending_order(actor)
    with django_capture_on_commit_callbacks(execute=True):
        actions.cancel_order(order.pk, by=actor, reason="Out of stock")

    [arrived] = smtp.messages
    assert arrived["To"] == "maria@example.com"
    assert arrived["From"].addresses[0].display_name == actor.merchant.name
    assert "Out of stock" in parts_of(arrived)["text/plain"]


def test_orders_paid_while_the_mail_server_is_down_are_each_emailed_exactly_once_when_it_is_back(
    settings, sms_folder, django_capture_on_commit_callbacks
):
    port = free_port()  # nothing listens here yet
    use_smtp(settings, port)
    actor = owner_actor()
    orders = [awaiting_order(actor) for _ in range(3)]

    for order in orders:
        with django_capture_on_commit_callbacks(execute=True):
            actions.verify_payment(order.pk, by=actor)  # the request still succeeds

    emails = Notification.objects.filter(channel="email")
    assert [(n.status, n.attempts) for n in emails] == [("pending", 1)] * 3
    assert all("could not be reached" in n.last_error for n in emails)
    assert all(n.next_attempt_at > timezone.now() for n in emails)
    # Not due yet: a sweep right now sends nothing.
    assert deliver_due_notifications() == {}

    server = SmtpServer(port).start()
    try:
        assert deliver_due_notifications(now=later(minutes=5)) == {"sent": 3}
        assert deliver_due_notifications(now=later(minutes=60)) == {}
    finally:
        server.stop()

    assert sorted(m["Subject"] for m in server.messages) == sorted(
        f"Paid order {o.reference} from Maria Santos" for o in orders
    )
    assert set(emails.values_list("status", "attempts")) == {("sent", 2)}


def test_a_recipient_the_mail_server_refuses_for_good_is_failed_at_once_with_its_answer(
    smtp, sms_folder, django_capture_on_commit_callbacks
):
    actor = owner_actor()
    smtp.refuse[actor.merchant.notification_email] = "550 5.1.1 No such mailbox"
    order = awaiting_order(actor)

    with django_capture_on_commit_callbacks(execute=True):
        actions.verify_payment(order.pk, by=actor)

    row = messages_of(order).get(channel="email")
    assert row.status == Notification.Status.FAILED
    assert row.attempts == 1
    assert "550" in row.last_error and "No such mailbox" in row.last_error
    assert smtp.messages == []
    assert deliver_due_notifications(now=later(minutes=600)) == {}


def test_a_mailbox_that_is_temporarily_unavailable_is_tried_again(
    smtp, sms_folder, django_capture_on_commit_callbacks
):
    actor = owner_actor()
    smtp.refuse[actor.merchant.notification_email] = "451 4.3.0 Mailbox busy, try later"
    order = awaiting_order(actor)
    with django_capture_on_commit_callbacks(execute=True):
        actions.verify_payment(order.pk, by=actor)
    row = messages_of(order).get(channel="email")
    assert (row.status, row.attempts) == ("pending", 1)
    assert "451" in row.last_error

    smtp.refuse.clear()
    assert deliver_due_notifications(now=later(minutes=5)) == {"sent": 1}
    assert len(smtp.messages) == 1
