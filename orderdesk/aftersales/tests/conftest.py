import pytest

from orderdesk.web.tests.signed_in import fresh_cache, media_in_tmp  # noqa: F401


@pytest.fixture(autouse=True)
def _isolated(fresh_cache, media_in_tmp):  # noqa: F811
    """Rate-limit counters and uploaded photos never leak from one test into the next."""


# The browser tests' Chromium, pages and screenshots, as web's browser tests have them.
from orderdesk.web.tests.conftest import chromium, screenshot, visitor  # noqa: E402, F401
