"""A merchant's customer is found through its phone or email index even when PostgreSQL's
statistics were taken before that merchant had customers (a new shop's first big import, before
autovacuum analyzes again): the lookup once walked all of the merchant's customers, 22 ms at
100,000, under the merchant's lock that every one of its orders waits for."""

import json

import pytest
from django.db import connection

from orderdesk.accounts.tests.factories import MerchantFactory
from orderdesk.customers.models import Customer
from orderdesk.orders.actions import _customer_lookup

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's planner and its statistics"
)

CUSTOMERS = 3000


def customers_of(merchant, prefix: str) -> None:
    Customer.objects.bulk_create(
        Customer(
            merchant=merchant, name=f"C {n}", phone=f"+6391{prefix}{n:06d}", email=f"c{n}@{prefix}.example"
        )
        for n in range(CUSTOMERS)
    )


def rows_read(sql: str, params: list) -> int:
    """The rows the plan's scans read from tables and indexes (EXPLAIN ANALYZE)."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        (plan,) = cursor.fetchone()
    plan = plan if isinstance(plan, list) else json.loads(plan)

    def read(node) -> int:
        here = node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
        return (here if "Scan" in node["Node Type"] else 0) + sum(
            read(child) for child in node.get("Plans", [])
        )

    return read(plan[0]["Plan"])


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "wanted",
    [
        lambda n: [("phone", f"+6391222{n:06d}")],
        lambda n: [("email", f"c{n}@222.example")],
        lambda n: [("phone", f"+6391222{n:06d}"), ("email", "someone-else@example.com")],
        lambda n: [("phone", "+639100000000"), ("email", f"c{n}@222.example")],
    ],
    ids=["phone", "email", "phone or email, found by phone", "phone or email, found by email"],
)
def test_the_lookup_reads_its_own_index_with_statistics_older_than_the_merchants_customers(wanted):
    old_shop, new_shop = MerchantFactory(), MerchantFactory()
    customers_of(old_shop, "111")
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Customer._meta.db_table}")  # the new shop has no customers yet
    customers_of(new_shop, "222")

    sql, params = _customer_lookup(new_shop.pk, wanted(CUSTOMERS - 1))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = Customer.objects.get(pk=cursor.fetchone()[0])

    assert found.merchant_id == new_shop.pk and found.name == f"C {CUSTOMERS - 1}"
    assert rows_read(sql, params) <= 4
