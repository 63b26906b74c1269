"""A NUL byte anywhere a visitor can put one gets a clean 404 or a message, never a 500.

PostgreSQL refuses NUL in text ("A string literal cannot contain NUL"), SQLite stores it:
every test runs on the database of the run, and once more marked `postgres` so the
PostgreSQL pass (`-m postgres`) covers them all.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from orderdesk.accounts.models import Merchant, User
from orderdesk.accounts.tests.factories import MembershipFactory
from orderdesk.orders.models import Order
from orderdesk.orders.tests.factories import dispatched_order, pending_order

pytestmark = pytest.mark.django_db

NUL_MESSAGE = "Null characters are not allowed."


@pytest.fixture(
    autouse=True,
    params=[pytest.param("any", id="any-database"), pytest.param("pg", id="pg", marks=pytest.mark.postgres)],
)
def _on_each_database(request):
    """Runs each test in the normal pass and again in the PostgreSQL-only pass."""


@pytest.fixture
def anonymous(client):
    client.raise_request_exception = False
    return client


@pytest.fixture
def signed_in(owner_client):
    owner_client.raise_request_exception = False
    return owner_client


@pytest.mark.parametrize(
    "path",
    [
        "/t/%00/",
        "/t/abc%00def/",
        "/%00/",
        "/orders/%00/",
        "/media/%00",
        "/media/photos/%00.jpg",
        "/account/invitation/%00/%00/",
        "/accounts/password/reset/key/%00-set-password/",
        "/admin/%00/",
    ],
)
def test_a_nul_byte_in_a_url_path_is_a_clean_404(anonymous, path):
    response = anonymous.get(path)

    assert response.status_code == 404


@pytest.mark.parametrize(
    "path",
    ["/orders/%00/", "/orders/1%00/", "/account/%00/", "/admin/orders/order/%00/change/"],
)
def test_a_nul_byte_in_a_signed_in_url_path_is_a_clean_404(signed_in, path):
    assert signed_in.get(path).status_code == 404


@pytest.mark.parametrize(
    "query",
    ["q=%00", "q=Garcia%00", "after=%00", "status=%00", "sort=%00", "q%00=1"],
)
def test_a_nul_byte_in_an_order_tracking_query_is_a_clean_404(signed_in, query):
    response = signed_in.get(f"/orders/?{query}")

    assert response.status_code == 404


def test_a_nul_byte_in_the_sign_in_next_link_is_a_clean_404(anonymous):
    assert anonymous.get("/accounts/login/?next=/orders/%00/").status_code == 404


def dispatch_form(owner, **changes):
    today = timezone.localdate(timezone=owner.merchant.zone)
    data = {
        "delivery_reference": "JT123456",
        "expected_on": (today + datetime.timedelta(days=2)).isoformat(),
        "message": "Arrives Thursday",
    }
    return data | changes


@pytest.mark.parametrize("field", ["delivery_reference", "message", "expected_on"])
def test_a_nul_byte_in_a_dispatch_field_is_refused_with_a_message_and_nothing_changes(
    signed_in, owner, field
):
    order = pending_order(owner)

    response = signed_in.post(
        reverse("orders:dispatch", args=[order.pk]), dispatch_form(owner, **{field: "JT1\x00"})
    )

    assert response.status_code == 422
    page = response.content.decode()
    assert NUL_MESSAGE in page or "Enter a valid date." in page
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert not order.fulfillments.exists()


def test_a_nul_byte_in_a_cancel_reason_is_refused_with_a_message_and_nothing_changes(signed_in, owner):
    order = pending_order(owner)

    response = signed_in.post(reverse("orders:cancel", args=[order.pk]), {"reason": "Out of stock\x00"})

    assert response.status_code == 422
    assert NUL_MESSAGE in response.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert order.cancel_reason == ""


def test_a_nul_byte_in_fulfill_remarks_is_refused_with_a_message_and_nothing_changes(signed_in, owner):
    order = dispatched_order(owner)

    response = signed_in.post(reverse("orders:fulfill", args=[order.pk]), {"remarks": "Received\x00"})

    assert response.status_code == 422
    assert NUL_MESSAGE in response.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.DISPATCHED


@pytest.mark.parametrize(
    "data",
    [
        {"notification_phone": "+639171234567\x00", "notification_email": "shop@example.com"},
        {"notification_phone": "+639171234567", "notification_email": "shop@exam\x00ple.com"},
    ],
)
def test_a_nul_byte_in_the_notification_contacts_is_refused_with_a_message_and_nothing_changes(
    signed_in, owner, data
):
    before = Merchant.objects.values("notification_phone", "notification_email").get(pk=owner.merchant.pk)

    response = signed_in.post(reverse("accounts:update_notifications"), data)

    assert response.status_code == 422
    assert NUL_MESSAGE in response.content.decode()
    after = Merchant.objects.values("notification_phone", "notification_email").get(pk=owner.merchant.pk)
    assert after == before


def test_a_nul_byte_in_an_invitation_address_is_refused_with_a_message_and_nobody_is_invited(signed_in):
    users_before = User.objects.count()

    response = signed_in.post(reverse("accounts:invite"), {"email": "new\x00@example.com"})

    assert response.status_code == 422
    assert NUL_MESSAGE in response.content.decode()
    assert User.objects.count() == users_before


@pytest.mark.parametrize("field", ["login", "password"])
def test_a_nul_byte_in_the_sign_in_form_is_refused_with_a_message(anonymous, field):
    user = MembershipFactory().user
    data = {"login": user.email, "password": "correct horse battery"} | {field: "x\x00y"}

    response = anonymous.post(reverse("account_login"), data)

    assert response.status_code == 200
    assert NUL_MESSAGE in response.content.decode()
    assert "_auth_user_id" not in anonymous.session


def test_a_nul_byte_in_the_password_reset_form_is_refused_with_a_message(anonymous):
    response = anonymous.post(reverse("account_reset_password"), {"email": "a\x00@example.com"})

    assert response.status_code == 200
    assert NUL_MESSAGE in response.content.decode()


def test_a_nul_byte_in_an_api_query_is_a_404_in_problem_details(anonymous):
    response = anonymous.get("/api/v1/orders", {"search": "\x00"})

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == "No such resource: the address holds a NUL character."
