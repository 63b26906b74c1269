"""The read side of webhook endpoints: the owner's list and one endpoint's delivery log."""

from __future__ import annotations

from django.db.models import QuerySet

from orderdesk.notifications.models import Notification

from .models import WebhookAttempt, WebhookEndpoint
from .webhooks import ABOUT_ENDPOINT, WebhookEndpointNotFound

DELIVERY_LOG_LENGTH = 50


def webhook_endpoints_of(merchant) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.for_merchant(merchant)


def endpoint_of(merchant, endpoint_id) -> WebhookEndpoint:
    """One of the merchant's endpoints; WebhookEndpointNotFound for anyone else's."""
    try:
        return WebhookEndpoint.objects.for_merchant(merchant).get(pk=endpoint_id)
    except (WebhookEndpoint.DoesNotExist, ValueError, TypeError) as missing:
        raise WebhookEndpointNotFound() from missing


def failed_deliveries_of(endpoint: WebhookEndpoint) -> QuerySet[Notification]:
    return Notification.objects.for_merchant(endpoint.merchant_id).filter(
        about_type=ABOUT_ENDPOINT,
        about_id=str(endpoint.pk),
        channel=Notification.Channel.WEBHOOK,
        status=Notification.Status.FAILED,
    )


def delivery_log(endpoint: WebhookEndpoint, *, limit: int = DELIVERY_LOG_LENGTH) -> list[Notification]:
    """The endpoint's latest deliveries, newest first, each with `last_attempt` (or None)."""
    deliveries = list(
        Notification.objects.for_merchant(endpoint.merchant_id)
        .filter(about_type=ABOUT_ENDPOINT, about_id=str(endpoint.pk), channel=Notification.Channel.WEBHOOK)
        .order_by("-created_at", "-id")[:limit]
    )
    last_attempts: dict[int, WebhookAttempt] = {}
    for attempt in WebhookAttempt.objects.filter(
        endpoint=endpoint, notification_id__in=[d.pk for d in deliveries]
    ).order_by("attempted_at", "id"):
        last_attempts[attempt.notification_id] = attempt
    for delivery in deliveries:
        delivery.last_attempt = last_attempts.get(delivery.pk)
    return deliveries
