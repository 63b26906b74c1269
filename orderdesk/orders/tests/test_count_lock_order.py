"""One lock order for the merchant's count rows: a transaction moves its order counts
(OrderStatusCount) before its shipment counts (ShipmentStatusCount), whichever action it is.

A new paid order auto-allocated to a vendor moves the order counts, then the vendor's shipment
counts; a vendor's shipment handed over moves the shipment counts and the order counts of the
order it dispatches. Were the second to take them the other way round, the two would wait for
each other in a circle on PostgreSQL (a deadlock, one of them rolled back). Each test holds one
transaction at the point between its two count moves until the other has taken its first.
"""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orderdesk.accounts.models import Merchant
from orderdesk.accounts.tests.factories import MerchantFactory, owner_actor
from orderdesk.fulfillment import actions as fulfillment_actions
from orderdesk.fulfillment import counts as shipment_counts
from orderdesk.fulfillment.counts import recount_shipments
from orderdesk.fulfillment.models import Fulfillment, ShipmentStatusCount
from orderdesk.orders import actions
from orderdesk.orders import counts as order_counts
from orderdesk.orders.actions import LineInput
from orderdesk.orders.counts import recount_orders
from orderdesk.orders.models import Order, OrderStatusCount
from orderdesk.vendors.tests.factories import HostingFactory, VendorFactory, variant

Status = Fulfillment.ShippingStatus


def make_shop():
    """Auto-processing on; a shirt hosted with one vendor."""
    actor = owner_actor(MerchantFactory(notification_email="", notification_phone=""))
    Merchant.objects.filter(pk=actor.merchant.pk).update(auto_processing=True)
    actor.merchant.refresh_from_db()
    cebu = VendorFactory(merchant=actor.merchant, name="Cebu Source", contact_email="")
    shirt = variant(actor.merchant, "LS-M", "M", product="Linen shirt")
    HostingFactory(variant=shirt, vendor=cebu, unit_cost=Decimal("300.00"), shipping_cost=Decimal("40.00"))
    return actor, shirt


def new_order(shirt, *, reference):
    return actions.NewOrder(
        customer=actions.CustomerDetails(name="Ana Reyes", phone="0917 555 0101", address="Makati"),
        lines=[
            LineInput(
                title="Linen shirt", sku="LS-M", quantity=1, unit_price=Decimal("500.00"), variant_id=shirt.pk
            )
        ],
        payment_method="card",
        reference=reference,
    )


def hand_over(actor, shipment_id, reference):
    """The vendor's shipment handed to the courier: the order it holds every unit of is dispatched."""
    expected_on = timezone.localdate(timezone=actor.merchant.zone) + datetime.timedelta(days=2)
    return lambda: actions.move_order_shipment(
        shipment_id, by=actor, to=Status.IN_TRANSIT, delivery_reference=reference, expected_on=expected_on
    )


def run_in_threads(*calls):
    """Each call in its own thread (and database connection); what each returned or raised."""
    outcomes: list = [None] * len(calls)

    def worker(index, call):
        try:
            outcomes[index] = call()
        except BaseException as failure:
            outcomes[index] = failure
        finally:
            connection.close()

    threads = [
        threading.Thread(target=worker, args=(i, call), name=f"racer-{i}") for i, call in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def in_thread(name, seam, real):
    """`real`, with `seam()` run first when called from the thread `name`."""

    def wrapped(*args, **kwargs):
        if threading.current_thread().name == name:
            seam()
        return real(*args, **kwargs)

    return wrapped


def assert_counts_match_the_rows(merchant):
    orders = dict(OrderStatusCount.objects.filter(merchant=merchant).values_list("status", "count"))
    shipments = {
        (row.vendor_id, row.status): row.count
        for row in ShipmentStatusCount.objects.filter(merchant=merchant)
    }
    assert {status: n for status, n in orders.items() if n} == recount_orders(merchant)
    assert {key: n for key, n in shipments.items() if n} == recount_shipments(merchant)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_new_auto_allocated_order_and_a_vendor_handover_that_dispatches_never_deadlock(monkeypatch):
    actor, shirt = make_shop()
    first = actions.record_order(new_order(shirt, reference="FIRST-1"), by=actor, payment_confirmed=True)
    (shipment_id,) = Fulfillment.objects.filter(order=first).values_list("pk", flat=True)
    both_between_their_moves = threading.Barrier(2, timeout=10)

    # racer-0 (the new order) has moved its order count and waits before the allocation moves
    # the vendor's shipment counts; racer-1 (the handover) waits before its held order counts.
    monkeypatch.setattr(
        fulfillment_actions,
        "_write_allocation_at_once",
        in_thread("racer-0", both_between_their_moves.wait, fulfillment_actions._write_allocation_at_once),
    )
    monkeypatch.setattr(
        order_counts,
        "_count_held_changes",
        in_thread("racer-1", both_between_their_moves.wait, order_counts._count_held_changes),
    )

    outcomes = run_in_threads(
        lambda: actions.record_order(
            new_order(shirt, reference="SECOND-1"), by=actor, payment_confirmed=True
        ),
        hand_over(actor, shipment_id, "HANDOVER-1"),
    )

    assert isinstance(outcomes[0], Order), outcomes
    assert isinstance(outcomes[1], Fulfillment), outcomes
    first.refresh_from_db()
    assert first.status == Order.Status.DISPATCHED
    assert Fulfillment.objects.filter(order=outcomes[0], status=Status.PENDING).count() == 1
    assert_counts_match_the_rows(actor.merchant)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_payment_verified_with_auto_allocation_and_a_vendor_handover_never_deadlock(monkeypatch):
    actor, shirt = make_shop()
    first = actions.record_order(new_order(shirt, reference="FIRST-2"), by=actor, payment_confirmed=True)
    (shipment_id,) = Fulfillment.objects.filter(order=first).values_list("pk", flat=True)
    awaiting = actions.record_order(new_order(shirt, reference="AWAIT-2"), by=actor)
    allocated, handover_between_its_moves = threading.Event(), threading.Event()

    def after_the_allocation(real):
        def wrapped(*args, **kwargs):
            written = real(*args, **kwargs)
            if threading.current_thread().name == "racer-0":
                allocated.set()
                # Holding what it has locked until the handover is between its two moves
                # (never coming, when the handover waits for this transaction: then go on).
                handover_between_its_moves.wait(3)
            return written

        return wrapped

    def handover_waits():
        allocated.wait(5)
        handover_between_its_moves.set()

    monkeypatch.setattr(
        fulfillment_actions,
        "_write_allocation_at_once",
        after_the_allocation(fulfillment_actions._write_allocation_at_once),
    )
    # The handover's order counts moved, its shipment counts next.
    monkeypatch.setattr(
        shipment_counts,
        "_count_held_changes",
        in_thread("racer-1", handover_waits, shipment_counts._count_held_changes),
    )

    outcomes = run_in_threads(
        lambda: actions.verify_payment(awaiting.pk, by=actor),
        hand_over(actor, shipment_id, "HANDOVER-2"),
    )

    assert isinstance(outcomes[0], Order), outcomes
    assert isinstance(outcomes[1], Fulfillment), outcomes
    assert Fulfillment.objects.filter(order=awaiting, status=Status.PENDING).count() == 1
    assert_counts_match_the_rows(actor.merchant)


def count_tables_written(captured) -> list[str]:
    """Which count table each statement writing one wrote, in the order they ran."""
    tables = {
        OrderStatusCount._meta.db_table: "order counts",
        ShipmentStatusCount._meta.db_table: "shipment counts",
    }
    written = []
    for query in captured.captured_queries:
        sql = query["sql"]
        if sql.lstrip().upper().startswith("SELECT"):
            continue
        written += [name for table, name in tables.items() if table in sql and name not in written]
    return written


@pytest.mark.django_db
def test_a_handover_that_dispatches_moves_the_order_counts_before_the_shipment_counts():
    actor, shirt = make_shop()
    first = actions.record_order(new_order(shirt, reference="FIRST-3"), by=actor, payment_confirmed=True)
    (shipment_id,) = Fulfillment.objects.filter(order=first).values_list("pk", flat=True)

    with CaptureQueriesContext(connection) as captured:
        hand_over(actor, shipment_id, "HANDOVER-3")()

    first.refresh_from_db()
    assert first.status == Order.Status.DISPATCHED
    assert count_tables_written(captured) == ["order counts", "shipment counts"]
    assert_counts_match_the_rows(actor.merchant)


@pytest.mark.django_db
def test_a_payment_verified_moves_the_order_counts_before_the_allocation_moves_the_shipment_counts():
    actor, shirt = make_shop()
    awaiting = actions.record_order(new_order(shirt, reference="AWAIT-4"), by=actor)

    with CaptureQueriesContext(connection) as captured:
        actions.verify_payment(awaiting.pk, by=actor)

    assert Fulfillment.objects.filter(order=awaiting).count() == 1
    assert count_tables_written(captured) == ["order counts", "shipment counts"]
    assert_counts_match_the_rows(actor.merchant)
