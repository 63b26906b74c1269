import datetime

import pytest
from django.utils import timezone

from orderdesk.accounts.tests.factories import MerchantFactory, owner_actor
from orderdesk.orders import actions
from orderdesk.orders.actions import LineInput
from orderdesk.orders.tests.factories import awaiting_order, dispatched_order, pending_order
from orderdesk.photos.tests.images import jpeg_upload

pytestmark = pytest.mark.django_db


def page_of(client, order):
    return client.get(f"/t/{order.customer_page_token}/")


def test_the_customer_sees_status_courier_reference_expected_date_message_and_photos_without_signing_in(
    client,
):
    actor = owner_actor(MerchantFactory(name="Casa Linen"))
    order = pending_order(actor)
    expected_on = timezone.localdate(timezone=actor.merchant.zone) + datetime.timedelta(days=3)
    actions.dispatch_order(
        order.pk,
        by=actor,
        delivery_reference="JT777",
        expected_on=expected_on,
        message="Packed with love",
        photos=[jpeg_upload("box.jpg"), jpeg_upload("label.jpg")],
    )

    response = page_of(client, order)

    assert response.status_code == 200
    html = response.content.decode()
    assert f"Order {order.reference}" in html
    assert "Casa Linen" in html
    assert "On its way" in html
    assert "J&amp;T Express" in html and "JT777" in html
    assert f"{expected_on:%B} {expected_on.day}, {expected_on.year}" in html
    assert "Packed with love" in html
    photos = order.fulfillments.get().photos.all()
    assert len(photos) == 2
    for photo in photos:
        assert f'src="{photo.image.url}"' in html
        assert photo.image.storage.exists(photo.image.name)
    assert "Order placed" in html and "Payment confirmed" in html and "Handed to the courier" in html
    # One point on the way only repeats the shipment's status, so no progress list yet.
    assert "In transit" in html and 'aria-label="Shipment progress"' not in html
    assert "Linen shirt" in html


def test_the_page_shows_no_staff_names_contact_details_or_internal_data(client):
    actor = owner_actor()
    order = dispatched_order(actor)
    actions.fulfill_order(order.pk, by=actor, remarks="Customer was rude at the door")

    html = page_of(client, order).content.decode()

    assert "Delivered" in html
    assert 'aria-label="Shipment progress"' in html
    staff = actor.user
    for secret in (
        staff.first_name,
        staff.last_name,
        staff.email,
        "Marked delivered by",
        "Customer was rude at the door",
        actor.merchant.notification_email,
        actor.merchant.notification_phone,
        "maria@example.com",
        "+639175550101",
        "Mabini",
        "Notifications queued",
        "idempotency",
    ):
        assert secret not in html, secret


def test_a_cancelled_order_shows_the_reason(client):
    actor = owner_actor()
    order = pending_order(actor)
    actions.cancel_order(order.pk, by=actor, reason="Sold out, refund sent to your GCash")

    html = page_of(client, order).content.decode()

    assert "Cancelled" in html
    assert "Sold out, refund sent to your GCash" in html


def test_an_order_not_yet_paid_shows_awaiting_payment_and_no_shipment(client):
    order = awaiting_order(owner_actor())
    html = page_of(client, order).content.decode()
    assert "Awaiting payment" in html
    assert "Delivery reference" not in html


@pytest.mark.parametrize("token", ["not-a-real-token", "x" * 32, "%20"])
def test_an_unknown_tracking_link_is_a_404(client, token):
    pending_order(owner_actor())
    assert client.get(f"/t/{token}/").status_code == 404


def test_the_page_keeps_its_link_out_of_referers_search_engines_and_shared_caches(client):
    response = page_of(client, pending_order(owner_actor()))
    assert response["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response["X-Robots-Tag"]
    assert "no-store" in response["Cache-Control"]


def test_the_page_is_read_only(client):
    order = pending_order(owner_actor())
    assert client.post(f"/t/{order.customer_page_token}/").status_code == 405


def test_the_page_is_mobile_first_and_stands_alone(client):
    html = page_of(client, pending_order(owner_actor())).content.decode()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert html.lstrip().startswith("<!DOCTYPE html>")


def test_the_page_takes_the_same_few_queries_however_long_the_order(client, django_assert_num_queries):
    actor = owner_actor()
    short = dispatched_order(actor)
    many_lines = [LineInput(title=f"Item {i}", quantity=1, unit_price="10.00") for i in range(12)]
    long = dispatched_order(actor, lines=many_lines)

    # order+merchant, lines, shipments, photos, tracking events, timeline events
    with django_assert_num_queries(8):
        assert page_of(client, short).status_code == 200
    with django_assert_num_queries(8):
        assert page_of(client, long).status_code == 200
