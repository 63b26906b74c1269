"""Shipments made through the shipment actions, so each holds the tracking events a real one has."""

import datetime

from django.utils import timezone

from orderdesk.accounts.actors import Actor
from orderdesk.fulfillment import actions
from orderdesk.fulfillment.actions import Handover, ShipmentLine
from orderdesk.fulfillment.models import Fulfillment
from orderdesk.orders.models import Order
from orderdesk.orders.tests.factories import pending_order

Status = Fulfillment.ShippingStatus


def handover(actor: Actor, reference: str = "JT0001", carrier: str = "J&T Express") -> Handover:
    """The courier's details for a parcel handed over today, expected in two days."""
    return actions.checked_handover(
        by=actor,
        carrier=carrier,
        delivery_reference=reference,
        expected_on=timezone.localdate(timezone=actor.merchant.zone) + datetime.timedelta(days=2),
    )


def all_of(order: Order) -> list[ShipmentLine]:
    return [ShipmentLine(line.pk, line.quantity) for line in order.lines.all()]


def shipment_in_status(
    actor: Actor, status: str, *, order: Order | None = None, lines: list[ShipmentLine] | None = None
) -> Fulfillment:
    """A shipment of the merchant's, brought to `status` by the shipment actions' allowed moves."""
    order = order or pending_order(actor)
    lines = all_of(order) if lines is None else lines
    if status in (Status.PENDING, Status.PROCESSING):
        return actions.create_shipment(order.pk, by=actor, lines=lines, status=status)
    if status == Status.EXCEPTION:
        shipment = actions.create_shipment(order.pk, by=actor, lines=lines)
        return actions.move_shipment(shipment.pk, by=actor, to=status, reason="Parcel damaged at the hub")
    shipment = actions.create_shipment(
        order.pk, by=actor, lines=lines, status=Status.IN_TRANSIT, handover=handover(actor)
    )
    if status == Status.DELIVERED:
        shipment = actions.move_shipment(shipment.pk, by=actor, to=status)
    return shipment
