"""What a dispatch and a fulfilment write, statement by statement: each counter table moved by one
UPDATE, a count never below zero, a status's first count created, the outbox claim one read."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.fulfillment.models import Fulfillment, ShipmentStatusCount
from orderdesk.notifications import delivery
from orderdesk.notifications.models import Notification
from orderdesk.orders import actions
from orderdesk.orders.models import Order, OrderStatusCount

from .factories import dispatched_order, pending_order
from .messages import messages_of

pytestmark = pytest.mark.django_db


def dispatch(order, actor):
    tomorrow = timezone.localdate(timezone=actor.merchant.zone) + datetime.timedelta(days=1)
    return actions.dispatch_order(order.pk, by=actor, delivery_reference="JT77", expected_on=tomorrow)


def tab_counts(merchant) -> dict[str, int]:
    return dict(OrderStatusCount.objects.filter(merchant=merchant).values_list("status", "count"))


def shipment_counts(merchant) -> dict[str, int]:
    return dict(
        ShipmentStatusCount.objects.filter(merchant=merchant, vendor=None).values_list("status", "count")
    )


def updates_of(captured, table: str) -> list[str]:
    """The statements that change `table`'s rows: an UPDATE, or (the order counts on PostgreSQL)
    an upsert."""
    return [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith(f'UPDATE "{table}"')
        or f'INSERT INTO "{table}"' in q["sql"]
        and "ON CONFLICT" in q["sql"]
    ]


def test_a_dispatch_moves_both_tab_counts_in_one_update():
    actor = owner_actor()
    warm_up, order = pending_order(actor), pending_order(actor)
    dispatch(warm_up, actor)  # the Dispatched tab's count row exists from here on

    with CaptureQueriesContext(connection) as captured:
        dispatch(order, actor)

    assert len(updates_of(captured, OrderStatusCount._meta.db_table)) == 1
    assert tab_counts(actor.merchant)[Order.Status.PENDING] == 0
    assert tab_counts(actor.merchant)[Order.Status.DISPATCHED] == 2


def test_a_fulfilment_moves_both_shipment_counts_in_one_update():
    actor = owner_actor()
    fulfilled_first, order = dispatched_order(actor), dispatched_order(actor)
    actions.fulfill_order(fulfilled_first.pk, by=actor)  # the Delivered count row exists from here on

    with CaptureQueriesContext(connection) as captured:
        actions.fulfill_order(order.pk, by=actor)

    assert len(updates_of(captured, ShipmentStatusCount._meta.db_table)) == 1
    assert len(updates_of(captured, OrderStatusCount._meta.db_table)) == 1
    counts = shipment_counts(actor.merchant)
    assert counts[Fulfillment.ShippingStatus.IN_TRANSIT] == 0
    assert counts[Fulfillment.ShippingStatus.DELIVERED] == 2


def test_the_first_order_to_enter_a_status_creates_its_count():
    actor = owner_actor()
    order = pending_order(actor)
    assert Order.Status.DISPATCHED not in tab_counts(actor.merchant)

    dispatch(order, actor)

    assert tab_counts(actor.merchant) == {
        Order.Status.AWAITING_PAYMENT: 0,
        Order.Status.PENDING: 0,
        Order.Status.DISPATCHED: 1,
    }
    assert shipment_counts(actor.merchant) == {Fulfillment.ShippingStatus.IN_TRANSIT: 1}


@pytest.mark.postgres
def test_on_postgresql_a_first_status_row_is_made_by_the_same_statement_that_takes_the_others():
    # Made by a later statement, the new row was locked after the others: a transition holding
    # the Dispatched row and waiting for Pending's deadlocked with one holding Pending and making
    # (then finding) Dispatched's.
    actor = owner_actor()
    order = pending_order(actor)

    with CaptureQueriesContext(connection) as captured:
        dispatch(order, actor)

    writes = [q["sql"] for q in captured.captured_queries if '"orders_orderstatuscount"' in q["sql"]]
    assert len(writes) == 1 and "ON CONFLICT" in writes[0]
    assert tab_counts(actor.merchant)[Order.Status.DISPATCHED] == 1


def test_a_count_that_drifted_to_zero_stays_at_zero_and_the_other_still_moves():
    actor = owner_actor()
    warm_up, order = pending_order(actor), pending_order(actor)
    dispatch(warm_up, actor)
    OrderStatusCount.objects.filter(merchant=actor.merchant, status=Order.Status.PENDING).update(count=0)

    dispatch(order, actor)

    assert tab_counts(actor.merchant)[Order.Status.PENDING] == 0
    assert tab_counts(actor.merchant)[Order.Status.DISPATCHED] == 2


def test_a_transition_moves_only_its_own_merchants_counts():
    actor, bystander = owner_actor(), owner_actor()
    dispatch(pending_order(bystander), bystander)
    before = tab_counts(bystander.merchant)

    dispatch(pending_order(actor), actor)

    assert tab_counts(bystander.merchant) == before


@pytest.mark.usefixtures("notification_settings")
def test_a_claim_reads_the_rows_with_their_merchant_in_one_statement_on_postgresql():
    actor = owner_actor()
    row = messages_of(pending_order(actor)).get(channel=Notification.Channel.SMS)

    with CaptureQueriesContext(connection) as captured:
        (claimed,) = delivery._claim([row.pk], row.next_attempt_at)
        merchant = claimed.merchant

    assert len(captured.captured_queries) == (1 if connection.vendor == "postgresql" else 2)
    assert merchant == actor.merchant and claimed.status == Notification.Status.SENDING
    assert claimed.attempts == 1 and claimed.payload == row.payload
    assert Notification.objects.get(pk=row.pk).next_attempt_at == claimed.next_attempt_at


@pytest.mark.usefixtures("notification_settings")
def test_a_claim_takes_only_the_rows_due_and_not_held_by_another_lease():
    actor = owner_actor()
    first, second = messages_of(pending_order(actor)), messages_of(pending_order(actor))
    due = first.get(channel=Notification.Channel.SMS)
    later = second.get(channel=Notification.Channel.SMS)
    now = max(due.next_attempt_at, later.next_attempt_at)
    Notification.objects.filter(pk=later.pk).update(next_attempt_at=now + datetime.timedelta(hours=1))

    claimed = delivery._claim([due.pk, later.pk], now)
    again = delivery._claim([due.pk], now)

    assert [notification.pk for notification in claimed] == [due.pk]
    assert again == []


# What a transition and its messages' delivery run, each a statement of fixed text: on PostgreSQL,
# prepared (planned once per connection) once it has run prepare_threshold times.
_FIXED_STATEMENTS = {
    "the locked read of the order": 'SELECT "orders_order"."id"',
    "the order's lines": 'SELECT "id", "merchant_id", "order_id", "variant_id"',
    "the new shipment": 'INSERT INTO "fulfillment_fulfillment"',
    "its lines": 'INSERT INTO "fulfillment_fulfillmentline"',
    "its tracking events": 'INSERT INTO "fulfillment_trackingevent"',
    "the webhook endpoints and switches": 'SELECT "api_webhookendpoint"."id"',
    "the order's changes": 'UPDATE "orders_order" SET "status"',
    "the outbox rows": 'INSERT INTO "notifications_notification"',
    "the timeline events": 'INSERT INTO "orders_orderevent"',
    "the order counts": "WITH w (s, c, n) AS",
    "the shipment counts": 'UPDATE "fulfillment_shipmentstatuscount"',
    "the shipments to deliver, locked": 'SELECT "id", "merchant_id", "order_id", "shipped_by"',
    "the delivered shipment": 'UPDATE "fulfillment_fulfillment" SET "status"',
    "the claim of the messages": 'WITH "c" AS (UPDATE "notifications_notification"',
    "the composer's read of the order": 'SELECT "o"."id"',
    "the composed text, then the sending": 'UPDATE "notifications_notification" SET',
}


@pytest.mark.postgres
@pytest.mark.usefixtures("notification_settings")
def test_on_postgresql_the_statements_of_a_transition_and_its_messages_are_prepared(
    django_capture_on_commit_callbacks,
):
    actor = owner_actor()
    orders = [pending_order(actor) for _ in range(connection.connection.prepare_threshold + 2)]

    for order in orders:
        with django_capture_on_commit_callbacks(execute=True):  # the messages' delivery too
            dispatch(order, actor)
        with django_capture_on_commit_callbacks(execute=True):
            actions.fulfill_order(order.pk, by=actor)

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [statement for (statement,) in cursor.fetchall()]
    not_prepared = [
        what for what, start in _FIXED_STATEMENTS.items() if not any(s.startswith(start) for s in prepared)
    ]
    assert not_prepared == []
    assert Order.objects.filter(pk__in=[o.pk for o in orders], status=Order.Status.FULFILLED).count() == len(
        orders
    )
    sent = Notification.objects.filter(
        about_id__in=[str(o.pk) for o in orders], topic__in=["order.dispatched", "order.fulfilled"]
    ).values_list("status", flat=True)
    assert len(sent) >= 2 * len(orders) and set(sent) == {Notification.Status.SENT}
