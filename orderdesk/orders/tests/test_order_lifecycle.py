import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.fulfillment.models import Fulfillment
from orderdesk.notifications.models import Notification
from orderdesk.orders import actions
from orderdesk.orders.errors import InvalidOrder, TransitionRefused
from orderdesk.orders.models import ORDER_TRANSITIONS, Order, OrderEvent
from orderdesk.orders.tests.messages import messages_of

from .factories import ORDER_IN_STATUS, awaiting_order, dispatched_order, new_order, pending_order

pytestmark = pytest.mark.django_db


def tomorrow(actor):
    return timezone.localdate(timezone=actor.merchant.zone) + datetime.timedelta(days=1)


def test_a_new_order_awaits_payment_outside_order_tracking():
    actor = owner_actor()
    order = awaiting_order(actor)

    assert order.status == Order.Status.AWAITING_PAYMENT
    assert order.payment_status == Order.PaymentStatus.UNPAID
    assert order.reference == "OD-1001"
    assert order.subtotal == Decimal("1948.50")
    assert order.total == Decimal("2068.50")
    assert order.currency == "PHP"
    assert order.customer_phone == "+639175550101"
    assert [e.kind for e in order.events.all()] == [OrderEvent.Kind.PLACED]
    assert not Notification.objects.exists()


def test_order_references_count_up_per_merchant():
    actor = owner_actor()
    other = owner_actor()
    first, second = awaiting_order(actor), awaiting_order(actor)
    elsewhere = awaiting_order(other)
    assert (first.reference, second.reference, elsewhere.reference) == ("OD-1001", "OD-1002", "OD-1001")


def test_verifying_payment_makes_the_order_pending_with_a_due_date_and_queues_the_merchants_messages():
    actor = owner_actor()
    order = awaiting_order(actor, processing_days=4)

    order = actions.verify_payment(order.pk, by=actor)

    assert order.status == Order.Status.PENDING
    assert order.payment_status == Order.PaymentStatus.PAID
    today = timezone.localdate(timezone=actor.merchant.zone)
    assert order.due_on == today + datetime.timedelta(days=4)
    event = order.events.get(kind=OrderEvent.Kind.PAYMENT_VERIFIED)
    assert event.actor == actor.user
    assert event.data["status"] == {"before": "awaiting_payment", "after": "pending"}
    queued = set(messages_of(order).values_list("channel", "recipient", "audience"))
    assert queued == {
        ("sms", actor.merchant.notification_phone, "merchant"),
        ("email", actor.merchant.notification_email, "merchant"),
    }


def test_a_confirmed_cash_on_delivery_order_enters_order_tracking_at_once():
    actor = owner_actor()
    order = actions.record_order(
        new_order(payment_method=Order.PaymentMethod.CASH_ON_DELIVERY), by=actor, payment_confirmed=True
    )
    assert order.status == Order.Status.PENDING
    assert order.payment_status == Order.PaymentStatus.COD_CONFIRMED
    assert [e.kind for e in order.events.all()][:2] == [OrderEvent.Kind.PLACED, OrderEvent.Kind.COD_CONFIRMED]


def test_dispatch_ships_every_line_by_the_merchant_and_tells_the_customer():
    actor = owner_actor()
    order = pending_order(actor)

    order = actions.dispatch_order(
        order.pk, by=actor, delivery_reference=" JT123456 ", expected_on=tomorrow(actor), message="Thanks!"
    )

    assert order.status == Order.Status.DISPATCHED
    shipment = order.fulfillments.get()
    assert shipment.status == Fulfillment.ShippingStatus.IN_TRANSIT
    assert shipment.delivery_reference == "JT123456"
    assert shipment.carrier == "J&T Express"
    assert shipment.message == "Thanks!"
    assert {(fl.order_line_id, fl.quantity) for fl in shipment.lines.all()} == {
        (line.pk, line.quantity) for line in order.lines.all()
    }
    event = order.events.get(kind=OrderEvent.Kind.DISPATCHED)
    assert event.data["delivery_reference"] == "JT123456"
    assert event.data["expected_on"] == tomorrow(actor).isoformat()
    assert set(messages_of(order).filter(topic="order.dispatched").values_list("channel", flat=True)) == {
        "sms",
        "email",
    }


def test_fulfill_marks_the_shipment_delivered_and_keeps_the_remarks():
    actor = owner_actor()
    order = dispatched_order(actor)

    order = actions.fulfill_order(order.pk, by=actor, remarks="Received by the guard")

    assert order.status == Order.Status.FULFILLED
    assert order.fulfill_remarks == "Received by the guard"
    assert order.fulfillments.get().status == Fulfillment.ShippingStatus.DELIVERED
    assert order.events.get(kind=OrderEvent.Kind.FULFILLED).data["remarks"] == "Received by the guard"


@pytest.mark.parametrize("start", [Order.Status.PENDING, Order.Status.DISPATCHED])
def test_cancel_from_pending_or_dispatched_keeps_the_reason(start):
    actor = owner_actor()
    order = ORDER_IN_STATUS[start](actor)

    order = actions.cancel_order(order.pk, by=actor, reason="Out of stock")

    assert order.status == Order.Status.CANCELLED
    assert order.cancel_reason == "Out of stock"
    event = order.events.get(kind=OrderEvent.Kind.CANCELLED)
    assert event.data == {"status": {"before": start, "after": "cancelled"}, "reason": "Out of stock"}


def _attempt(action, order, actor):
    if action == Order.Status.PENDING:
        return actions.verify_payment(order.pk, by=actor)
    if action == Order.Status.DISPATCHED:
        return actions.dispatch_order(
            order.pk, by=actor, delivery_reference="X1", expected_on=tomorrow(actor)
        )
    if action == Order.Status.FULFILLED:
        return actions.fulfill_order(order.pk, by=actor)
    if action == Order.Status.CANCELLED:
        return actions.cancel_order(order.pk, by=actor, reason="Because")
    raise AssertionError(action)


ACTIONS = [Order.Status.PENDING, Order.Status.DISPATCHED, Order.Status.FULFILLED, Order.Status.CANCELLED]


@pytest.mark.parametrize("start", list(ORDER_IN_STATUS))
@pytest.mark.parametrize("target", ACTIONS)
def test_every_status_pair_is_allowed_exactly_when_the_transition_table_says_so(start, target):
    actor = owner_actor()
    order = ORDER_IN_STATUS[start](actor)
    events_before = order.events.count()
    notifications_before = Notification.objects.count()
    fulfillments_before = Fulfillment.objects.count()

    if target in ORDER_TRANSITIONS[start]:
        assert _attempt(target, order, actor).status == target
        return

    with pytest.raises(TransitionRefused) as refusal:
        _attempt(target, order, actor)
    assert order.reference in refusal.value.message
    assert "cannot" in refusal.value.message
    order.refresh_from_db()
    assert order.status == start
    assert order.events.count() == events_before
    assert Notification.objects.count() == notifications_before
    assert Fulfillment.objects.count() == fulfillments_before


def test_refusing_a_second_dispatch_says_it_was_already_dispatched():
    actor = owner_actor()
    order = dispatched_order(actor)
    with pytest.raises(TransitionRefused, match=r"was already dispatched, so you cannot dispatch it"):
        actions.dispatch_order(order.pk, by=actor, delivery_reference="X2", expected_on=tomorrow(actor))
    assert order.fulfillments.count() == 1


@pytest.mark.parametrize(
    ("fields", "message", "field"),
    [
        (
            {"delivery_reference": "  "},
            "Enter the courier's delivery reference number.",
            "delivery_reference",
        ),
        ({"delivery_reference": "R" * 101}, "at most 100 characters", "delivery_reference"),
        ({"expected_on": None}, "Enter the date the customer should receive the order.", "expected_on"),
        ({"expected_on": "yesterday"}, "cannot be in the past", "expected_on"),
        ({"message": "m" * 1001}, "at most 1000 characters", "message"),
    ],
)
def test_dispatch_refuses_bad_details_and_changes_nothing(fields, message, field):
    actor = owner_actor()
    order = pending_order(actor)
    arguments = {"delivery_reference": "JT1", "expected_on": tomorrow(actor), "message": ""}
    arguments.update(fields)
    if arguments["expected_on"] == "yesterday":
        arguments["expected_on"] = timezone.localdate(timezone=actor.merchant.zone) - datetime.timedelta(
            days=1
        )

    with pytest.raises(InvalidOrder) as refusal:
        actions.dispatch_order(order.pk, by=actor, **arguments)

    assert message in refusal.value.message
    assert refusal.value.field == field
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert not order.fulfillments.exists()
    assert not order.events.filter(kind=OrderEvent.Kind.DISPATCHED).exists()


def test_the_expected_date_may_be_today_in_the_merchants_time_zone():
    actor = owner_actor()
    order = pending_order(actor)
    today_in_manila = timezone.localdate(timezone=actor.merchant.zone)
    order = actions.dispatch_order(order.pk, by=actor, delivery_reference="JT9", expected_on=today_in_manila)
    assert order.status == Order.Status.DISPATCHED


def test_cancel_refuses_an_empty_reason_and_changes_nothing():
    actor = owner_actor()
    order = pending_order(actor)
    with pytest.raises(InvalidOrder, match="Say why the order is cancelled."):
        actions.cancel_order(order.pk, by=actor, reason="   ")
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert not order.events.filter(kind=OrderEvent.Kind.CANCELLED).exists()


def test_order_events_cannot_be_edited_or_deleted():
    actor = owner_actor()
    event = awaiting_order(actor).events.get()
    event.data = {"forged": True}
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()


def test_cancelling_a_dispatched_order_flags_its_shipment_as_an_exception():
    actor = owner_actor()
    order = dispatched_order(actor)

    actions.cancel_order(order.pk, by=actor, reason="Parcel recalled")

    shipment = order.fulfillments.get()
    assert shipment.status == Fulfillment.ShippingStatus.EXCEPTION
    assert shipment.tracking_events.last().text == "Order cancelled: Parcel recalled"


def test_dispatching_an_order_that_was_already_dispatched_says_so_before_checking_the_details():
    actor = owner_actor()
    order = dispatched_order(actor)
    with pytest.raises(TransitionRefused, match="was already dispatched"):
        actions.dispatch_order(order.pk, by=actor, delivery_reference="", expected_on=None)


def test_fulfill_is_refused_while_a_shipment_has_not_left_yet_and_changes_nothing():
    from orderdesk.fulfillment.errors import ShippingStatusRefused

    actor = owner_actor()
    order = dispatched_order(actor)
    # A second shipment still waiting (as a vendor's part will be, once vendors arrive).
    Fulfillment.objects.create(merchant=actor.merchant, order=order, delivery_reference="WAIT-1")

    with pytest.raises(
        ShippingStatusRefused, match="Shipment WAIT-1 is pending, so it cannot become delivered."
    ):
        actions.fulfill_order(order.pk, by=actor)

    order.refresh_from_db()
    assert order.status == Order.Status.DISPATCHED
    assert list(order.fulfillments.values_list("status", flat=True)) == ["in_transit", "pending"]
