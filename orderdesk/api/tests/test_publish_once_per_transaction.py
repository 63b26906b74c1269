"""One publish per transaction: a domain action's webhook events share one read of the merchant's
endpoints and one INSERT of outbox rows, made just before its transaction commits; what a
rollback undid is never queued, and nothing is queued twice."""

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from orderdesk.api import webhooks
from orderdesk.catalog.models import Product, Variant
from orderdesk.notifications.models import Notification
from orderdesk.notifications.webhooks import publish_webhook_event, publishing_once
from orderdesk.orders import actions as order_actions
from orderdesk.orders.actions import LineInput
from orderdesk.orders.tests.factories import awaiting_order, new_order
from orderdesk.vendors.models import Hosting, Vendor

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(owner, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    return webhooks.create_webhook_endpoint(
        by=owner, url="http://127.0.0.1:9/hooks", events=["order.created", "order.paid", "shipment.updated"]
    ).endpoint


def deliveries():
    return Notification.objects.filter(channel=Notification.Channel.WEBHOOK).order_by("pk")


def published_by_hand():
    """The deliveries of the events these tests publish by hand (not the order's own)."""
    return [d.payload["event_id"] for d in deliveries() if d.payload["event_id"].startswith("evt_t_")]


@pytest.fixture
def order(owner):
    return awaiting_order(owner)


def publish(order, event_id):
    publish_webhook_event(
        "order.paid",
        event_id=f"evt_t_{event_id}",
        merchant_id=order.merchant_id,
        about_type="order",
        about_id=order.pk,
        subject=order,
    )


def endpoint_reads(captured):
    return [q for q in captured.captured_queries if 'FROM "api_webhookendpoint"' in q["sql"]]


def outbox_inserts(captured):
    return [
        q
        for q in captured.captured_queries
        if q["sql"].startswith('INSERT INTO "notifications_notification"')
    ]


def hosted_lines(owner):
    """Three lines hosted with two vendors, so auto-processing allocates them at once."""
    merchant = owner.merchant
    vendors = [Vendor.objects.create(merchant=merchant, name=f"Vendor {n}") for n in (1, 2)]
    lines = []
    for n, title in enumerate(["Linen shirt", "Canvas tote", "Bamboo cup"]):
        variant = Variant.objects.create(
            merchant=merchant,
            product=Product.objects.create(merchant=merchant, title=title),
            sku=f"S-{n}",
            price=Decimal("10.00"),
        )
        Hosting.objects.create(
            merchant=merchant, variant=variant, vendor=vendors[n // 2], unit_cost=Decimal("5")
        )
        lines.append(LineInput(title=title, quantity=1, unit_price=Decimal("10.00"), variant_id=variant.pk))
    return lines


def test_an_auto_allocated_order_reads_the_endpoints_once_and_queues_every_event_in_one_insert(
    owner, endpoint
):
    owner.merchant.auto_processing = True
    owner.merchant.save(update_fields=["auto_processing"])
    new = new_order(lines=hosted_lines(owner))

    with CaptureQueriesContext(connection) as captured:
        order = order_actions.record_order(new, by=owner, payment_confirmed=True, notify=False)

    assert len(endpoint_reads(captured)) == 1
    # The order's events and its two shipments' tracking events: one INSERT for all four rows.
    assert len(outbox_inserts(captured)) == 1
    assert sorted(d.subject for d in deliveries()) == [
        "order.created",
        "order.paid",
        "shipment.updated",
        "shipment.updated",
    ]
    assert order.fulfillments.count() == 2


def test_events_of_a_transaction_that_rolls_back_are_never_queued(order, endpoint):
    class Undone(Exception):
        pass

    with pytest.raises(Undone), publishing_once():
        publish(order, "undone")
        raise Undone

    assert published_by_hand() == []


def test_events_of_a_savepoint_rolled_back_inside_the_transaction_are_dropped_and_the_rest_queued_once(
    order, endpoint
):
    with CaptureQueriesContext(connection) as captured, publishing_once():
        publish(order, "kept")
        try:
            with transaction.atomic():
                publish(order, "rolled_back")
                raise ValueError
        except ValueError:
            pass
        with publishing_once():  # nested: joins the outer transaction's batch
            publish(order, "nested")
        # Nothing is written before the commit.
        assert published_by_hand() == []

    assert published_by_hand() == ["evt_t_kept", "evt_t_nested"]
    assert len(endpoint_reads(captured)) == 1
    assert len(outbox_inserts(captured)) == 1


def test_a_retry_after_a_rollback_queues_each_event_once(order, endpoint):
    def publish_twice():
        with publishing_once():
            publish(order, "retried")
            publish(order, "retried")

    with pytest.raises(RuntimeError), transaction.atomic():
        publish_twice()
        raise RuntimeError("the caller's outer transaction rolls back after the flush")
    assert published_by_hand() == []
    publish_twice()
    publish_twice()
    assert published_by_hand() == ["evt_t_retried"]


def test_outside_publishing_once_a_publish_queues_at_once(order, endpoint):
    with transaction.atomic():
        publish(order, "now")
        assert published_by_hand() == ["evt_t_now"]
