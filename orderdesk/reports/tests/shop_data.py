"""Random shops written straight to the tables, as the bench does: a report only reads them.

Each order is what the actions leave behind (status, timestamps, lines, shipments with their
vendors, costs and tracking events), with times chosen near midnight in the merchant's zone so
that day boundaries are tried.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from hypothesis import strategies as st

from orderdesk.fulfillment.models import Fulfillment, FulfillmentLine, TrackingEvent
from orderdesk.orders.models import Order, OrderLine
from orderdesk.stores.models import Store
from orderdesk.vendors.models import Vendor

ZONES = ["Asia/Manila", "America/New_York", "Pacific/Kiritimati", "UTC"]
DAY_ONE = datetime.date(2026, 3, 1)


@dataclass(frozen=True)
class ShipmentSpec:
    vendor: int | None  # index into the shop's vendors
    status: str
    hours_to_ship: int | None
    hours_to_deliver: int | None
    had_exception: bool
    unit_cost: Decimal | None
    shipping_cost: Decimal | None


@dataclass(frozen=True)
class OrderSpec:
    store: int
    day: int
    # Minutes from local midnight: near 0 and near 1440 try both sides of the boundary.
    minute: int
    status: str
    processing_days: int
    line_prices: tuple[Decimal, ...]
    quantities: tuple[int, ...]
    shipment: ShipmentSpec | None


prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2)
costs = st.one_of(st.none(), st.decimals(min_value=Decimal("0"), max_value=Decimal("900"), places=2))

shipments = st.builds(
    ShipmentSpec,
    vendor=st.one_of(st.none(), st.integers(0, 1)),
    status=st.sampled_from(Fulfillment.ShippingStatus.values),
    hours_to_ship=st.one_of(st.none(), st.integers(0, 24 * 8)),
    hours_to_deliver=st.one_of(st.none(), st.integers(0, 24 * 6)),
    had_exception=st.booleans(),
    unit_cost=costs,
    shipping_cost=costs,
)

orders = st.builds(
    OrderSpec,
    store=st.integers(0, 1),
    day=st.integers(0, 40),
    minute=st.one_of(st.integers(0, 3), st.integers(1436, 1439), st.integers(0, 1439)),
    status=st.sampled_from(Order.Status.values),
    processing_days=st.integers(0, 4),
    line_prices=st.lists(prices, min_size=1, max_size=3).map(tuple),
    quantities=st.lists(st.integers(1, 4), min_size=3, max_size=3).map(tuple),
    shipment=st.one_of(st.none(), shipments),
)


def write_shop(merchant, specs: list[OrderSpec], *, now: datetime.datetime) -> None:
    """Write the orders of `specs` for `merchant`, with two stores and two vendors."""
    stores = [Store.objects.create(merchant=merchant, name=f"Store {n}") for n in range(2)]
    vendors = [
        Vendor.objects.create(merchant=merchant, name=f"Vendor {n}", processing_days=n + 1) for n in range(2)
    ]
    zone = merchant.zone
    for number, spec in enumerate(specs):
        local = datetime.datetime.combine(DAY_ONE + datetime.timedelta(days=spec.day), datetime.time())
        placed_at = (local + datetime.timedelta(minutes=spec.minute)).replace(tzinfo=zone)
        paid = spec.status != Order.Status.AWAITING_PAYMENT
        paid_at = placed_at + datetime.timedelta(minutes=30) if paid else None
        subtotal = sum(
            (price * quantity for price, quantity in zip(spec.line_prices, spec.quantities, strict=False)),
            Decimal("0"),
        )
        order = Order.objects.create(
            merchant=merchant,
            store=stores[spec.store],
            reference=f"R-{merchant.pk}-{number}",
            status=spec.status,
            customer_name="Maria Santos",
            currency=merchant.currency,
            subtotal=subtotal,
            total=subtotal,
            payment_method=Order.PaymentMethod.GCASH,
            processing_days=spec.processing_days,
            placed_at=placed_at,
            payment_verified_at=paid_at,
            due_on=(paid_at.astimezone(zone).date() + datetime.timedelta(days=spec.processing_days))
            if paid
            else None,
        )
        lines = OrderLine.objects.bulk_create(
            OrderLine(
                merchant=merchant, order=order, title=f"Product {n}", sku=f"SKU-{n}", quantity=q, unit_price=p
            )
            for n, (p, q) in enumerate(zip(spec.line_prices, spec.quantities, strict=False))
        )
        shipment = spec.shipment
        if shipment is None or not paid:
            continue
        created_at = paid_at + datetime.timedelta(hours=1)
        shipped_at = (
            created_at + datetime.timedelta(hours=shipment.hours_to_ship)
            if shipment.hours_to_ship is not None
            and shipment.status in ("in_transit", "delivered", "exception")
            else None
        )
        delivered_at = (
            (shipped_at or created_at) + datetime.timedelta(hours=shipment.hours_to_deliver or 0)
            if shipment.status == "delivered"
            else None
        )
        vendor = vendors[shipment.vendor] if shipment.vendor is not None else None
        fulfillment = Fulfillment.objects.create(
            merchant=merchant,
            order=order,
            shipped_by=Fulfillment.Shipper.VENDOR if vendor else Fulfillment.Shipper.MERCHANT,
            vendor=vendor,
            status=shipment.status,
            created_at=created_at,
            shipped_at=shipped_at if shipped_at and shipped_at <= now else None,
            delivered_at=delivered_at,
        )
        FulfillmentLine.objects.bulk_create(
            FulfillmentLine(
                merchant=merchant,
                fulfillment=fulfillment,
                order_line=line,
                quantity=line.quantity,
                unit_cost=shipment.unit_cost if vendor else None,
                shipping_cost=shipment.shipping_cost if vendor else None,
            )
            for line in lines
        )
        if shipment.had_exception or shipment.status == "exception":
            TrackingEvent.objects.create(
                merchant=merchant, fulfillment=fulfillment, status="exception", occurred_at=created_at
            )
