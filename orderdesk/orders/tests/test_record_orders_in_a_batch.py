"""record_orders: many orders in one transaction by record_order's rules, in a few statements.

The rules themselves are tested against both paths (the `record` fixture in
test_record_order.py and test_record_order_limits.py); these tests are about what only a
batch does: refusals beside acceptances, duplicates inside one batch, numbering, shared
customers, counters and statements that do not grow with the batch.
"""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orderdesk.accounts.tests.factories import MerchantFactory, owner_actor
from orderdesk.customers.models import Customer
from orderdesk.errors import DomainError
from orderdesk.notifications.models import Notification
from orderdesk.orders import actions
from orderdesk.orders.actions import CustomerDetails, LineInput
from orderdesk.orders.errors import DuplicateOrder, InvalidOrder
from orderdesk.orders.models import Order, OrderEvent, OrderLine, OrderStatusCount
from orderdesk.stores.models import Store

from .factories import new_order

pytestmark = pytest.mark.django_db

THREE_LINES = [
    LineInput(title="Linen shirt", sku="LS-M", quantity=2, unit_price=Decimal("799.00")),
    LineInput(title="Canvas tote", sku="CT-1", quantity=1, unit_price=Decimal("350.50")),
    LineInput(title="Bamboo cup", sku="BC-1", quantity=1, unit_price=Decimal("199.00")),
]


def paid_order(number: int, **overrides):
    fields = {
        "customer": CustomerDetails(name=f"Customer {number}", phone=f"+6391855{number:05d}"),
        "lines": THREE_LINES,
    }
    return new_order(**(fields | overrides))


def test_a_bad_order_is_refused_with_its_reason_and_the_rest_are_recorded():
    actor = owner_actor()
    batch = [paid_order(1), paid_order(2, lines=[]), paid_order(3, payment_method="barter"), paid_order(4)]

    results = actions.record_orders(batch, by=actor, payment_confirmed=True)

    assert [r.order is not None for r in results] == [True, False, False, True]
    assert isinstance(results[1].refusal, InvalidOrder)
    assert results[1].refusal.message == "An order needs at least one item."
    assert results[2].refusal.field == "payment_method"
    assert Order.objects.count() == 2
    assert OrderLine.objects.count() == 6
    # Numbers are handed out to the recorded orders only, one after another.
    assert sorted(o.reference for o in Order.objects.all()) == [
        f"{actor.merchant.order_reference_prefix}-1001",
        f"{actor.merchant.order_reference_prefix}-1002",
    ]
    actor.merchant.refresh_from_db()
    assert actor.merchant.last_order_number == 1002


def test_the_same_store_order_twice_in_one_batch_is_recorded_once():
    actor = owner_actor()
    store = Store.objects.create(merchant=actor.merchant, name="Shopify", channel=Store.Channel.SHOPIFY)
    actions.record_order(paid_order(1, store_id=store.pk, external_id="5001"), by=actor)
    batch = [
        paid_order(2, store_id=store.pk, external_id="5001"),
        paid_order(3, store_id=store.pk, external_id="5002"),
        paid_order(4, store_id=store.pk, external_id="5002"),
        paid_order(5, reference="WEB-9"),
        paid_order(6, reference="WEB-9"),
    ]

    results = actions.record_orders(batch, by=actor)

    assert [type(r.refusal).__name__ if r.refusal else "ok" for r in results] == [
        "DuplicateOrder",
        "ok",
        "DuplicateOrder",
        "ok",
        "DuplicateOrder",
    ]
    assert results[0].refusal.existing_order_id == Order.objects.get(external_id="5001").pk
    assert results[2].refusal.message == "Order 5002 from Shopify is already recorded."
    assert isinstance(results[4].refusal, DuplicateOrder) and results[4].refusal.field == "reference"
    assert Order.objects.filter(store=store, external_id="5002").count() == 1


def test_one_new_customer_serves_every_order_of_the_batch_with_their_phone_or_email():
    actor = owner_actor()
    known = actions.record_order(
        paid_order(1, customer=CustomerDetails(name="Known", email="known@example.com")), by=actor
    ).customer
    batch = [
        paid_order(2, customer=CustomerDetails(name="Rosa", phone="0917 555 0199")),
        paid_order(
            3, customer=CustomerDetails(name="Rosa R.", phone="+639175550199", email="rosa@example.com")
        ),
        paid_order(4, customer=CustomerDetails(name="Ben", email="ben@example.com")),
        paid_order(5, customer=CustomerDetails(name="Ben C.", email="BEN@example.com")),
        paid_order(
            6, customer=CustomerDetails(name="Known again", phone="0917 555 0777", email="known@example.com")
        ),
    ]

    orders = [r.order for r in actions.record_orders(batch, by=actor)]

    assert orders[0].customer_id == orders[1].customer_id
    assert orders[2].customer_id == orders[3].customer_id != orders[0].customer_id
    assert orders[4].customer_id == known.pk
    assert Customer.objects.count() == 3
    # Each order keeps its own snapshot of who bought.
    assert [o.customer_name for o in orders] == ["Rosa", "Rosa R.", "Ben", "Ben C.", "Known again"]


def test_a_paid_batch_writes_what_record_order_writes_for_each_order(actor):
    results = actions.record_orders([paid_order(n) for n in range(3)], by=actor, payment_confirmed=True)

    for result in results:
        order = Order.objects.get(pk=result.order.pk)
        assert order.status == Order.Status.PENDING
        assert order.payment_status == Order.PaymentStatus.PAID
        assert order.due_on is not None
        kinds = list(order.events.values_list("kind", flat=True))
        assert kinds == [
            OrderEvent.Kind.PLACED,
            OrderEvent.Kind.PAYMENT_VERIFIED,
            OrderEvent.Kind.NOTIFICATIONS_QUEUED,
        ]
        assert order.events.get(kind=OrderEvent.Kind.PLACED).data["lines"] == 3
        queued = order.events.get(kind=OrderEvent.Kind.NOTIFICATIONS_QUEUED).data["notifications"]
        outbox = Notification.objects.filter(about_type="order", about_id=str(order.pk))
        assert [n["id"] for n in queued] == list(outbox.values_list("pk", flat=True))
        assert outbox.get().topic == "order.payment_verified"
    assert OrderStatusCount.objects.get(merchant=actor.merchant, status=Order.Status.PENDING).count == 3
    assert not OrderStatusCount.objects.filter(
        merchant=actor.merchant, status=Order.Status.AWAITING_PAYMENT, count__gt=0
    ).exists()


def test_a_quiet_batch_queues_no_messages(actor):
    actions.record_orders([paid_order(n) for n in range(3)], by=actor, payment_confirmed=True, notify=False)
    assert not Notification.objects.exists()
    assert not OrderEvent.objects.filter(kind=OrderEvent.Kind.NOTIFICATIONS_QUEUED).exists()


def test_the_statements_of_a_batch_do_not_grow_with_its_size():
    actor = owner_actor(MerchantFactory(notification_email=""))
    actions.record_orders([paid_order(0)], by=actor, payment_confirmed=True)  # counters exist
    counted = []
    for size, start in ((10, 100), (100, 1000)):
        with CaptureQueriesContext(connection) as captured:
            results = actions.record_orders(
                [paid_order(start + n) for n in range(size)], by=actor, payment_confirmed=True
            )
        assert all(r.order for r in results)
        counted.append(len(captured.captured_queries))
    # 14, and one read of the merchants' active webhook endpoints for the batch's events. On
    # PostgreSQL a batch's rows go in by COPY (orders.inserts), and the orders, customers and
    # events take their ids from their sequences in a statement of their own first: 3 more.
    assert counted[0] <= (18 if connection.vendor == "postgresql" else 15)
    if connection.vendor == "postgresql":
        assert counted[1] == counted[0]
    else:
        # SQLite takes at most 999 parameters a statement: Django splits the INSERTs.
        assert counted[1] <= counted[0] + 10


def test_recording_one_paid_three_line_order_takes_at_most_twelve_statements():
    """Issue 8's budget for record_order(payment_confirmed=True): a new customer, three lines,
    its events and one outbox row (the merchant hears of payments by SMS). Eleven on SQLite: the
    merchant locked by taking its number (UPDATE … RETURNING), its store, the customer read and
    inserted, the order, its tab counter, its lines, the merchant's switches, the outbox row, the
    three events in one INSERT, and the merchant's active webhook endpoints, read once for the
    transaction. Nine on PostgreSQL, where the order is numbered last: the merchant and its store
    read, the order, its lines, the switches, the outbox row; then the merchant locked by taking
    the number with the tab counter moved, the customer read or inserted and given to the order
    with its reference, the events, the endpoints (test_record_order_races.py). Lines of no
    catalog variant cannot be hosted: no hosting lookup."""
    actor = owner_actor(MerchantFactory(notification_email=""))
    actions.record_order(paid_order(0), by=actor, payment_confirmed=True)  # the store and counters exist
    with CaptureQueriesContext(connection) as captured:
        order = actions.record_order(paid_order(1), by=actor, payment_confirmed=True)
    statements = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) <= 12, "\n".join(statements)
    assert len(statements) == (9 if connection.vendor == "postgresql" else 11), "\n".join(statements)
    # The order comes back with its lines and events as written: showing them reads nothing.
    with CaptureQueriesContext(connection) as shown:
        assert [line.sku for line in order.lines.all()] == ["LS-M", "CT-1", "BC-1"]
        assert [event.kind for event in order.events.all()] == [
            OrderEvent.Kind.PLACED,
            OrderEvent.Kind.PAYMENT_VERIFIED,
            OrderEvent.Kind.NOTIFICATIONS_QUEUED,
        ]
        assert list(order.fulfillments.all()) == []
    assert len(shown.captured_queries) == 0
    assert order.events.count() == 3
    assert Notification.objects.filter(about_id=str(order.pk)).count() == 1


@st.composite
def _batches(draw):
    """Orders that collide in every way a batch can: store ids, references, phones and emails,
    with a bad one here and there."""
    orders = []
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        phone = draw(st.sampled_from(["", "0917 555 0101", "0917 555 0102"]))
        email = draw(st.sampled_from(["", "a@example.com", "b@example.com"]))
        quantity = draw(st.sampled_from([1, 2, 0]))  # 0 is refused
        orders.append(
            {
                "customer": CustomerDetails(name="Buyer", phone=phone, email=email),
                "lines": [LineInput(title="Cap", quantity=quantity, unit_price="10.00")],
                "external_id": draw(st.sampled_from([None, "E1", "E2"])),
                "reference": draw(st.sampled_from([None, None, "R1"])),
                "in_store": draw(st.booleans()),
            }
        )
    return orders


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=_batches())
def test_a_batch_ends_as_the_same_orders_one_at_a_time_would(batch):
    """Two merchants get the same orders: one through record_order in turn, one through
    record_orders at once. Same refusals with the same reasons, same references, same customers."""
    outcomes = []
    for record in ("one at a time", "in a batch"):
        actor = owner_actor()
        store = Store.objects.create(merchant=actor.merchant, name="Shop", channel=Store.Channel.SHOPIFY)
        news = [
            new_order(
                customer=o["customer"],
                lines=o["lines"],
                external_id=o["external_id"],
                reference=o["reference"],
                store_id=store.pk if o["in_store"] else None,
            )
            for o in batch
        ]
        if record == "one at a time":
            results = []
            for new in news:
                try:
                    results.append(actions.Recorded(new=new, order=actions.record_order(new, by=actor)))
                except DomainError as refusal:
                    results.append(actions.Recorded(new=new, refusal=refusal))
        else:
            results = actions.record_orders(news, by=actor)
        customers: dict[int, int] = {}
        outcomes.append(
            [
                (
                    r.refusal.message.replace(str(r.refusal.__dict__.get("existing_order_id")), "?")
                    if r.refusal
                    else (
                        r.order.reference.split("-", 1)[-1],
                        customers.setdefault(r.order.customer_id, len(customers)),
                    )
                )
                for r in results
            ]
        )
        assert Order.objects.filter(merchant=actor.merchant).count() == sum(1 for r in results if r.order)
    assert outcomes[0] == outcomes[1]
