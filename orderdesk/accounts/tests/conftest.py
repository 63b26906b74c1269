import pytest

from orderdesk.web.tests.signed_in import fresh_cache, owner, owner_client  # noqa: F401


@pytest.fixture(autouse=True)
def _fresh_cache(fresh_cache):  # noqa: F811
    """Rate-limit counters never leak from one test into the next."""
