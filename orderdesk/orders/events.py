"""The order timeline: one function per kind of event; nothing else writes OrderEvent rows."""

from __future__ import annotations

from typing import Any

from orderdesk.accounts.actors import Actor

from .models import Order, OrderEvent


def _record(order: Order, kind: str, by: Actor, data: dict[str, Any]) -> OrderEvent:
    return OrderEvent.objects.create(
        merchant_id=order.merchant_id,
        order=order,
        kind=kind,
        actor=by.user,
        actor_name=by.display_name,
        data=data,
    )


def record_order_placed(order: Order, *, by: Actor) -> OrderEvent:
    return _record(
        order,
        OrderEvent.Kind.PLACED,
        by,
        {
            "reference": order.reference,
            "store": order.store.name,
            "external_id": order.external_id,
            "total": str(order.total),
            "currency": order.currency,
            "payment_method": order.payment_method,
            "lines": order.lines.count(),
        },
    )


def record_payment_verified(order: Order, *, by: Actor, status_before: str) -> OrderEvent:
    kind = (
        OrderEvent.Kind.COD_CONFIRMED
        if order.payment_status == Order.PaymentStatus.COD_CONFIRMED
        else OrderEvent.Kind.PAYMENT_VERIFIED
    )
    return _record(
        order,
        kind,
        by,
        {
            "status": {"before": status_before, "after": order.status},
            "payment_status": order.payment_status,
            "due_on": order.due_on.isoformat() if order.due_on else None,
        },
    )


def record_order_dispatched(order: Order, *, by: Actor, status_before: str, shipment) -> OrderEvent:
    return _record(
        order,
        OrderEvent.Kind.DISPATCHED,
        by,
        {
            "status": {"before": status_before, "after": order.status},
            "fulfillment_id": shipment.pk,
            "carrier": shipment.carrier,
            "delivery_reference": shipment.delivery_reference,
            "expected_on": shipment.expected_on.isoformat(),
            "message": shipment.message,
            "photos": shipment.photos.count(),
        },
    )


def record_order_fulfilled(order: Order, *, by: Actor, status_before: str) -> OrderEvent:
    return _record(
        order,
        OrderEvent.Kind.FULFILLED,
        by,
        {"status": {"before": status_before, "after": order.status}, "remarks": order.fulfill_remarks},
    )


def record_order_cancelled(order: Order, *, by: Actor, status_before: str) -> OrderEvent:
    return _record(
        order,
        OrderEvent.Kind.CANCELLED,
        by,
        {"status": {"before": status_before, "after": order.status}, "reason": order.cancel_reason},
    )


def record_notifications_queued(order: Order, *, by: Actor, notifications) -> OrderEvent:
    return _record(
        order,
        OrderEvent.Kind.NOTIFICATIONS_QUEUED,
        by,
        {
            "notifications": [
                {
                    "id": n.pk,
                    "channel": n.channel,
                    "recipient": n.recipient,
                    "trigger": n.payload.get("event", ""),
                }
                for n in notifications
            ]
        },
    )


def record_notification_resent(order: Order, *, by: Actor, notification, last_error: str) -> OrderEvent:
    return _record(
        order,
        OrderEvent.Kind.NOTIFICATION_RESENT,
        by,
        {
            "notification": {
                "id": notification.pk,
                "channel": notification.channel,
                "recipient": notification.recipient,
                "trigger": notification.payload.get("event", ""),
            },
            "last_error": last_error,
        },
    )
