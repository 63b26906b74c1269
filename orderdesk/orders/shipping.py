"""What an order's shipments say about it, and the one rule by which its status follows them.

An order is **dispatched** when every unit of every line is in a shipment that is in transit
or delivered. Until then a Pending order stays Pending; when some units are on their way and
others are not (not yet in a shipment, or in one still pending, processing or held up by an
exception) it is **partly dispatched**: Pending, shown with that note. Only the merchant's
explicit Fulfill makes an order Fulfilled, a cancelled order stays cancelled whatever its
shipments do, and a Dispatched order never goes back to Pending when a shipment meets an
exception (the shipment shows the exception).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Sum

from orderdesk.fulfillment.models import ON_ITS_WAY, FulfillmentLine

from .models import Order, OrderLine


@dataclass(frozen=True)
class ShippingProgress:
    """How many of the order's units were ordered, are in shipments, and are on their way."""

    units_ordered: int
    units_in_shipments: int
    units_on_their_way: int

    @property
    def all_on_their_way(self) -> bool:
        return self.units_ordered > 0 and self.units_on_their_way >= self.units_ordered

    @property
    def partly_dispatched(self) -> bool:
        return 0 < self.units_on_their_way < self.units_ordered


def shipping_progress(order: Order) -> ShippingProgress:
    """The order's units counted against its shipments (two queries)."""
    ordered = OrderLine.objects.filter(order_id=order.pk).aggregate(units=Sum("quantity"))["units"] or 0
    shipped = FulfillmentLine.objects.filter(fulfillment__order_id=order.pk)
    in_shipments = shipped.aggregate(units=Sum("quantity"))["units"] or 0
    on_their_way = (
        shipped.filter(fulfillment__status__in=ON_ITS_WAY).aggregate(units=Sum("quantity"))["units"] or 0
    )
    return ShippingProgress(
        units_ordered=ordered, units_in_shipments=in_shipments, units_on_their_way=on_their_way
    )


def status_following_shipments(status: str, progress: ShippingProgress) -> str:
    """The order status its shipments call for: the one roll-up rule (see the module docstring)."""
    if status == Order.Status.PENDING and progress.all_on_their_way:
        return Order.Status.DISPATCHED
    return status
