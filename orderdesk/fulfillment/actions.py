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
    """Every shipment of the order not yet delivered becomes Delivered (the merchant says so)."""
    now = timezone.now()
    delivered = []
    open_shipments = (
        Fulfillment.objects.select_for_update()
        .filter(order=order)
        .exclude(status=Fulfillment.ShippingStatus.DELIVERED)
        .order_by("pk")
    )
    for shipment in open_shipments:
        if Fulfillment.ShippingStatus.DELIVERED not in SHIPPING_TRANSITIONS[shipment.status]:
            raise ShippingStatusRefused(
                f"Shipment {shipment.delivery_reference or shipment.pk} is "
                f"{shipment.get_status_display().lower()}, so it cannot be marked delivered."
            )
        shipment.status = Fulfillment.ShippingStatus.DELIVERED
        shipment.delivered_at = now
        shipment.save(update_fields=["status", "delivered_at"])
        TrackingEvent.objects.create(
            merchant_id=order.merchant_id,
            fulfillment=shipment,
            status=shipment.status,
            occurred_at=now,
            text=f"Marked delivered by {by.display_name}",
        )
        delivered.append(shipment)
    return delivered


def flag_shipments_of_cancelled_order(order, *, reason: str) -> list[Fulfillment]:
    """Shipments of a cancelled order not yet delivered become Exception, saying why."""
    now = timezone.now()
    flagged = []
    open_shipments = (
        Fulfillment.objects.select_for_update()
        .filter(order=order)
        .exclude(status__in=[Fulfillment.ShippingStatus.DELIVERED, Fulfillment.ShippingStatus.EXCEPTION])
        .order_by("pk")
    )
    for shipment in open_shipments:
        shipment.status = Fulfillment.ShippingStatus.EXCEPTION
        shipment.save(update_fields=["status"])
        TrackingEvent.objects.create(
            merchant_id=order.merchant_id,
            fulfillment=shipment,
            status=shipment.status,
            occurred_at=now,
            text=f"Order cancelled: {reason}",
        )
        flagged.append(shipment)
    return flagged
