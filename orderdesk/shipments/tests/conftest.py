import pytest

from orderdesk.web.tests.signed_in import fresh_cache, media_in_tmp, owner, owner_client  # noqa: F401


@pytest.fixture(autouse=True)
def _isolated(media_in_tmp, fresh_cache):  # noqa: F811
    """Photos and rate-limit counters never leak from one test into the next."""
