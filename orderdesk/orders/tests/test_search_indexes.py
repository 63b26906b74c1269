"""On PostgreSQL, the trigram indexes serve the exact expressions Order Tracking's search writes."""

import pytest
from django.db import connection

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.orders.models import Order
from orderdesk.orders.queries import matching_search

from .factories import pending_order

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def leave_only_these_orders_indexes(cursor, kept: str) -> None:
    """Inside the test's transaction (rolled back after it): the orders' unique constraints and
    every index but those `kept` names (a condition on `indexname`) are dropped."""
    cursor.execute(
        "SELECT conname FROM pg_constraint WHERE conrelid = 'orders_order'::regclass AND contype = 'u'"
    )
    for (name,) in cursor.fetchall():
        cursor.execute(f'ALTER TABLE orders_order DROP CONSTRAINT "{name}"')
    cursor.execute(f"SELECT indexname FROM pg_indexes WHERE tablename = 'orders_order' AND NOT ({kept})")
    for (name,) in cursor.fetchall():
        cursor.execute(f'DROP INDEX "{name}"')


def leave_only_the_trigram_indexes(cursor) -> None:
    """The planner's only choices left are a full scan, which is forbidden, or the trigram indexes."""
    leave_only_these_orders_indexes(cursor, "indexname LIKE '%%_trgm' OR indexname LIKE '%%_pkey'")


@pytest.mark.parametrize(
    ("search", "index"),
    [("garcia", "order_name_trgm"), ("WEB-7", "order_reference_trgm"), ("5550101", "order_phone_trgm")],
)
def test_a_partial_search_can_use_its_trigram_index(search, index):
    with connection.cursor() as cursor:
        leave_only_the_trigram_indexes(cursor)
    actor = owner_actor()
    pending_order(actor)
    searched = Order.objects.for_merchant(actor.merchant).filter(matching_search(actor.merchant, search))
    sql, params = searched.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan, plan
    assert "Seq Scan" not in plan, plan
