"""Shipments with their tracking events (read, and move through orders' domain function), and the
merchant's vendors and hosting (read)."""

import pytest

from orderdesk.accounts.actors import Actor
from orderdesk.api.models import ApiKey
from orderdesk.catalog.models import Product, Variant
from orderdesk.fulfillment.models import Fulfillment, TrackingEvent
from orderdesk.notifications.models import Notification
from orderdesk.orders.models import Order
from orderdesk.orders.tests.factories import dispatched_order, pending_order
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
    assert client.post("/api/v1/vendors", {"name": "New"}, format="json").status_code == 405
