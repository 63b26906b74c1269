"""The batched write path's reads: one parameter per batch, the merchant's rows only, and the
same indexes the `IN` lists used."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orderdesk.accounts.tests.factories import MerchantFactory, owner_actor
from orderdesk.catalog.models import Product, Variant
from orderdesk.customers.models import Customer
from orderdesk.orders import actions, batch_reads
from orderdesk.orders.models import Order
from orderdesk.orders.tests.factories import new_order
from orderdesk.stores.models import Store

pytestmark = pytest.mark.django_db


def _variant(merchant, sku):
    product = Product.objects.create(merchant=merchant, title=f"Product {sku}")
    return Variant.objects.create(merchant=merchant, product=product, sku=sku, title="", price="10.00")


def test_recorded_external_ids_finds_each_store_order_already_recorded_and_nothing_else():
    actor = owner_actor()
    shopify = Store.objects.create(merchant=actor.merchant, name="Shopify", channel=Store.Channel.SHOPIFY)
    woo = Store.objects.create(merchant=actor.merchant, name="Woo", channel=Store.Channel.WOOCOMMERCE)
    first = actions.record_order(new_order(store_id=shopify.pk, external_id="1001"), by=actor)
    second = actions.record_order(new_order(store_id=woo.pk, external_id="1002"), by=actor)
    # The same id in another store.
    actions.record_order(new_order(store_id=woo.pk, external_id="1001"), by=actor)

    with CaptureQueriesContext(connection) as captured:
        found = batch_reads.recorded_external_ids(
            [(shopify.pk, "1001"), (woo.pk, "1002"), (shopify.pk, "1002"), (shopify.pk, "9999")]
        )

    assert found == {(shopify.pk, "1001"): first.pk, (woo.pk, "1002"): second.pk}
    assert len(captured.captured_queries) == 1
    assert batch_reads.recorded_external_ids([]) == {}


def test_customers_are_read_by_phone_or_email_oldest_first_of_the_merchant_only():
    merchant, other = MerchantFactory(), MerchantFactory()
    older = Customer.objects.create(merchant=merchant, name="Rosa", phone="+639175550199")
    newer = Customer.objects.create(merchant=merchant, name="Rosa R.", email="rosa@example.com")
    Customer.objects.create(merchant=merchant, name="Ben", phone="+639175550100")
    Customer.objects.create(merchant=other, name="Not ours", phone="+639175550199")

    found = batch_reads.customers_by_phone_or_email(merchant.pk, ["+639175550199"], ["rosa@example.com"])

    assert [customer.pk for customer in found] == [older.pk, newer.pk]
    assert found[0].name == "Rosa" and found[0].merchant_id == merchant.pk
    assert batch_reads.customers_by_phone_or_email(merchant.pk, [], ["rosa@example.com"])[0].pk == newer.pk
    assert batch_reads.customers_by_phone_or_email(merchant.pk, [], []) == []


def test_variants_are_found_by_id_and_by_sku_of_the_merchant_only():
    merchant, other = MerchantFactory(), MerchantFactory()
    ours = _variant(merchant, "LS-M")
    theirs = _variant(other, "CT-1")

    # Ids no row can have are simply not found (the databases refuse integers that large).
    assert batch_reads.merchant_variant_ids(merchant.pk, {ours.pk, theirs.pk, 2**70, -1}) == {ours.pk}
    assert batch_reads.variant_ids_by_sku(merchant.pk, ["LS-M", "CT-1", "NEW"]) == {"LS-M": ours.pk}
    assert batch_reads.variant_ids_by_sku(merchant.pk, []) == {}


def _plan_of(sql: str, index: str) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The test tables are tiny, so PostgreSQL takes any index of the table as good enough.
            # Whether the wanted one can serve the query at all (the types match) is what is
            # checked: the table's other plain indexes are dropped in this test's transaction
            # (rolled back after it), and scans of the whole table are priced out.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = "
                "(SELECT tablename FROM pg_indexes WHERE indexname = %s) "
                "AND indexname <> %s AND indexdef NOT LIKE 'CREATE UNIQUE%%'",
                [index, index],
            )
            for (other,) in cursor.fetchall():
                cursor.execute(f'DROP INDEX "{other}"')
            cursor.execute(f"EXPLAIN {sql}")
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        return "\n".join(str(row) for row in cursor.fetchall())


@pytest.mark.parametrize(
    "read, index",
    [
        (
            lambda store: batch_reads.recorded_external_ids([(store.pk, "1001")]),
            "order_external_id_unique_per_store",
        ),
        (
            # What a store's batch asks of the orders recorded before links existed (stores/sync.py).
            lambda store: batch_reads.values_where_any(
                Order, ["external_id"], column="external_id", any_of=["1001"], equal={"store_id": store.pk}
            ),
            "order_external_id_unique_per_store",
        ),
        (
            lambda store: batch_reads.customers_by_phone_or_email(store.merchant_id, ["+639175550199"], []),
            "customer_phone_oldest",
        ),
        (
            lambda store: batch_reads.customers_by_phone_or_email(store.merchant_id, [], ["a@example.com"]),
            "customer_email_oldest",
        ),
        (
            lambda store: batch_reads.customers_by_phone_or_email(
                store.merchant_id, ["+639175550199"], ["a@example.com"]
            ),
            "customer_phone_oldest",
        ),
        (
            lambda store: batch_reads.customers_by_phone_or_email(
                store.merchant_id, ["+639175550199"], ["a@example.com"]
            ),
            "customer_email_oldest",
        ),
    ],
    ids=[
        "external ids",
        "external ids of a store",
        "phones",
        "emails",
        "phones or emails (phone index)",
        "phones or emails (email index)",
    ],
)
def test_each_read_probes_its_index(read, index):
    merchant = MerchantFactory()
    store = Store.objects.create(merchant=merchant, name="Shopify", channel=Store.Channel.SHOPIFY)
    with CaptureQueriesContext(connection) as captured:
        read(store)
    (query,) = captured.captured_queries
    assert index in _plan_of(query["sql"], index)
