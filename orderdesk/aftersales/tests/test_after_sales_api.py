"""After-sales over the REST API with a merchant's key: open, answer its own lines' case,
refund, resolve; refusals as problem+json; another merchant's case is a 404."""

import pytest

from orderdesk.aftersales.models import AfterSalesCase
from orderdesk.api.models import ApiKey
from orderdesk.api.tests.factories import api_key, client_with

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
