import datetime

import pytest
from django.utils import timezone

from orderdesk.accounts.actors import Actor
from orderdesk.accounts.errors import NotAllowed
from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.errors import NotFound
from orderdesk.fulfillment import actions
from orderdesk.fulfillment.actions import ShipmentLine
from orderdesk.fulfillment.errors import InvalidShipment, ShipmentNotFound, ShippingStatusRefused
from orderdesk.fulfillment.models import SHIPPING_TRANSITIONS, Fulfillment, FulfillmentLine, TrackingEvent
from orderdesk.orders.tests.factories import pending_order

from .factories import Status, handover, shipment_in_status

pytestmark = pytest.mark.django_db


def snapshot(shipment: Fulfillment) -> dict:
    """Everything a refused action must leave as it was."""
    shipment.refresh_from_db()
    return {
        "status": shipment.status,
        "delivery_reference": shipment.delivery_reference,
        "carrier": shipment.carrier,
        "shipped_at": shipment.shipped_at,
        "delivered_at": shipment.delivered_at,
        "tracking_events": list(shipment.tracking_events.values_list("pk", flat=True)),
        "lines": list(shipment.lines.values_list("order_line_id", "quantity")),
    }


def attempt_move(shipment: Fulfillment, actor, to: str) -> Fulfillment:
    """Move with the details the target asks for: the courier's for in transit, a reason for an exception."""
    return actions.move_shipment(
        shipment.pk,
        by=actor,
        to=to,
        handover=handover(actor, reference="JT-MOVE") if to == Status.IN_TRANSIT else None,
        reason="Address not found" if to == Status.EXCEPTION else "",
    )


@pytest.mark.parametrize("start", Status.values)
@pytest.mark.parametrize("target", Status.values)
def test_every_shipping_status_pair_is_allowed_exactly_when_the_transition_table_says_so(start, target):
    actor = owner_actor()
    shipment = shipment_in_status(actor, start)
    before = snapshot(shipment)

    if target in SHIPPING_TRANSITIONS[start]:
        moved = attempt_move(shipment, actor, target)
        assert moved.status == target
        shipment.refresh_from_db()
        assert shipment.status == target
        newest = shipment.tracking_events.order_by("pk").last()
        assert newest.pk not in before["tracking_events"]
        assert newest.status == target
        return

    with pytest.raises(ShippingStatusRefused) as refusal:
        attempt_move(shipment, actor, target)
    assert refusal.value.message == (
        f"Shipment {shipment.delivery_reference or f'#{shipment.pk}'} is {Status(start).label.lower()}, "
        f"so it cannot become {Status(target).label.lower()}."
    )
    assert snapshot(shipment) == before


def test_a_new_shipment_carries_the_chosen_units_and_starts_its_tracking():
    actor = owner_actor()
    order = pending_order(actor)
    shirt, tote = order.lines.all()

    shipment = actions.create_shipment(order.pk, by=actor, lines=[ShipmentLine(shirt.pk, 1)])

    assert shipment.status == Status.PENDING
    assert shipment.shipped_by == Fulfillment.Shipper.MERCHANT
    assert shipment.created_by == actor.user
    assert list(shipment.lines.values_list("order_line_id", "quantity")) == [(shirt.pk, 1)]
    assert [(e.status, e.text) for e in shipment.tracking_events.all()] == [
        ("pending", f"Shipment created by {actor.display_name}")
    ]


def test_a_shipment_handed_to_the_courier_at_once_keeps_the_courier_details():
    actor = owner_actor()
    order = pending_order(actor)

    shipment = actions.create_shipment(
        order.pk, by=actor, status=Status.IN_TRANSIT, handover=handover(actor, reference="JT777")
    )

    assert (shipment.carrier, shipment.delivery_reference) == ("J&T Express", "JT777")
    assert shipment.shipped_at is not None
    assert shipment.tracking_events.get().text == "Handed to J&T Express, reference JT777"
    # No lines named: every unit of the order.
    assert sorted(shipment.lines.values_list("quantity", flat=True)) == [1, 2]


def test_a_line_is_never_shipped_beyond_its_quantity_and_the_refusal_changes_nothing():
    actor = owner_actor()
    order = pending_order(actor)
    shirt = order.lines.get(sku="LS-M")  # 2 ordered
    actions.create_shipment(order.pk, by=actor, lines=[ShipmentLine(shirt.pk, 1)])
    shipments_before = list(Fulfillment.objects.values_list("pk", flat=True))

    with pytest.raises(InvalidShipment) as refusal:
        actions.create_shipment(order.pk, by=actor, lines=[ShipmentLine(shirt.pk, 2)])

    assert refusal.value.message == (
        "Linen shirt: 2 cannot be shipped; 2 were ordered and 1 is not yet in a shipment."
    )
    assert refusal.value.field == "lines"
    assert list(Fulfillment.objects.values_list("pk", flat=True)) == shipments_before
    assert FulfillmentLine.objects.count() == 1


def test_the_same_line_named_twice_counts_both_entries_against_its_quantity():
    actor = owner_actor()
    order = pending_order(actor)
    shirt = order.lines.get(sku="LS-M")

    with pytest.raises(InvalidShipment, match="Linen shirt: 3 cannot be shipped"):
        actions.create_shipment(
            order.pk, by=actor, lines=[ShipmentLine(shirt.pk, 2), ShipmentLine(shirt.pk, 1)]
        )
    assert not Fulfillment.objects.exists()


def test_shipping_the_rest_takes_only_the_units_not_yet_in_a_shipment():
    actor = owner_actor()
    order = pending_order(actor)
    shirt, tote = order.lines.all()
    actions.create_shipment(order.pk, by=actor, lines=[ShipmentLine(shirt.pk, 1)])

    rest = actions.create_shipment(order.pk, by=actor)

    assert sorted(rest.lines.values_list("order_line_id", "quantity")) == sorted(
        [(shirt.pk, 1), (tote.pk, 1)]
    )
    with pytest.raises(InvalidShipment, match="Every item of this order is already in a shipment."):
        actions.create_shipment(order.pk, by=actor)
    assert Fulfillment.objects.count() == 2


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([], "Choose at least one item to ship."),
        ("other order", "That item is not part of this order."),
        ("zero", "Ship at least 1 of Linen shirt."),
    ],
)
def test_a_shipment_of_no_items_or_of_items_of_another_order_is_refused(lines, message):
    actor = owner_actor()
    order = pending_order(actor)
    if lines == "other order":
        lines = [ShipmentLine(pending_order(actor).lines.first().pk, 1)]
    elif lines == "zero":
        lines = [ShipmentLine(order.lines.get(sku="LS-M").pk, 0)]

    with pytest.raises(InvalidShipment) as refusal:
        actions.create_shipment(order.pk, by=actor, lines=lines)

    assert refusal.value.message == message
    assert not Fulfillment.objects.exists()
    assert not TrackingEvent.objects.exists()


@pytest.mark.parametrize("status", [Status.EXCEPTION, Status.DELIVERED])
def test_a_new_shipment_cannot_start_delivered_or_as_an_exception(status):
    actor = owner_actor()
    order = pending_order(actor)
    with pytest.raises(
        ShippingStatusRefused, match="A new shipment starts pending, processing or in transit"
    ):
        actions.create_shipment(order.pk, by=actor, status=status)
    assert not Fulfillment.objects.exists()


def test_going_in_transit_without_a_delivery_reference_is_refused_and_changes_nothing():
    actor = owner_actor()
    shipment = shipment_in_status(actor, Status.PROCESSING)
    before = snapshot(shipment)

    with pytest.raises(InvalidShipment) as refusal:
        actions.move_shipment(shipment.pk, by=actor, to=Status.IN_TRANSIT)

    assert refusal.value.message == "Enter the courier's delivery reference number."
    assert refusal.value.field == "delivery_reference"
    assert snapshot(shipment) == before


def test_an_exception_needs_a_reason_and_keeps_it_as_the_tracking_text():
    actor = owner_actor()
    shipment = shipment_in_status(actor, Status.IN_TRANSIT)
    before = snapshot(shipment)

    with pytest.raises(InvalidShipment, match="Say what went wrong with the shipment.") as refusal:
        actions.move_shipment(shipment.pk, by=actor, to=Status.EXCEPTION, reason="  ")
    assert refusal.value.field == "reason"
    assert snapshot(shipment) == before

    actions.move_shipment(
        shipment.pk, by=actor, to=Status.EXCEPTION, reason="Wrong barangay", place="Pasig hub"
    )
    newest = shipment.tracking_events.order_by("pk").last()
    assert (newest.status, newest.text, newest.place) == ("exception", "Wrong barangay", "Pasig hub")


def test_an_expected_date_in_the_past_is_refused_naming_the_field():
    actor = owner_actor()
    yesterday = timezone.localdate(timezone=actor.merchant.zone) - datetime.timedelta(days=1)
    with pytest.raises(InvalidShipment, match="cannot be in the past") as refusal:
        actions.checked_handover(by=actor, delivery_reference="JT1", expected_on=yesterday)
    assert refusal.value.field == "expected_on"


def test_a_tracking_event_is_a_point_at_the_shipments_current_status():
    actor = owner_actor()
    shipment = shipment_in_status(actor, Status.IN_TRANSIT)
    at = timezone.now() - datetime.timedelta(hours=2)

    event = actions.add_tracking_event(
        shipment.pk, by=actor, place=" Manila sorting center ", text="Arrived at hub", occurred_at=at
    )

    assert (event.status, event.place, event.text, event.occurred_at) == (
        "in_transit",
        "Manila sorting center",
        "Arrived at hub",
        at,
    )
    shipment.refresh_from_db()
    assert shipment.status == Status.IN_TRANSIT


@pytest.mark.parametrize(
    ("place", "text", "in_the_future", "message"),
    [
        ("", "  ", False, "Say where the parcel is or what the courier said."),
        ("Hub", "", True, "A tracking event cannot be in the future."),
        ("P" * 201, "", False, "A place has at most 200 characters."),
    ],
)
def test_a_tracking_event_with_nothing_to_say_or_from_the_future_is_refused(
    place, text, in_the_future, message
):
    actor = owner_actor()
    shipment = shipment_in_status(actor, Status.IN_TRANSIT)
    before = snapshot(shipment)
    occurred_at = timezone.now() + datetime.timedelta(hours=1) if in_the_future else None

    with pytest.raises(InvalidShipment) as refusal:
        actions.add_tracking_event(shipment.pk, by=actor, place=place, text=text, occurred_at=occurred_at)

    assert refusal.value.message == message
    assert snapshot(shipment) == before


def test_another_merchants_shipment_and_order_look_absent():
    actor, stranger = owner_actor(), owner_actor()
    shipment = shipment_in_status(actor, Status.IN_TRANSIT)
    before = snapshot(shipment)

    with pytest.raises(ShipmentNotFound, match="That shipment does not exist."):
        actions.move_shipment(shipment.pk, by=stranger, to=Status.DELIVERED)
    with pytest.raises(ShipmentNotFound):
        actions.add_tracking_event(shipment.pk, by=stranger, text="Hello")
    with pytest.raises(NotFound, match="That order does not exist."):
        actions.create_shipment(shipment.order_id, by=stranger)
    assert snapshot(shipment) == before


def test_an_actor_whose_role_may_not_update_shipments_is_refused_and_nothing_changes():
    actor = owner_actor()
    shipment = shipment_in_status(actor, Status.IN_TRANSIT)
    before = snapshot(shipment)
    read_only = Actor.for_api_key(actor.merchant, key_id="k1", label="Reports", read_write=False)

    for attempt in (
        lambda: actions.move_shipment(shipment.pk, by=read_only, to=Status.DELIVERED),
        lambda: actions.add_tracking_event(shipment.pk, by=read_only, text="Arrived"),
        lambda: actions.create_shipment(shipment.order_id, by=read_only),
    ):
        with pytest.raises(
            NotAllowed, match="A read-only API key cannot update shipments and their tracking."
        ):
            attempt()
    assert snapshot(shipment) == before
    assert Fulfillment.objects.count() == 1
