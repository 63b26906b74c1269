"""The write side of the carrier-tracking feed's setting: its address and signing secret."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from orderdesk.accounts.actors import Actor
from orderdesk.accounts.permissions import Permission, ensure_can
from orderdesk.errors import DomainError
from orderdesk.stores.credentials import encrypt_text

from .models import CarrierFeed, new_feed_token

MAX_SECRET_LENGTH = 200


class InvalidFeedSecret(DomainError):
    """The webhook secret is empty or too long."""


def set_carrier_feed_secret(secret: str, *, by: Actor, new_address: bool = False) -> CarrierFeed:
    """Store the merchant's AfterShip webhook secret (encrypted with CREDENTIALS_KEY), making the
    feed and its address the first time; `new_address` gives it a new one (the old stops
    working). Owners only. Raises NotAllowed, InvalidFeedSecret."""
    ensure_can(by, Permission.MANAGE_STORES)
    secret = (secret or "").strip()
    if not secret:
        raise InvalidFeedSecret("Enter AfterShip's webhook secret.", field="secret")
    if len(secret) > MAX_SECRET_LENGTH:
        raise InvalidFeedSecret(
            f"A webhook secret has at most {MAX_SECRET_LENGTH} characters.", field="secret"
        )
    with transaction.atomic():
        feed = CarrierFeed.objects.select_for_update().filter(merchant=by.merchant).first()
        if feed is None:
            feed = CarrierFeed(merchant=by.merchant)
        elif new_address:
            feed.token = new_feed_token()
        feed.secret_encrypted = encrypt_text(secret)
        feed.save()
    return feed


def feed_url(feed: CarrierFeed) -> str:
    """The address to paste into AfterShip's webhook settings."""
    return settings.SITE_URL + reverse("shipments:aftership_webhook", args=[feed.token])
