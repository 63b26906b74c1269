import pytest
from django.urls import reverse

from orderdesk.orders import actions
from orderdesk.orders.models import Order

from .factories import cancelled_order, dispatched_order, fulfilled_order, pending_order

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def fulfill_url(order):
    return reverse("orders:fulfill", args=[order.pk])


def cancel_url(order):
    return reverse("orders:cancel", args=[order.pk])


def test_the_check_mark_opens_a_pop_up_asking_for_optional_remarks(owner_client, owner):
    order = dispatched_order(owner)

    response = owner_client.get(fulfill_url(order), headers=HTMX)

    body = response.content.decode()
    assert body.lstrip().startswith('<dialog class="sheet"')
    assert "Mark as fulfilled · " + order.reference in body
    assert '<label for="id_remarks">Remarks (optional)</label>' in body
    assert ">OK</button>" in body


def test_fulfilling_with_remarks_moves_the_order_to_fulfilled_and_returns_to_the_list(owner_client, owner):
    order = dispatched_order(owner)
    back_to = reverse("orders:tracking") + "?status=dispatched"

    response = owner_client.post(
        fulfill_url(order), {"remarks": "Received by her sister", "next": back_to}, headers=HTMX
    )

    assert response["HX-Redirect"] == back_to
    order.refresh_from_db()
    assert order.status == Order.Status.FULFILLED
    assert order.fulfill_remarks == "Received by her sister"
    assert f"Order {order.reference} is fulfilled." in owner_client.get(back_to).content.decode()


def test_fulfilling_without_remarks_works_too_without_htmx(owner_client, owner):
    order = dispatched_order(owner)

    response = owner_client.post(fulfill_url(order), {"remarks": ""})

    assert response.status_code == 302 and response.url == reverse("orders:detail", args=[order.pk])
    order.refresh_from_db()
    assert order.status == Order.Status.FULFILLED


def test_fulfilling_an_order_someone_just_cancelled_closes_the_pop_up_and_shows_the_order_as_it_is_now(
    owner_client, owner
):
    order = dispatched_order(owner)
    actions.cancel_order(order.pk, by=owner, reason="Customer refused the parcel")

    response = owner_client.post(fulfill_url(order), {"remarks": "Delivered"}, headers=HTMX)

    # The whole page is loaded again (the pop-up with it), not the stale one behind the pop-up.
    assert response["HX-Redirect"] == f"/orders/{order.pk}/"
    page = owner_client.get(response["HX-Redirect"]).content.decode()
    assert f"Order {order.reference} was cancelled, so you cannot fulfill it." in page
    assert '<span class="badge badge-cancelled">Cancelled</span>' in page
    assert f"/orders/{order.pk}/fulfill/" not in page
    order.refresh_from_db()
    assert (order.status, order.fulfill_remarks) == (Order.Status.CANCELLED, "")


def test_remarks_that_are_too_long_are_refused_beside_the_field(owner_client, owner):
    order = dispatched_order(owner)

    response = owner_client.post(fulfill_url(order), {"remarks": "x" * 1001})

    page = response.content.decode()
    assert response.status_code == 422
    assert "Remarks have at most 1000 characters." in page[page.index('id="id_remarks_error"') :]
    order.refresh_from_db()
    assert order.status == Order.Status.DISPATCHED


def test_cancelling_needs_a_reason(owner_client, owner):
    order = pending_order(owner)

    response = owner_client.post(cancel_url(order), {"reason": "   "}, headers=HTMX)

    body = response.content.decode()
    assert response.status_code == 422
    assert "Say why the order is cancelled." in body[body.index('id="id_reason_error"') :]
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert not order.events.filter(kind="cancelled").exists()


@pytest.mark.parametrize("make", [pending_order, dispatched_order])
def test_a_pending_or_dispatched_order_is_cancelled_with_its_reason(owner_client, owner, make):
    order = make(owner)

    response = owner_client.post(cancel_url(order), {"reason": "Out of stock"})

    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.cancel_reason) == (Order.Status.CANCELLED, "Out of stock")


@pytest.mark.parametrize(
    ("make", "url", "refusal"),
    [
        (pending_order, fulfill_url, "is pending; it cannot be fulfilled now."),
        (fulfilled_order, cancel_url, "is fulfilled; it cannot be cancelled now."),
        (cancelled_order, cancel_url, "is cancelled; it cannot be cancelled now."),
    ],
)
def test_opening_an_action_the_order_no_longer_allows_leads_back_to_the_order(
    owner_client, owner, make, url, refusal
):
    order = make(owner)

    response = owner_client.get(url(order), follow=True)

    assert response.redirect_chain[-1][0] == reverse("orders:detail", args=[order.pk])
    assert f"Order {order.reference} {refusal}" in response.content.decode()


def test_without_htmx_the_pop_up_is_a_page_of_its_own(owner_client, owner):
    order = pending_order(owner)

    response = owner_client.get(cancel_url(order))

    page = response.content.decode()
    assert "<html" in page and "<dialog" not in page
    assert '<label for="id_reason">Reason for cancelling</label>' in page
