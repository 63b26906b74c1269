"""The read side of orders: tenant-scoped querysets for Order Tracking and the order page."""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet

from orderdesk.fulfillment.models import Fulfillment

from .models import Order, OrderEvent

TRACKING_TABS = [
    Order.Status.PENDING,
    Order.Status.DISPATCHED,
    Order.Status.FULFILLED,
    Order.Status.CANCELLED,
]


def orders_in_tab(merchant, status: str) -> QuerySet[Order]:
    """One Order Tracking tab, newest first (served by the order_tracking_tab index)."""
    return Order.objects.for_merchant(merchant).filter(status=status).order_by("-placed_at", "-id")


def tab_counts(merchant) -> dict[str, int]:
    """How many orders each Order Tracking tab holds."""
    counts = dict.fromkeys(TRACKING_TABS, 0)
    rows = (
        Order.objects.for_merchant(merchant)
        .filter(status__in=TRACKING_TABS)
        .values("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        counts[row["status"]] = row["n"]
    return counts


def order_for_page(merchant, order_id) -> Order:
    """One order with everything its page shows; Order.DoesNotExist outside the merchant."""
    return (
        Order.objects.for_merchant(merchant)
        .select_related("store", "merchant")
        .prefetch_related(
            "lines",
            Prefetch(
                "fulfillments",
                queryset=Fulfillment.objects.prefetch_related("photos", "tracking_events", "lines"),
            ),
            Prefetch("events", queryset=OrderEvent.objects.select_related("actor")),
        )
        .get(pk=order_id)
    )
