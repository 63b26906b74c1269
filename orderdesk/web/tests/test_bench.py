"""The bench measures what it says: exact fills in the real shape, honest percentiles, valid JSON."""

import json
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, models
from django.test.utils import CaptureQueriesContext

from orderdesk.accounts.models import Membership, Merchant, User
from orderdesk.customers.models import Customer
from orderdesk.fulfillment.models import Fulfillment, FulfillmentLine, TrackingEvent
from orderdesk.orders.models import Order, OrderEvent, OrderStatusCount
from orderdesk.orders.queries import order_for_page, tab_counts
from orderdesk.stores.models import Store
from orderdesk.web.benchmark import fill
from orderdesk.web.benchmark.stats import percentile, summarize


def test_percentiles_are_nearest_rank():
    values = list(range(1, 201))  # 1 … 200
    assert percentile(values, 50) == 100
    assert percentile(values, 95) == 190
    assert percentile(values, 99) == 198
    assert percentile(values, 100) == 200
    assert percentile([7.0], 99) == 7.0


def test_percentiles_do_not_depend_on_the_order_of_the_timings():
    assert percentile([5, 1, 4, 2, 3], 50) == 3


def test_a_percentile_of_nothing_is_refused():
    with pytest.raises(ValueError, match="No values"):
        percentile([], 50)
    with pytest.raises(ValueError, match="above 0"):
        percentile([1], 0)


def test_a_summary_gives_p50_p95_p99_and_the_sql_range():
    summary = summarize([float(n) for n in range(1, 201)], [6] * 199 + [8])
    assert summary == {
        "requests": 200,
        "p50_ms": 100.0,
        "p95_ms": 190.0,
        "p99_ms": 198.0,
        "max_ms": 200.0,
        "sql_min": 6,
        "sql_max": 8,
    }


@pytest.fixture
def bench_merchant(db):
    merchant = Merchant.objects.create(name="Bench", short_name="BENCH", order_reference_prefix="BN")
    owner = User.objects.create_user("bench-test@orderdesk.local", None)
    Membership.objects.create(user=owner, merchant=merchant, role=Membership.Role.OWNER)
    store = Store.objects.create(merchant=merchant, name="Bench store")
    return merchant, owner, store


def fill_to(bench_merchant, count):
    merchant, owner, store = bench_merchant
    return fill.fill_orders(merchant, store=store, owner=owner, count=count)


def test_the_fill_makes_exactly_the_orders_asked_each_with_three_lines(bench_merchant):
    fill_to(bench_merchant, 1200)
    merchant = bench_merchant[0]

    orders = Order.objects.for_merchant(merchant)
    assert orders.count() == 1200
    lines_per_order = Counter(orders.values_list("lines__order_id", flat=True))
    assert set(lines_per_order.values()) == {3}
    assert sorted(orders.values_list("reference", flat=True)) == sorted(
        fill.reference_of(n) for n in range(1, 1201)
    )


def test_the_fill_holds_the_realistic_status_mix_and_the_tab_counts_agree(bench_merchant):
    fill_to(bench_merchant, 2000)
    merchant = bench_merchant[0]

    shares = Counter(Order.objects.for_merchant(merchant).values_list("status", flat=True))
    for status, share in fill.STATUS_MIX:
        assert abs(shares[status] / 2000 - share) < 0.03, (status, shares)
    assert dict(OrderStatusCount.objects.for_merchant(merchant).values_list("status", "count")) == dict(
        shares
    )
    assert tab_counts(merchant)[Order.Status.FULFILLED] == shares[Order.Status.FULFILLED]


def test_filled_orders_carry_shipments_and_timelines_as_the_actions_write_them(bench_merchant):
    fill_to(bench_merchant, 300)
    merchant = bench_merchant[0]
    fulfilled = Order.objects.for_merchant(merchant).filter(status=Order.Status.FULFILLED).first()
    pending = Order.objects.for_merchant(merchant).filter(status=Order.Status.PENDING).first()

    page_order = order_for_page(merchant, fulfilled.pk)
    [shipment] = page_order.fulfillments.all()
    assert shipment.status == Fulfillment.ShippingStatus.DELIVERED
    assert FulfillmentLine.objects.filter(fulfillment=shipment).count() == 3
    assert list(TrackingEvent.objects.filter(fulfillment=shipment).values_list("status", flat=True)) == [
        Fulfillment.ShippingStatus.IN_TRANSIT,
        Fulfillment.ShippingStatus.DELIVERED,
    ]
    assert [e.kind for e in page_order.events.all()] == [
        OrderEvent.Kind.PLACED,
        OrderEvent.Kind.PAYMENT_VERIFIED,
        OrderEvent.Kind.DISPATCHED,
        OrderEvent.Kind.FULFILLED,
    ]
    assert not pending.fulfillments.exists()
    assert (pending.customer.name, pending.customer.phone) == (pending.customer_name, pending.customer_phone)
    assert [e.kind for e in pending.events.all()] == [
        OrderEvent.Kind.PLACED,
        OrderEvent.Kind.PAYMENT_VERIFIED,
    ]


def test_every_filled_order_has_a_customer_of_its_own_as_record_order_keeps_them(bench_merchant):
    # A customers table of the orders' size: PostgreSQL plans the orders' foreign-key checks
    # on it from the statistics the bench takes at its start (a near-empty table gets a scan).
    fill_to(bench_merchant, 400)
    merchant = bench_merchant[0]

    orders = Order.objects.for_merchant(merchant)
    assert not orders.filter(customer=None).exists()
    assert Customer.objects.filter(merchant=merchant).count() == 400
    assert not orders.exclude(customer__phone=models.F("customer_phone")).exists()


def test_orders_filled_before_they_had_customers_are_rebuilt(bench_merchant):
    fill_to(bench_merchant, 50)
    merchant = bench_merchant[0]
    Customer.objects.filter(merchant=merchant).delete()  # the shape of earlier fills: no customers

    again = fill_to(bench_merchant, 50)

    assert (again.rebuilt, again.removed, again.added) == (True, 50, 50)
    assert not Order.objects.for_merchant(merchant).filter(customer=None).exists()
    assert Customer.objects.filter(merchant=merchant).count() == 50


def test_trimming_keeps_a_customer_whom_a_kept_order_also_names(bench_merchant):
    fill_to(bench_merchant, 60)
    merchant = bench_merchant[0]
    orders = Order.objects.for_merchant(merchant)
    first = orders.get(reference=fill.reference_of(1))
    orders.filter(reference=fill.reference_of(60)).update(customer=first.customer)  # a returning buyer

    fill_to(bench_merchant, 40)

    first.refresh_from_db()
    assert first.customer is not None
    assert not orders.filter(customer=None).exists()


def test_a_second_fill_trims_to_a_smaller_count_and_grows_to_a_larger_one(bench_merchant):
    merchant = bench_merchant[0]
    fill_to(bench_merchant, 500)

    trimmed = fill_to(bench_merchant, 120)
    assert (trimmed.added, trimmed.removed) == (0, 380)
    assert Order.objects.for_merchant(merchant).count() == 120
    assert OrderEvent.objects.filter(merchant=merchant, order__isnull=True).count() == 0
    assert Customer.objects.filter(merchant=merchant).count() == 120
    assert sum(OrderStatusCount.objects.for_merchant(merchant).values_list("count", flat=True)) == 120

    grown = fill_to(bench_merchant, 300)
    assert (grown.added, grown.removed) == (180, 0)
    assert Order.objects.for_merchant(merchant).count() == 300
    assert Order.objects.for_merchant(merchant).filter(reference=fill.reference_of(300)).exists()
    assert Customer.objects.filter(merchant=merchant).count() == 300


def test_the_bench_refuses_to_run_with_debug_on(db, settings):
    settings.DEBUG = True
    with pytest.raises(CommandError, match="DEBUG is on"):
        call_command("bench", orders=10, requests=1)


@pytest.mark.django_db(transaction=True)
def test_a_tiny_bench_run_writes_valid_json_with_every_figure_asked(tmp_path, settings):
    settings.STATIC_ROOT = tmp_path / "static"
    output = tmp_path / "bench.json"

    call_command(
        "bench",
        orders=60,
        requests=3,
        output=str(output),
        only="Order Tracking first page,Order page,Search a common name,Place a paid order,"
        "Backfill from Shopify,CSV import",
        ingest_orders=30,
        stdout=open(tmp_path / "out.txt", "w"),  # noqa: SIM115
    )

    data = json.loads(output.read_text())
    assert data["orders"] == 60 and data["database"]["bench_merchant_rows"]["Order"] == 60
    assert data["database"]["bench_merchant_rows"]["OrderLine"] == 180
    assert data["settings"]["DEBUG"] is False
    if connection.vendor == "postgresql":  # the server's memory and durability settings are recorded
        assert data["database"]["server_settings"]["synchronous_commit"] == "on"
        assert "shared_buffers" in data["database"]["server_settings"]
    assert set(data["figures"]) == {
        "Order Tracking first page",
        "Order page",
        "Search a common name",
        "Place a paid order",
        "Backfill from Shopify",
        "CSV import",
    }
    for name in ("Order Tracking first page", "Order page", "Search a common name", "Place a paid order"):
        figure = data["figures"][name]
        assert figure["requests"] == 3
        assert figure["p50_ms"] <= figure["p95_ms"] <= figure["p99_ms"] <= figure["max_ms"]
        assert figure["sql_min"] >= 1
    backfill = data["figures"]["Backfill from Shopify"]
    assert (backfill["new"], backfill["failed"], backfill["orders_recorded"]) == (30, 0, 30), backfill
    assert (backfill["again_new"], backfill["again_unchanged"]) == (0, 30)
    imported = data["figures"]["CSV import"]
    assert (imported["new"], imported["failed"]) == (30, 0), imported
    assert imported["peak_memory_mb"] > 0 and imported["per_second"] > 0
    # The hashed static files went to a folder of the bench's own, not the project's.
    assert not any((tmp_path / "static").glob("**/*.css"))
    assert data["figures"]["Place a paid order"]["per_second"] > 0


@pytest.mark.django_db
def test_statements_are_counted_after_the_query_log_is_full():
    from orderdesk.web.benchmark.figures import timed

    with CaptureQueriesContext(connection):  # logging on, as the bench's figures have it
        connection.queries_log.extend(
            {"sql": "SELECT 1", "time": "0.000"} for _ in range(connection.queries_limit)
        )
        assert len(connection.queries_log) == connection.queries_limit

        def two_statements():
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.execute("SELECT 2")

        figure = timed([two_statements, two_statements])
    assert (figure["sql_min"], figure["sql_max"]) == (2, 2)
