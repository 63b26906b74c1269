"""Fixtures for page tests: a shop owner, their signed-in test client, a clean rate-limit cache.

Each app's tests/conftest.py imports the ones it uses.
"""

import pytest
from django.core.cache import cache

from orderdesk.accounts.actors import Actor
from orderdesk.accounts.tests.factories import owner_actor


@pytest.fixture
def fresh_cache():
    """allauth counts failed sign-ins in the cache; every test starts from zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def media_in_tmp(settings, tmp_path):
    """Uploaded photos go to a folder of the test's own, not the data folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def owner(db) -> Actor:
    return owner_actor()


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner.user)
    return client
