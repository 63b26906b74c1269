import pytest

from orderdesk.web.tests.signed_in import fresh_cache, media_in_tmp, owner, owner_client  # noqa: F401


@pytest.fixture(autouse=True)
def _isolated(fresh_cache, media_in_tmp):  # noqa: F811
    """Throttle counters and uploaded photos never leak from one test into the next."""
