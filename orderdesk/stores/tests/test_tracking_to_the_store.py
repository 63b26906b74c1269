"""Tracking back to the store: a shipment of a store's order that goes to the carrier with a
tracking number reaches the store through the outbox (Shopify fulfillmentCreate, WooCommerce
order note and status), against the loopback doubles."""

import datetime

import pytest
from django.utils import timezone

from orderdesk.fulfillment import actions as fulfillment_actions
from orderdesk.fulfillment.actions import ShipmentLine
from orderdesk.fulfillment.models import Fulfillment
from orderdesk.notifications.actions import resend_notification
from orderdesk.notifications.delivery import deliver_due_notifications
from orderdesk.notifications.models import Notification
from orderdesk.orders import actions as order_actions
from orderdesk.orders.links import customer_page_url
from orderdesk.orders.models import Order, OrderEvent
from orderdesk.orders.tests.factories import pending_order
from orderdesk.stores import actions as store_actions
from orderdesk.stores import shopify, woocommerce
from orderdesk.stores.actions import StoreDetails
from orderdesk.stores.models import Store
from orderdesk.stores.sync import apply_incoming_order
from orderdesk.vendors.tests.factories import VendorFactory

from .factories import shopify_store, woo_store
from .peers import SHOPIFY_TOKEN, shopify_node, woo_order

pytestmark = pytest.mark.django_db


def _in_days(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


def _shopify_order(owner, double, number=5001) -> Order:
    double.orders.append(shopify_node(number))
    store = shopify_store(owner, api_base_url=double.base_url)
    apply_incoming_order(store, shopify.order_from_graphql(double.orders[-1]), notify=False)
    return Order.objects.get(store=store, external_id=str(number))


def _woo_order(owner, double, number=6001) -> Order:
    double.orders.append(woo_order(number))
    store = woo_store(owner, api_base_url=double.base_url)
    apply_incoming_order(store, woocommerce.order_from_json(double.orders[-1]), notify=False)
    return Order.objects.get(store=store, external_id=str(number))


def _dispatch(order: Order, owner, reference="JT-778812") -> Order:
    return order_actions.dispatch_order(
        order.pk, by=owner, delivery_reference=reference, expected_on=_in_days(3)
    )


def _store_rows(order: Order):
    return Notification.objects.filter(
        about_type="order", about_id=str(order.pk), channel=Notification.Channel.STORE
    )


def _graphql(double, word: str) -> list[dict]:
    return [q for q in double.queries() if word in q["query"]]


def test_a_dispatched_shopify_order_is_fulfilled_in_shopify_with_its_tracking(owner, shopify_double):
    order = _shopify_order(owner, shopify_double)

    _dispatch(order, owner)
    [row] = _store_rows(order)
    assert (row.audience, row.recipient, row.status) == ("store", "Lakbay Shopify", "pending")
    deliver_due_notifications()

    row.refresh_from_db()
    assert row.status == Notification.Status.SENT
    assert row.provider_message_id == "gid://shopify/Fulfillment/9001"
    assert (
        row.body
        == f"J&T Express JT-778812 for order {order.reference}, sent to Lakbay Shopify as a fulfillment."
    )
    [asked] = _graphql(shopify_double, "fulfillmentOrders")
    assert asked["variables"] == {"id": "gid://shopify/Order/5001", "first": 10, "lines": 40, "after": None}
    [created] = _graphql(shopify_double, "fulfillmentCreate")
    fulfillment = created["variables"]["fulfillment"]
    assert fulfillment["trackingInfo"] == {
        "company": "J&T Express",
        "number": "JT-778812",
        "url": customer_page_url(order),
    }
    assert fulfillment["notifyCustomer"] is False
    assert fulfillment["lineItemsByFulfillmentOrder"] == [
        {
            "fulfillmentOrderId": "gid://shopify/FulfillmentOrder/500101",
            "fulfillmentOrderLineItems": [
                {"id": "gid://shopify/FulfillmentOrderLineItem/500101", "quantity": 2},
                {"id": "gid://shopify/FulfillmentOrderLineItem/500102", "quantity": 1},
            ],
        }
    ]
    assert shopify_double.fulfillment_orders["5001"][0]["status"] == "CLOSED"
    queued = order.events.filter(kind=OrderEvent.Kind.NOTIFICATIONS_QUEUED)
    assert any(n["channel"] == "store" for e in queued for n in e.data["notifications"])


def test_a_shipment_of_some_items_fulfills_only_those_in_shopify(owner, shopify_double):
    order = _shopify_order(owner, shopify_double)
    shirt, tote = order.lines.order_by("pk")

    order_actions.ship_order_lines(
        order.pk,
        by=owner,
        lines=[ShipmentLine(order_line_id=tote.pk, quantity=1)],
        status=Fulfillment.ShippingStatus.IN_TRANSIT,
        carrier="LBC",
        delivery_reference="LBC-1",
    )
    deliver_due_notifications()
    order_actions.ship_order_lines(
        order.pk,
        by=owner,
        lines=[ShipmentLine(order_line_id=shirt.pk, quantity=2)],
        status=Fulfillment.ShippingStatus.IN_TRANSIT,
        carrier="LBC",
        delivery_reference="LBC-2",
    )
    deliver_due_notifications()

    created = [q["variables"]["fulfillment"] for q in _graphql(shopify_double, "fulfillmentCreate")]
    assert [f["trackingInfo"]["number"] for f in created] == ["LBC-1", "LBC-2"]
    assert [f["lineItemsByFulfillmentOrder"][0]["fulfillmentOrderLineItems"] for f in created] == [
        [{"id": "gid://shopify/FulfillmentOrderLineItem/500102", "quantity": 1}],
        [{"id": "gid://shopify/FulfillmentOrderLineItem/500101", "quantity": 2}],
    ]
    assert {r.status for r in _store_rows(order)} == {Notification.Status.SENT}


def test_items_shopify_already_counts_as_fulfilled_are_not_fulfilled_twice(owner, shopify_double):
    order = _shopify_order(owner, shopify_double)
    for fulfillment_order in shopify_double.fulfillment_orders_of("5001"):
        fulfillment_order["status"] = "CLOSED"

    _dispatch(order, owner)
    deliver_due_notifications()

    [row] = _store_rows(order)
    assert (row.status, row.provider_message_id) == ("sent", "nothing left to fulfill in Shopify")
    assert not _graphql(shopify_double, "fulfillmentCreate")


def test_a_vendors_shipment_handed_to_the_carrier_is_pushed_too(owner, shopify_double):
    order = _shopify_order(owner, shopify_double)
    vendor = VendorFactory(merchant=owner.merchant)
    shipment = fulfillment_actions.create_shipment(order.pk, by=owner, vendor_id=vendor.pk)
    assert not _store_rows(order).exists()

    order_actions.move_order_shipment(
        shipment.pk, by=owner, to="in_transit", carrier="Ninja Van", delivery_reference="NV-55"
    )
    deliver_due_notifications()

    [created] = _graphql(shopify_double, "fulfillmentCreate")
    assert created["variables"]["fulfillment"]["trackingInfo"]["company"] == "Ninja Van"
    assert _store_rows(order).get().status == Notification.Status.SENT


def test_the_same_tracking_number_is_pushed_once_whatever_the_shipment_goes_through(owner, shopify_double):
    order = _shopify_order(owner, shopify_double)
    shipment = order_actions.ship_order_lines(
        order.pk, by=owner, lines=None, status="in_transit", carrier="LBC", delivery_reference="LBC-9"
    )
    order_actions.move_order_shipment(shipment.pk, by=owner, to="exception", reason="Typhoon")
    order_actions.move_order_shipment(shipment.pk, by=owner, to="in_transit")

    assert _store_rows(order).count() == 1


def test_an_order_from_no_connected_store_sends_nothing_to_a_store(owner):
    order = pending_order(owner)
    _dispatch(order, owner)
    assert not _store_rows(order).exists()


def test_an_order_of_a_store_without_credentials_sends_nothing_to_it(owner, shopify_double):
    order = _shopify_order(owner, shopify_double)
    Store.objects.filter(pk=order.store_id).update(credentials_encrypted="")
    _dispatch(order, owner)
    assert not _store_rows(order).exists()


def test_a_slow_store_is_tried_again_later(owner, shopify_double):
    order = _shopify_order(owner, shopify_double)
    _dispatch(order, owner)
    shopify_double.stall_next(2)  # STORE_API_TIMEOUT_SECONDS is 1 in these tests

    deliver_due_notifications()

    [row] = _store_rows(order)
    assert (row.status, row.attempts) == (Notification.Status.PENDING, 1)
    assert "did not answer within 1 seconds" in row.last_error
    deliver_due_notifications(now=timezone.now() + datetime.timedelta(hours=1))
    row.refresh_from_db()
    assert row.status == Notification.Status.SENT


def test_a_revoked_token_fails_the_push_marks_the_store_broken_and_resend_works_once_fixed(
    owner, owner_client, shopify_double
):
    order = _shopify_order(owner, shopify_double)
    shopify_double.token = "shpat_revoked"

    _dispatch(order, owner)
    deliver_due_notifications()

    [row] = _store_rows(order)
    assert row.status == Notification.Status.FAILED
    assert "refused the credentials (HTTP 401)" in row.last_error
    store = Store.objects.get()
    assert store.connection_state == Store.ConnectionState.BROKEN
    page = owner_client.get(f"/orders/{order.pk}/").content.decode()
    assert "Tracking sent to the store" in page
    assert "Store to Lakbay Shopify" in page  # the timeline's "Notifications queued"
    assert f'action="/notifications/{row.pk}/resend/"' in page

    shopify_double.token = "shpat_new_token"
    store_actions.update_store_credentials(
        store.pk,
        StoreDetails(channel="shopify", name=store.name, access_token="shpat_new_token"),
        by=owner,
    )
    resend_notification(row.pk, by=owner)
    deliver_due_notifications()

    row.refresh_from_db()
    assert row.status == Notification.Status.SENT
    assert order.events.filter(kind=OrderEvent.Kind.NOTIFICATION_RESENT).exists()


def test_a_woocommerce_order_gets_a_note_then_completed_once_everything_shipped(owner, woo_double):
    order = _woo_order(owner, woo_double)
    shirt, tote = order.lines.order_by("pk")

    order_actions.ship_order_lines(
        order.pk,
        by=owner,
        lines=[ShipmentLine(order_line_id=tote.pk, quantity=1)],
        status="in_transit",
        carrier="LBC",
        delivery_reference="LBC-1",
    )
    deliver_due_notifications()
    assert woo_double.orders[0]["status"] == "processing"
    [first] = woo_double.notes[6001]
    assert first["note"] == (
        f"Shipped with LBC, tracking number LBC-1. Track it at {customer_page_url(order)}"
    )
    assert first["customer_note"] is False

    order_actions.ship_order_lines(
        order.pk,
        by=owner,
        lines=[ShipmentLine(order_line_id=shirt.pk, quantity=2)],
        status="in_transit",
        carrier="LBC",
        delivery_reference="LBC-2",
    )
    deliver_due_notifications()

    link = customer_page_url(order)
    assert [n["note"] for n in woo_double.notes[6001]] == [
        f"Shipped with LBC, tracking number LBC-1. Track it at {link}",
        f"Shipped with LBC, tracking number LBC-2. Track it at {link}",
    ]
    assert woo_double.orders[0]["status"] == "completed"
    puts = [r for r in woo_double.requests if r.method == "PUT"]
    assert [(r.path, r.json()) for r in puts] == [("/wp-json/wc/v3/orders/6001", {"status": "completed"})]
    assert {r.status for r in _store_rows(order)} == {Notification.Status.SENT}


def test_a_woocommerce_retry_finds_the_note_it_left_and_adds_none(owner, woo_double):
    order = _woo_order(owner, woo_double)
    _dispatch(order, owner)
    # The site wrote the note, but its answer came after we had given up.
    woo_double.requests.clear()
    woo_double.script("noop")
    woo_double.stall_next(2)

    deliver_due_notifications()
    deliver_due_notifications(now=timezone.now() + datetime.timedelta(hours=1))

    assert len(woo_double.notes[6001]) == 1
    assert _store_rows(order).get().status == Notification.Status.SENT
    assert woo_double.orders[0]["status"] == "completed"


def test_a_woocommerce_order_the_site_no_longer_has_fails_for_good_saying_so(owner, woo_double):
    order = _woo_order(owner, woo_double)
    woo_double.orders.clear()

    _dispatch(order, owner)
    deliver_due_notifications()

    row = _store_rows(order).get()
    assert row.status == Notification.Status.FAILED
    assert "HTTP 404" in row.last_error and "Invalid ID." in row.last_error


def test_the_shopify_token_is_sent_on_every_push(owner, shopify_double):
    order = _shopify_order(owner, shopify_double)
    _dispatch(order, owner)
    deliver_due_notifications()
    assert {r.headers["x-shopify-access-token"] for r in shopify_double.requests} == {SHOPIFY_TOKEN}


def test_a_shopify_app_without_the_fulfillment_scope_fails_at_once_naming_the_scope(owner, shopify_double):
    order = _shopify_order(owner, shopify_double)
    shopify_double.may_fulfill = False

    _dispatch(order, owner)
    deliver_due_notifications()

    row = _store_rows(order).get()
    assert (row.status, row.attempts) == (Notification.Status.FAILED, 1)
    assert "read_merchant_managed_fulfillment_orders" in row.last_error
    assert Store.objects.get().connection_state != Store.ConnectionState.BROKEN


def test_a_woocommerce_order_cancelled_in_the_store_is_never_completed_over_it(owner, woo_double):
    order = _woo_order(owner, woo_double)
    _dispatch(order, owner)
    woo_double.orders[0]["status"] = "cancelled"

    deliver_due_notifications()

    assert len(woo_double.notes[6001]) == 1
    assert woo_double.orders[0]["status"] == "cancelled"
    assert not [r for r in woo_double.requests if r.method == "PUT"]
