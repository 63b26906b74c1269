import pytest

from orderdesk.web.tests.signed_in import fresh_cache, media_in_tmp, owner, owner_client  # noqa: F401


@pytest.fixture(autouse=True)
def _isolated(fresh_cache, media_in_tmp, settings):  # noqa: F811
    """Background work (exports, roll-up refreshes) runs inline, after commit, in the test's thread."""
    settings.REPORTS_BACKGROUND_THREAD = False
