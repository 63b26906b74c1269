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

from .models import Order


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
    """The order's units counted against its shipments; uses the lines and shipments (with
    their lines) already prefetched, as the order page has them, else reads them."""
    ordered = sum(line.quantity for line in order.lines.all())
    in_shipments = on_their_way = 0
    for shipment in order.fulfillments.all():
        if shipment.is_resend:
            # An after-sales resend ships units again; the order's own progress ignores it.
            continue
        units = sum(entry.quantity for entry in shipment.lines.all())
        in_shipments += units
        if shipment.is_on_its_way:
            on_their_way += units
    return ShippingProgress(
        units_ordered=ordered, units_in_shipments=in_shipments, units_on_their_way=on_their_way
    )


def status_following_shipments(status: str, progress: ShippingProgress) -> str:
    """The order status its shipments call for: the one roll-up rule (see the module docstring)."""
    if status == Order.Status.PENDING and progress.all_on_their_way:
        return Order.Status.DISPATCHED
    return status
