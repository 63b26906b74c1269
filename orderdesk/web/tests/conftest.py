"""The web app's tests: fresh rate-limit counters for each; the browser fixtures are the
plugin `orderdesk.web.tests.browser` (registered in the root conftest)."""

import pytest

from orderdesk.web.tests.browser import CHROMIUM_ARGS, DESKTOP, PHONE, SCREENSHOTS  # noqa: F401
from orderdesk.web.tests.signed_in import fresh_cache, media_in_tmp, owner, owner_client  # noqa: F401


@pytest.fixture(autouse=True)
def _fresh_cache(fresh_cache):  # noqa: F811
    """Rate-limit counters never leak from one test into the next."""
