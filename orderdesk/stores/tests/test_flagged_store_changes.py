"""A store's change or cancellation after dispatch is flagged for the merchant (a banner on the
order page, a marker in Order Tracking), never applied; the merchant dismisses it, on the timeline."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.orders import actions as order_actions
from orderdesk.orders.models import Order, OrderEvent
from orderdesk.stores.actions import dismiss_store_change
from orderdesk.stores.errors import NothingToDismiss
from orderdesk.stores.models import StoreOrderLink
from orderdesk.stores.shopify import order_from_webhook
from orderdesk.stores.sync import apply_incoming_order

from .factories import shopify_store
from .peers import shopify_webhook_order

pytestmark = pytest.mark.django_db

SUMMARY = "Lakbay Shopify cancelled this order after it was dispatched."


def _dispatched_then_cancelled_in_the_store(owner) -> Order:
    store = shopify_store(owner)
    apply_incoming_order(store, order_from_webhook(shopify_webhook_order(1001)))
    order = Order.objects.get(external_id="1001")
    order_actions.dispatch_order(
        order.pk,
        by=owner,
        delivery_reference="JT1",
        expected_on=timezone.localdate(timezone=owner.merchant.zone) + datetime.timedelta(days=2),
    )
    cancelled = shopify_webhook_order(1001, cancelled_at="2026-11-21T10:00:00+08:00")
    apply_incoming_order(store, order_from_webhook(cancelled))
    return order


def _dismiss_url(order) -> str:
    return reverse("stores:dismiss_change", args=[order.pk])


def test_a_cancellation_after_dispatch_shows_a_banner_and_a_marker_and_is_not_applied(owner, owner_client):
    order = _dispatched_then_cancelled_in_the_store(owner)

    order.refresh_from_db()
    assert order.status == Order.Status.DISPATCHED
    page = owner_client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert "Store change needs your attention" in page
    assert SUMMARY in page
    assert f'action="{_dismiss_url(order)}"' in page
    listing = owner_client.get(reverse("orders:tracking"), {"status": "dispatched"}).content.decode()
    assert 'class="badge badge-store-change"' in listing


def test_dismissing_clears_the_flag_and_writes_the_timeline(owner, owner_client):
    order = _dispatched_then_cancelled_in_the_store(owner)

    answer = owner_client.post(_dismiss_url(order))

    assert answer.status_code == 302 and answer["Location"] == reverse("orders:detail", args=[order.pk])
    link = StoreOrderLink.objects.get(order=order)
    assert (link.flagged_change, link.flagged_at) == ("", None)
    dismissed = order.events.get(kind=OrderEvent.Kind.STORE_CHANGE_DISMISSED)
    assert (dismissed.data["summary"], dismissed.actor_name) == (SUMMARY, owner.display_name)
    page = owner_client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert f'action="{_dismiss_url(order)}"' not in page
    assert "Store change dismissed" in page
    listing = owner_client.get(reverse("orders:tracking"), {"status": "dispatched"}).content.decode()
    assert "badge-store-change" not in listing


def test_dismissing_twice_is_refused_saying_why_and_changes_nothing(owner):
    order = _dispatched_then_cancelled_in_the_store(owner)
    dismiss_store_change(order.pk, by=owner)
    events = order.events.count()

    with pytest.raises(NothingToDismiss) as refusal:
        dismiss_store_change(order.pk, by=owner)

    assert refusal.value.message == f"Order {order.reference} has no store change waiting for you."
    assert order.events.count() == events


def test_another_merchants_order_cannot_be_dismissed(owner, client):
    order = _dispatched_then_cancelled_in_the_store(owner)
    stranger = owner_actor()
    client.force_login(stranger.user)

    assert client.post(_dismiss_url(order)).status_code == 404
    assert StoreOrderLink.objects.get(order=order).flagged_change == SUMMARY
