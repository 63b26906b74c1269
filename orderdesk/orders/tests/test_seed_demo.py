import pytest
from django.core.management import call_command
from django.db.models import Count

from orderdesk.accounts.models import Merchant, User
from orderdesk.fulfillment.models import Fulfillment, FulfillmentLine
from orderdesk.orders.models import Order, OrderEvent
from orderdesk.orders.queries import TRACKING_TABS
from orderdesk.photos.models import Photo

pytestmark = pytest.mark.django_db


def test_seed_demo_makes_a_merchant_whose_orders_fill_every_tab(capsys):
    call_command("seed_demo", orders=60)

    merchant = Merchant.objects.get()
    owner = User.objects.get(email="demo@orderdesk.local")
    assert owner.check_password("orderdesk-demo")
    assert owner.memberships.get().merchant == merchant
    statuses = set(Order.objects.values_list("status", flat=True))
    assert set(TRACKING_TABS) <= statuses
    for order in Order.objects.exclude(status=Order.Status.AWAITING_PAYMENT):
        assert order.events.filter(
            kind__in=[OrderEvent.Kind.PAYMENT_VERIFIED, OrderEvent.Kind.COD_CONFIRMED]
        ).exists()
        assert order.lines.exists()
    assert Fulfillment.objects.filter(photos__isnull=False).exists()
    assert Photo.objects.count() > 0
    assert "demo@orderdesk.local / orderdesk-demo" in capsys.readouterr().out


def test_seed_demo_if_empty_leaves_an_existing_database_alone():
    call_command("seed_demo", orders=5)
    # The 5 orders, and those the after-sales demo adds (aftersales' seed_after_sales).
    orders = Order.objects.count()
    call_command("seed_demo", orders=5, if_empty=True)
    assert Merchant.objects.count() == 1
    assert Order.objects.count() == orders


def test_seed_demo_has_vendors_hosting_and_multi_vendor_orders_in_every_shipping_status():
    call_command("seed_demo", orders=80)

    vendor_shipments = Fulfillment.objects.filter(vendor__isnull=False)
    assert set(vendor_shipments.values_list("status", flat=True)) == set(Fulfillment.ShippingStatus.values)
    multi_vendor = (
        Order.objects.filter(fulfillments__vendor__isnull=False)
        .annotate(vendors=Count("fulfillments__vendor", distinct=True))
        .filter(vendors__gt=1)
    )
    assert multi_vendor.exists()
    # Some pending orders wait to be placed by hand, holding products a vendor hosts.
    assert Order.objects.filter(
        status="pending", fulfillments__isnull=True, lines__variant__hosting__isnull=False
    ).exists()
    assert FulfillmentLine.objects.filter(unit_cost__isnull=False).exists()
