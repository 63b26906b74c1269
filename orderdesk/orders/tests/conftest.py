import pytest

from orderdesk.accounts.tests.factories import MerchantFactory, owner_actor
from orderdesk.web.tests.signed_in import fresh_cache, media_in_tmp, owner, owner_client  # noqa: F401


@pytest.fixture(autouse=True)
def _isolated(fresh_cache, media_in_tmp):  # noqa: F811
    """Rate-limit counters and uploaded photos never leak from one test into the next."""


@pytest.fixture
def actor():
    """An owner whose shop hears of payments by SMS only, so one payment makes one message."""
    return owner_actor(MerchantFactory(short_name="CasaLinen", notification_email=""))
