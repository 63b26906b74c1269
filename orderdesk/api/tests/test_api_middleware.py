"""/api/ requests skip the page middleware (api/middleware.py) and keep what every response needs."""

import pytest
from django.test import Client
from django.urls import resolve

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.api import views
from orderdesk.api.middleware import ApiRequestMiddleware
from orderdesk.orders.tests.factories import awaiting_order

from .factories import ORDER_BODY, api_key, client_with

pytestmark = pytest.mark.django_db

SECURITY_HEADERS = [
    "Content-Security-Policy",
    "Permissions-Policy",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "X-Frame-Options",
    "X-Request-ID",
]


def test_an_api_request_skips_the_page_middleware_and_keeps_every_header():
    client = client_with(api_key().token)
    created = client.post("/api/v1/orders", ORDER_BODY, format="json", HTTP_X_REQUEST_ID="api-1")
    assert created.status_code == 201
    request = created.wsgi_request
    # No session, CSRF token, messages, htmx details or memberships made by the page middleware
    # (DRF puts the key's user on the request itself).
    for made_by_page_middleware in ("session", "_messages", "htmx", "unreadable_form", "memberships"):
        assert not hasattr(request, made_by_page_middleware), made_by_page_middleware
    assert "CSRF_COOKIE" not in request.META
    assert request.actor.merchant == request.auth.merchant
    for header in SECURITY_HEADERS:
        assert created.has_header(header), header
    assert created["X-Request-ID"] == "api-1"
    assert created["X-Frame-Options"] == "DENY"
    assert int(created["Content-Length"]) == len(created.content)
    assert "Cookie" not in created.get("Vary", "")
    assert not created.cookies


def test_a_page_request_still_goes_through_the_page_middleware(owner_client):
    page = owner_client.get("/orders/")
    assert page.status_code == 200
    assert hasattr(page.wsgi_request, "session") and page.wsgi_request.user.is_authenticated


def test_api_errors_stay_problem_details_with_the_headers():
    refused = Client().get("/api/v1/orders")
    assert refused.status_code == 401
    assert refused["Content-Type"] == "application/problem+json"
    assert refused["WWW-Authenticate"] == 'Bearer realm="api"'
    other_merchants = awaiting_order(owner_actor())
    missing = client_with(api_key().token).get(f"/api/v1/orders/{other_merchants.pk}")
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/problem+json"
    for answer in (refused, missing):
        for header in SECURITY_HEADERS:
            assert answer.has_header(header), header


def test_an_api_view_that_fails_answers_500_with_the_headers(monkeypatch):
    def broken(self, request, pk=None):
        raise RuntimeError("broken on purpose")

    monkeypatch.setattr(views.OrderViewSet, "retrieve", broken)
    client = client_with(api_key().token)
    client.raise_request_exception = False
    failed = client.get("/api/v1/orders/1")
    assert failed.status_code == 500
    for header in SECURITY_HEADERS:
        assert failed.has_header(header), header


def test_a_host_not_allowed_is_refused_on_the_api_too():
    client = client_with(api_key().token)
    client.raise_request_exception = False
    assert client.get("/api/v1/orders", HTTP_HOST="evil.example").status_code == 400


def test_an_api_address_no_view_answers_goes_the_usual_way():
    client = client_with(api_key().token)
    assert client.get("/api/v1/no-such-thing").status_code == 404
    added_slash = client.get("/api/schema")
    assert added_slash.status_code == 301
    assert added_slash["Location"] == "/api/schema/"
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert "script-src 'self'" in docs["Content-Security-Policy"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/orders",
        "/api/v1/orders/12",
        "/api/v1/orders/12/dispatch",
        "/api/v1/orders/12/verify-payment",
        "/api/v1/shipments/3/move",
        "/api/v1/hostings/many",
        "/api/v1/after-sales-cases",
        "/api/schema/",
        "/api/docs/",
    ],
)
def test_an_api_address_reaches_the_view_the_whole_urlconf_gives_it(path):
    match = ApiRequestMiddleware(lambda request: None).api_resolver().resolve(path)
    whole = resolve(path)
    assert (match.func, match.args, match.kwargs, match.view_name, match.route) == (
        whole.func,
        whole.args,
        whole.kwargs,
        whole.view_name,
        whole.route,
    )
