"""Search stays fast at a million orders: whole references and phones go straight to their
indexes (never an OR walking every order), and the tab counts stop at a cap while searching."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orderdesk.orders import queries
from orderdesk.orders.actions import CustomerDetails
from orderdesk.orders.models import Order
from orderdesk.orders.queries import MatchCount, matching_search, tab_counts

from .factories import dispatched_order, pending_order

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
def test_on_sqlite_the_reference_or_phone_lookup_uses_the_indexes_not_a_scan(owner):
    pending_order(owner, customer=customer("Ana Reyes", phone="0918 777 1234"))
    with CaptureQueriesContext(connection) as lookups:
        matching_search(owner.merchant, "0918 777 1234")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("EXPLAIN QUERY PLAN " + lookups.captured_queries[0]["sql"])
        plan = "\n".join(str(row[-1]) for row in cursor.fetchall())

    assert "order_by_customer_phone" in plan, plan
    assert "order_reference_unique_per_merchant" in plan or "sqlite_autoindex" in plan, plan
    assert "SCAN orders_order" not in plan.replace("SCAN orders_order USING", ""), plan
