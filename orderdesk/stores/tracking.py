"""Tracking back to the store: when a shipment of a store's order goes to the carrier with a
tracking number, the store hears of it through the outbox (retried, and resent from the
order page when it finally fails).

Shopify: `fulfillmentCreate` on the order's open fulfillment orders, for the shipment's items,
with the tracking info. WooCommerce: an order note with the carrier, the number and the link,
and the status `completed` once every item has shipped.
"""

from __future__ import annotations

import hashlib
import logging

from orderdesk.accounts.actors import Actor
from orderdesk.fulfillment.models import Fulfillment
from orderdesk.notifications.actions import OutgoingMessage, queue_messages
from orderdesk.notifications.errors import PermanentFailure, TemporaryFailure
from orderdesk.notifications.models import Notification
from orderdesk.notifications.topics import Composed
from orderdesk.orders import events as order_events
from orderdesk.orders.links import customer_page_url
from orderdesk.orders.models import Order
from orderdesk.orders.shipping import shipping_progress

from .errors import ConnectionRefused, RequestRefused, StoreUnreachable, TrackingRefused
from .models import Store

logger = logging.getLogger(__name__)

TRACKING_TOPIC = "store.tracking"
# WooCommerce statuses an order may be completed from.
_STILL_OPEN_IN_WOOCOMMERCE = ("pending", "processing", "on-hold")


def queue_tracking_push(order: Order, shipment: Fulfillment, by: Actor) -> list[Notification]:
    """Queue the push of this shipment's tracking to the store the order came from (a handover
    listener, inside the order's transaction). Once per shipment and delivery reference."""
    store = order.store
    if (
        store is None
        or not store.is_connected_store
        or store.removed_at is not None
        # No credentials (the demo data's store, say): the store cannot be told anything.
        or not store.credentials_encrypted
        or not order.external_id
    ):
        return []
    reference = hashlib.sha256(shipment.delivery_reference.encode()).hexdigest()[:16]
    queued = queue_messages(
        [
            OutgoingMessage(
                topic=TRACKING_TOPIC,
                channel=Notification.Channel.STORE,
                audience=Notification.Audience.STORE,
                recipient=store.name[:254],
                idempotency_key=f"store:{store.pk}:tracking:{shipment.pk}:{reference}",
                merchant_id=order.merchant_id,
                about_type="order",
                about_id=str(order.pk),
                payload={
                    "store_id": store.pk,
                    "order_id": order.pk,
                    "shipment_id": shipment.pk,
                    "delivery_reference": shipment.delivery_reference,
                },
            )
        ]
    )
    if queued:
        order_events.record_notifications_queued(order, by=by, notifications=queued)
    return queued


def compose_tracking(notification: Notification) -> Composed:
    """What the outbox shows of the push: the carrier and number, and where they go."""
    shipment = _shipment_of(notification)
    store = shipment.order.store
    what = "a fulfillment" if store.channel == Store.Channel.SHOPIFY else "an order note"
    return Composed(
        subject="",
        body=(
            f"{_carrier(shipment)} {shipment.delivery_reference} for order {shipment.order.reference}, "
            f"sent to {store.name} as {what}."
        ),
    )


def push_tracking(notification: Notification) -> str:
    """Send one queued push to the store; returns the store's id of what it made.

    Raises TemporaryFailure (the store is unreachable or slow: tried again later) or
    PermanentFailure (credentials refused — the store is marked broken —, the order unknown to
    the store, a scope the app lacks, items that match nothing open): the order page shows it with a Resend button.
    """
    from .sync import client_for, mark_connection_broken

    shipment = _shipment_of(notification)
    order = shipment.order
    store = order.store
    if store.removed_at is not None:
        raise PermanentFailure(f"{store.name} was removed; its orders no longer hear from Orderdesk.")
    if store.connection_state == Store.ConnectionState.BROKEN:
        raise PermanentFailure(
            f"{store.name} refuses Orderdesk's credentials; enter new ones on the store page, then resend."
        )
    try:
        client = client_for(store)
        if store.channel == Store.Channel.SHOPIFY:
            return _push_to_shopify(client, order, shipment)
        return _push_to_woocommerce(client, order, shipment)
    except ConnectionRefused as refused:
        mark_connection_broken(store, reason=refused.message)
        raise PermanentFailure(refused.message) from refused
    except (TrackingRefused, RequestRefused) as refusal:
        raise PermanentFailure(refusal.message) from refusal
    except StoreUnreachable as unreachable:
        raise TemporaryFailure(unreachable.message) from unreachable


def _push_to_shopify(client, order: Order, shipment: Fulfillment) -> str:
    """One fulfillmentCreate per fulfillment order holding the shipment's items (matched by SKU,
    else by name). Items Shopify already counts as fulfilled are left alone, so a retry after a
    lost answer creates nothing twice."""
    open_orders = client.open_fulfillment_orders(order.external_id)
    wanted = [
        [entry.order_line.sku, entry.order_line.title, entry.order_line.variant_title, entry.quantity]
        for entry in shipment.lines.select_related("order_line").order_by("pk")
    ]
    allocated: dict[str, list[dict]] = {}
    open_units = 0
    for fulfillment_order in open_orders:
        for item in (fulfillment_order.get("lineItems") or {}).get("nodes") or []:
            remaining = int(item.get("remainingQuantity") or 0)
            open_units += remaining
            for line in wanted:
                if remaining <= 0 or line[3] <= 0 or not _same_item(line, item.get("lineItem") or {}):
                    continue
                taken = min(remaining, line[3])
                line[3] -= taken
                remaining -= taken
                allocated.setdefault(fulfillment_order["id"], []).append(
                    {"id": item["id"], "quantity": taken}
                )
    if not allocated:
        if open_units:
            raise TrackingRefused(
                "None of the shipment's items matches an unfulfilled item of the Shopify order "
                "(by SKU or name), so Shopify was not told."
            )
        return "nothing left to fulfill in Shopify"
    tracking = {
        "company": _carrier(shipment),
        "number": shipment.delivery_reference,
        "url": customer_page_url(order),
    }
    made = [
        client.create_fulfillment(fulfillment_order_id, items, tracking=tracking)
        for fulfillment_order_id, items in allocated.items()
    ]
    return ", ".join(made)


def _same_item(line: list, shopify_item: dict) -> bool:
    sku, title, variant_title = line[0], line[1], line[2]
    if sku and shopify_item.get("sku"):
        return sku == shopify_item["sku"]
    name = str(shopify_item.get("name") or "")
    return name in (title, f"{title} - {variant_title}" if variant_title else title)


def _push_to_woocommerce(client, order: Order, shipment: Fulfillment) -> str:
    """A private order note with the carrier, the number and the link (once: a retry finds the
    note it left), then `completed` when every item of the order has shipped."""
    note = (
        f"Shipped with {_carrier(shipment)}, tracking number {shipment.delivery_reference}. "
        f"Track it at {customer_page_url(order)}"
    )
    existing = next(
        (n for n in client.order_notes(order.external_id) if str(n.get("note", "")).strip() == note),
        None,
    )
    note_id = str(existing["id"]) if existing else client.add_order_note(order.external_id, note)
    everything_shipped = order.status in (Order.Status.DISPATCHED, Order.Status.FULFILLED) or (
        shipping_progress(order).all_on_their_way
    )
    # Never over a cancellation or refund made in the store (that is flagged for the merchant).
    if everything_shipped and client.order_status(order.external_id) in _STILL_OPEN_IN_WOOCOMMERCE:
        client.set_order_status(order.external_id, "completed")
    return f"note {note_id}"


def _carrier(shipment: Fulfillment) -> str:
    return shipment.carrier or shipment.order.shipping_option or "the courier"


def _shipment_of(notification: Notification) -> Fulfillment:
    shipment = (
        Fulfillment.objects.select_related("order__store", "order__merchant")
        .filter(pk=notification.payload.get("shipment_id"), merchant_id=notification.merchant_id)
        .first()
    )
    if shipment is None:
        raise PermanentFailure("The shipment of this tracking no longer exists.")
    return shipment
