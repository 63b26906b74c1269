"""What the load test's users start from: one shop, its owner signed in, an API key, a Shopify
store with a webhook secret, and orders awaiting payment — all made through the domain
functions (the same factories the tests use), in the load test's own database."""

from __future__ import annotations

import dataclasses
import secrets

from django.conf import settings
from django.test import Client
from django.urls import reverse

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.api.tests.factories import api_key
from orderdesk.orders.tests.factories import awaiting_order, new_order
from orderdesk.stores.tests.factories import SHOPIFY_SECRET, shopify_store


def seed(*, orders: int, shopify_base_url: str) -> dict:
    owner = owner_actor()
    store = shopify_store(owner, api_base_url=shopify_base_url)
    key = api_key(owner.merchant)
    awaiting = [awaiting_order(owner, **_numbered(n)) for n in range(orders)]
    client = Client()
    client.force_login(owner.user)
    return {
        "merchant_id": owner.merchant.pk,
        "store_id": store.pk,
        "api_key_id": key.api_key.pk,
        "api_token": key.token,
        "session_cookie_name": settings.SESSION_COOKIE_NAME,
        "session_key": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "csrf_cookie_name": settings.CSRF_COOKIE_NAME,
        # 32 characters: a valid unmasked token when sent as both cookie and header.
        "csrf_token": secrets.token_hex(16),
        "shopify_secret": SHOPIFY_SECRET,
        "shopify_webhook_path": reverse("stores:shopify_webhook", args=[store.webhook_token]),
        "first_shopify_order_number": 5_000_000,
        "awaiting_order_ids": [order.pk for order in awaiting],
        "customer_page_tokens": [order.customer_page_token for order in awaiting],
    }


def _numbered(n: int) -> dict:
    return {"customer": dataclasses.replace(new_order().customer, name=f"Maria Santos {n}")}
