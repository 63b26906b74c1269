"""Shipments with their tracking events (read, and move through orders' domain function), and the
merchant's vendors and hosting (read, and written through the vendors app's domain functions)."""

import pytest

from orderdesk.accounts.actors import Actor
from orderdesk.api.models import ApiKey
from orderdesk.catalog.models import Product, Variant
from orderdesk.fulfillment.models import Fulfillment, TrackingEvent
from orderdesk.notifications.models import Notification
from orderdesk.orders.models import Order
from orderdesk.orders.tests.factories import dispatched_order, pending_order
from orderdesk.vendors.models import Hosting, Vendor
from orderdesk.vendors.tests.factories import HostingFactory, VendorFactory

from .factories import api_key, client_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    key = api_key()
    return key, Actor.for_user(key.api_key.created_by)


def test_an_orders_shipments_come_with_their_tracking_events(shop):
    key, owner = shop
    order = dispatched_order(owner)

    answer = client_with(key.token).get(f"/api/v1/orders/{order.pk}/shipments")

    assert answer.status_code == 200
    [shipment] = answer.json()
    assert shipment["order_id"] == order.pk
    assert (shipment["status"], shipment["delivery_reference"], shipment["shipped_by"]) == (
        "in_transit",
        "JT0001",
        "merchant",
    )
    assert [event["status"] for event in shipment["tracking_events"]] == ["in_transit"]


def test_shipments_are_listed_and_filtered_by_order(shop):
    key, owner = shop
    first = dispatched_order(owner)
    dispatched_order(owner)

    answer = client_with(key.token).get("/api/v1/shipments", {"order": first.pk})

    assert [row["order_id"] for row in answer.json()["results"]] == [first.pk]


def test_moving_a_shipment_to_delivered_writes_its_tracking_event_and_tells_the_endpoints(shop, settings):
    from orderdesk.api.webhooks import create_webhook_endpoint

    key, owner = shop
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    create_webhook_endpoint(by=owner, url="http://127.0.0.1:9/hooks", events=["shipment.updated"])
    shipment = dispatched_order(owner).fulfillments.get()

    answer = client_with(key.token).post(
        f"/api/v1/shipments/{shipment.pk}/move", {"to": "delivered", "place": "Makati"}, format="json"
    )

    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] == "delivered"
    assert answer.json()["tracking_events"][-1]["place"] == "Makati"
    deliveries = Notification.objects.filter(channel=Notification.Channel.WEBHOOK)
    assert [row.payload["event"] for row in deliveries] == ["shipment.updated"] * 2
    assert '"status":"delivered"' in deliveries.last().body


def test_a_refused_move_is_a_problem_beside_nothing_changed(shop):
    key, owner = shop
    shipment = dispatched_order(owner).fulfillments.get()
    events_before = TrackingEvent.objects.count()

    answer = client_with(key.token).post(
        f"/api/v1/shipments/{shipment.pk}/move", {"to": "pending"}, format="json"
    )

    assert answer.status_code == 422
    assert answer["Content-Type"] == "application/problem+json"
    assert answer.json()["detail"]
    assert Fulfillment.objects.get().status == "in_transit"
    assert TrackingEvent.objects.count() == events_before


def test_a_read_key_cannot_move_a_shipment(shop):
    _, owner = shop
    shipment = dispatched_order(owner).fulfillments.get()
    read = api_key(owner.merchant, scope=ApiKey.Scope.READ)

    answer = client_with(read.token).post(
        f"/api/v1/shipments/{shipment.pk}/move", {"to": "delivered"}, format="json"
    )

    assert answer.status_code == 403
    assert Fulfillment.objects.get().status == "in_transit"


def test_another_merchants_shipment_is_not_found(shop):
    key, _ = shop
    theirs = dispatched_order(Actor.for_user(api_key().api_key.created_by))
    shipment_id = theirs.fulfillments.get().pk
    client = client_with(key.token)

    assert client.get(f"/api/v1/shipments/{shipment_id}").status_code == 404
    assert (
        client.post(f"/api/v1/shipments/{shipment_id}/move", {"to": "delivered"}, format="json").status_code
        == 404
    )
    assert client.get(f"/api/v1/orders/{theirs.pk}/shipments").status_code == 404
    assert Order.objects.get(pk=theirs.pk).status == "dispatched"


def test_vendors_and_hosting_are_read(shop):
    key, owner = shop
    pending_order(owner)
    product = Product.objects.create(merchant=owner.merchant, title="Linen shirt")
    variant = Variant.objects.create(merchant=owner.merchant, product=product, sku="LS-M", price="799.00")
    hosting = HostingFactory(variant=variant)
    other_vendor = VendorFactory(merchant=owner.merchant)
    client = client_with(key.token)

    vendors = client.get("/api/v1/vendors").json()["results"]
    hostings = client.get("/api/v1/hostings", {"vendor": hosting.vendor_id}).json()["results"]

    assert {row["id"] for row in vendors} == {hosting.vendor_id, other_vendor.pk}
    assert hostings == [
        {
            "id": hosting.pk,
            "variant_id": variant.pk,
            "vendor_id": hosting.vendor_id,
            "vendor_sku": "",
            # An API key may not see the cost figures.
            "unit_cost": None,
            "shipping_cost": None,
            "updated_at": hostings[0]["updated_at"],
        }
    ]
    assert client.get("/api/v1/hostings", {"vendor": other_vendor.pk}).json()["results"] == []
    # Vendors are never deleted through the API (their shipments keep naming them): switch one off.
    assert client.delete(f"/api/v1/vendors/{other_vendor.pk}").status_code == 405


# --- writing vendors and hosting (issue 11: what the vendors issue adds) ---------------------------


def _variant(merchant, sku="LS-M"):
    product = Product.objects.create(merchant=merchant, title=f"Product {sku}")
    return Variant.objects.create(merchant=merchant, product=product, sku=sku, price="799.00")


def test_a_read_write_key_adds_a_vendor_and_an_idempotent_retry_adds_it_once(shop):
    key, owner = shop
    client = client_with(key.token)
    body = {"name": "Cebu Source", "contact_email": "Orders@Cebu.example", "processing_days": 2}

    first = client.post("/api/v1/vendors", body, format="json", HTTP_IDEMPOTENCY_KEY="vendor-1")
    again = client.post("/api/v1/vendors", body, format="json", HTTP_IDEMPOTENCY_KEY="vendor-1")
    other_body = client.post(
        "/api/v1/vendors", {"name": "Davao Makers"}, format="json", HTTP_IDEMPOTENCY_KEY="vendor-1"
    )

    assert first.status_code == 201, first.json()
    assert first.json()["contact_email"] == "orders@cebu.example"  # the vendors app's rules applied
    assert first.json()["currency"] == owner.merchant.currency and first.json()["is_active"] is True
    assert (
        again.status_code == 201 and again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    )
    assert other_body.status_code == 409
    assert Vendor.objects.filter(merchant=owner.merchant).count() == 1


def test_a_vendor_refused_by_the_vendors_app_is_a_problem_naming_the_field(shop):
    key, owner = shop
    VendorFactory(merchant=owner.merchant, name="Cebu Source")
    client = client_with(key.token)

    taken = client.post("/api/v1/vendors", {"name": "cebu source"}, format="json")
    bad_phone = client.post("/api/v1/vendors", {"name": "New", "contact_phone": "call me"}, format="json")

    assert taken.status_code == 422 and taken["Content-Type"] == "application/problem+json"
    assert (taken.json()["field"], taken.json()["detail"]) == (
        "name",
        "You already have a vendor named cebu source.",
    )
    assert bad_phone.status_code == 422 and bad_phone.json()["field"] == "contact_phone"
    assert Vendor.objects.filter(merchant=owner.merchant).count() == 1


def test_patching_a_vendor_changes_only_the_fields_given_and_can_switch_it_off(shop):
    key, owner = shop
    vendor = VendorFactory(merchant=owner.merchant, name="Cebu Source", processing_days=3)
    client = client_with(key.token)

    answer = client.patch(
        f"/api/v1/vendors/{vendor.pk}", {"processing_days": 5, "is_active": False}, format="json"
    )

    assert answer.status_code == 200, answer.json()
    vendor.refresh_from_db()
    assert (vendor.name, vendor.processing_days, vendor.is_active) == ("Cebu Source", 5, False)
    assert answer.json()["processing_days"] == 5 and answer.json()["is_active"] is False


def test_read_keys_cannot_write_vendors_or_hosting_and_another_shops_vendor_is_not_found(shop):
    key, owner = shop
    vendor = VendorFactory(merchant=owner.merchant, name="Cebu Source")
    variant = _variant(owner.merchant)
    read = client_with(api_key(owner.merchant, scope=ApiKey.Scope.READ).token)
    theirs = VendorFactory(merchant=api_key().api_key.merchant, name="Theirs")
    client = client_with(key.token)

    assert read.post("/api/v1/vendors", {"name": "X"}, format="json").status_code == 403
    assert read.patch(f"/api/v1/vendors/{vendor.pk}", {}, format="json").status_code == 403
    hosting_body = {"variant_id": variant.pk, "vendor_id": vendor.pk, "unit_cost": "300.00"}
    assert read.post("/api/v1/hostings", hosting_body, format="json").status_code == 403
    missing = client.patch(f"/api/v1/vendors/{theirs.pk}", {"name": "Mine now"}, format="json")
    assert missing.status_code == 404 and missing["Content-Type"] == "application/problem+json"
    assert client.get(f"/api/v1/vendors/{theirs.pk}").status_code == 404
    # Another shop's vendor named in a body is refused as unknown, the same words as for no vendor at all.
    with_theirs = client.post("/api/v1/hostings", hosting_body | {"vendor_id": theirs.pk}, format="json")
    assert with_theirs.status_code == 422 and with_theirs.json()["field"] == "vendor"
    Vendor.objects.get(pk=theirs.pk, name="Theirs")
    assert not Hosting.objects.exists()


def test_a_key_hosts_and_rehosts_one_variant_and_never_sees_the_costs(shop):
    key, owner = shop
    cebu = VendorFactory(merchant=owner.merchant, name="Cebu Source")
    davao = VendorFactory(merchant=owner.merchant, name="Davao Makers")
    variant = _variant(owner.merchant)
    client = client_with(key.token)
    body = {"variant_id": variant.pk, "vendor_id": cebu.pk, "unit_cost": "300.00", "shipping_cost": "40.00"}

    hosted = client.post("/api/v1/hostings", body, format="json", HTTP_IDEMPOTENCY_KEY="h-1")
    replayed = client.post("/api/v1/hostings", body, format="json", HTTP_IDEMPOTENCY_KEY="h-1")
    rehosted = client.post(
        "/api/v1/hostings", body | {"vendor_id": davao.pk, "vendor_sku": "DM-9"}, format="json"
    )

    assert hosted.status_code == 201, hosted.json()
    assert (hosted.json()["vendor_id"], hosted.json()["unit_cost"], hosted.json()["shipping_cost"]) == (
        cebu.pk,
        None,
        None,
    )
    assert replayed.json() == hosted.json()
    assert rehosted.status_code == 201 and rehosted.json()["id"] == hosted.json()["id"]
    hosting = Hosting.objects.get(variant=variant)
    assert (hosting.vendor_id, hosting.vendor_sku, str(hosting.unit_cost)) == (davao.pk, "DM-9", "300.00")


def test_a_key_hosts_many_variants_at_once_all_or_none(shop):
    key, owner = shop
    cebu = VendorFactory(merchant=owner.merchant, name="Cebu Source")
    mine = [_variant(owner.merchant, sku) for sku in ("A-1", "B-2")]
    theirs = _variant(api_key().api_key.merchant, "C-3")
    client = client_with(key.token)
    body = {"vendor_id": cebu.pk, "unit_cost": "120.00"}

    refused = client.post(
        "/api/v1/hostings/many", body | {"variant_ids": [mine[0].pk, theirs.pk]}, format="json"
    )
    bad_cost = client.post(
        "/api/v1/hostings/many", body | {"variant_ids": [mine[0].pk], "unit_cost": "-1"}, format="json"
    )
    hosted = client.post("/api/v1/hostings/many", body | {"variant_ids": [v.pk for v in mine]}, format="json")

    assert refused.status_code == 422 and refused.json()["detail"] == "That product does not exist."
    assert bad_cost.status_code == 400 and bad_cost["Content-Type"] == "application/problem+json"
    assert hosted.status_code == 201, hosted.json()
    assert [row["variant_id"] for row in hosted.json()] == sorted(v.pk for v in mine)
    assert {row["vendor_id"] for row in hosted.json()} == {cebu.pk}
    assert Hosting.objects.count() == 2 and not Hosting.objects.filter(variant=theirs).exists()
