"""A run that took many orders in analyzes the tables it filled on PostgreSQL, as its manual
advises after a bulk load: statistics taken before a shop's first large import made the planner
walk all the shop's rows for lookups another index answers at once."""

import pytest
from django.db import connection

from orderdesk.stores import actions, csv_import, sync
from orderdesk.stores.actions import StoreDetails
from orderdesk.stores.tests.test_csv_import import template_file

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statistics")

FILLED = [
    "orders_order",
    "orders_orderline",
    "orders_orderevent",
    "customers_customer",
    "stores_storeorderlink",
]


def analyze_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, analyze_count FROM pg_stat_user_tables WHERE relname = ANY(%s)", [FILLED]
        )
        return dict(cursor.fetchall())


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("threshold", "analyzed"), [(2, True), (3, False)])
def test_an_import_of_at_least_the_threshold_analyzes_what_it_filled(owner, monkeypatch, threshold, analyzed):
    monkeypatch.setattr(sync, "ANALYZE_AFTER_NEW_ORDERS", threshold)
    store = actions.add_store(StoreDetails(channel="csv", name="Bazaar sheet"), by=owner)
    before = analyze_counts()

    run = csv_import.import_csv(template_file([{"order_id": "1001"}, {"order_id": "1002"}]), store=store)

    assert run.new_count == 2
    after = analyze_counts()
    if analyzed:
        assert all(after.get(table, 0) == before.get(table, 0) + 1 for table in FILLED), (before, after)
    else:
        assert after == before
