import pytest

from orderdesk.web.tests.signed_in import fresh_cache, media_in_tmp  # noqa: F401


@pytest.fixture(autouse=True)
def _isolated(fresh_cache, media_in_tmp):  # noqa: F811
    """Rate-limit counters and uploaded photos never leak from one test into the next."""
