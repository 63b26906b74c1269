"""A merchant's carrier-tracking feed: where AfterShip posts, the secret it signs with, and
the deliveries already applied (so the same one twice changes nothing)."""

import secrets

from django.db import models
from django.utils import timezone

from orderdesk.tenancy import MerchantOwned


def new_feed_token() -> str:
    return secrets.token_urlsafe(24)


class CarrierFeed(MerchantOwned):
    """One merchant's AfterShip tracking webhook: its unguessable URL and signing secret."""

    token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    # AfterShip's webhook secret, encrypted with CREDENTIALS_KEY (stores.credentials).
    secret_encrypted = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["merchant"], name="one_carrier_feed_per_merchant")]

    def __str__(self) -> str:
        return f"Carrier feed of {self.merchant_id}"


class CarrierDelivery(MerchantOwned):
    """One webhook delivery applied, by AfterShip's event id: a second one is acknowledged and ignored."""

    feed = models.ForeignKey(CarrierFeed, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.CharField(max_length=100)
    tracking_number = models.CharField(max_length=100)
    tag = models.CharField(max_length=50, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["feed", "event_id"], name="one_carrier_delivery_per_event")
        ]
