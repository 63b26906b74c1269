"""What each order event queues, and what the messages say (written by the worker when it sends them)."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from orderdesk.accounts.tests.factories import MerchantFactory, owner_actor
from orderdesk.notifications.actions import preferences_for, update_notification_preferences
from orderdesk.notifications.models import Notification, NotificationPreference
from orderdesk.notifications.preferences import switches
from orderdesk.notifications.sms.segments import count_segments
from orderdesk.notifications.tests.fixtures import sms_files
from orderdesk.orders import actions
from orderdesk.orders.actions import CustomerDetails
from orderdesk.orders.messages import queue_order_notifications
from orderdesk.orders.models import OrderEvent
from orderdesk.orders.tests.factories import awaiting_order, dispatched_order, pending_order
from orderdesk.orders.tests.messages import composed, messages_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("notification_settings")]


def queued(order, trigger, channel):
    """The queued row with the text the worker writes when it sends it."""
    return composed(messages_of(order).get(topic=f"order.{trigger}", channel=channel))


def in_two_days(actor):
    return timezone.localdate(timezone=actor.merchant.zone) + datetime.timedelta(days=2)


def test_a_verified_payment_texts_the_merchant_the_reference_and_a_link_to_the_order():
    actor = owner_actor(MerchantFactory(name="Casa Linen", short_name="CasaLinen"))
    order = pending_order(actor)

    sms = queued(order, OrderEvent.Kind.PAYMENT_VERIFIED, Notification.Channel.SMS)

    assert sms.audience == Notification.Audience.MERCHANT
    assert sms.recipient == actor.merchant.notification_phone
    assert order.reference in sms.body
    assert sms.body.endswith(f" https://orderdesk.example/orders/{order.pk}/")
    assert "Maria Santos" in sms.body and "PHP 2,068.50" in sms.body and "3 items" in sms.body
    assert count_segments(sms.body) <= 2
    assert sms.status == Notification.Status.PENDING


def test_a_verified_payment_emails_the_merchant_the_whole_order_in_html_and_text():
    actor = owner_actor()
    order = awaiting_order(actor, processing_days=4, discount=Decimal("50.00"))
    order = actions.verify_payment(order.pk, by=actor)

    email = queued(order, OrderEvent.Kind.PAYMENT_VERIFIED, Notification.Channel.EMAIL)

    assert email.subject == f"Paid order {order.reference} from Maria Santos"
    due = order.due_on
    for body in (email.body, email.html_body):
        assert order.reference in body
        assert "4" in body and f"{due:%B} {due.day}, {due.year}" in body
        assert "Maria Santos" in body and "+639175550101" in body and "maria@example.com" in body
        assert "Linen shirt" in body and "Canvas tote" in body and "LS-M" in body
        assert "PHP 1,598.00" in body  # 2 × 799.00
        assert "PHP 1,948.50" in body and "PHP 120.00" in body and "PHP 50.00" in body
        assert "PHP 2,018.50" in body
        assert "GCash" in body
        assert f"https://orderdesk.example/orders/{order.pk}/" in body
    assert "J&T Express" in email.body
    assert "J&amp;T Express" in email.html_body
    assert "<table" in email.html_body


def test_dispatch_tells_the_customer_courier_reference_date_message_and_tracking_link():
    actor = owner_actor(MerchantFactory(name="Casa Linen"))
    order = pending_order(actor)
    expected_on = in_two_days(actor)
    actions.dispatch_order(
        order.pk, by=actor, delivery_reference="JT123", expected_on=expected_on, message="Salamat po!"
    )
    tracking = f"https://orderdesk.example/t/{order.customer_page_token}/"

    sms = queued(order, OrderEvent.Kind.DISPATCHED, Notification.Channel.SMS)
    email = queued(order, OrderEvent.Kind.DISPATCHED, Notification.Channel.EMAIL)

    assert sms.recipient == "+639175550101" and sms.audience == Notification.Audience.CUSTOMER
    assert sms.body == (
        f"Casa Linen: your order {order.reference} is on its way with J&T Express, ref JT123, "
        f"expected {expected_on:%b} {expected_on.day}. Salamat po! Track: {tracking}"
    )
    assert email.recipient == "maria@example.com"
    assert email.subject == f"Your Casa Linen order {order.reference} is on its way"
    for body in (email.body, email.html_body):
        assert "JT123" in body and "Salamat po!" in body and tracking in body
        assert f"{expected_on:%B} {expected_on.day}, {expected_on.year}" in body


def test_a_long_dispatch_message_is_cut_to_two_segments_and_the_tracking_link_kept_whole():
    actor = owner_actor()
    order = pending_order(actor)
    message = "Thank you so much for your order! " * 25
    actions.dispatch_order(
        order.pk, by=actor, delivery_reference="JT9", expected_on=in_two_days(actor), message=message
    )

    sms = queued(order, OrderEvent.Kind.DISPATCHED, Notification.Channel.SMS)

    assert count_segments(sms.body) == 2
    assert sms.body.endswith(f"... Track: https://orderdesk.example/t/{order.customer_page_token}/")
    assert "ref JT9" in sms.body
    # The email has room for all of it.
    assert message.strip() in queued(order, OrderEvent.Kind.DISPATCHED, Notification.Channel.EMAIL).body


def test_fulfillment_and_cancellation_tell_the_customer_and_cancellation_gives_the_reason():
    actor = owner_actor()
    delivered = dispatched_order(actor)
    actions.fulfill_order(delivered.pk, by=actor, remarks="Left with the guard")
    cancelled = pending_order(actor)
    actions.cancel_order(cancelled.pk, by=actor, reason="The linen shirt is out of stock")

    fulfilled_sms = queued(delivered, OrderEvent.Kind.FULFILLED, Notification.Channel.SMS)
    cancelled_sms = queued(cancelled, OrderEvent.Kind.CANCELLED, Notification.Channel.SMS)
    cancelled_email = queued(cancelled, OrderEvent.Kind.CANCELLED, Notification.Channel.EMAIL)

    assert "was delivered" in fulfilled_sms.body
    assert "Left with the guard" not in fulfilled_sms.body  # remarks are the merchant's own
    assert "Reason: The linen shirt is out of stock" in cancelled_sms.body
    assert cancelled_sms.body.endswith(
        f"Details: https://orderdesk.example/t/{cancelled.customer_page_token}/"
    )
    assert "The linen shirt is out of stock" in cancelled_email.body
    assert "The linen shirt is out of stock" in cancelled_email.html_body


def test_a_customer_without_an_email_address_gets_only_the_sms():
    actor = owner_actor()
    order = dispatched_order(actor, customer=CustomerDetails(name="Jo Reyes", phone="09175550199"))
    assert list(messages_of(order).filter(topic="order.dispatched").values_list("channel", flat=True)) == [
        "sms"
    ]


def test_a_cash_on_delivery_order_confirmed_at_once_tells_the_merchant_it_is_cod():
    actor = owner_actor()
    from orderdesk.orders.tests.factories import new_order

    order = actions.record_order(new_order(payment_method="cod"), by=actor, payment_confirmed=True)

    sms = queued(order, OrderEvent.Kind.COD_CONFIRMED, Notification.Channel.SMS)
    email = queued(order, OrderEvent.Kind.COD_CONFIRMED, Notification.Channel.EMAIL)
    assert sms.body.startswith(f"COD order confirmed {order.reference}")
    assert email.subject.startswith("Cash on delivery order")


def test_every_merchant_starts_with_every_notification_on():
    preferences = preferences_for(MerchantFactory())
    assert not NotificationPreference.objects.exists()
    assert len(switches()) == 14
    assert all(preferences.is_on(name) for name in switches())


def test_switched_off_channels_are_not_queued_and_the_timeline_lists_only_what_was():
    actor = owner_actor()
    update_notification_preferences(by=actor, merchant_sms_on_payment=False, customer_email_on_dispatch=False)
    order = dispatched_order(actor)

    assert set(messages_of(order).values_list("topic", "channel")) == {
        ("order.payment_verified", "email"),
        ("order.dispatched", "sms"),
    }
    logged = [
        [n["channel"] for n in event.data["notifications"]]
        for event in order.events.filter(kind=OrderEvent.Kind.NOTIFICATIONS_QUEUED)
    ]
    assert logged == [["email"], ["sms"]]


def test_everything_switched_off_queues_nothing_and_logs_nothing():
    actor = owner_actor()
    update_notification_preferences(by=actor, merchant_sms_on_payment=False, merchant_email_on_payment=False)
    order = pending_order(actor)
    assert not messages_of(order).exists()
    assert not order.events.filter(kind=OrderEvent.Kind.NOTIFICATIONS_QUEUED).exists()


def test_messages_are_delivered_only_after_the_change_commits(django_capture_on_commit_callbacks, sms_folder):
    actor = owner_actor()
    order = awaiting_order(actor)

    with django_capture_on_commit_callbacks() as callbacks:
        actions.verify_payment(order.pk, by=actor)
        assert sms_files(sms_folder) == [] and mail.outbox == []
    # The hand-over to delivery (beside the markers of what was held until the commit).
    for callback in callbacks:
        callback()

    assert len(sms_files(sms_folder)) == 1
    assert [m.to for m in mail.outbox] == [[actor.merchant.notification_email]]
    assert set(messages_of(order).values_list("status", flat=True)) == {"sent"}


def test_a_change_that_rolls_back_queues_and_sends_nothing(django_capture_on_commit_callbacks, sms_folder):
    actor = owner_actor()
    order = awaiting_order(actor)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        actions.verify_payment(order.pk, by=actor)
        assert messages_of(order).count() == 2
        raise RuntimeError("the request failed after the payment was verified")

    assert callbacks == []
    assert not Notification.objects.exists()
    assert sms_files(sms_folder) == [] and mail.outbox == []
    order.refresh_from_db()
    assert order.status == "awaiting_payment"


def test_one_message_per_event_and_recipient_ever_even_if_the_event_is_queued_again():
    actor = owner_actor()
    order = pending_order(actor)
    before = list(messages_of(order).values_list("pk", "topic", "channel"))
    assert len(before) == 2

    with transaction.atomic():
        again = queue_order_notifications(order, OrderEvent.Kind.PAYMENT_VERIFIED)

    assert again == []
    assert list(messages_of(order).values_list("pk", "topic", "channel")) == before


def test_an_order_message_holds_what_the_worker_needs_and_no_text_until_it_is_sent():
    actor = owner_actor()
    order = pending_order(actor)

    row = messages_of(order).get(channel=Notification.Channel.SMS)

    assert (row.about_type, row.about_id, row.topic) == ("order", str(order.pk), "order.payment_verified")
    assert row.payload == {"order_id": order.pk, "event": "payment_verified"}
    assert (row.body, row.composed_at) == ("", None)
