"""The order page's bottom section: each vendor's part of the order (and the merchant's own),
with its lines, shipping status, costs and dated tracking events, and the order's cost and margin
(after-sales money included: the figures the order row keeps, see orders.after_sales_money).

Built from what `queries.order_for_page` prefetched: no query of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

ZERO = Decimal("0.00")


@dataclass
class PartLine:
    title: str
    variant_title: str
    sku: str
    quantity: int
    unit_cost: Decimal | None = None
    shipping_cost: Decimal | None = None
    line_id: int | None = None

    @property
    def product_cost(self) -> Decimal:
        return (self.unit_cost or ZERO) * self.quantity

    @property
    def shipping_total(self) -> Decimal:
        return (self.shipping_cost or ZERO) * self.quantity


@dataclass
class VendorPart:
    """One shipment of the order by a vendor, or the merchant's own part (shipment None)."""

    name: str
    shipment: object | None
    currency: str
    lines: list[PartLine] = field(default_factory=list)
    # Units of the merchant's part not yet in any shipment (Pending: not allocated).
    unallocated: bool = False

    @property
    def product_cost(self) -> Decimal:
        return sum((line.product_cost for line in self.lines), ZERO)

    @property
    def shipping_cost(self) -> Decimal:
        return sum((line.shipping_total for line in self.lines), ZERO)

    @property
    def cost(self) -> Decimal:
        return self.product_cost + self.shipping_cost

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)


@dataclass
class OrderCosts:
    parts: list[VendorPart]
    # The order's cost (what its vendors charge) and margin, None when a vendor charges in
    # another currency than the order's (the two cannot be added).
    cost: Decimal | None
    margin: Decimal | None
    other_currencies: list[str]
    # After-sales: resends' cost and refunds to the customer lower the margin, vendors' credits raise it.
    resend_cost: Decimal = ZERO
    refunded: Decimal = ZERO
    vendor_credit: Decimal = ZERO

    @property
    def after_sales_cost(self) -> Decimal:
        """Resends and refunds less credits: what after-sales took off the margin."""
        return self.resend_cost + self.refunded - self.vendor_credit


def vendor_parts(order) -> OrderCosts:
    """Each vendor shipment of the order, then the merchant's own part; costs summed per part."""
    parts: list[VendorPart] = []
    placed: dict[int, int] = {}
    for shipment in order.fulfillments.all():
        for entry in shipment.lines.all():
            placed[entry.order_line_id] = placed.get(entry.order_line_id, 0) + entry.quantity
        if shipment.vendor_id is None:
            continue
        parts.append(
            VendorPart(
                name=shipment.vendor.name,
                shipment=shipment,
                currency=shipment.vendor.currency,
                lines=[
                    PartLine(
                        title=entry.order_line.title,
                        variant_title=entry.order_line.variant_title,
                        sku=entry.order_line.sku,
                        quantity=entry.quantity,
                        unit_cost=entry.unit_cost,
                        shipping_cost=entry.shipping_cost,
                        line_id=entry.order_line_id,
                    )
                    for entry in shipment.lines.all()
                ],
            )
        )
    mine = [
        PartLine(
            title=line.title,
            variant_title=line.variant_title,
            sku=line.sku,
            quantity=line.quantity - placed.get(line.pk, 0),
            line_id=line.pk,
        )
        for line in order.lines.all()
        if line.quantity > placed.get(line.pk, 0)
    ]
    if mine:
        parts.append(
            VendorPart(
                name="You (the merchant)",
                shipment=None,
                currency=order.currency,
                lines=mine,
                unallocated=True,
            )
        )
    other_currencies = sorted(
        {part.currency for part in parts if part.shipment and part.currency != order.currency}
    )
    after_sales = {
        "resend_cost": order.resend_cost_total,
        "refunded": order.refunded_total,
        "vendor_credit": order.vendor_credit_total,
    }
    if other_currencies:
        return OrderCosts(
            parts=parts, cost=None, margin=None, other_currencies=other_currencies, **after_sales
        )
    cost = sum((part.cost for part in parts if part.shipment is not None), ZERO)
    has_vendor = any(part.shipment is not None for part in parts)
    return OrderCosts(
        parts=parts,
        cost=cost if has_vendor else None,
        margin=order_margin(order, cost) if has_vendor else None,
        other_currencies=[],
        **after_sales,
    )


def order_margin(order, vendor_cost: Decimal) -> Decimal:
    """The one margin rule (the order page and Order Tracking): what the customer paid less what
    the vendors charge, less after-sales' refunds and resends, plus the vendors' credits."""
    return order.total - vendor_cost - order.after_sales_cost
