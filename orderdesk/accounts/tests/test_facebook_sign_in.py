"""Facebook sign-in URLs are a 404 while no Facebook app is configured, not a server error."""

import pytest

pytestmark = pytest.mark.django_db

FACEBOOK_APP = {
    "facebook": {"METHOD": "oauth2", "APPS": [{"client_id": "1234", "secret": "s3cret", "key": ""}]}
}
FACEBOOK_URLS = [
    ("get", "/accounts/facebook/login/"),
    ("post", "/accounts/facebook/login/"),
    ("get", "/accounts/facebook/login/?process=connect"),
    ("get", "/accounts/facebook/login/callback/?code=abc&state=xyz"),
    ("post", "/accounts/facebook/login/token/"),
]


@pytest.fixture
def anonymous(client):
    client.raise_request_exception = False
    return client


@pytest.mark.parametrize(("method", "path"), FACEBOOK_URLS)
def test_facebook_sign_in_urls_are_not_found_while_facebook_is_not_configured(anonymous, method, path):
    response = getattr(anonymous, method)(path)

    assert response.status_code == 404


def test_facebook_sign_in_starts_when_facebook_is_configured(anonymous, settings):
    settings.SOCIALACCOUNT_PROVIDERS = FACEBOOK_APP

    response = anonymous.post("/accounts/facebook/login/")

    assert response.status_code == 302
    assert response.url.startswith("https://www.facebook.com/")
    assert "client_id=1234" in response.url
