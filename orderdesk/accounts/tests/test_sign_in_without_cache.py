"""With the shared cache down (CACHE_URL at a closed port) people still sign in, failed
sign-ins are still limited (in the web process itself), and the outage is logged."""

import logging
import socket

import environ
import pytest
from django.core.cache import cache
from django.urls import reverse

from orderdesk.accounts.tests.factories import MembershipFactory
from orderdesk.settings import cache_settings

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def cache_down(settings):
    settings.CACHES = {"default": cache_settings(f"redis://127.0.0.1:{closed_port()}/1")}
    yield
    cache.clear()


def test_the_sign_in_page_opens_and_the_right_password_signs_in_with_the_cache_down(
    client, cache_down, caplog
):
    user = MembershipFactory().user

    with caplog.at_level(logging.WARNING):
        page = client.get(reverse("account_login"))
        response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})

    assert page.status_code == 200
    assert response.status_code == 302
    assert "_auth_user_id" in client.session
    assert any(
        "cache" in record.getMessage().lower()
        for record in caplog.records
        if record.levelno >= logging.WARNING
    )


def test_failed_sign_ins_are_still_limited_with_the_cache_down(client, cache_down):
    user = MembershipFactory().user
    for _ in range(5):
        client.post(reverse("account_login"), {"login": user.email, "password": "guess"})

    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})

    assert "Too many failed login attempts. Try again later." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_embedded_local_cache_is_used_as_it_is():
    assert cache_settings("locmemcache://") == environ.Env.cache_url_config("locmemcache://")
