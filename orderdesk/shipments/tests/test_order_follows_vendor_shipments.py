"""The order's roll-up over every combination of its shipments' statuses, for orders shipped
by 1, 2 and 3 vendors: Dispatched exactly when every unit is in transit or delivered;
Fulfilled by itself only when the merchant chose it and every shipment is delivered."""

import itertools
from decimal import Decimal

import pytest

from orderdesk.fulfillment.models import Fulfillment
from orderdesk.orders.actions import LineInput, move_order_shipment
from orderdesk.orders.models import Order, OrderEvent
from orderdesk.orders.tests.factories import pending_order

from .factories import VendorFactory, vendor_shipment

pytestmark = pytest.mark.django_db
Status = Fulfillment.ShippingStatus

# Forward routes only (an exception straight from pending), so the final statuses decide.
ROUTE = {
    Status.PENDING: [],
    Status.PROCESSING: [Status.PROCESSING],
    Status.IN_TRANSIT: [Status.PROCESSING, Status.IN_TRANSIT],
    Status.EXCEPTION: [Status.EXCEPTION],
    Status.DELIVERED: [Status.IN_TRANSIT, Status.DELIVERED],
}
ON_ITS_WAY = {Status.IN_TRANSIT, Status.DELIVERED}


def _order_of(owner, vendors: int):
    lines = [
        LineInput(title=f"Item {n}", sku=f"SKU-{n}", quantity=n + 1, unit_price=Decimal("100.00"))
        for n in range(vendors)
    ]
    order = pending_order(owner, lines=lines)
    shipments = [
        vendor_shipment(owner, VendorFactory(merchant=owner.merchant), order=order, line_index=n)
        for n in range(vendors)
    ]
    return order, shipments


def _walk(owner, shipments, statuses):
    for shipment, status in zip(shipments, statuses, strict=True):
        for step in ROUTE[status]:
            move_order_shipment(
                shipment.pk,
                by=owner,
                to=step,
                delivery_reference=f"REF-{shipment.pk}" if step == Status.IN_TRANSIT else "",
                reason="Held at the depot" if step == Status.EXCEPTION else "",
            )


@pytest.mark.parametrize("vendors", [1, 2, 3])
def test_the_order_is_dispatched_exactly_when_every_shipment_is_on_its_way(owner, vendors):
    for statuses in itertools.product(Status.values, repeat=vendors):
        order, shipments = _order_of(owner, vendors)

        _walk(owner, shipments, statuses)

        order.refresh_from_db()
        expected = Order.Status.DISPATCHED if set(statuses) <= ON_ITS_WAY else Order.Status.PENDING
        assert order.status == expected, statuses
        assert order.events.filter(kind=OrderEvent.Kind.DISPATCHED).count() == (expected == "dispatched")


@pytest.mark.parametrize("vendors", [1, 2, 3])
def test_with_fulfil_when_delivered_the_last_delivery_fulfills_the_order(owner, vendors):
    owner.merchant.fulfil_when_delivered = True
    owner.merchant.save(update_fields=["fulfil_when_delivered"])
    for statuses in itertools.product(
        [Status.IN_TRANSIT, Status.DELIVERED, Status.EXCEPTION], repeat=vendors
    ):
        order, shipments = _order_of(owner, vendors)

        _walk(owner, shipments, statuses)

        order.refresh_from_db()
        if set(statuses) == {Status.DELIVERED}:
            assert order.status == Order.Status.FULFILLED, statuses
            assert order.events.filter(kind=OrderEvent.Kind.FULFILLED).count() == 1
        elif set(statuses) <= ON_ITS_WAY:
            assert order.status == Order.Status.DISPATCHED, statuses
        else:
            assert order.status == Order.Status.PENDING, statuses


def test_without_the_setting_every_delivery_leaves_the_order_dispatched_for_the_merchant_to_fulfill(owner):
    order, shipments = _order_of(owner, 2)

    _walk(owner, shipments, [Status.DELIVERED, Status.DELIVERED])

    order.refresh_from_db()
    assert order.status == Order.Status.DISPATCHED
    assert not order.events.filter(kind=OrderEvent.Kind.FULFILLED).exists()
