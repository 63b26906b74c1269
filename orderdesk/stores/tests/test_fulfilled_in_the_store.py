"""An order the store shows as fulfilled without Orderdesk's tracking: kept as it is here,
flagged for the merchant once, on the timeline; the store's fulfillment of Orderdesk's own
tracking says nothing."""

import datetime

import pytest
from django.utils import timezone

from orderdesk.notifications.models import Notification
from orderdesk.orders import actions as order_actions
from orderdesk.orders.models import Order, OrderEvent
from orderdesk.stores import woocommerce
from orderdesk.stores.models import StoreOrderLink, SyncRun
from orderdesk.stores.shopify import order_from_webhook
from orderdesk.stores.sync import apply_incoming_order, sync_store
from orderdesk.stores.tracking import TRACKING_TOPIC

from .factories import shopify_store, woo_store
from .peers import shopify_node, shopify_webhook_order, woo_order

pytestmark = pytest.mark.django_db

FULFILLED = {"fulfillment_status": "fulfilled", "updated_at": "2026-11-21T09:00:00+08:00"}


def _flags(order):
    return list(order.events.filter(kind=OrderEvent.Kind.STORE_CHANGE_FLAGGED))


def test_fulfilled_in_shopify_before_dispatch_here_is_flagged_once_and_nothing_else_changes(owner):
    store = shopify_store(owner)
    apply_incoming_order(store, order_from_webhook(shopify_webhook_order(1001)))
    order = Order.objects.get(external_id="1001")
    lines_before = list(order.lines.values_list("sku", "quantity"))

    outcome = apply_incoming_order(store, order_from_webhook(shopify_webhook_order(1001, **FULFILLED)))
    again = apply_incoming_order(store, order_from_webhook(shopify_webhook_order(1001, **FULFILLED)))

    assert (outcome, again) == ("updated", "unchanged")
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert list(order.lines.values_list("sku", "quantity")) == lines_before
    (flag,) = _flags(order)
    assert "Lakbay Shopify shows this order as fulfilled outside Orderdesk" in flag.data["summary"]
    assert "left pending here" in flag.data["summary"]
    link = StoreOrderLink.objects.get(order=order)
    assert link.flagged_change == flag.data["summary"]
    assert link.flagged_at is not None


def test_fulfilled_in_shopify_after_dispatch_here_is_expected_and_says_nothing(owner):
    store = shopify_store(owner)
    apply_incoming_order(store, order_from_webhook(shopify_webhook_order(1002)))
    order = Order.objects.get(external_id="1002")
    order_actions.dispatch_order(
        order.pk,
        by=owner,
        delivery_reference="JT1",
        expected_on=timezone.localdate(timezone=owner.merchant.zone) + datetime.timedelta(days=2),
    )
    apply_incoming_order(store, order_from_webhook(shopify_webhook_order(1002, **FULFILLED)))
    order.refresh_from_db()
    assert order.status == Order.Status.DISPATCHED
    assert _flags(order) == []
    assert StoreOrderLink.objects.get(order=order).flagged_change == ""


def test_fulfilled_in_the_store_after_it_was_cancelled_here_is_flagged(owner):
    store = shopify_store(owner)
    apply_incoming_order(store, order_from_webhook(shopify_webhook_order(1003)))
    order = Order.objects.get(external_id="1003")
    order_actions.cancel_order(order.pk, by=owner, reason="Out of stock.")
    apply_incoming_order(store, order_from_webhook(shopify_webhook_order(1003, **FULFILLED)))
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    (flag,) = _flags(order)
    assert "but it was cancelled here" in flag.data["summary"]


def test_an_order_fulfilled_in_the_store_before_it_reached_orderdesk_never_enters(owner):
    store = shopify_store(owner)
    outcome = apply_incoming_order(store, order_from_webhook(shopify_webhook_order(1004, **FULFILLED)))
    assert outcome == "unchanged"
    assert not Order.objects.filter(external_id="1004").exists()


def test_the_poll_flags_an_order_fulfilled_in_shopify(owner, shopify_double):
    recent = (timezone.now() - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    shopify_double.orders = [shopify_node(1, createdAt=recent, updatedAt=recent)]
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=lambda s: None)
    later = (timezone.now() + datetime.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    shopify_double.orders = [
        shopify_node(1, createdAt=recent, updatedAt=later, displayFulfillmentStatus="FULFILLED")
    ]
    run = sync_store(store.pk, kind=SyncRun.Kind.POLL, sleep=lambda s: None)
    assert (run.updated_count, run.failed_count) == (1, 0)
    order = Order.objects.get(external_id="1")
    assert order.status == Order.Status.PENDING
    assert len(_flags(order)) == 1


def test_a_woocommerce_order_completed_in_the_store_before_dispatch_is_flagged(owner):
    store = woo_store(owner)
    apply_incoming_order(store, woocommerce.order_from_json(woo_order(6001)))
    apply_incoming_order(store, woocommerce.order_from_json(woo_order(6001, status="completed")))
    order = Order.objects.get(external_id="6001")
    assert order.status == Order.Status.PENDING
    (flag,) = _flags(order)
    assert flag.data["summary"].startswith("Lakbay Woo shows this order as fulfilled outside Orderdesk")


def test_fulfilled_in_the_store_by_orderdesk_s_own_tracking_before_dispatch_says_nothing(owner):
    """A vendor's shipments went to the store with tracking while the order is still pending here."""
    store = shopify_store(owner)
    apply_incoming_order(store, order_from_webhook(shopify_webhook_order(1005)))
    order = Order.objects.get(external_id="1005")
    Notification.objects.create(
        merchant=owner.merchant,
        topic=TRACKING_TOPIC,
        about_type="order",
        about_id=str(order.pk),
        audience=Notification.Audience.STORE,
        channel=Notification.Channel.STORE,
        recipient=store.name,
        idempotency_key=f"store:{store.pk}:tracking:test",
    )
    apply_incoming_order(store, order_from_webhook(shopify_webhook_order(1005, **FULFILLED)))
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert _flags(order) == []
