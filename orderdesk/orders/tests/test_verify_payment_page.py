"""Verifying a payment from the web app: awaiting-payment orders move to Pending."""

import pytest
from django.urls import reverse

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.orders.models import Order
from orderdesk.orders.tests.messages import messages_of

from .factories import awaiting_order, pending_order

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def verify_url(order):
    return reverse("orders:verify_payment", args=[order.pk])


def test_order_tracking_links_to_the_orders_awaiting_payment(owner_client, owner):
    awaiting_order(owner)
    awaiting_order(owner)
    pending_order(owner)

    page = owner_client.get(reverse("orders:tracking")).content.decode()
    # One name for the list everywhere: the link, the drop-down and the list's heading.
    assert '>Awaiting payment <span class="count">2</span></a>' in page
    assert "Unpaid (" not in page

    listed = owner_client.get(reverse("orders:tracking"), {"status": "awaiting_payment"}).content.decode()
    assert listed.count("Verify payment") == 2
    assert '<option value="awaiting_payment" selected>Awaiting payment (2)</option>' in listed
    assert 'aria-label="Awaiting payment orders"' in listed


def test_an_awaiting_order_page_offers_verify_payment_and_a_pending_one_does_not(owner_client, owner):
    awaiting, pending = awaiting_order(owner), pending_order(owner)
    assert (
        verify_url(awaiting)
        in owner_client.get(reverse("orders:detail", args=[awaiting.pk])).content.decode()
    )
    assert (
        verify_url(pending)
        not in owner_client.get(reverse("orders:detail", args=[pending.pk])).content.decode()
    )


def test_verifying_a_payment_makes_the_order_pending_and_queues_the_merchants_sms_and_email(
    owner_client, owner
):
    order = awaiting_order(owner)

    response = owner_client.post(verify_url(order), {"next": reverse("orders:detail", args=[order.pk])})

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert order.due_on is not None
    channels = set(messages_of(order).values_list("channel", flat=True))
    assert channels == {"sms", "email"}
    page = owner_client.get(response["Location"]).content.decode()
    assert f"Order {order.reference} is paid and pending." in page


def test_verifying_an_order_someone_already_verified_says_so_and_changes_nothing(owner_client, owner):
    order = pending_order(owner)
    events_before = order.events.count()

    response = owner_client.post(verify_url(order), headers=HTMX)

    assert response["HX-Redirect"] == f"/orders/{order.pk}/"
    page = owner_client.get(response["HX-Redirect"]).content.decode()
    assert f"Order {order.reference} is already pending, so you cannot verify the payment of it." in page
    assert '<span class="badge badge-pending">Pending</span>' in page
    assert order.events.count() == events_before


def test_another_merchants_order_cannot_be_verified(owner_client):
    theirs = awaiting_order(owner_actor())
    assert owner_client.post(verify_url(theirs)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Order.Status.AWAITING_PAYMENT
