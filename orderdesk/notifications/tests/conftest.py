import pytest


@pytest.fixture(autouse=True)
def _known_notification_settings(notification_settings):
    """Every outbox test runs with known delivery settings (fixtures.notification_settings)."""
