"""What a dispatch or fulfil holds locked, and for how long: the order's row alone, and the
tab and shipment counters (which every action of the merchant moves) only for its commit."""

import datetime
import threading

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.fulfillment.models import ShipmentStatusCount
from orderdesk.notifications.webhooks import publishing_once
from orderdesk.orders import actions
from orderdesk.orders.counts import count_status_change
from orderdesk.orders.models import Order, OrderStatusCount

from .factories import pending_order


def _dispatch(actor, order):
    return actions.dispatch_order(
        order.pk,
        by=actor,
        delivery_reference="JT1",
        expected_on=timezone.localdate(timezone=actor.merchant.zone) + datetime.timedelta(days=1),
    )


def _counts(merchant):
    return dict(OrderStatusCount.objects.filter(merchant=merchant).values_list("status", "count"))


def _is_counter(sql: str) -> bool:
    return "statuscount" in sql


@pytest.mark.django_db
def test_counters_move_just_before_the_commit():
    actor = owner_actor()
    order = pending_order(actor)
    before = _counts(actor.merchant)

    for act in (lambda: _dispatch(actor, order), lambda: actions.fulfill_order(order.pk, by=actor)):
        with CaptureQueriesContext(connection) as captured:
            act()
        statements = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
        moved = [k for k, sql in enumerate(statements) if _is_counter(sql)]
        # Two tab counts and one or two shipment counts (a first one in its status also made),
        # after every other statement.
        assert len(moved) >= 3
        assert moved == list(range(len(statements) - len(moved), len(statements))), statements

    after = _counts(actor.merchant)
    assert after["pending"] == before["pending"] - 1
    assert after["fulfilled"] == before.get("fulfilled", 0) + 1
    assert after.get("dispatched", 0) == before.get("dispatched", 0)
    shipments = dict(
        ShipmentStatusCount.objects.filter(merchant=actor.merchant).values_list("status", "count")
    )
    assert shipments["delivered"] == 1 and shipments.get("in_transit", 0) == 0


@pytest.mark.django_db
def test_a_counter_change_rolled_back_with_its_savepoint_is_not_counted():
    actor = owner_actor()
    order = pending_order(actor)
    before = _counts(actor.merchant)

    with publishing_once():
        count_status_change(actor.merchant.pk, before="pending", after="dispatched")
        with pytest.raises(RuntimeError), transaction.atomic():
            count_status_change(actor.merchant.pk, before="pending", after="cancelled")
            raise RuntimeError("this part failed")

    assert Order.objects.get(pk=order.pk).status == "pending"  # only the counts were moved here
    after = _counts(actor.merchant)
    assert after["pending"] == before["pending"] - 1
    assert after["dispatched"] == before.get("dispatched", 0) + 1
    assert after.get("cancelled", 0) == before.get("cancelled", 0)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_order_being_changed_does_not_hold_up_a_dispatch_of_another_order_of_the_shop():
    """The order's row alone is locked: not its merchant's or store's, which every action shares."""
    actor = owner_actor()
    busy, other = pending_order(actor), pending_order(actor)
    locked, release = threading.Event(), threading.Event()

    def hold_busy_order():
        try:
            with transaction.atomic():
                actions._locked_order(busy.pk, actor)
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_busy_order)
    holder.start()
    try:
        assert locked.wait(30)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '3s'")
            dispatched = _dispatch(actor, other)
    finally:
        release.set()
        holder.join(30)
    assert dispatched.status == Order.Status.DISPATCHED
