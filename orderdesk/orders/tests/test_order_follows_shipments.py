"""The order's status follows its shipments by the one rule of orders.shipping."""

import datetime

import pytest
from django.utils import timezone

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.fulfillment.actions import ShipmentLine
from orderdesk.fulfillment.models import ON_ITS_WAY, Fulfillment
from orderdesk.orders import actions, events
from orderdesk.orders.errors import TransitionRefused
from orderdesk.orders.models import Order, OrderEvent
from orderdesk.orders.shipping import ShippingProgress, shipping_progress, status_following_shipments

from .factories import ORDER_IN_STATUS, dispatched_order, pending_order
from .messages import composed, messages_of

pytestmark = pytest.mark.django_db

Status = Fulfillment.ShippingStatus


def in_two_days(actor):
    return timezone.localdate(timezone=actor.merchant.zone) + datetime.timedelta(days=2)


def ship(actor, order, lines, status):
    """A shipment of the merchant's brought to `status` through the order's doors, so the order follows."""
    start = status if status in (Status.PENDING, Status.PROCESSING, Status.IN_TRANSIT) else None
    if status == Status.DELIVERED:
        start = Status.IN_TRANSIT
    if status == Status.EXCEPTION:
        start = Status.PENDING
    courier = {"delivery_reference": f"JT-{status}", "expected_on": in_two_days(actor)}
    shipment = actions.ship_order_lines(
        order.pk, by=actor, lines=lines, status=start, **(courier if start == Status.IN_TRANSIT else {})
    )
    if status == Status.DELIVERED:
        shipment = actions.move_order_shipment(shipment.pk, by=actor, to=Status.DELIVERED)
    if status == Status.EXCEPTION:
        shipment = actions.move_order_shipment(shipment.pk, by=actor, to=Status.EXCEPTION, reason="Lost")
    return shipment


@pytest.mark.parametrize("shirts", Status.values)
@pytest.mark.parametrize("tote", Status.values)
def test_a_pending_order_is_dispatched_exactly_when_every_unit_is_in_transit_or_delivered(shirts, tote):
    actor = owner_actor()
    order = pending_order(actor)
    shirt_line, tote_line = order.lines.all()

    ship(actor, order, [ShipmentLine(shirt_line.pk, 2)], shirts)
    ship(actor, order, [ShipmentLine(tote_line.pk, 1)], tote)

    order.refresh_from_db()
    on_their_way = {shirts in ON_ITS_WAY, tote in ON_ITS_WAY}
    if on_their_way == {True}:
        assert order.status == Order.Status.DISPATCHED
        assert order.dispatched_at is not None
        assert order.events.filter(kind=OrderEvent.Kind.DISPATCHED).count() == 1
    else:
        assert order.status == Order.Status.PENDING
        assert not order.events.filter(kind=OrderEvent.Kind.DISPATCHED).exists()
        # Partly dispatched: some units on their way, some not.
        assert shipping_progress(order).partly_dispatched == (on_their_way == {True, False})


def test_the_shipment_that_completes_the_order_dispatches_it_names_itself_and_tells_the_customer():
    actor = owner_actor()
    order = pending_order(actor)
    shirt_line, tote_line = order.lines.all()

    ship(actor, order, [ShipmentLine(shirt_line.pk, 1), ShipmentLine(tote_line.pk, 1)], Status.IN_TRANSIT)
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert shipping_progress(order) == ShippingProgress(
        units_ordered=3, units_in_shipments=2, units_on_their_way=2
    )
    assert not messages_of(order).filter(topic="order.dispatched").exists()

    last = ship(actor, order, [ShipmentLine(shirt_line.pk, 1)], Status.IN_TRANSIT)

    order.refresh_from_db()
    assert order.status == Order.Status.DISPATCHED
    dispatched = events.dispatch_details(order.events.get(kind=OrderEvent.Kind.DISPATCHED))
    assert (dispatched.shipment_id, dispatched.delivery_reference) == (last.pk, "JT-in_transit")
    # The customer's messages describe the shipment that completed the order, handed to them.
    told = messages_of(order).filter(topic="order.dispatched")
    assert {(m.channel, m.payload["shipment_id"]) for m in told} == {("sms", last.pk), ("email", last.pk)}
    assert "ref JT-in_transit" in composed(told.get(channel="sms")).body


def test_a_pending_shipment_going_in_transit_last_dispatches_the_order():
    actor = owner_actor()
    order = pending_order(actor)
    waiting = ship(actor, order, None, Status.PROCESSING)

    actions.move_order_shipment(
        waiting.pk, by=actor, to=Status.IN_TRANSIT, delivery_reference="LBC-9", expected_on=in_two_days(actor)
    )

    order.refresh_from_db()
    assert order.status == Order.Status.DISPATCHED
    waiting.refresh_from_db()
    assert (waiting.status, waiting.delivery_reference) == (Status.IN_TRANSIT, "LBC-9")


def test_a_dispatched_order_stays_dispatched_when_its_shipment_meets_an_exception():
    actor = owner_actor()
    order = dispatched_order(actor)

    actions.move_order_shipment(order.fulfillments.get().pk, by=actor, to=Status.EXCEPTION, reason="Typhoon")

    order.refresh_from_db()
    assert order.status == Order.Status.DISPATCHED


def test_only_the_merchants_fulfill_makes_an_order_fulfilled_even_when_everything_is_delivered():
    actor = owner_actor()
    order = dispatched_order(actor)

    actions.move_order_shipment(order.fulfillments.get().pk, by=actor, to=Status.DELIVERED)

    order.refresh_from_db()
    assert order.status == Order.Status.DISPATCHED
    assert actions.fulfill_order(order.pk, by=actor).status == Order.Status.FULFILLED


def test_a_cancelled_order_stays_cancelled_when_its_flagged_shipment_is_delivered_after_all():
    actor = owner_actor()
    order = dispatched_order(actor)
    actions.cancel_order(order.pk, by=actor, reason="Customer refused")

    actions.move_order_shipment(order.fulfillments.get().pk, by=actor, to=Status.DELIVERED)

    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED


def test_dispatch_after_a_partial_shipment_ships_the_rest_and_dispatches_the_order():
    actor = owner_actor()
    order = pending_order(actor)
    shirt_line, tote_line = order.lines.all()
    ship(actor, order, [ShipmentLine(shirt_line.pk, 2)], Status.IN_TRANSIT)

    order = actions.dispatch_order(
        order.pk, by=actor, delivery_reference="JT-REST", expected_on=in_two_days(actor)
    )

    assert order.status == Order.Status.DISPATCHED
    rest = order.fulfillments.get(delivery_reference="JT-REST")
    assert list(rest.lines.values_list("order_line_id", "quantity")) == [(tote_line.pk, 1)]


def test_dispatch_is_refused_while_an_earlier_shipment_has_not_left_and_changes_nothing():
    actor = owner_actor()
    order = pending_order(actor)
    shirt_line, _ = order.lines.all()
    ship(actor, order, [ShipmentLine(shirt_line.pk, 2)], Status.PROCESSING)
    events_before = order.events.count()

    with pytest.raises(TransitionRefused) as refusal:
        actions.dispatch_order(
            order.pk, by=actor, delivery_reference="JT-ALL", expected_on=in_two_days(actor)
        )

    assert refusal.value.message == (
        f"Order {order.reference} has a shipment that has not left yet, so you cannot dispatch it all at once."
    )
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert order.fulfillments.count() == 1
    assert order.events.count() == events_before


def test_dispatch_is_refused_when_every_item_waits_in_a_shipment_that_has_not_left():
    actor = owner_actor()
    order = pending_order(actor)
    ship(actor, order, None, Status.PENDING)

    with pytest.raises(TransitionRefused, match="has a shipment that has not left yet"):
        actions.dispatch_order(
            order.pk, by=actor, delivery_reference="JT-ALL", expected_on=in_two_days(actor)
        )

    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert list(order.fulfillments.values_list("status", flat=True)) == [Status.PENDING]


@pytest.mark.parametrize(
    ("start", "message"),
    [
        (Order.Status.AWAITING_PAYMENT, "is still awaiting payment, so you cannot ship items of it."),
        (Order.Status.DISPATCHED, "was already dispatched, so you cannot ship items of it."),
        (Order.Status.FULFILLED, "was already fulfilled, so you cannot ship items of it."),
        (Order.Status.CANCELLED, "was cancelled, so you cannot ship items of it."),
    ],
)
def test_items_are_shipped_only_from_a_pending_order(start, message):
    actor = owner_actor()
    order = ORDER_IN_STATUS[start](actor)
    shipments_before = order.fulfillments.count()

    with pytest.raises(TransitionRefused) as refusal:
        actions.ship_order_lines(order.pk, by=actor, lines=None)

    assert refusal.value.message == f"Order {order.reference} {message}"
    assert order.fulfillments.count() == shipments_before


@pytest.mark.parametrize("status", Order.Status.values)
@pytest.mark.parametrize(
    "progress",
    [
        ShippingProgress(units_ordered=3, units_in_shipments=0, units_on_their_way=0),
        ShippingProgress(units_ordered=3, units_in_shipments=3, units_on_their_way=2),
        ShippingProgress(units_ordered=3, units_in_shipments=3, units_on_their_way=3),
    ],
)
def test_the_roll_up_rule_moves_only_a_pending_order_and_only_when_all_is_on_its_way(status, progress):
    expected = (
        Order.Status.DISPATCHED
        if status == Order.Status.PENDING and progress.units_on_their_way == progress.units_ordered
        else status
    )
    assert status_following_shipments(status, progress) == expected
