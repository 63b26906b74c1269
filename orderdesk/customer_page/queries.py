"""The read side of the customer page (the customer's own page of their order, by link): what
a customer may see of their order. Not the merchant's Order Tracking list, nor a carrier's
tracking events.

The page is reached by the order's unguessable tracking token alone, so it shows
only what the customer already knows or should: no staff names, no internal notes,
no notification data, no customer contact details.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Prefetch

from orderdesk.fulfillment.models import Fulfillment
from orderdesk.orders import events
from orderdesk.orders.models import Order, OrderEvent

# What the customer reads for each order status.
CUSTOMER_STATUS = {
    Order.Status.AWAITING_PAYMENT: "Awaiting payment",
    Order.Status.PENDING: "Being prepared",
    Order.Status.DISPATCHED: "On its way",
    Order.Status.FULFILLED: "Delivered",
    Order.Status.CANCELLED: "Cancelled",
}

# Timeline events a customer sees; every other kind (notes, notifications, …) stays internal.
CUSTOMER_EVENTS = {
    OrderEvent.Kind.PLACED: "Order placed",
    OrderEvent.Kind.PAYMENT_VERIFIED: "Payment confirmed",
    OrderEvent.Kind.COD_CONFIRMED: "Order confirmed, cash on delivery",
    OrderEvent.Kind.DISPATCHED: "Handed to the courier",
    OrderEvent.Kind.FULFILLED: "Delivered",
    OrderEvent.Kind.CANCELLED: "Cancelled",
}


@dataclass(frozen=True)
class Milestone:
    at: datetime.datetime
    title: str
    detail: str = ""


def order_for_customer_page(token: str) -> Order:
    """The order with this tracking token and what its page shows; Order.DoesNotExist otherwise."""
    return (
        Order.objects.select_related("merchant")
        .prefetch_related(
            "lines",
            Prefetch(
                "fulfillments",
                queryset=Fulfillment.objects.order_by("created_at", "id").prefetch_related(
                    "photos", "tracking_events", "lines__order_line"
                ),
            ),
            Prefetch(
                "events",
                queryset=OrderEvent.objects.filter(kind__in=list(CUSTOMER_EVENTS)).order_by(
                    "created_at", "id"
                ),
                to_attr="customer_events",
            ),
        )
        .get(customer_page_token=token)
    )


def customer_timeline(order: Order) -> list[Milestone]:
    """The order's milestones in customer words, oldest first (from order_for_customer_page)."""
    milestones = []
    for event in order.customer_events:
        detail = ""
        if event.kind == OrderEvent.Kind.DISPATCHED:
            dispatched = events.dispatch_details(event)
            detail = f"{dispatched.carrier or 'the courier'}, reference {dispatched.delivery_reference}"
        elif event.kind == OrderEvent.Kind.CANCELLED:
            detail = events.cancel_reason(event)
        milestones.append(Milestone(at=event.created_at, title=CUSTOMER_EVENTS[event.kind], detail=detail))
    return milestones
