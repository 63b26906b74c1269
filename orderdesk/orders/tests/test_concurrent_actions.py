"""Two people acting on one order at once: exactly one wins, the other gets a clear refusal.

These run on SQLite in the README's test command and on PostgreSQL in .ci/run's second pass.
"""

import datetime
import threading
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.errors import DomainError
from orderdesk.fulfillment.actions import ShipmentLine
from orderdesk.fulfillment.models import Fulfillment, FulfillmentLine
from orderdesk.orders import actions
from orderdesk.orders.models import Order, OrderEvent

from .factories import pending_order

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(*calls):
    """Start every call at the same instant in its own thread; return what each returned or raised."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait()
            outcomes[index] = call()
        except BaseException as failure:
            outcomes[index] = failure
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def dispatcher(actor, order, reference):
    expected_on = timezone.localdate(timezone=actor.merchant.zone) + datetime.timedelta(days=1)
    return lambda: actions.dispatch_order(
        order.pk, by=actor, delivery_reference=reference, expected_on=expected_on
    )


@pytest.mark.parametrize("round_number", range(4))
def test_two_concurrent_dispatches_of_one_order_let_exactly_one_through(round_number):
    actor = owner_actor()
    order = pending_order(actor)

    outcomes = run_together(dispatcher(actor, order, "FIRST"), dispatcher(actor, order, "SECOND"))

    winners = [o for o in outcomes if isinstance(o, Order)]
    refusals = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(winners) == 1, outcomes
    assert len(refusals) == 1, outcomes
    assert "was already dispatched, so you cannot dispatch it" in refusals[0].message
    order.refresh_from_db()
    assert order.status == Order.Status.DISPATCHED
    assert Fulfillment.objects.filter(order=order).count() == 1
    assert order.events.filter(kind=OrderEvent.Kind.DISPATCHED).count() == 1


@pytest.mark.parametrize("round_number", range(4))
def test_a_dispatch_racing_a_cancel_leaves_one_consistent_outcome(round_number):
    actor = owner_actor()
    order = pending_order(actor)

    outcomes = run_together(
        dispatcher(actor, order, "RACE"),
        lambda: actions.cancel_order(order.pk, by=actor, reason="Customer called"),
    )

    errors = [o for o in outcomes if not isinstance(o, Order)]
    assert all(isinstance(o, DomainError) for o in errors), outcomes
    order.refresh_from_db()
    kinds = list(
        order.events.exclude(kind=OrderEvent.Kind.NOTIFICATIONS_QUEUED).values_list("kind", flat=True)
    )
    if order.status == Order.Status.CANCELLED and len(errors) == 0:
        # Dispatch went first, then the cancel (allowed from Dispatched): both succeed in order.
        assert kinds[-2:] == [OrderEvent.Kind.DISPATCHED, OrderEvent.Kind.CANCELLED]
    elif order.status == Order.Status.CANCELLED:
        # The cancel went first, so the dispatch was refused and shipped nothing.
        assert "was cancelled, so you cannot dispatch it" in errors[0].message
        assert not Fulfillment.objects.filter(order=order).exists()
        assert OrderEvent.Kind.DISPATCHED not in kinds
    else:
        pytest.fail(f"unexpected outcome {order.status} {outcomes}")


@pytest.mark.postgres
def test_on_postgresql_an_action_waits_for_the_row_lock_and_then_sees_the_new_state():
    assert connection.vendor == "postgresql"
    actor = owner_actor()
    order = pending_order(actor)
    lock_taken = threading.Event()
    finished_at: dict[str, float] = {}

    def hold_the_lock_then_dispatch():
        with transaction.atomic():
            Order.objects.select_for_update().get(pk=order.pk)
            lock_taken.set()
            time.sleep(0.5)
            dispatcher(actor, order, "HOLDER")()
            finished_at["holder"] = time.monotonic()

    def cancel_when_the_lock_is_held():
        lock_taken.wait(5)
        try:
            return actions.cancel_order(order.pk, by=actor, reason="Too late?")
        finally:
            finished_at["cancel"] = time.monotonic()

    outcomes = run_together(hold_the_lock_then_dispatch, cancel_when_the_lock_is_held)

    # The cancel waited for the dispatch to commit, then cancelled a dispatched order.
    assert finished_at["cancel"] >= finished_at["holder"]
    assert isinstance(outcomes[1], Order)
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    status_kinds = order.events.exclude(kind=OrderEvent.Kind.NOTIFICATIONS_QUEUED).values_list(
        "kind", flat=True
    )
    assert list(status_kinds)[-2:] == ["dispatched", "cancelled"]


@pytest.mark.parametrize("round_number", range(4))
def test_two_concurrent_shipments_of_the_last_units_never_ship_a_line_beyond_its_quantity(round_number):
    actor = owner_actor()
    order = pending_order(actor)
    shirt = order.lines.get(sku="LS-M")  # 2 ordered
    actions.ship_order_lines(order.pk, by=actor, lines=[ShipmentLine(shirt.pk, 1)])

    def ship_the_last_shirt():
        return actions.ship_order_lines(order.pk, by=actor, lines=[ShipmentLine(shirt.pk, 1)])

    outcomes = run_together(ship_the_last_shirt, ship_the_last_shirt)

    shipped = [o for o in outcomes if isinstance(o, Fulfillment)]
    refusals = [o for o in outcomes if isinstance(o, DomainError)]
    assert (len(shipped), len(refusals)) == (1, 1), outcomes
    assert (
        refusals[0].message
        == "Linen shirt: 1 cannot be shipped; 2 were ordered and 0 are not yet in a shipment."
    )
    assert sum(FulfillmentLine.objects.filter(order_line=shirt).values_list("quantity", flat=True)) == 2


@pytest.mark.parametrize("round_number", range(4))
def test_a_shipment_moving_while_the_order_is_cancelled_leaves_one_consistent_outcome(round_number):
    actor = owner_actor()
    order = pending_order(actor)
    shipment = actions.ship_order_lines(
        order.pk, by=actor, lines=None, status=Fulfillment.ShippingStatus.PROCESSING
    )
    expected_on = timezone.localdate(timezone=actor.merchant.zone) + datetime.timedelta(days=1)

    outcomes = run_together(
        lambda: actions.move_order_shipment(
            shipment.pk,
            by=actor,
            to=Fulfillment.ShippingStatus.IN_TRANSIT,
            delivery_reference="RACE-1",
            expected_on=expected_on,
        ),
        lambda: actions.cancel_order(order.pk, by=actor, reason="Customer called"),
    )

    assert not any(isinstance(o, BaseException) and not isinstance(o, DomainError) for o in outcomes), (
        outcomes
    )
    order.refresh_from_db()
    shipment.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    # Whichever went first, the cancel flagged the shipment; a move refused after it changed nothing.
    assert shipment.status == Fulfillment.ShippingStatus.EXCEPTION or isinstance(outcomes[0], Fulfillment)
    kinds = list(
        order.events.exclude(kind=OrderEvent.Kind.NOTIFICATIONS_QUEUED).values_list("kind", flat=True)
    )
    assert kinds.count(OrderEvent.Kind.CANCELLED) == 1
