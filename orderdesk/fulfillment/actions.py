"""The write side of shipments. Called by order actions inside their transaction
(the order row is already locked, so lines and shipments are locked after it)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.utils import timezone

from orderdesk.accounts.actors import Actor

from .errors import ShippingStatusRefused
from .models import SHIPPING_TRANSITIONS, Fulfillment, FulfillmentLine, TrackingEvent


def ship_all_lines_by_merchant(
    order,
    *,
    by: Actor,
    carrier: str,
    delivery_reference: str,
    expected_on: datetime.date,
    message: str = "",
    photos: Sequence = (),
) -> Fulfillment:
    """The merchant hands every line of the order to the courier: one shipment, In transit."""
    now = timezone.now()
    shipment = Fulfillment.objects.create(
        merchant_id=order.merchant_id,
        order=order,
        status=Fulfillment.ShippingStatus.IN_TRANSIT,
        carrier=carrier,
        delivery_reference=delivery_reference,
        expected_on=expected_on,
        message=message,
        created_by=by.user,
        created_at=now,
        shipped_at=now,
    )
    FulfillmentLine.objects.bulk_create(
        FulfillmentLine(
            merchant_id=order.merchant_id,
            fulfillment=shipment,
            order_line=line,
            quantity=line.quantity,
        )
        for line in order.lines.all()
    )
    if photos:
        shipment.photos.set(photos)
    TrackingEvent.objects.create(
        merchant_id=order.merchant_id,
        fulfillment=shipment,
        status=shipment.status,
        occurred_at=now,
        text=f"Handed to {carrier or 'the courier'}, reference {delivery_reference}",
    )
    return shipment


def mark_merchant_shipments_delivered(order, *, by: Actor) -> list[Fulfillment]:
    """Every shipment of the order not yet delivered becomes Delivered (the merchant says so).

    Raises ShippingStatusRefused for a shipment that has not left yet (Pending).
    """
    return _move_open_shipments(
        order, to=Fulfillment.ShippingStatus.DELIVERED, text=f"Marked delivered by {by.display_name}"
    )


def flag_shipments_of_cancelled_order(order, *, reason: str) -> list[Fulfillment]:
    """Shipments of a cancelled order not yet delivered become Exception, saying why."""
    return _move_open_shipments(
        order, to=Fulfillment.ShippingStatus.EXCEPTION, text=f"Order cancelled: {reason}"
    )


def _move_open_shipments(order, *, to: str, text: str) -> list[Fulfillment]:
    """Move the order's shipments not already delivered or in `to`, each with a tracking event."""
    now = timezone.now()
    moved = []
    open_shipments = (
        Fulfillment.objects.select_for_update()
        .filter(order=order)
        .exclude(status__in=[Fulfillment.ShippingStatus.DELIVERED, to])
        .order_by("pk")
    )
    for shipment in open_shipments:
        if to not in SHIPPING_TRANSITIONS[shipment.status]:
            raise ShippingStatusRefused(
                f"Shipment {shipment.delivery_reference or shipment.pk} is "
                f"{shipment.get_status_display().lower()}, so it cannot become {Fulfillment.ShippingStatus(to).label.lower()}."
            )
        shipment.status = to
        if to == Fulfillment.ShippingStatus.DELIVERED:
            shipment.delivered_at = now
        shipment.save(update_fields=["status", "delivered_at"])
        TrackingEvent.objects.create(
            merchant_id=order.merchant_id, fulfillment=shipment, status=to, occurred_at=now, text=text
        )
        moved.append(shipment)
    return moved
