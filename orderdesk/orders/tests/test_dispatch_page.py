import datetime

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from orderdesk.fulfillment.models import Fulfillment
from orderdesk.orders import actions
from orderdesk.orders.models import Order
from orderdesk.photos.models import Photo
from orderdesk.photos.tests.images import jpeg_upload, png_upload

from .factories import dispatched_order, pending_order

pytestmark = pytest.mark.django_db


def today(actor):
    return timezone.localdate(timezone=actor.merchant.zone)


def dispatch_url(order):
    return reverse("orders:dispatch", args=[order.pk])


def form_data(actor, **changes):
    data = {
        "delivery_reference": "JT123456",
        "expected_on": (today(actor) + datetime.timedelta(days=2)).isoformat(),
        "message": "Arrives Thursday",
    }
    data.update(changes)
    return data


def assert_nothing_changed(order):
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert not Fulfillment.objects.filter(order=order).exists()
    assert not Photo.objects.exists()
    assert not order.events.filter(kind="dispatched").exists()


def error_beside(page: str, field: str) -> str:
    """The text of the error box that belongs to one field."""
    start = page.index(f'id="id_{field}_error"')
    return page[start : page.index("</div>", start)]


def test_the_dispatch_form_shows_the_photo_limits_and_enforces_them_in_the_page(owner_client, owner):
    order = pending_order(owner)

    page = owner_client.get(dispatch_url(order)).content.decode()

    assert "You can attach up to 5 photos, 5 MB each (JPEG, PNG or WebP)." in page
    assert 'accept="image/jpeg,image/png,image/webp"' in page and "multiple" in page
    assert f'data-max-files="{settings.PHOTO_MAX_FILES}"' in page
    assert f'data-max-bytes="{settings.PHOTO_MAX_BYTES}"' in page
    assert f'type="date" name="expected_on" min="{today(owner).isoformat()}"' in page
    for label in [
        "Delivery reference no.",
        "Expected delivery date",
        "Photos of the parcel",
        "Message to the customer",
    ]:
        assert label in page
    assert "Call <strong>J&amp;T Express</strong>" in page


def test_dispatching_with_a_photo_moves_the_order_to_dispatched_and_says_so(owner_client, owner):
    order = pending_order(owner)

    response = owner_client.post(
        dispatch_url(order), {**form_data(owner), "photos": [jpeg_upload("box.jpg"), png_upload("label.png")]}
    )

    assert response.status_code == 302 and response.url == reverse("orders:detail", args=[order.pk])
    order.refresh_from_db()
    assert order.status == Order.Status.DISPATCHED
    shipment = order.fulfillments.get()
    assert (shipment.delivery_reference, shipment.message) == ("JT123456", "Arrives Thursday")
    assert sorted(shipment.photos.values_list("original_name", flat=True)) == ["box.jpg", "label.png"]
    assert f"Order {order.reference} is dispatched." in owner_client.get(response.url).content.decode()


def test_after_dispatching_from_the_list_the_merchant_returns_to_the_list(owner_client, owner):
    order = pending_order(owner)
    back_to = reverse("orders:tracking") + "?status=pending"

    response = owner_client.post(dispatch_url(order), {**form_data(owner), "next": back_to})

    assert response.url == back_to


def test_a_next_address_on_another_site_is_ignored(owner_client, owner):
    order = pending_order(owner)

    response = owner_client.post(dispatch_url(order), {**form_data(owner), "next": "https://evil.example/"})

    assert response.url == reverse("orders:detail", args=[order.pk])


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"delivery_reference": "  "},
            "delivery_reference",
            "Enter the courier&#x27;s delivery reference number.",
        ),
        ({"expected_on": ""}, "expected_on", "Enter the date the customer should receive the order."),
        ({"expected_on": "2020-01-01"}, "expected_on", "The expected delivery date cannot be in the past"),
        ({"expected_on": "31/31/2026"}, "expected_on", "Enter a valid date."),
    ],
)
def test_a_dispatch_with_missing_or_wrong_details_is_refused_beside_its_field_keeping_what_was_typed(
    owner_client, owner, changes, field, message
):
    order = pending_order(owner)
    data = form_data(owner, **changes)

    response = owner_client.post(dispatch_url(order), data)

    page = response.content.decode()
    assert response.status_code == 422
    assert message in error_beside(page, field)
    assert 'value="{}"'.format(data["delivery_reference"]) in page
    assert "Arrives Thursday</textarea>" in page
    assert_nothing_changed(order)


def photo_problem(kind):
    if kind == "too many":
        return [jpeg_upload(f"p{n}.jpg") for n in range(settings.PHOTO_MAX_FILES + 1)]
    if kind == "too large":
        return [SimpleUploadedFile("huge.jpg", b"\xff" * (settings.PHOTO_MAX_BYTES + 1), "image/jpeg")]
    return [
        jpeg_upload("ok.jpg"),
        SimpleUploadedFile("notes.pdf", b"%PDF-1.4 not a photo", "application/pdf"),
    ]


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("too many", "You can attach up to 5 photos, 5 MB each; you chose 6 files."),
        ("too large", "“huge.jpg” is larger than 5 MB."),
        ("not an image", "“notes.pdf” is not a photo we can read (use JPEG, PNG or WebP)."),
    ],
)
def test_photos_over_the_limits_or_not_photos_are_refused_and_nothing_is_half_saved(
    owner_client, owner, kind, message, media_in_tmp
):
    order = pending_order(owner)

    response = owner_client.post(dispatch_url(order), {**form_data(owner), "photos": photo_problem(kind)})

    assert response.status_code == 422
    assert message in error_beside(response.content.decode(), "photos")
    assert_nothing_changed(order)
    assert not any(path.is_file() for path in media_in_tmp.rglob("*"))


def test_an_order_someone_else_just_dispatched_is_refused_with_a_clear_message(owner_client, owner):
    order = pending_order(owner)
    page_opened = owner_client.get(dispatch_url(order))
    assert page_opened.status_code == 200
    actions.dispatch_order(
        order.pk, by=owner, delivery_reference="FIRST", expected_on=today(owner) + datetime.timedelta(days=1)
    )

    response = owner_client.post(dispatch_url(order), form_data(owner, delivery_reference="SECOND"))

    page = response.content.decode()
    assert response.status_code == 422
    assert f"Order {order.reference} was already dispatched, so you cannot dispatch it." in page
    assert 'value="SECOND"' in page
    assert list(order.fulfillments.values_list("delivery_reference", flat=True)) == ["FIRST"]


def test_opening_the_dispatch_form_of_an_order_no_longer_pending_leads_back_to_the_order(owner_client, owner):
    order = dispatched_order(owner)

    response = owner_client.get(dispatch_url(order), follow=True)

    assert response.redirect_chain[-1][0] == reverse("orders:detail", args=[order.pk])
    assert f"Order {order.reference} is dispatched; it cannot be dispatched now." in response.content.decode()


def test_htmx_gets_the_form_alone_after_a_refusal_and_a_redirect_after_success(owner_client, owner):
    order = pending_order(owner)

    refused = owner_client.post(
        dispatch_url(order), form_data(owner, delivery_reference=""), headers={"HX-Request": "true"}
    )
    done = owner_client.post(dispatch_url(order), form_data(owner), headers={"HX-Request": "true"})

    assert refused.status_code == 422
    assert refused.content.decode().lstrip().startswith('<form method="post" enctype="multipart/form-data"')
    assert done.status_code == 200
    assert done["HX-Redirect"] == reverse("orders:detail", args=[order.pk])


def test_the_dispatch_form_stops_typing_at_the_limits_the_dispatch_enforces(owner_client, owner):
    page = owner_client.get(dispatch_url(pending_order(owner))).content.decode()

    assert f'autocapitalize="characters" maxlength="{actions.MAX_REFERENCE_LENGTH}"' in page
    assert f'maxlength="{actions.MAX_MESSAGE_LENGTH}"' in page


def test_dispatching_or_fulfilling_another_merchants_order_is_not_found_and_changes_nothing(owner_client):
    # The POST goes straight to the action (no read of the order first): its refusal is a 404 still.
    from orderdesk.accounts.tests.factories import MerchantFactory, owner_actor

    theirs = pending_order(owner_actor(MerchantFactory()))
    their_dispatched = dispatched_order(owner_actor(MerchantFactory()))

    dispatching = owner_client.post(dispatch_url(theirs), form_data(owner_actor(theirs.merchant)))
    fulfilling = owner_client.post(reverse("orders:fulfill", args=[their_dispatched.pk]), {"remarks": ""})

    assert dispatching.status_code == 404 and fulfilling.status_code == 404
    theirs.refresh_from_db()
    their_dispatched.refresh_from_db()
    assert theirs.status == Order.Status.PENDING and their_dispatched.status == Order.Status.DISPATCHED


def test_a_dispatch_and_a_fulfil_read_the_order_once_each(owner_client, owner, django_assert_max_num_queries):
    warm_up, order = pending_order(owner), pending_order(owner)
    # What a running shop has already: its counters' rows for each status, a server read once.
    owner_client.post(dispatch_url(warm_up), form_data(owner))
    owner_client.post(reverse("orders:fulfill", args=[warm_up.pk]), {"remarks": ""})

    # The request (session, user, membership), then one transaction: the order locked (its row
    # alone), its lines and shipments read once, the shipment and its lines and tracking event
    # (no savepoint), the webhook endpoints and notification switches (one read), the order, the
    # outbox row, its events (the transition's and "notifications queued": one INSERT), and last
    # the counters (one UPDATE a table). Fulfil: its shipments locked in one read. (Were 20 and 19,
    # then 18 and 17.)
    with django_assert_max_num_queries(15):
        dispatched = owner_client.post(dispatch_url(order), form_data(owner))
    with django_assert_max_num_queries(14):
        fulfilled = owner_client.post(reverse("orders:fulfill", args=[order.pk]), {"remarks": ""})

    assert dispatched.status_code == fulfilled.status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.FULFILLED
