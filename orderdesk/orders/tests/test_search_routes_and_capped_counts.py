"""Search stays fast at a million orders: whole references and phones go straight to their
indexes (never an OR walking every order), and the tab counts stop at a cap while searching."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.orders import queries
from orderdesk.orders.actions import CustomerDetails
from orderdesk.orders.models import Order
from orderdesk.orders.queries import MatchCount, matching_search, tab_counts

from .factories import awaiting_order, cancelled_order, dispatched_order, fulfilled_order, pending_order
from .test_search_indexes import leave_only_these_orders_indexes

pytestmark = pytest.mark.django_db

TRACKING = reverse("orders:tracking")


def customer(name, phone="0917 555 0101"):
    return CustomerDetails(name=name, phone=phone, address="12 Mabini St, Makati")


def test_while_searching_a_tab_count_stops_at_the_cap_and_reads_with_a_plus(owner_client, owner, monkeypatch):
    monkeypatch.setattr(queries, "SEARCH_COUNT_CAP", 2)
    for _ in range(3):
        pending_order(owner, customer=customer("Liza Garcia"))
    dispatched_order(owner, customer=customer("Liza Garcia"))

    page = owner_client.get(TRACKING, {"q": "garcia"}).content.decode()

    assert '<option value="pending" selected>Pending (2+)</option>' in page
    assert '<option value="dispatched">Dispatched (1)</option>' in page
    assert '<option value="fulfilled">Fulfilled (0)</option>' in page


def test_a_capped_count_says_it_is_capped_and_a_full_one_is_exact(owner, monkeypatch):
    monkeypatch.setattr(queries, "SEARCH_COUNT_CAP", 2)
    for _ in range(3):
        pending_order(owner, customer=customer("Liza Garcia"))
    dispatched_order(owner, customer=customer("Liza Garcia"))

    counts = tab_counts(owner.merchant, "Garcia")

    assert counts[Order.Status.PENDING] == 2 and counts[Order.Status.PENDING].capped
    assert str(counts[Order.Status.PENDING]) == "2+"
    assert counts[Order.Status.DISPATCHED] == 1 and not counts[Order.Status.DISPATCHED].capped
    assert str(counts[Order.Status.DISPATCHED]) == "1"


def test_the_capped_count_reads_naturally_in_a_sentence():
    assert f"{MatchCount(100, capped=True)} orders" == "100+ orders"
    assert f"{MatchCount(7)} orders" == "7 orders"


def test_without_a_search_the_tab_counts_are_exact_whatever_the_cap(owner, monkeypatch):
    monkeypatch.setattr(queries, "SEARCH_COUNT_CAP", 1)
    pending_order(owner)
    pending_order(owner)

    assert tab_counts(owner.merchant)[Order.Status.PENDING] == 2


@pytest.mark.parametrize("search", ["OD-1002", "od-1002", "0918 777 1234", "+639187771234"])
def test_a_whole_reference_or_phone_is_looked_up_without_an_or_across_columns(owner, search):
    pending_order(owner, customer=customer("Maria Santos"))
    wanted = pending_order(owner, customer=customer("Ana Reyes", phone="0918 777 1234"))

    with CaptureQueriesContext(connection) as lookups:
        found = Order.objects.for_merchant(owner.merchant).filter(matching_search(owner.merchant, search))
    found = list(found)

    assert [order.pk for order in found] == [wanted.pk]
    assert len(lookups.captured_queries) == 1
    assert " OR " not in lookups.captured_queries[0]["sql"].upper()


def test_a_phone_number_finds_every_order_of_that_customer(owner):
    first = pending_order(owner, customer=customer("Ana Reyes", phone="0918 777 1234"))
    second = dispatched_order(owner, customer=customer("Ana Reyes", phone="0918 777 1234"))
    pending_order(owner, customer=customer("Maria Santos"))

    found = Order.objects.for_merchant(owner.merchant).filter(matching_search(owner.merchant, "09187771234"))

    assert sorted(order.pk for order in found) == sorted([first.pk, second.pk])


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite's planner is the one that walked every order"
)
@pytest.mark.parametrize("statistics", ["analyzed", "none (SQLite gathers none unless told)"])
def test_on_sqlite_the_reference_or_phone_lookup_uses_the_indexes_not_a_scan(owner, statistics):
    pending_order(owner, customer=customer("Ana Reyes", phone="0918 777 1234"))
    with CaptureQueriesContext(connection) as lookups:
        matching_search(owner.merchant, "0918 777 1234")
    with connection.cursor() as cursor:
        if statistics == "analyzed":
            cursor.execute("ANALYZE")
        else:  # inside the test's transaction, rolled back after it
            cursor.execute("DROP TABLE IF EXISTS sqlite_stat1")
        cursor.execute("EXPLAIN QUERY PLAN " + lookups.captured_queries[0]["sql"])
        plan = "\n".join(str(row[-1]) for row in cursor.fetchall())

    assert "order_by_customer_phone" in plan, plan
    assert "order_reference_unique_per_merchant" in plan or "sqlite_autoindex" in plan, plan
    assert "SCAN orders_order" not in plan.replace("SCAN orders_order USING", ""), plan


def test_the_capped_counts_of_every_tab_are_one_statement_on_each_database(owner, monkeypatch):
    monkeypatch.setattr(queries, "SEARCH_COUNT_CAP", 2)
    for _ in range(3):
        fulfilled_order(owner, customer=customer("Liza Garcia"))
    cancelled_order(owner, customer=customer("Liza Garcia"))
    awaiting_order(owner, customer=customer("Liza Garcia"))
    pending_order(owner, customer=customer("Maria Santos"))
    search = queries.Search.of(owner.merchant, "garcia")

    with CaptureQueriesContext(connection) as counted:
        counts = tab_counts(owner.merchant, search)

    assert len(counted.captured_queries) == 1
    assert {status: str(count) for status, count in counts.items()} == {
        Order.Status.PENDING: "0",
        Order.Status.DISPATCHED: "0",
        Order.Status.FULFILLED: "2+",
        Order.Status.CANCELLED: "1",
        Order.Status.AWAITING_PAYMENT: "1",
    }


def test_a_whole_phone_number_counts_its_orders_by_tab_from_the_one_lookup(owner):
    for _ in range(2):
        pending_order(owner, customer=customer("Ana Reyes", phone="0918 777 1234"))
    dispatched_order(owner, customer=customer("Ana Reyes", phone="0918 777 1234"))
    pending_order(owner, customer=customer("Maria Santos"))

    with CaptureQueriesContext(connection) as read:
        search = queries.Search.of(owner.merchant, "0918 777 1234")
        counts = tab_counts(owner.merchant, search)

    assert len(read.captured_queries) == 1
    assert counts[Order.Status.PENDING] == 2 and not counts[Order.Status.PENDING].capped
    assert counts[Order.Status.DISPATCHED] == 1
    assert counts[Order.Status.FULFILLED] == 0


def test_a_searched_page_reads_each_thing_once(owner_client, owner):
    wanted = pending_order(owner, customer=customer("Ana Reyes", phone="0918 777 1234"))
    pending_order(owner, customer=customer("Liza Garcia"))

    with CaptureQueriesContext(connection) as by_reference:
        page = owner_client.get(TRACKING, {"q": wanted.reference})
    with CaptureQueriesContext(connection) as by_name:
        owner_client.get(TRACKING, {"q": "garcia"})

    assert wanted.reference in page.content.decode()
    orders_read = [q["sql"] for q in by_reference.captured_queries if '"orders_order"' in q["sql"]]
    # The lookup (with each order's status, for the counts) and the page's rows.
    assert len(orders_read) == 2, orders_read
    # The lookup, the page's rows and the capped counts.
    assert len([q for q in by_name.captured_queries if '"orders_order"' in q["sql"]]) == 3


def test_the_capped_counts_count_only_the_merchants_own_orders(owner):
    someone_else = owner_actor()
    for _ in range(2):
        pending_order(someone_else, customer=customer("Liza Garcia"))
    theirs = pending_order(someone_else, customer=customer("Ana Reyes", phone="0918 777 1234"))
    pending_order(owner, customer=customer("Liza Garcia"))

    assert tab_counts(owner.merchant, "garcia")[Order.Status.PENDING] == 1
    assert tab_counts(owner.merchant, "0918 777 1234")[Order.Status.PENDING] == 0
    assert tab_counts(owner.merchant, theirs.reference)[Order.Status.PENDING] == 0
    assert tab_counts(None, "garcia")[Order.Status.PENDING] == 0


@pytest.mark.parametrize(("search", "expected"), [("%", 1), ("_", 1), ("\\", 1), ("'", 1), ("a%c", 0)])
def test_the_capped_counts_read_like_wildcards_and_quotes_as_plain_characters(owner, search, expected):
    pending_order(owner, customer=customer("Ana 100% Reyes_Jr \\ O'Brien"))
    pending_order(owner, customer=customer("Maria Santos"))

    assert tab_counts(owner.merchant, search)[Order.Status.PENDING] == expected


def leave_only_the_tab_index(cursor) -> None:
    """Of the orders' indexes only the tab's and the primary key are left."""
    leave_only_these_orders_indexes(
        cursor, "indexname IN ('order_tracking_tab_covering', 'orders_order_pkey')"
    )


@pytest.mark.postgres
@pytest.mark.parametrize("search", ["garcia", "5550101"])
def test_on_postgresql_the_capped_counts_read_the_tab_index_alone(search):
    with connection.cursor() as cursor:
        leave_only_the_tab_index(cursor)
    owner = owner_actor()
    pending_order(owner, customer=customer("Liza Garcia", phone="0917 555 0101"))
    with CaptureQueriesContext(connection) as counted:
        tab_counts(owner.merchant, search)
    with connection.cursor() as cursor:
        # The table forbidden: the tab's index must hold everything the walks read.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN " + counted.captured_queries[-1]["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert plan.count("Index Only Scan using order_tracking_tab_covering") == 5, plan
