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


def vendor_actor(vendor):
    from orderdesk.accounts.actors import Actor
    from orderdesk.accounts.models import Membership
    from orderdesk.accounts.tests.factories import MembershipFactory

    membership = MembershipFactory(merchant=vendor.merchant, role=Membership.Role.VENDOR_USER, vendor=vendor)
    return Actor.for_membership(membership)


def test_a_vendor_ships_what_it_is_given_and_allocates_nothing_itself():
    from orderdesk.accounts.errors import NotAllowed

    owner = owner_actor()
    order = pending_order(owner)
    vendor = VendorFactory(merchant=owner.merchant)

    with pytest.raises(NotAllowed, match="allocate items"):
        actions.create_shipment(order.pk, by=vendor_actor(vendor), vendor_id=vendor.pk)

    assert not Fulfillment.objects.filter(order=order).exists()


def test_a_vendor_sends_again_only_as_itself():
    from orderdesk.accounts.errors import NotAllowed

    owner = owner_actor()
    order = pending_order(owner)
    vendor, other = VendorFactory(merchant=owner.merchant), VendorFactory(merchant=owner.merchant)
    agent = vendor_actor(vendor)

    with pytest.raises(NotAllowed):
        actions.create_shipment(order.pk, by=agent, vendor_id=other.pk, resend=True)
    resend = actions.create_shipment(order.pk, by=agent, vendor_id=vendor.pk, resend=True)

    assert (resend.vendor_id, resend.is_resend) == (vendor.pk, True)
    assert list(Fulfillment.objects.filter(order=order)) == [resend]
