"""Queueing order notifications in the outbox (delivery comes from the outbox after commit)."""

from __future__ import annotations

from orderdesk.orders.models import Order, OrderEvent

from .models import Notification


def recipients_for(order: Order, trigger: str) -> list[tuple[str, str, str]]:
    """(audience, channel, recipient) for each message this event causes."""
    merchant = order.merchant
    wanted: list[tuple[str, str, str]] = []
    if trigger in (OrderEvent.Kind.PAYMENT_VERIFIED, OrderEvent.Kind.COD_CONFIRMED):
        if merchant.notification_phone:
            wanted.append(
                (Notification.Audience.MERCHANT, Notification.Channel.SMS, merchant.notification_phone)
            )
        if merchant.notification_email:
            wanted.append(
                (Notification.Audience.MERCHANT, Notification.Channel.EMAIL, merchant.notification_email)
            )
    elif trigger in (OrderEvent.Kind.DISPATCHED, OrderEvent.Kind.FULFILLED, OrderEvent.Kind.CANCELLED):
        if order.customer_phone:
            wanted.append((Notification.Audience.CUSTOMER, Notification.Channel.SMS, order.customer_phone))
        if order.customer_email:
            wanted.append((Notification.Audience.CUSTOMER, Notification.Channel.EMAIL, order.customer_email))
    return wanted


def queue_order_notifications(order: Order, trigger: str) -> list[Notification]:
    """Write the outbox rows this order event causes; call inside the action's transaction."""
    queued = []
    for audience, channel, recipient in recipients_for(order, trigger):
        notification, created = Notification.objects.get_or_create(
            idempotency_key=f"order:{order.pk}:{trigger}:{channel}:{recipient}",
            defaults={
                "merchant_id": order.merchant_id,
                "order": order,
                "trigger": trigger,
                "audience": audience,
                "channel": channel,
                "recipient": recipient,
            },
        )
        if created:
            queued.append(notification)
    return queued
