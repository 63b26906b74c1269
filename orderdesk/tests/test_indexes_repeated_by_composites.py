"""Foreign keys whose own index another index (starting with the same column) repeats have none:
one index fewer for every order, event, customer, store link, shipment and shipment line written."""

import pytest
from django.core.management import call_command
from django.db import connection

# (table, column, the index that serves the column instead)
SERVED_BY_ANOTHER_INDEX = [
    ("orders_order", "merchant_id", "order_tracking_tab_covering"),
    ("orders_orderevent", "order_id", "order_timeline"),
    ("customers_customer", "merchant_id", "customer_phone_oldest"),
    ("stores_storeorderlink", "store_id", "store_order_link_unique"),
    ("fulfillment_fulfillment", "merchant_id", "fulfillment_by_status"),
    ("fulfillment_fulfillment", "vendor_id", "fulfillment_by_vendor"),
    ("fulfillment_fulfillmentline", "fulfillment_id", "one_entry_per_line_per_fulfillment"),
]


def indexes_of(table: str) -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {
        name: found["columns"] for name, found in constraints.items() if found["index"] or found["unique"]
    }


def single_column_indexes(table: str, column: str) -> list[str]:
    return [name for name, columns in indexes_of(table).items() if columns == [column]]


@pytest.mark.django_db
@pytest.mark.parametrize(("table", "column", "serving"), SERVED_BY_ANOTHER_INDEX)
def test_the_column_has_no_index_of_its_own_and_another_index_starts_with_it(table, column, serving):
    assert single_column_indexes(table, column) == []
    assert indexes_of(table)[serving][0] == column


@pytest.mark.django_db(transaction=True)
def test_the_migrations_put_the_indexes_back_when_reversed_and_drop_them_again():
    call_command("migrate", "orders", "0012", verbosity=0)
    call_command("migrate", "customers", "0001", verbosity=0)
    call_command("migrate", "stores", "0003", verbosity=0)
    call_command("migrate", "fulfillment", "0006", verbosity=0)
    try:
        for table, column, _ in SERVED_BY_ANOTHER_INDEX:
            assert len(single_column_indexes(table, column)) == 1, (table, column)
    finally:
        call_command("migrate", verbosity=0)
    for table, column, _ in SERVED_BY_ANOTHER_INDEX:
        assert single_column_indexes(table, column) == [], (table, column)
