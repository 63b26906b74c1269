import pytest

from orderdesk.web.tests.signed_in import media_in_tmp  # noqa: F401


@pytest.fixture(autouse=True)
def _isolated(media_in_tmp):  # noqa: F811
    """Uploaded photos go to the test's own folder and never leak into the next test."""
