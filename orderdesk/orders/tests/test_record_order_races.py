"""Many writers recording one merchant's orders at once, each on its own connection (PostgreSQL).

An order with neither a store order id nor a given reference takes its number, and the
merchant's row lock, just before its commit; the others take it first. Either way the numbers
stay gapless and unique, a store order or a reference is recorded once, a new customer is made
once, and no two writers deadlock, whichever path (record_order, record_orders, a dispatch)
they take.
"""

import datetime
import threading
import time

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.catalog.models import Product, Variant
from orderdesk.customers.models import Customer
from orderdesk.orders import actions
from orderdesk.orders.actions import CustomerDetails, LineInput
from orderdesk.orders.errors import DuplicateOrder, InvalidOrder
from orderdesk.orders.models import Order, OrderEvent, OrderStatusCount
from orderdesk.stores.models import Store
from orderdesk.stores.sync import lock_merchant

from .factories import new_order, pending_order
from .test_concurrent_actions import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WRITERS = 8


def _buyer(number: int) -> CustomerDetails:
    return CustomerDetails(name=f"Buyer {number}", phone=f"+6391755{number:05d}")


def _numbers(merchant) -> list[int]:
    references = Order.objects.filter(merchant=merchant).values_list("reference", flat=True)
    return sorted(int(reference.rsplit("-", 1)[1]) for reference in references)


def _failures(outcomes) -> list:
    return [outcome for outcome in outcomes if isinstance(outcome, BaseException)]


def _counts(merchant) -> dict[str, int]:
    return dict(
        OrderStatusCount.objects.filter(merchant=merchant, count__gt=0).values_list("status", "count")
    )


def _actual_counts(merchant) -> dict[str, int]:
    counted: dict[str, int] = {}
    for status in Order.objects.filter(merchant=merchant).values_list("status", flat=True):
        counted[status] = counted.get(status, 0) + 1
    return counted


@pytest.mark.parametrize("shop", ["new", "running"])
def test_many_writers_of_one_merchant_get_gapless_unique_numbers(shop):
    """ "new": the merchant's first orders, so its manual orders store and tab counter are made in the race too."""
    actor = owner_actor()
    if shop == "running":
        pending_order(actor)
    before = len(_numbers(actor.merchant))

    def writer(n):
        return lambda: [
            actions.record_order(new_order(customer=_buyer(n * 10 + k)), by=actor, payment_confirmed=True)
            for k in range(5)
        ]

    outcomes = run_together(*(writer(n) for n in range(WRITERS)))

    assert _failures(outcomes) == []
    assert _numbers(actor.merchant) == list(range(1001, 1001 + before + 5 * WRITERS))
    for order in (order for orders in outcomes for order in orders):
        stored = Order.objects.get(pk=order.pk)
        placed = OrderEvent.objects.get(order=order, kind=OrderEvent.Kind.PLACED)
        assert order.reference == stored.reference == placed.data["reference"]
        assert stored.customer_id == order.customer_id == order.customer.pk
        assert order.customer.phone == stored.customer_phone
    assert Store.objects.filter(merchant=actor.merchant, name=actions.MANUAL_ORDERS_STORE).count() == 1
    assert _counts(actor.merchant) == _actual_counts(actor.merchant) == {"pending": before + 5 * WRITERS}


def test_the_same_store_order_from_ten_writers_is_recorded_once():
    actor = owner_actor()
    store = Store.objects.create(merchant=actor.merchant, name="Shopify", channel=Store.Channel.SHOPIFY)

    def writer():
        return actions.record_order(
            new_order(store_id=store.pk, external_id="5001"), by=actor, payment_confirmed=True
        )

    outcomes = run_together(*[writer] * 10)

    recorded = [outcome for outcome in outcomes if isinstance(outcome, Order)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, DuplicateOrder)]
    assert len(recorded) == 1 and len(refused) == 9, outcomes
    assert {(refusal.message, refusal.existing_order_id) for refusal in refused} == {
        ("Order 5001 from Shopify is already recorded.", recorded[0].pk)
    }
    assert (
        Order.objects.get().reference
        == recorded[0].reference
        == f"{actor.merchant.order_reference_prefix}-1001"
    )
    actor.merchant.refresh_from_db()
    assert actor.merchant.last_order_number == 1001
    assert _counts(actor.merchant) == {"pending": 1}


def test_the_same_given_reference_from_ten_writers_is_taken_once():
    actor = owner_actor()

    outcomes = run_together(*[lambda: actions.record_order(new_order(reference="WEB-7"), by=actor)] * 10)

    recorded = [outcome for outcome in outcomes if isinstance(outcome, Order)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, DuplicateOrder)]
    assert len(recorded) == 1 and len(refused) == 9, outcomes
    assert {(refusal.message, refusal.field) for refusal in refused} == {
        ("Order reference WEB-7 is already taken.", "reference")
    }
    assert list(Order.objects.values_list("reference", flat=True)) == ["WEB-7"]
    actor.merchant.refresh_from_db()
    assert actor.merchant.last_order_number == 1000


def test_refused_orders_among_many_writers_leave_no_gap_in_the_numbers():
    actor = owner_actor()
    store = Store.objects.create(merchant=actor.merchant, name="Shopify", channel=Store.Channel.SHOPIFY)
    other = owner_actor()
    their_product = Product.objects.create(merchant=other.merchant, title="Their cap")
    their_variant = Variant.objects.create(
        merchant=other.merchant, product=their_product, sku="CAP", price="10"
    )
    not_mine = [LineInput(title="Cap", quantity=1, unit_price="10", variant_id=their_variant.pk)]

    def writer(n):
        def record():
            outcomes = []
            for new in (
                new_order(customer=_buyer(n)),
                new_order(store_id=store.pk, external_id="TAKEN"),  # all but one refused
                new_order(customer=_buyer(n), lines=not_mine),  # refused
                new_order(store_id=store.pk, external_id=f"OWN-{n}"),
            ):
                try:
                    outcomes.append(actions.record_order(new, by=actor, payment_confirmed=True))
                except (DuplicateOrder, InvalidOrder) as refusal:
                    outcomes.append(refusal)
            return outcomes

        return record

    by_writer = run_together(*(writer(n) for n in range(WRITERS)))

    assert _failures(by_writer) == []
    outcomes = [outcome for outcomes in by_writer for outcome in outcomes]
    assert sum(isinstance(o, DuplicateOrder) for o in outcomes) == WRITERS - 1
    assert sum(isinstance(o, InvalidOrder) for o in outcomes) == WRITERS
    recorded = 2 * WRITERS + 1
    assert _numbers(actor.merchant) == list(range(1001, 1001 + recorded))
    actor.merchant.refresh_from_db()
    assert actor.merchant.last_order_number == 1000 + recorded


def test_one_new_customer_ordering_from_many_writers_at_once_is_made_once():
    actor = owner_actor()
    pending_order(actor)  # a running shop: its store is there, so no writer waits for it
    same = CustomerDetails(name="Ana Reyes", phone="0917 555 0199", email="ana@example.com")

    connected = threading.Barrier(WRITERS)

    def writer():
        # Connected first, so that the writers' recordings overlap rather than their connecting.
        connection.ensure_connection()
        connected.wait(30)
        return actions.record_order(new_order(customer=same), by=actor, payment_confirmed=True)

    outcomes = run_together(*[writer] * WRITERS)

    assert _failures(outcomes) == []
    made = Customer.objects.filter(merchant=actor.merchant, phone="+639175550199")
    assert made.count() == 1
    assert {order.customer_id for order in outcomes} == {made.get().pk}
    assert Order.objects.filter(customer=made.get()).count() == WRITERS


def test_record_order_racing_a_batch_and_dispatches_keeps_every_rule_without_deadlock():
    """A batch (record_orders, which holds the merchant's lock from its start), single orders of
    the same store order and of the same new customer, and dispatches moving the tab counters."""
    actor = owner_actor()
    store = Store.objects.create(merchant=actor.merchant, name="Shopify", channel=Store.Channel.SHOPIFY)
    to_dispatch = [pending_order(actor) for _ in range(4)]
    newcomer = CustomerDetails(name="New Buyer", phone="0917 555 0177")
    expected_on = timezone.localdate(timezone=actor.merchant.zone) + datetime.timedelta(days=1)

    def batch():
        return actions.record_orders(
            [
                new_order(store_id=store.pk, external_id="E1", customer=newcomer),
                *(new_order(customer=_buyer(900 + k)) for k in range(20)),
                new_order(customer=newcomer),
            ],
            by=actor,
            payment_confirmed=True,
        )

    def single(n):
        if n % 2:
            return lambda: actions.record_order(
                new_order(store_id=store.pk, external_id="E1", customer=newcomer),
                by=actor,
                payment_confirmed=True,
            )
        return lambda: actions.record_order(new_order(customer=newcomer), by=actor, payment_confirmed=True)

    def dispatch(order):
        return lambda: actions.dispatch_order(
            order.pk, by=actor, delivery_reference=f"JT{order.pk}", expected_on=expected_on
        )

    outcomes = run_together(
        batch, *(single(n) for n in range(6)), *(dispatch(order) for order in to_dispatch)
    )

    failures = [f for f in _failures(outcomes) if not isinstance(f, DuplicateOrder)]
    assert failures == []
    assert Order.objects.filter(store=store, external_id="E1").count() == 1
    assert Customer.objects.filter(merchant=actor.merchant, phone="+639175550177").count() == 1
    assert _numbers(actor.merchant) == list(range(1001, 1001 + Order.objects.count()))
    assert _counts(actor.merchant) == _actual_counts(actor.merchant)


def test_a_writer_waiting_for_the_merchants_lock_has_written_all_but_its_number():
    """The merchant's row lock is taken by the statement that numbers the order: a writer behind
    another waits there, its order, lines and messages already written."""
    actor = owner_actor()
    pending_order(actor)
    held, release = threading.Event(), threading.Event()

    def hold_the_merchants_lock():
        try:
            with transaction.atomic():
                lock_merchant(actor.merchant.pk)
                held.set()
                release.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_merchants_lock)
    holder.start()
    recorded: list = []
    writer = threading.Thread(
        target=lambda: recorded.append(
            _closing(
                lambda: actions.record_order(new_order(customer=_buyer(1)), by=actor, payment_confirmed=True)
            )
        )
    )
    try:
        assert held.wait(30)
        writer.start()
        waiting = _statement_waiting_for_a_lock(seconds=30)
    finally:
        release.set()
        holder.join(30)
        writer.join(30)
    assert 'UPDATE "accounts_merchant" SET "last_order_number"' in waiting
    assert recorded[0].reference == f"{actor.merchant.order_reference_prefix}-1002"


def _closing(call):
    try:
        return call()
    finally:
        connection.close()


def _statement_waiting_for_a_lock(*, seconds: float) -> str:
    deadline = time.monotonic() + seconds
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT query FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            row = cursor.fetchone()
            if row is not None:
                return row[0]
            time.sleep(0.05)
    return ""


def test_the_merchants_row_is_locked_after_the_order_its_lines_and_messages_are_written():
    actor = owner_actor()
    actions.record_order(new_order(customer=_buyer(0)), by=actor, payment_confirmed=True)  # store, counters

    with CaptureQueriesContext(connection) as captured:
        actions.record_order(new_order(customer=_buyer(1)), by=actor, payment_confirmed=True)

    statements = [q["sql"] for q in captured.captured_queries]
    statements = statements[: statements.index("COMMIT")]  # then the messages are sent
    numbered = next(k for k, sql in enumerate(statements) if 'UPDATE "accounts_merchant"' in sql)
    written_before = [
        k
        for k, sql in enumerate(statements)
        if sql.startswith(('INSERT INTO "orders_order" ', 'INSERT INTO "orders_orderline"'))
        or sql.startswith('INSERT INTO "notifications_notification"')
    ]
    assert len(written_before) == 3 and max(written_before) < numbered, statements
    # After it, until the commit: the customer with the order's reference, the events, and the
    # webhook endpoints read.
    assert len(statements) - numbered == 4, statements
