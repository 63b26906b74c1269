"""An order the store shows as fulfilled: what the merchant is told.

A store marks an order fulfilled when Orderdesk's tracking reached it (tracking.py), or when
someone fulfilled it in the store itself: shipped from the shop's own stock, handed over at a
counter, marked fulfilled by hand or by another app. The second kind brings no tracking number,
and Orderdesk cannot tell whether the parcel left or a button was pressed by mistake, so the
order is never moved here silently (that would drop a vendor's work in progress or a dispatch
the merchant is about to make): it keeps its status and is flagged with what the store said,
on the timeline and as the store-change banner the merchant dismisses (like a change after
dispatch). An order already dispatched or fulfilled here, or one whose tracking Orderdesk sent
to the store, was expected to be fulfilled there: nothing to say.
"""

from __future__ import annotations

from orderdesk.notifications.models import Notification
from orderdesk.orders.models import Order

from .models import Store
from .tracking import TRACKING_TOPIC


def flag_summary(store: Store, order: Order) -> str | None:
    """What to flag on the order now that the store shows it fulfilled (None: nothing)."""
    if order.status in (Order.Status.DISPATCHED, Order.Status.FULFILLED):
        return None
    if order.status == Order.Status.CANCELLED:
        return (
            f"{store.name} shows this order as fulfilled, but it was cancelled here. "
            "Check the order in the store."
        )
    if Notification.objects.filter(topic=TRACKING_TOPIC, about_type="order", about_id=str(order.pk)).exists():
        # Shipments of it went out from here with tracking: the store's fulfillment is ours.
        return None
    return (
        f"{store.name} shows this order as fulfilled outside Orderdesk, with no tracking number "
        f"for us; it was left {order.get_status_display().lower()} here. If it has shipped, "
        "dispatch it here with its tracking (or cancel it); if not, check the order in the store."
    )
