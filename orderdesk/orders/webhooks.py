"""The order events merchants' endpoints can subscribe to, and telling them when one happens.

Every timeline event passes through events._record; the kinds below are also webhook events
(the api app sends them), published in the transaction that wrote the timeline event.
"""

from __future__ import annotations

from orderdesk.notifications.webhooks import PublishedEvent, publish_webhook_events, register_webhook_event

from .models import OrderEvent

# Timeline kind → webhook event. Cash on delivery confirmed is "paid" to a developer too.
WEBHOOK_EVENT_OF_KIND = {
    OrderEvent.Kind.PLACED: "order.created",
    OrderEvent.Kind.PAYMENT_VERIFIED: "order.paid",
    OrderEvent.Kind.COD_CONFIRMED: "order.paid",
    OrderEvent.Kind.DISPATCHED: "order.dispatched",
    OrderEvent.Kind.FULFILLED: "order.fulfilled",
    OrderEvent.Kind.CANCELLED: "order.cancelled",
}

_LABELS = {
    "order.created": "An order is placed",
    "order.paid": "An order's payment is verified (or cash on delivery confirmed)",
    "order.dispatched": "An order is dispatched",
    "order.fulfilled": "An order is fulfilled",
    "order.cancelled": "An order is cancelled",
}


def register_order_webhook_events() -> None:
    for name, label in _LABELS.items():
        register_webhook_event(name, label=label, about_type="order")


def publish_order_events(events: list[OrderEvent], *, orders: list | None = None) -> None:
    """Tell the merchants' endpoints about these timeline events, those they can hear of, in
    one go (a batch of new orders looks its endpoints up once). `orders` saves reading them."""
    held = {order.pk: order for order in orders or []}
    published = [
        PublishedEvent(
            name=WEBHOOK_EVENT_OF_KIND[event.kind],
            event_id=f"evt_order_event_{event.pk}",
            merchant_id=event.merchant_id,
            about_type="order",
            about_id=str(event.order_id),
            occurred_at=event.created_at,
            subject=held.get(event.order_id),
        )
        for event in events
        if event.kind in WEBHOOK_EVENT_OF_KIND
    ]
    publish_webhook_events(published)
