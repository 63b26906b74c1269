"""Allocation under hypothesis: random orders, hostings, and a random run of Place, re-hosting,
Done and moves. Whatever happens, no unit is allocated twice or beyond its line, every
shipment carries only its own vendor's lines, every unit is somewhere exactly once, and the kept
shipment counts equal the shipments."""

import contextlib
from decimal import Decimal

import pytest
from django.db.models import Count, Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orderdesk.accounts.models import Merchant
from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.errors import DomainError
from orderdesk.fulfillment.models import Fulfillment, FulfillmentLine, ShipmentStatusCount
from orderdesk.orders import allocation
from orderdesk.orders.actions import LineInput
from orderdesk.orders.models import OrderLine
from orderdesk.vendors.actions import HostingTerms, host_variants, unhost_variants
from orderdesk.vendors.tests.factories import VendorFactory, variant

from .factories import pending_order

pytestmark = pytest.mark.django_db

VARIANTS = 4
VENDORS = 3

orders_strategy = st.lists(
    st.lists(st.tuples(st.integers(0, VARIANTS - 1), st.integers(1, 4)), min_size=1, max_size=4),
    min_size=1,
    max_size=3,
)
# Each variant hosted with no vendor (None) or one of them.
hostings_strategy = st.lists(
    st.one_of(st.none(), st.integers(0, VENDORS - 1)), min_size=VARIANTS, max_size=VARIANTS
)
step = st.one_of(
    st.tuples(st.just("place"), st.integers(0, 2)),
    st.tuples(
        st.just("host"), st.integers(0, VARIANTS - 1), st.one_of(st.none(), st.integers(0, VENDORS - 1))
    ),
    st.tuples(
        st.just("move"),
        st.integers(0, 50),
        st.integers(1, 4),
        st.one_of(st.none(), st.integers(0, VENDORS - 1)),
    ),
)


def check_invariants(merchant, vendors_by_variant_expected=None):
    lines = OrderLine.objects.filter(merchant=merchant)
    for line in lines:
        allocated = (
            FulfillmentLine.objects.filter(order_line=line).aggregate(units=Sum("quantity"))["units"] or 0
        )
        assert 0 <= allocated <= line.quantity, (line.pk, allocated, line.quantity)
    for shipment in Fulfillment.objects.filter(merchant=merchant).prefetch_related("lines__order_line"):
        entries = list(shipment.lines.all())
        assert entries, "a shipment with no lines"
        assert shipment.vendor_id is not None
        assert len({e.order_line_id for e in entries}) == len(entries)
        for entry in entries:
            assert entry.order_line.order_id == shipment.order_id
            assert entry.quantity >= 1
            assert entry.unit_cost is not None
    # The kept shipment counts (the work list's and the shipping-status tabs') follow every
    # allocation and every move, a shipment emptied by a move included.
    real = {
        (row["vendor_id"], row["status"]): row["n"]
        for row in Fulfillment.objects.filter(merchant=merchant)
        .values("vendor_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    }
    kept = {
        (row.vendor_id, row.status): row.count
        for row in ShipmentStatusCount.objects.filter(merchant=merchant)
        if row.count
    }
    assert kept == real


def hosted_units_left(merchant) -> int:
    """Units of lines hosted with an active vendor that are in no shipment."""
    left = 0
    for line in OrderLine.objects.filter(merchant=merchant, variant__hosting__vendor__is_active=True):
        allocated = (
            FulfillmentLine.objects.filter(order_line=line).aggregate(units=Sum("quantity"))["units"] or 0
        )
        left += line.quantity - allocated
    return left


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    orders=orders_strategy, hostings=hostings_strategy, auto=st.booleans(), steps=st.lists(step, max_size=8)
)
def test_no_unit_is_ever_allocated_twice_and_every_unit_is_somewhere_once(orders, hostings, auto, steps):
    actor = owner_actor()
    merchant = actor.merchant
    Merchant.objects.filter(pk=merchant.pk).update(auto_processing=auto)
    vendors = [VendorFactory(merchant=merchant, name=f"V{n}") for n in range(VENDORS)]
    variants = [variant(merchant, f"SKU-{n}") for n in range(VARIANTS)]
    for index, vendor_index in enumerate(hostings):
        if vendor_index is not None:
            host_variants(
                [variants[index].pk],
                HostingTerms(
                    vendor_id=vendors[vendor_index].pk, unit_cost=f"{10 + index}.00", shipping_cost="1.50"
                ),
                by=actor,
            )
    made = [
        pending_order(
            actor,
            lines=[
                LineInput(
                    title=f"Item {v}",
                    sku=f"SKU-{v}",
                    quantity=q,
                    unit_price=Decimal("5"),
                    variant_id=variants[v].pk,
                )
                for v, q in lines
            ],
        )
        for lines in orders
    ]
    check_invariants(merchant)
    if auto:
        assert hosted_units_left(merchant) == 0

    for action in steps:
        if action[0] == "place":
            allocation.place_orders([o.pk for o in made[: action[1] + 1]], by=actor)
            check_invariants(merchant)
            chosen = made[: action[1] + 1]
            for line in OrderLine.objects.filter(order__in=chosen, variant__hosting__vendor__is_active=True):
                allocated = (
                    FulfillmentLine.objects.filter(order_line=line).aggregate(u=Sum("quantity"))["u"] or 0
                )
                assert allocated == line.quantity
        elif action[0] == "host":
            _, variant_index, vendor_index = action
            if vendor_index is None:
                unhost_variants([variants[variant_index].pk], by=actor)
            else:
                host_variants(
                    [variants[variant_index].pk],
                    HostingTerms(vendor_id=vendors[vendor_index].pk, unit_cost="7.00"),
                    by=actor,
                )
        else:
            _, pick, quantity, vendor_index = action
            entries = list(FulfillmentLine.objects.filter(merchant=merchant).order_by("pk"))
            if not entries:
                continue
            entry = entries[pick % len(entries)]
            with contextlib.suppress(DomainError):
                allocation.move_to_vendor(
                    entry.fulfillment_id,
                    by=actor,
                    order_line_id=entry.order_line_id,
                    quantity=quantity,
                    to_vendor_id=vendors[vendor_index].pk if vendor_index is not None else None,
                    unit_cost="8.00",
                )
        check_invariants(merchant)

    # Quantities are conserved: the units in shipments plus those left with the merchant are what was bought.
    bought = OrderLine.objects.filter(merchant=merchant).aggregate(u=Sum("quantity"))["u"]
    in_shipments = FulfillmentLine.objects.filter(merchant=merchant).aggregate(u=Sum("quantity"))["u"] or 0
    left = sum(
        line.quantity
        - (FulfillmentLine.objects.filter(order_line=line).aggregate(u=Sum("quantity"))["u"] or 0)
        for line in OrderLine.objects.filter(merchant=merchant)
    )
    assert in_shipments + left == bought
