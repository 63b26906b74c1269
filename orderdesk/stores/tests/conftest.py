import pytest

from orderdesk.stores import shopify, sync, woocommerce
from orderdesk.web.tests.signed_in import fresh_cache, owner, owner_client  # noqa: F401

from .peers import ShopifyDouble, WooCommerceDouble


@pytest.fixture(autouse=True)
def _isolated(fresh_cache, settings, monkeypatch):  # noqa: F811
    """Rate-limit counters never leak between tests; a store that stalls is given up on fast.
    Pages (and the sync's batches) of 50 orders: a few hundred orders make several of them.
    Shopify's pages of 50 orders ask for 2 line items each, so the double's cost limit holds
    (2 + 50 × 17 + 2 = 854 points) and an order of 3 or more lines takes a follow-up query."""
    settings.STORE_API_TIMEOUT_SECONDS = 1
    monkeypatch.setattr(shopify, "ORDERS_PAGE", 50)
    monkeypatch.setattr(shopify, "ORDER_LINES_PAGE", 2)
    monkeypatch.setattr(woocommerce, "PAGE_SIZE", 50)
    monkeypatch.setattr(sync, "BATCH_ORDERS", 50)


@pytest.fixture
def shopify_double():
    double = ShopifyDouble().start()
    yield double
    double.stop()


@pytest.fixture
def woo_double():
    double = WooCommerceDouble().start()
    yield double
    double.stop()
