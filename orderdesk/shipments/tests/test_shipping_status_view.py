"""Order Tracking's shipping-status view: the five statuses with counts the shipment actions
keep (always equal to a real count), tabs and a drop-down, and what needs attention."""

import datetime

import pytest
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.errors import DomainError
from orderdesk.fulfillment.counts import recount_shipments, shipment_counts
from orderdesk.fulfillment.models import Fulfillment, ShipmentStatusCount
from orderdesk.orders import actions
from orderdesk.orders.actions import move_order_shipment
from orderdesk.orders.tests.factories import pending_order

from .factories import VendorFactory, signed_in, vendor_person, vendor_shipment

pytestmark = pytest.mark.django_db
Status = Fulfillment.ShippingStatus


def real_counts(merchant, vendor_id=None) -> dict[str, int]:
    counts = dict.fromkeys(Status.values, 0)
    shipments = Fulfillment.objects.for_merchant(merchant)
    if vendor_id is not None:
        shipments = shipments.filter(vendor_id=vendor_id)
    counts.update(shipments.values_list("status").annotate(n=Count("id")).order_by())
    return counts


STEPS = ["allocate", "dispatch", "fulfill", "cancel", *Status.values]


def take_step(step, actor, vendors, target: int) -> None:
    shipments = list(
        Fulfillment.objects.for_merchant(actor.merchant).order_by("pk").values_list("pk", flat=True)
    )
    try:
        if step == "allocate":
            vendor_shipment(actor, vendors[target % len(vendors)])
        elif step == "dispatch":
            order = pending_order(actor)
            tomorrow = timezone.localdate(timezone=actor.merchant.zone) + datetime.timedelta(days=1)
            actions.dispatch_order(order.pk, by=actor, delivery_reference="R1", expected_on=tomorrow)
        elif step in ("fulfill", "cancel") and shipments:
            order_id = Fulfillment.objects.get(pk=shipments[target % len(shipments)]).order_id
            if step == "fulfill":
                actions.fulfill_order(order_id, by=actor)
            else:
                actions.cancel_order(order_id, by=actor, reason="Out of stock")
        elif shipments:
            move_order_shipment(
                shipments[target % len(shipments)],
                by=actor,
                to=step,
                delivery_reference="T1" if step == Status.IN_TRANSIT else "",
                reason="Held" if step == Status.EXCEPTION else "",
            )
    except DomainError:
        pass  # a refused step must leave the counts as they were, which the check proves


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(STEPS), st.integers(0, 50)), min_size=1, max_size=15))
def test_any_sequence_of_shipment_actions_keeps_the_counts_equal_to_the_shipments(steps):
    actor = owner_actor()
    vendors = [VendorFactory(merchant=actor.merchant), VendorFactory(merchant=actor.merchant)]
    bystander = owner_actor()
    vendor_shipment(bystander, VendorFactory(merchant=bystander.merchant))
    for step, target in steps:
        take_step(step, actor, vendors, target)
        assert shipment_counts(actor.merchant) == real_counts(actor.merchant)
        for vendor in vendors:
            assert shipment_counts(actor.merchant, vendor_id=vendor.pk) == real_counts(
                actor.merchant, vendor.pk
            )
    assert shipment_counts(bystander.merchant) == real_counts(bystander.merchant)


def test_recount_rebuilds_the_counts_from_the_shipments(owner):
    vendor = VendorFactory(merchant=owner.merchant)
    vendor_shipment(owner, vendor)
    ShipmentStatusCount.objects.all().update(count=99)

    recount_shipments(owner.merchant)

    assert shipment_counts(owner.merchant) == real_counts(owner.merchant)


def test_the_merchant_sees_five_tabs_and_a_drop_down_with_counts_from_the_kept_counts(owner, owner_client):
    vendor = VendorFactory(merchant=owner.merchant, name="Cebu Weavers")
    first, second = vendor_shipment(owner, vendor), vendor_shipment(owner, vendor)
    move_order_shipment(second.pk, by=owner, to=Status.PROCESSING)

    page = owner_client.get(reverse("shipments:list")).content.decode()

    for label, count in (
        ("Pending", 1),
        ("Processing", 1),
        ("In transit", 0),
        ("Exception", 0),
        ("Delivered", 0),
    ):
        assert f'{label} <span class="count">{count}</span>' in page
        assert f">{label} ({count})</option>" in page
    assert reverse("shipments:detail", args=[first.pk]) in page
    assert reverse("shipments:detail", args=[second.pk]) not in page
    assert "Cebu Weavers" in page
    assert reverse("shipments:list") in owner_client.get(reverse("orders:tracking")).content.decode()


def test_a_vendor_past_its_processing_days_with_no_tracking_number_needs_attention(owner, owner_client):
    vendor = VendorFactory(merchant=owner.merchant, processing_days=2)
    late = vendor_shipment(owner, vendor)
    on_time = vendor_shipment(owner, vendor)
    Fulfillment.objects.filter(pk=late.pk).update(ship_by=timezone.now() - datetime.timedelta(days=3))

    page = owner_client.get(reverse("shipments:list")).content.decode()

    assert "1 shipment past the vendor's processing days" in page
    assert "No tracking number, 3 days past the vendor&#x27;s processing days" in page
    detail = owner_client.get(reverse("shipments:detail", args=[on_time.pk])).content.decode()
    assert "Needs attention" not in detail


def test_a_shipment_silent_for_the_set_number_of_days_needs_attention(owner, owner_client, settings):
    settings.SHIPMENT_SILENT_DAYS = 4
    shipment = vendor_shipment(owner, VendorFactory(merchant=owner.merchant))
    move_order_shipment(shipment.pk, by=owner, to=Status.IN_TRANSIT, delivery_reference="LBC1")
    Fulfillment.objects.filter(pk=shipment.pk).update(
        last_event_at=timezone.now() - datetime.timedelta(days=5)
    )

    page = owner_client.get(reverse("shipments:list"), {"status": "in_transit"}).content.decode()

    assert "No news for 5 days" in page
    settings.SHIPMENT_SILENT_DAYS = 6
    assert (
        "No news"
        not in owner_client.get(reverse("shipments:list"), {"status": "in_transit"}).content.decode()
    )


def test_a_vendor_user_sees_its_own_counts_only(owner):
    vendor, other = VendorFactory(merchant=owner.merchant), VendorFactory(merchant=owner.merchant)
    vendor_shipment(owner, vendor)
    for _ in range(3):
        vendor_shipment(owner, other)

    page = signed_in(vendor_person(vendor)).get(reverse("shipments:list")).content.decode()

    assert "Pending (1)" in page and "Pending (4)" not in page
