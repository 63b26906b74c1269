import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.fulfillment.actions import ShipmentLine
from orderdesk.fulfillment.models import Fulfillment
from orderdesk.orders import actions
from orderdesk.photos.tests.images import jpeg_upload

from .factories import cancelled_order, dispatched_order, fulfilled_order, pending_order

pytestmark = pytest.mark.django_db


def detail(order):
    return reverse("orders:detail", args=[order.pk])


def test_the_order_page_shows_items_payment_shipping_due_date_and_customer(owner_client, owner):
    order = pending_order(owner, processing_days=4)

    page = owner_client.get(detail(order)).content.decode()

    for shown in [
        f"Order {order.reference}",
        "2 × Linen shirt",
        "1 × Canvas tote",
        "PHP 2,068.50",
        "GCash",
        "Paid",
        "J&amp;T Express",
        f"{order.due_on:%b %-d, %Y}",
        "Maria Santos",
        "+639175550101",
        "maria@example.com",
        "12 Mabini St, Makati, Metro Manila",
    ]:
        assert shown in page, shown
    assert "<dt>Processing time</dt><dd>4 days <small>from payment</small></dd>" in page
    assert f"<dt>Dispatch by</dt><dd>{order.due_on:%b %-d, %Y} <small>4 processing days</small></dd>" in page


def test_the_timeline_says_who_did_what_and_when(owner_client, owner):
    order = pending_order(owner)
    actions.cancel_order(order.pk, by=owner, reason="Out of stock")

    page = owner_client.get(detail(order)).content.decode()

    timeline = page[page.index('class="timeline"') :]
    assert timeline.index("Order placed") < timeline.index("Payment verified") < timeline.index("Cancelled")
    assert f"by {owner.display_name}" in timeline
    assert "Reason: Out of stock" in timeline
    assert "Total PHP 2,068.50 from Manual orders" in timeline
    event = order.events.get(kind="cancelled")
    assert f'datetime="{event.created_at.astimezone(owner.merchant.zone):%Y-%m-%dT%H:%M:%S}' in timeline


def test_a_dispatched_order_shows_its_dispatch_details_and_photos(owner_client, owner):
    order = pending_order(owner)
    expected_on = timezone.localdate(timezone=owner.merchant.zone) + datetime.timedelta(days=2)
    actions.dispatch_order(
        order.pk,
        by=owner,
        delivery_reference="JT777",
        expected_on=expected_on,
        photos=[jpeg_upload("box.jpg")],
        message="Handle with care",
    )

    page = owner_client.get(detail(order)).content.decode()

    assert "JT777" in page and f"{expected_on:%b %-d, %Y}" in page and "Handle with care" in page
    photo = order.fulfillments.get().photos.get()
    assert f'src="{photo.image.url}"' in page
    assert 'alt="Dispatch photo 1 (box.jpg)"' in page


def test_the_order_page_lists_the_messages_the_order_caused_and_their_state(owner_client, owner):
    page = owner_client.get(detail(pending_order(owner))).content.decode()

    assert 'id="order-notifications"' in page
    assert f"SMS to merchant {owner.merchant.notification_phone}" in page
    assert f"Email to merchant {owner.merchant.notification_email}" in page


@pytest.mark.parametrize(
    ("make", "dispatch", "fulfill", "cancel"),
    [
        (pending_order, True, False, True),
        (dispatched_order, False, True, True),
        (fulfilled_order, False, False, False),
        (cancelled_order, False, False, False),
    ],
)
def test_the_buttons_shown_follow_the_allowed_status_moves(
    owner_client, owner, make, dispatch, fulfill, cancel
):
    order = make(owner)

    page = owner_client.get(detail(order)).content.decode()

    assert (f"/orders/{order.pk}/dispatch/" in page) is dispatch
    assert (f"/orders/{order.pk}/fulfill/" in page) is fulfill
    assert (f"/orders/{order.pk}/cancel/" in page) is cancel


def test_another_merchants_order_is_not_found(owner_client):
    theirs = pending_order(owner_actor())

    for url in [
        detail(theirs),
        reverse("orders:dispatch", args=[theirs.pk]),
        reverse("orders:fulfill", args=[theirs.pk]),
        reverse("orders:cancel", args=[theirs.pk]),
    ]:
        assert owner_client.get(url).status_code == 404, url
        assert owner_client.post(url, {"reason": "x", "delivery_reference": "x"}).status_code == 404, url
    theirs.refresh_from_db()
    assert theirs.status == "pending"


def test_an_order_that_does_not_exist_is_not_found(owner_client):
    assert owner_client.get("/orders/999999/").status_code == 404


def test_a_partly_dispatched_order_says_so_and_lists_what_each_shipment_carries(
    owner_client, owner, django_assert_max_num_queries
):
    order = pending_order(owner)
    shirt, tote = order.lines.all()
    in_two_days = timezone.localdate(timezone=owner.merchant.zone) + datetime.timedelta(days=2)
    actions.ship_order_lines(
        order.pk,
        by=owner,
        lines=[ShipmentLine(shirt.pk, 2)],
        status=Fulfillment.ShippingStatus.IN_TRANSIT,
        delivery_reference="JT-PART",
        expected_on=in_two_days,
    )
    actions.ship_order_lines(order.pk, by=owner, lines=[ShipmentLine(tote.pk, 1)])

    with django_assert_max_num_queries(20):
        page = owner_client.get(detail(order)).content.decode()

    assert "Partly dispatched" in page
    assert "Shipment 1" in page and "Shipment 2" in page
    assert "<dt>Items</dt><dd>2 × Linen shirt</dd>" in page
    assert "<dt>Items</dt><dd>1 × Canvas tote</dd>" in page


def test_an_order_with_nothing_on_its_way_or_everything_dispatched_is_not_partly_dispatched(
    owner_client, owner
):
    assert "Partly dispatched" not in owner_client.get(detail(pending_order(owner))).content.decode()
    assert "Partly dispatched" not in owner_client.get(detail(dispatched_order(owner))).content.decode()
