"""The read side of the outbox."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Notification


def notifications_about(merchant, about_type: str, about_id) -> QuerySet[Notification]:
    """The merchant's messages about one thing (an order), oldest first, for its page."""
    return (
        Notification.objects.for_merchant(merchant)
        .filter(about_type=about_type, about_id=str(about_id))
        .order_by("created_at", "id")
    )


def notification_for_merchant(merchant, notification_id) -> Notification:
    """One of the merchant's messages; Notification.DoesNotExist for anyone else's."""
    return Notification.objects.for_merchant(merchant).get(pk=notification_id)


def notifications_in_outbox(status: str | None = None) -> QuerySet[Notification]:
    """Every merchant's messages, newest first, optionally of one status (operators' listing)."""
    rows = Notification.objects.select_related("merchant").order_by("-created_at", "-id")
    return rows.filter(status=status) if status else rows
