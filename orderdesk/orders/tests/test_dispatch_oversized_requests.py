"""Requests too big for Django to read (too many files, too much text, an absurd file name)
get the dispatch form back with the message beside the field, like every other refusal."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from orderdesk.fulfillment.models import Fulfillment
from orderdesk.orders.models import Order
from orderdesk.photos.models import Photo
from orderdesk.photos.tests.images import jpeg_upload

from .factories import pending_order
from .test_dispatch_page import error_beside, form_data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def assert_nothing_changed(order):
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert not Fulfillment.objects.filter(order=order).exists()
    assert not Photo.objects.exists()


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_two_hundred_files_in_one_dispatch_are_refused_beside_the_photos(owner_client, owner, htmx):
    order = pending_order(owner)
    files = [SimpleUploadedFile(f"p{number}.jpg", b"x", content_type="image/jpeg") for number in range(200)]
    headers = {"HX-Request": "true"} if htmx else {}

    response = owner_client.post(
        reverse("orders:dispatch", args=[order.pk]), {**form_data(owner), "photos": files}, headers=headers
    )

    assert response.status_code == 422
    page = response.content.decode()
    assert "You can attach up to 5 photos, 5 MB each; you chose too many files." in error_beside(
        page, "photos"
    )
    assert_nothing_changed(order)


def test_a_three_megabyte_message_is_refused_beside_the_message(owner_client, owner):
    order = pending_order(owner)

    response = owner_client.post(
        reverse("orders:dispatch", args=[order.pk]), form_data(owner, message="x" * 3_000_000)
    )

    assert response.status_code == 422
    assert "The message has at most 1000 characters." in error_beside(response.content.decode(), "message")
    assert_nothing_changed(order)


def multipart_body(fields: dict, file_name: str, file_content: bytes) -> tuple[bytes, str]:
    """A form post written by hand: Django's test client cuts file names to 255 characters."""
    boundary = "----orderdesk-test-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="{file_name}"\r\n'
        "Content-Type: image/jpeg\r\n\r\n".encode()
        + file_content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def test_a_file_name_of_a_hundred_thousand_characters_is_refused_beside_the_photos(owner_client, owner):
    order = pending_order(owner)
    body, content_type = multipart_body(form_data(owner), "a" * 100_000 + ".jpg", jpeg_upload().read())

    response = owner_client.generic("POST", reverse("orders:dispatch", args=[order.pk]), body, content_type)

    assert response.status_code == 422
    assert "could not be read" in error_beside(response.content.decode(), "photos")
    assert_nothing_changed(order)


def test_with_csrf_checks_on_an_htmx_dispatch_of_too_many_files_still_gets_its_message(owner):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner.user)
    order = pending_order(owner)
    browser.get(reverse("orders:dispatch", args=[order.pk]))
    token = browser.cookies["csrftoken"].value
    files = [SimpleUploadedFile(f"p{number}.jpg", b"x", content_type="image/jpeg") for number in range(200)]

    response = browser.post(
        reverse("orders:dispatch", args=[order.pk]),
        {**form_data(owner), "photos": files},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )

    assert response.status_code == 422
    assert "you chose too many files." in error_beside(response.content.decode(), "photos")
    assert_nothing_changed(order)
