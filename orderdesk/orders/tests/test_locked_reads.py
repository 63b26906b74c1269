"""The compiled-once locked read of an order (orders.locked_reads) finds what the ORM's query
finds, with the merchant and store beside it, and nothing of another merchant's."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.orders.errors import OrderNotFound
from orderdesk.orders.locked_reads import locked_order_with_merchant_and_store
from orderdesk.orders.models import Order
from orderdesk.orders.tests.factories import dispatched_order, pending_order

pytestmark = pytest.mark.django_db


def fields(instance):
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_it_reads_the_order_with_its_merchant_and_store_as_the_orm_does(owner):
    orders = [pending_order(owner), dispatched_order(owner)]
    for order in orders:
        expected = Order.objects.select_related("merchant", "store").get(pk=order.pk)
        with transaction.atomic(), CaptureQueriesContext(connection) as run:
            found = locked_order_with_merchant_and_store(owner.merchant.pk, str(order.pk))
            assert fields(found) == fields(expected)
            assert fields(found.merchant) == fields(expected.merchant)
            assert fields(found.store) == fields(expected.store)
        assert len(run.captured_queries) == 1
        if connection.vendor == "postgresql":
            assert 'FOR UPDATE OF "orders_order"' in run.captured_queries[0]["sql"]


def test_another_merchants_order_or_no_order_is_none_and_a_bad_id_refused(owner):
    theirs = pending_order(owner_actor())
    with transaction.atomic():
        assert locked_order_with_merchant_and_store(owner.merchant.pk, theirs.pk) is None
        assert locked_order_with_merchant_and_store(owner.merchant.pk, theirs.pk + 1000) is None
        assert locked_order_with_merchant_and_store(owner.merchant.pk, None) is None
        for bad in ("abc", [1]):
            with pytest.raises((ValueError, TypeError)):
                locked_order_with_merchant_and_store(owner.merchant.pk, bad)


def test_the_actions_say_not_found_for_them(owner):
    from orderdesk.orders import actions

    theirs = pending_order(owner_actor())
    for bad in (theirs.pk, "abc", None):
        with pytest.raises(OrderNotFound):
            actions.fulfill_order(bad, by=owner)
    theirs.refresh_from_db()
    assert theirs.status == Order.Status.PENDING
