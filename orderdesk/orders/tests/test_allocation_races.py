"""Placing one order from two tabs at once allocates it once (real transactions in two threads;
on SQLite in the README's test command, on PostgreSQL in .ci/run's second pass)."""

from decimal import Decimal

import pytest

from orderdesk.accounts.models import Merchant
from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.fulfillment.models import Fulfillment, FulfillmentLine
from orderdesk.notifications.models import Notification
from orderdesk.orders import allocation
from orderdesk.orders.actions import LineInput
from orderdesk.orders.allocation_messages import TOPIC
from orderdesk.orders.models import OrderEvent
from orderdesk.vendors.tests.factories import HostingFactory, VendorFactory, variant

from .factories import pending_order
from .test_concurrent_actions import run_together

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("round_number", range(3))
def test_two_tabs_placing_the_same_orders_at_once_allocate_them_once(round_number):
    actor = owner_actor()
    Merchant.objects.filter(pk=actor.merchant.pk).update(auto_processing=False)
    cebu = VendorFactory(merchant=actor.merchant, contact_email="cebu@vendor.example")
    davao = VendorFactory(merchant=actor.merchant, contact_email="davao@vendor.example")
    shirt, mug = variant(actor.merchant, "LS-M"), variant(actor.merchant, "MG-1")
    HostingFactory(variant=shirt, vendor=cebu)
    HostingFactory(variant=mug, vendor=davao)
    orders = [
        pending_order(
            actor,
            lines=[
                LineInput(title="Shirt", quantity=2, unit_price=Decimal("5"), variant_id=shirt.pk),
                LineInput(title="Mug", quantity=1, unit_price=Decimal("5"), variant_id=mug.pk),
            ],
        )
        for _ in range(2)
    ]
    ids = [order.pk for order in orders]

    outcomes = run_together(
        lambda: allocation.place_orders(ids, by=actor),
        lambda: allocation.place_orders(list(reversed(ids)), by=actor),
    )

    assert all(isinstance(outcome, list) for outcome in outcomes), outcomes
    placed = [result for outcome in outcomes for result in outcome if result.shipments]
    assert len(placed) == 2  # each order placed by one tab only
    assert Fulfillment.objects.filter(order_id__in=ids).count() == 4
    for order in orders:
        assert {
            (e.order_line.title, e.quantity) for e in FulfillmentLine.objects.filter(fulfillment__order=order)
        } == {
            ("Shirt", 2),
            ("Mug", 1),
        }
        assert order.events.filter(kind=OrderEvent.Kind.PLACED_WITH_VENDORS).count() == 1
    assert Notification.objects.filter(topic=TOPIC).count() <= 4
