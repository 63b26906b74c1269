import pytest

from orderdesk.web.tests.signed_in import fresh_cache, owner, owner_client  # noqa: F401

from .peers import ShopifyDouble, WooCommerceDouble


@pytest.fixture(autouse=True)
def _isolated(fresh_cache, settings):  # noqa: F811
    """Rate-limit counters never leak between tests; a store that stalls is given up on fast."""
    settings.STORE_API_TIMEOUT_SECONDS = 1


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
