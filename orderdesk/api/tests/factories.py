"""API keys made through the domain function, and a test client that sends one."""

from __future__ import annotations

from rest_framework.test import APIClient

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.api import actions
from orderdesk.api.models import ApiKey


def api_key(
    merchant=None, *, scope: str = ApiKey.Scope.READ_WRITE, name: str = "Chat shop"
) -> actions.CreatedApiKey:
    """A key made by the merchant's owner (a new merchant when none is given)."""
    return actions.create_api_key(by=owner_actor(merchant), name=name, scope=scope)


def client_with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


ORDER_BODY = {
    "customer": {"name": "Maria Santos", "phone": "0917 555 0101", "email": "maria@example.com"},
    "lines": [
        {"title": "Linen shirt", "sku": "LS-M", "quantity": 2, "unit_price": "799.00"},
        {"title": "Canvas tote", "quantity": 1, "unit_price": "350.50"},
    ],
    "payment_method": "gcash",
    "shipping_option": "J&T Express",
    "shipping_fee": "120.00",
}
