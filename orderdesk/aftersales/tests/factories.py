"""Orders shipped partly by a vendor and partly by the merchant, made through the domain functions."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from orderdesk.accounts.actors import Actor
from orderdesk.accounts.models import Membership
from orderdesk.accounts.tests.factories import MembershipFactory, owner_actor
from orderdesk.fulfillment.actions import ShipmentLine, create_shipment
from orderdesk.orders import actions as order_actions
from orderdesk.orders.models import Order, OrderLine
from orderdesk.orders.tests.factories import pending_order
from orderdesk.vendors.models import Vendor
from orderdesk.vendors.tests.factories import VendorFactory

UNIT_COST = Decimal("300.00")
SHIPPING_COST = Decimal("50.00")


@dataclass
class ShippedOrder:
    """An order of 2 × Linen shirt (shipped by `vendor`) and 1 × Canvas tote (shipped by the
    merchant), both handed to the courier; total PHP 2,068.50 paid by GCash."""

    owner: Actor
    vendor: Vendor
    vendor_user: Actor
    order: Order
    shirt: OrderLine
    tote: OrderLine


def vendor_actor(vendor: Vendor) -> Actor:
    membership = MembershipFactory(merchant=vendor.merchant, role=Membership.Role.VENDOR_USER, vendor=vendor)
    return Actor.for_user(membership.user)


def shipped_order(
    owner: Actor | None = None, *, vendor: Vendor | None = None, vendor_in_transit=True
) -> ShippedOrder:
    owner = owner or owner_actor()
    vendor = vendor or VendorFactory(merchant=owner.merchant)
    order = pending_order(owner)
    shirt, tote = order.lines.order_by("pk")
    shipment = create_shipment(
        order.pk,
        by=owner,
        vendor_id=vendor.pk,
        lines=[ShipmentLine(shirt.pk, 2, unit_cost=UNIT_COST, shipping_cost=SHIPPING_COST)],
    )
    if vendor_in_transit:
        order_actions.move_order_shipment(
            shipment.pk, by=owner, to="in_transit", carrier="LBC", delivery_reference="LBC-100"
        )
        order_actions.dispatch_order(
            order.pk,
            by=owner,
            delivery_reference="JT-200",
            expected_on=timezone.localdate(timezone=owner.merchant.zone) + datetime.timedelta(days=2),
        )
    order.refresh_from_db()
    return ShippedOrder(
        owner=owner, vendor=vendor, vendor_user=vendor_actor(vendor), order=order, shirt=shirt, tote=tote
    )
