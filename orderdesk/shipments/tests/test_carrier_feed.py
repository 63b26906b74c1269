"""The carrier-tracking feed: AfterShip's signed deliveries move shipments by the tag table;
every refusal is a clear 4xx and changes nothing; the same delivery twice changes nothing."""

import time

import pytest
from django.core.management import call_command
from django.urls import reverse

from orderdesk.fulfillment.models import Fulfillment, TrackingEvent
from orderdesk.orders.actions import move_order_shipment
from orderdesk.orders.models import Order
from orderdesk.shipments.actions import set_carrier_feed_secret
from orderdesk.shipments.aftership import AFTERSHIP_TAGS
from orderdesk.shipments.models import CarrierDelivery

from .factories import VendorFactory, vendor_shipment
from .peers import AfterShipDouble

Status = Fulfillment.ShippingStatus
SECRET = "as-webhook-secret-0123456789"


@pytest.fixture
def feed(owner):
    feed = set_carrier_feed_secret(SECRET, by=owner)
    return feed


@pytest.fixture
def aftership(feed):
    return AfterShipDouble(secret=SECRET, path=reverse("shipments:aftership_webhook", args=[feed.token]))


@pytest.fixture
def shipment(owner):
    """A vendor's shipment with the carrier: tracking number LBC777."""
    shipment = vendor_shipment(owner, VendorFactory(merchant=owner.merchant))
    move_order_shipment(
        shipment.pk, by=owner, to=Status.IN_TRANSIT, carrier="LBC", delivery_reference="LBC777"
    )
    return shipment


def state(shipment):
    shipment.refresh_from_db()
    return (
        shipment.status,
        TrackingEvent.objects.filter(fulfillment=shipment).count(),
        CarrierDelivery.objects.count(),
        Order.objects.get(pk=shipment.order_id).status,
    )


def test_the_tag_table_maps_every_aftership_tag_to_one_of_our_five_statuses():
    assert set(AFTERSHIP_TAGS) == {
        "Pending",
        "InfoReceived",
        "InTransit",
        "OutForDelivery",
        "AttemptFail",
        "Delivered",
        "AvailableForPickup",
        "Exception",
        "Expired",
    }
    assert set(AFTERSHIP_TAGS.values()) <= set(Status.values)


@pytest.mark.django_db
def test_a_delivered_update_with_checkpoints_moves_the_shipment_and_records_each_checkpoint(
    client, aftership, shipment
):
    payload = aftership.delivery(
        "LBC777",
        "Delivered",
        checkpoints=[
            aftership.checkpoint("2026-01-05T09:10:00+08:00", "Arrived at Cebu hub", city="Cebu"),
            aftership.checkpoint(
                "2026-01-05T15:42:00", "Delivered to the customer", tag="Delivered", city="Makati"
            ),
        ],
    )

    sent = aftership.post(client, payload)

    assert (sent.status, sent.json["status"], sent.json["moved_to"]) == (200, "applied", "delivered")
    shipment.refresh_from_db()
    assert shipment.status == Status.DELIVERED
    events = list(TrackingEvent.objects.filter(fulfillment=shipment).order_by("occurred_at", "id"))
    assert [(e.place, e.text) for e in events if e.place] == [
        ("Cebu, PHL", "Arrived at Cebu hub"),
        ("Makati, PHL", "Delivered to the customer"),
        ("Makati, PHL", "Marked delivered by AfterShip"),
    ]
    # A time without an offset is the carrier's local time, read in the merchant's zone (UTC+8).
    delivered = next(e for e in events if e.text == "Delivered to the customer")
    assert delivered.occurred_at.isoformat() == "2026-01-05T07:42:00+00:00"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("AttemptFail", Status.EXCEPTION),
        ("Exception", Status.EXCEPTION),
        ("OutForDelivery", Status.IN_TRANSIT),
    ],
)
def test_each_tag_moves_the_shipment_by_the_table(client, aftership, shipment, tag, expected):
    sent = aftership.post(client, aftership.delivery("LBC777", tag, subtag_message="Customer not at home"))

    assert sent.status == 200
    shipment.refresh_from_db()
    assert shipment.status == expected
    if expected == Status.EXCEPTION:
        assert TrackingEvent.objects.filter(fulfillment=shipment, text="Customer not at home").exists()


@pytest.mark.django_db
def test_an_unknown_tag_is_kept_as_text_and_moves_nothing(client, aftership, shipment):
    before = state(shipment)

    sent = aftership.post(client, aftership.delivery("LBC777", "HeldByDrone", subtag="HeldByDrone_007"))

    assert sent.status == 200
    assert state(shipment)[0] == before[0]
    assert TrackingEvent.objects.filter(
        fulfillment=shipment,
        text="Carrier status “HeldByDrone / HeldByDrone_007” (a status Orderdesk does not know)",
    ).exists()


@pytest.mark.django_db
def test_a_move_our_statuses_do_not_allow_is_kept_as_text(client, aftership, shipment):
    aftership.post(client, aftership.delivery("LBC777", "Delivered"))

    sent = aftership.post(client, aftership.delivery("LBC777", "InTransit"))

    assert sent.status == 200
    shipment.refresh_from_db()
    assert shipment.status == Status.DELIVERED
    assert TrackingEvent.objects.filter(
        fulfillment=shipment, text__contains="the shipment stays delivered"
    ).exists()


@pytest.mark.django_db
def test_the_same_delivery_twice_changes_nothing_the_second_time(client, aftership, shipment):
    payload = aftership.delivery(
        "LBC777", "Delivered", checkpoints=[aftership.checkpoint("2026-01-05T15:42:00+08:00", "Delivered")]
    )
    aftership.post(client, payload)
    after_first = state(shipment)

    again = aftership.post(client, payload)
    # The same content under a new event id changes nothing either.
    payload["event_id"] = "another-id"
    same_content = aftership.post(client, payload)

    assert (again.status, again.json["status"]) == (200, "already applied")
    assert same_content.status == 200
    assert state(shipment)[:2] == after_first[:2]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("forgery", "status", "message"),
    [
        ("bad signature", 401, "signature does not match"),
        ("no signature", 401, "signature does not match"),
        ("another secret", 401, "signature does not match"),
        ("replay", 400, "a replay is refused"),
        ("from the future", 400, "a replay is refused"),
        ("unknown tracking number", 404, "No shipment has the tracking number NOPE1"),
        ("not json", 400, "The body is not JSON."),
        ("no msg", 400, "“msg” is missing"),
        ("no tag", 400, "“msg.tag” is missing"),
        ("bad checkpoint time", 400, "Checkpoint 1 has no readable “checkpoint_time”"),
        ("checkpoints not a list", 400, "“msg.checkpoints” is not a list"),
        ("ts not a number", 400, "“ts” is missing or not a Unix time"),
    ],
)
def test_a_refused_delivery_is_a_clear_4xx_and_changes_nothing(
    client, aftership, shipment, forgery, status, message
):
    payload = aftership.delivery("LBC777", "Delivered")
    signature = raw = None
    if forgery == "bad signature":
        signature = "A" + aftership.sign(b"{}")[1:]
    elif forgery == "no signature":
        signature = ""
    elif forgery == "another secret":
        import json

        signature = aftership.sign(json.dumps(payload).encode(), secret="someone-elses-secret")
    elif forgery == "replay":
        payload["ts"] = int(time.time()) - 2 * 86_400
    elif forgery == "from the future":
        payload["ts"] = int(time.time()) + 2 * 86_400
    elif forgery == "unknown tracking number":
        payload["msg"]["tracking_number"] = "NOPE1"
    elif forgery == "not json":
        raw = b"tag=Delivered"
    elif forgery == "no msg":
        del payload["msg"]
    elif forgery == "no tag":
        payload["msg"]["tag"] = ""
    elif forgery == "bad checkpoint time":
        payload["msg"]["checkpoints"] = [{"checkpoint_time": "yesterday", "message": "x"}]
    elif forgery == "checkpoints not a list":
        payload["msg"]["checkpoints"] = {"0": "x"}
    elif forgery == "ts not a number":
        payload["ts"] = "now"
    before = state(shipment)

    sent = aftership.post(client, payload, signature=signature, raw=raw)

    assert sent.status == status
    assert message in sent.json["error"]
    assert state(shipment) == before


@pytest.mark.django_db
def test_an_unknown_feed_address_is_not_found(client, shipment):
    double = AfterShipDouble(secret=SECRET, path=reverse("shipments:aftership_webhook", args=["nope"]))
    assert double.post(client, double.delivery("LBC777", "Delivered")).status == 404


@pytest.mark.django_db(transaction=True)
def test_the_double_delivers_over_loopback_http_and_the_order_follows(live_server, owner, aftership):
    order_shipment = vendor_shipment(owner, VendorFactory(merchant=owner.merchant))
    move_order_shipment(order_shipment.pk, by=owner, to=Status.IN_TRANSIT, delivery_reference="LBC888")

    sent = aftership.send(live_server.url, aftership.delivery("LBC888", "Delivered"))

    assert (sent.status, sent.json["moved_to"]) == (200, "delivered")
    order_shipment.refresh_from_db()
    assert order_shipment.status == Status.DELIVERED


@pytest.mark.django_db
def test_the_secret_is_stored_encrypted_and_the_command_prints_the_address(owner, capsys):
    call_command("carrier_feed", owner=owner.user.email, secret="s3cret-value-xyz")

    from orderdesk.shipments.models import CarrierFeed

    feed = CarrierFeed.objects.get(merchant=owner.merchant)
    assert "s3cret-value-xyz" not in feed.secret_encrypted
    assert f"/shipments/feeds/{feed.token}/aftership/" in capsys.readouterr().out


@pytest.mark.django_db
def test_the_owner_turns_on_carrier_tracking_from_the_shipping_status_page(owner, owner_client):
    from orderdesk.shipments.models import CarrierFeed

    page = owner_client.get(reverse("shipments:list")).content.decode()
    assert "Turn on carrier tracking" in page

    refused = owner_client.post(reverse("shipments:carrier_feed"), {"secret": " "})
    assert refused.status_code == 422 and "Enter AfterShip&#x27;s webhook secret." in refused.content.decode()
    assert not CarrierFeed.objects.exists()

    saved = owner_client.post(
        reverse("shipments:carrier_feed"), {"secret": "from-aftership-123"}, follow=True
    )

    feed = CarrierFeed.objects.get(merchant=owner.merchant)
    page = saved.content.decode()
    assert f"/shipments/feeds/{feed.token}/aftership/" in page
    assert "from-aftership-123" not in page and "from-aftership-123" not in feed.secret_encrypted


@pytest.mark.django_db
def test_staff_and_vendors_neither_see_nor_set_the_feed(owner):
    from orderdesk.accounts.tests.factories import MembershipFactory

    from .factories import signed_in, vendor_person

    staff = signed_in(MembershipFactory(merchant=owner.merchant, role="staff"))
    agent = signed_in(vendor_person(VendorFactory(merchant=owner.merchant)))
    for client in (staff, agent):
        assert "carrier tracking" not in client.get(reverse("shipments:list")).content.decode()
        assert client.post(reverse("shipments:carrier_feed"), {"secret": "x" * 20}).status_code == 403
