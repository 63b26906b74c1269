"""The outbox migrations keep what was there: each message's order (as an about reference and
payload) and each merchant's switched-off choices (as preference rows)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.notifications.actions import preferences_for
from orderdesk.notifications.models import Notification
from orderdesk.notifications.preferences import switches
from orderdesk.orders.tests.factories import awaiting_order

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("notifications", "0002_notificationpreference")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


def test_migrating_keeps_each_messages_order_and_each_merchants_choices():
    actor, other = owner_actor(), owner_actor()
    order = awaiting_order(actor)
    old = migrate(BEFORE)
    try:
        OldNotification = old.get_model("notifications", "Notification")
        OldPreference = old.get_model("notifications", "NotificationPreference")
        OldNotification.objects.create(
            merchant_id=actor.merchant.pk,
            order_id=order.pk,
            trigger="payment_verified",
            audience="merchant",
            channel="sms",
            recipient="+639171234567",
            body="New paid order",
            status="sent",
            idempotency_key="order:1:payment_verified:sms:+639171234567",
        )
        OldPreference.objects.create(
            merchant_id=actor.merchant.pk, merchant_sms_on_payment=False, customer_email_on_cancellation=False
        )
        OldPreference.objects.create(merchant_id=other.merchant.pk)
    finally:
        leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
        migrate(leaves)

    row = Notification.objects.get()
    assert (row.about_type, row.about_id, row.topic) == ("order", str(order.pk), "order.payment_verified")
    assert row.payload == {"order_id": order.pk, "event": "payment_verified"}
    assert row.body == "New paid order" and row.composed_at == row.created_at
    mine = preferences_for(actor.merchant)
    assert {name for name in switches() if not mine.is_on(name)} == {
        "merchant_sms_on_payment",
        "customer_email_on_cancellation",
    }
    assert all(preferences_for(other.merchant).is_on(name) for name in switches())
