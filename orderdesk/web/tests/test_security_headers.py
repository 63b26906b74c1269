"""Every response carries a strict Content-Security-Policy and a Permissions-Policy,
and no page needs what the policy forbids (inline script, event handlers, inline style)."""

import re

import pytest
from django.urls import reverse

from orderdesk.accounts.tests.factories import MembershipFactory
from orderdesk.orders.tests.factories import awaiting_order, dispatched_order, pending_order

pytestmark = pytest.mark.django_db

# Each directive the way the header must say it.
REQUIRED_DIRECTIVES = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style[\s>]", re.IGNORECASE)


def assert_policies(response):
    policy = response.headers.get("Content-Security-Policy", "")
    directives = [directive.strip() for directive in policy.split(";")]
    for required in REQUIRED_DIRECTIVES:
        assert required in directives, f"{required!r} missing from {policy!r}"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    permissions = response.headers.get("Permissions-Policy", "")
    for feature in ["camera=()", "microphone=()", "geolocation=()", "payment=()"]:
        assert feature in permissions


def assert_nothing_inline(response):
    if "text/html" not in response.headers.get("Content-Type", ""):
        return
    page = response.content.decode()
    assert not INLINE_SCRIPT.search(page), INLINE_SCRIPT.search(page).group(0)
    assert not EVENT_HANDLER.search(page), EVENT_HANDLER.search(page).group(0)
    assert not STYLE_ATTRIBUTE.search(page), STYLE_ATTRIBUTE.search(page).group(0)
    assert not STYLE_ELEMENT.search(page)


def signed_in_pages(owner):
    pending = pending_order(owner)
    dispatched = dispatched_order(owner)
    awaiting = awaiting_order(owner)
    return [
        reverse("web:home"),
        reverse("orders:tracking"),
        reverse("orders:tracking") + "?status=dispatched&sort=oldest",
        reverse("orders:tracking") + "?q=Garcia",
        reverse("orders:tracking") + "?status=awaiting_payment",
        reverse("orders:detail", args=[pending.pk]),
        reverse("orders:detail", args=[dispatched.pk]),
        reverse("orders:dispatch", args=[pending.pk]),
        reverse("orders:cancel", args=[pending.pk]),
        reverse("orders:fulfill", args=[dispatched.pk]),
        reverse("orders:verify_payment", args=[awaiting.pk]),
        reverse("accounts:account"),
        reverse("customer_page:order", args=[dispatched.customer_page_token]),
        "/orders/999999/",
        "/static/web/app.js",
        "/static/web/app.css",
        "/static/customer_page/order.css",
    ]


def test_every_signed_in_page_carries_the_policies_and_nothing_inline(owner_client, owner):
    for path in signed_in_pages(owner):
        response = owner_client.get(path)
        # Static files are served by WhiteNoise straight from the apps' folders in tests
        # (WHITENOISE_USE_FINDERS with DEBUG on): no collectstatic needed.
        assert response.status_code == (200 if path != "/orders/999999/" else 404), path
        assert_policies(response)
        assert_nothing_inline(response)


def test_every_htmx_partial_carries_the_policies_and_nothing_inline(owner_client, owner):
    for path in signed_in_pages(owner):
        response = owner_client.get(path, headers={"HX-Request": "true"})
        assert_policies(response)
        assert_nothing_inline(response)


def test_a_refused_form_carries_the_policies_and_nothing_inline(owner_client, owner):
    order = pending_order(owner)

    response = owner_client.post(reverse("orders:dispatch", args=[order.pk]), {"delivery_reference": ""})

    assert response.status_code == 422
    assert_policies(response)
    assert_nothing_inline(response)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/accounts/login/",
        "/accounts/login/?next=/orders/1/",
        "/accounts/password/reset/",
        "/accounts/signup/",
        "/accounts/logout/",
        "/account/invitation/MQ/not-a-token/",
        "/t/no-such-token/",
        "/orders/",
        "/admin/login/",
        "/no-such-page/",
        "/static/web/htmx.min.js",
    ],
)
def test_every_signed_out_page_carries_the_policies_and_nothing_inline(client, path):
    response = client.get(path)

    assert_policies(response)
    assert_nothing_inline(response)


def test_the_admin_carries_the_policies(client):
    admin = MembershipFactory().user
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)

    for path in ["/admin/", "/admin/orders/order/", "/admin/accounts/user/"]:
        response = client.get(path)
        assert response.status_code == 200
        assert_policies(response)


def test_a_server_error_page_carries_the_policies(client):
    client.raise_request_exception = False

    response = client.get("/t/%00/")

    assert_policies(response)


def test_the_stylesheets_that_replace_inline_styles_are_static_files():
    from django.contrib.staticfiles import finders

    for name in ["web/app.css", "customer_page/order.css"]:
        assert finders.find(name), name
