"""Vendors' shipments made as allocation makes them: through the shipment actions."""

from __future__ import annotations

from django.test import Client

from orderdesk.accounts.actors import Actor
from orderdesk.accounts.models import Membership
from orderdesk.accounts.tests.factories import MembershipFactory
from orderdesk.fulfillment import actions
from orderdesk.fulfillment.models import Fulfillment
from orderdesk.orders.tests.factories import pending_order
from orderdesk.vendors.tests.factories import VendorFactory


def vendor_shipment(owner: Actor, vendor, *, order=None, line_index: int | None = None) -> Fulfillment:
    """A Pending shipment of the vendor: the order's every line, or only line `line_index`."""
    order = order or pending_order(owner)
    lines = None
    if line_index is not None:
        line = list(order.lines.order_by("pk"))[line_index]
        lines = [actions.ShipmentLine(line.pk, line.quantity)]
    return actions.create_shipment(order.pk, by=owner, vendor_id=vendor.pk, lines=lines)


def vendor_person(vendor) -> Membership:
    return MembershipFactory(merchant=vendor.merchant, role=Membership.Role.VENDOR_USER, vendor=vendor)


def signed_in(membership: Membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def actor_of(membership: Membership) -> Actor:
    return Actor.for_membership(membership)


__all__ = ["VendorFactory", "actor_of", "signed_in", "vendor_person", "vendor_shipment"]
