"""After-sales over the REST API with a merchant's key: open, answer its own lines' case,
refund, resolve; refusals as problem+json; another merchant's case is a 404."""

import json

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile

from orderdesk.aftersales.models import AfterSalesCase, CaseMessage
from orderdesk.api.models import ApiKey
from orderdesk.api.tests.factories import api_key, client_with
from orderdesk.orders.models import OrderEvent
from orderdesk.photos.models import Photo
from orderdesk.photos.tests.images import jpeg_upload, png_upload

from .factories import shipped_order

pytestmark = pytest.mark.django_db


def test_a_key_opens_cases_per_shipper_and_works_its_own_case_to_resolved():
    shipped = shipped_order()
    client = client_with(api_key(shipped.owner.merchant).token)

    opened = client.post(
        "/api/v1/after-sales-cases",
        {
            "order_id": shipped.order.pk,
            "type": "product_broken",
            "mode": "refund",
            "lines": [
                {"order_line_id": shipped.shirt.pk, "quantity": 2},
                {"order_line_id": shipped.tote.pk, "quantity": 1},
            ],
            "text": "Both arrived wet.",
        },
        format="json",
    )

    assert opened.status_code == 201, opened.json()
    vendor_case, own_case = opened.json()
    assert vendor_case["vendor_id"] == shipped.vendor.pk and vendor_case["requested_credit"] == "700.00"
    assert own_case["vendor_id"] is None and own_case["lines"] == [
        {"order_line_id": shipped.tote.pk, "title": "Canvas tote", "quantity": 1}
    ]
    case_url = f"/api/v1/after-sales-cases/{own_case['id']}"
    assert client.post(f"{case_url}/accept", {}, format="json").json()["status"] == "accepted"
    refunded = client.post(f"{case_url}/refund", {"amount": "350.50"}, format="json").json()
    assert refunded["customer_refund"] == "350.50"
    assert (
        client.post(f"{case_url}/resolve", {"tell_customer": False}, format="json").json()["status"]
        == "resolved"
    )
    listed = client.get("/api/v1/after-sales-cases").json()
    assert {case["id"] for case in listed["results"]} == {vendor_case["id"], own_case["id"]}


def test_refusals_are_problems_with_their_field_and_change_nothing():
    shipped = shipped_order()
    client = client_with(api_key(shipped.owner.merchant).token)
    body = {
        "order_id": shipped.order.pk,
        "type": "wrong_item",
        "mode": "resend",
        "lines": [{"order_line_id": shipped.shirt.pk, "quantity": 3}],
        "text": "Wrong colour",
    }

    refused = client.post("/api/v1/after-sales-cases", body, format="json")

    assert refused.status_code == 422
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["field"] == "lines" and "3 cannot be claimed" in refused.json()["detail"]
    assert not AfterSalesCase.objects.exists()


def test_a_key_answers_not_for_a_vendor_and_a_read_key_changes_nothing():
    shipped = shipped_order()
    write = client_with(api_key(shipped.owner.merchant).token)
    read = client_with(api_key(shipped.owner.merchant, scope=ApiKey.Scope.READ).token)
    (case,) = write.post(
        "/api/v1/after-sales-cases",
        {
            "order_id": shipped.order.pk,
            "type": "other",
            "mode": "other",
            "lines": [{"order_line_id": shipped.shirt.pk, "quantity": 1}],
            "text": "Hm",
        },
        format="json",
    ).json()

    assert write.post(f"/api/v1/after-sales-cases/{case['id']}/accept", {}, format="json").status_code == 422
    assert read.post(f"/api/v1/after-sales-cases/{case['id']}/close", {}, format="json").status_code == 403
    assert read.get(f"/api/v1/after-sales-cases/{case['id']}").json()["status"] == "open"


def test_another_merchants_case_is_not_found():
    shipped = shipped_order()
    own = client_with(api_key(shipped.owner.merchant).token)
    (case,) = own.post(
        "/api/v1/after-sales-cases",
        {
            "order_id": shipped.order.pk,
            "type": "other",
            "mode": "other",
            "lines": [{"order_line_id": shipped.tote.pk, "quantity": 1}],
            "text": "Hm",
        },
        format="json",
    ).json()
    stranger = client_with(api_key().token)

    assert stranger.get(f"/api/v1/after-sales-cases/{case['id']}").status_code == 404
    assert (
        stranger.post(f"/api/v1/after-sales-cases/{case['id']}/close", {}, format="json").status_code == 404
    )
    assert stranger.get("/api/v1/after-sales-cases").json()["results"] == []
    assert stranger.get("/api/v1/after-sales-cases/abc").status_code == 404


def multipart_case(shipped, **changes) -> dict:
    body = {
        "order_id": shipped.order.pk,
        "type": "product_broken",
        "mode": "resend",
        "lines": json.dumps([{"order_line_id": shipped.shirt.pk, "quantity": 1}]),
        "text": "Torn at the seam",
    }
    body.update(changes)
    return body


def test_a_case_opened_with_photos_keeps_them_as_dispatch_would():
    shipped = shipped_order()
    client = client_with(api_key(shipped.owner.merchant).token)

    opened = client.post(
        "/api/v1/after-sales-cases",
        multipart_case(shipped, photos=[jpeg_upload(), png_upload()]),
        format="multipart",
    )

    assert opened.status_code == 201, opened.json()
    (case,) = AfterSalesCase.objects.all()
    assert [case.vendor_id, case.text] == [shipped.vendor.pk, "Torn at the seam"]
    assert case.photos.count() == 2
    assert {photo.original_name for photo in case.photos.all()} == {"parcel.jpg", "parcel.png"}


@pytest.mark.parametrize(
    ("photos", "detail"),
    [
        (
            lambda: [SimpleUploadedFile("notes.txt", b"not a photo", "text/plain")],
            "is not a photo we can read",
        ),
        (lambda: [jpeg_upload(f"p{n}.jpg") for n in range(6)], "You can attach up to 5 photos"),
    ],
)
def test_a_refused_photo_is_a_problem_and_opens_no_case(photos, detail, settings):
    settings.PHOTO_MAX_FILES = 5
    shipped = shipped_order()
    client = client_with(api_key(shipped.owner.merchant).token)

    refused = client.post(
        "/api/v1/after-sales-cases", multipart_case(shipped, photos=photos()), format="multipart"
    )

    assert refused.status_code == 422
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["field"] == "photos" and detail in refused.json()["detail"]
    assert not AfterSalesCase.objects.exists() and not Photo.objects.exists()
    assert OrderEvent.objects.filter(kind=OrderEvent.Kind.AFTER_SALES_OPENED).count() == 0


def test_lines_that_are_not_json_in_a_multipart_body_are_a_problem():
    shipped = shipped_order()
    client = client_with(api_key(shipped.owner.merchant).token)

    refused = client.post(
        "/api/v1/after-sales-cases", multipart_case(shipped, lines="shirt x1"), format="multipart"
    )

    assert refused.status_code == 400
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["field"] == "lines" and "JSON" in refused.json()["detail"]
    assert not AfterSalesCase.objects.exists()


def test_a_message_takes_photos_and_a_refused_one_writes_nothing():
    shipped = shipped_order()
    client = client_with(api_key(shipped.owner.merchant).token)
    (case,) = client.post("/api/v1/after-sales-cases", multipart_case(shipped), format="multipart").json()
    messages_url = f"/api/v1/after-sales-cases/{case['id']}/messages"

    refused = client.post(
        messages_url,
        {"text": "See this", "photos": [jpeg_upload(), SimpleUploadedFile("x.gif", b"GIF89a", "image/gif")]},
        format="multipart",
    )
    assert refused.status_code == 422 and refused.json()["field"] == "photos"
    assert not CaseMessage.objects.exists() and not Photo.objects.exists()

    posted = client.post(messages_url, {"photos": [jpeg_upload()]}, format="multipart")
    assert posted.status_code == 201, posted.json()
    (message,) = CaseMessage.objects.all()
    assert message.text == "" and message.photos.count() == 1
    assert posted.json()["messages"][0]["photos"] == 1
    # JSON as before.
    assert client.post(messages_url, {"text": "Thanks"}, format="json").status_code == 201


def test_the_schema_describes_photos_for_a_new_case_and_a_message():
    client = client_with(api_key().token)
    schema = yaml.safe_load(client.get("/api/schema/").content)
    paths = schema["paths"]

    new_case = paths["/api/v1/after-sales-cases"]["post"]["requestBody"]["content"]
    assert set(new_case) == {"application/json", "multipart/form-data"}
    assert new_case["multipart/form-data"]["encoding"] == {"lines": {"contentType": "application/json"}}
    message = paths["/api/v1/after-sales-cases/{id}/messages"]["post"]["requestBody"]["content"]
    assert set(message) == {"application/json", "multipart/form-data"}
    for body in (new_case, message):
        form = _resolved(schema, body["multipart/form-data"]["schema"])
        assert form["properties"]["photos"]["items"] == {"type": "string", "format": "binary"}


def _resolved(schema, node):
    if "$ref" in node:
        return schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node
