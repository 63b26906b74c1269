"""A store's API calls still follow the proxies the environment names, though requests is told
not to read the environment on every call (StoreApi reads it once per host)."""

import pytest

from orderdesk.stores.errors import StoreUnreachable
from orderdesk.stores.shopify import ShopifyClient

from .factories import shopify_store

pytestmark = pytest.mark.django_db


def test_a_proxy_named_by_the_environment_is_used(owner, shopify_double, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client = ShopifyClient(shopify_store(owner, api_base_url=shopify_double.base_url), sleep=lambda _: None)
    with pytest.raises(StoreUnreachable, match="could not be reached"):
        client.shop()
    assert shopify_double.requests == []


def test_a_host_the_environment_exempts_from_the_proxy_is_reached_directly(
    owner, shopify_double, monkeypatch
):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    client = ShopifyClient(shopify_store(owner, api_base_url=shopify_double.base_url), sleep=lambda _: None)
    assert client.shop()["name"]
    assert len(shopify_double.requests) == 1
