"""The read side of notifications."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Notification


def notifications_for_order(order) -> QuerySet[Notification]:
    """The order's messages, oldest first, for its page (served by the order FK's index)."""
    return Notification.objects.for_merchant(order.merchant).filter(order=order).order_by("created_at", "id")


def notification_for_merchant(merchant, notification_id) -> Notification:
    """One of the merchant's messages; Notification.DoesNotExist for anyone else's."""
    return Notification.objects.for_merchant(merchant).select_related("order").get(pk=notification_id)


def notifications_in_outbox(status: str | None = None) -> QuerySet[Notification]:
    """Every merchant's messages, newest first, optionally of one status (operators' listing)."""
    rows = Notification.objects.select_related("merchant", "order").order_by("-created_at", "-id")
    return rows.filter(status=status) if status else rows
