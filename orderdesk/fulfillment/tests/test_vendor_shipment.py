"""A shipment by a vendor names the vendor and keeps each line's cost as it was when allocated."""

from decimal import Decimal

import pytest

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.fulfillment import actions
from orderdesk.fulfillment.models import Fulfillment
from orderdesk.orders.tests.factories import pending_order
from orderdesk.vendors.tests.factories import VendorFactory

pytestmark = pytest.mark.django_db


def test_a_vendor_shipment_names_its_vendor_and_snapshots_the_costs():
    owner = owner_actor()
    order = pending_order(owner)
    vendor = VendorFactory(merchant=owner.merchant)
    line = order.lines.first()

    shipment = actions.create_shipment(
        order.pk,
        by=owner,
        vendor_id=vendor.pk,
        lines=[
            actions.ShipmentLine(
                line.pk, line.quantity, unit_cost=Decimal("80.50"), shipping_cost=Decimal("12")
            )
        ],
    )

    shipment.refresh_from_db()
    assert (shipment.shipped_by, shipment.vendor_id) == (Fulfillment.Shipper.VENDOR, vendor.pk)
    entry = shipment.lines.get()
    assert (entry.unit_cost, entry.shipping_cost) == (Decimal("80.50"), Decimal("12.00"))


def test_the_merchants_own_shipment_has_no_vendor_and_no_costs():
    owner = owner_actor()
    order = pending_order(owner)

    shipment = actions.create_shipment(order.pk, by=owner)

    assert (shipment.shipped_by, shipment.vendor_id) == (Fulfillment.Shipper.MERCHANT, None)
    assert {(entry.unit_cost, entry.shipping_cost) for entry in shipment.lines.all()} == {(None, None)}
