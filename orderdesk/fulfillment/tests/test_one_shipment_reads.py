"""One shipment read by its id: found by its primary key, its merchant and vendor checked on the
row (`+ 0`, so PostgreSQL never walks the index of a merchant or vendor it thinks small), and
still only the shipments the actor may see."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.fulfillment import actions
from orderdesk.fulfillment.errors import ShipmentNotFound
from orderdesk.fulfillment.models import Fulfillment
from orderdesk.fulfillment.queries import one_shipment_for
from orderdesk.orders.tests.factories import pending_order
from orderdesk.vendors.tests.factories import VendorFactory

from .test_vendor_shipment import vendor_actor

pytestmark = pytest.mark.django_db


def vendor_shipment(owner, vendor):
    order = pending_order(owner)
    line = order.lines.first()
    return actions.create_shipment(
        order.pk, by=owner, vendor_id=vendor.pk, lines=[actions.ShipmentLine(line.pk, line.quantity)]
    )


def test_one_shipment_is_found_only_by_those_who_may_see_it():
    owner = owner_actor()
    cebu, davao = VendorFactory(merchant=owner.merchant), VendorFactory(merchant=owner.merchant)
    shipment = vendor_shipment(owner, cebu)
    other_shop = owner_actor()

    assert one_shipment_for(owner, shipment.pk).get() == shipment
    assert one_shipment_for(vendor_actor(cebu), shipment.pk).get() == shipment
    assert not one_shipment_for(vendor_actor(davao), shipment.pk).exists()
    assert not one_shipment_for(other_shop, shipment.pk).exists()


def test_a_vendor_moving_another_vendors_shipment_finds_none():
    owner = owner_actor()
    cebu, davao = VendorFactory(merchant=owner.merchant), VendorFactory(merchant=owner.merchant)
    shipment = vendor_shipment(owner, cebu)

    with pytest.raises(ShipmentNotFound):
        actions.move_shipment(shipment.pk, by=vendor_actor(davao), to=Fulfillment.ShippingStatus.PROCESSING)
    with pytest.raises(ShipmentNotFound):
        actions.move_shipment("not an id", by=vendor_actor(cebu), to=Fulfillment.ShippingStatus.PROCESSING)

    shipment.refresh_from_db()
    assert shipment.status == Fulfillment.ShippingStatus.PENDING


def test_the_shipment_is_read_by_its_id_with_its_merchant_and_vendor_only_checked():
    owner = owner_actor()
    cebu = VendorFactory(merchant=owner.merchant)
    shipment = vendor_shipment(owner, cebu)

    with CaptureQueriesContext(connection) as captured:
        actions.move_shipment(shipment.pk, by=vendor_actor(cebu), to=Fulfillment.ShippingStatus.PROCESSING)

    table = connection.ops.quote_name(Fulfillment._meta.db_table)
    reads = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith("SELECT") and f"FROM {table}" in q["sql"]
    ]
    by_id = [sql for sql in reads if f'{table}."merchant_id" + 0)' in sql]
    assert by_id, reads
    assert all(f'{table}."vendor_id" + 0)' in sql for sql in by_id)
    assert not [sql for sql in reads if f'{table}."merchant_id" = ' in sql]


def test_one_order_of_a_merchant_is_found_by_its_id_and_never_another_merchants():
    from orderdesk.orders.models import Order

    owner, other_shop = owner_actor(), owner_actor()
    order = pending_order(owner)

    assert Order.objects.one_of_merchant(owner.merchant, order.pk).get() == order
    assert not Order.objects.one_of_merchant(other_shop.merchant, order.pk).exists()
    assert not Order.objects.one_of_merchant(None, order.pk).exists()
    sql = str(Order.objects.one_of_merchant(owner.merchant, order.pk).query)
    assert '"merchant_id" + 0)' in sql
