"""The list's and the order page's reads skip the ORM's work where it cost the most CPU: Order
Tracking's rows are plain values, the vendors' cost is one SQL subquery, and the order page's
lines, timeline, shipment lines and tracking events are compiled once and run with each order's
id. Each is held here to what the ORM's own form of the query answers."""

import datetime
from decimal import Decimal

import pytest
from django.db.models import Subquery
from django.urls import reverse

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.fulfillment.models import Fulfillment
from orderdesk.orders import actions, queries
from orderdesk.orders.actions import LineInput
from orderdesk.orders.models import Order
from orderdesk.vendors.models import Hosting

from .factories import dispatched_order, pending_order
from .test_place_pages import catalog, order_of  # noqa: F401 — the fixture

pytestmark = pytest.mark.django_db


def test_the_rows_vendor_cost_is_what_the_orms_subquery_says(owner_client, owner, catalog):  # noqa: F811
    Hosting.objects.create(
        merchant=owner.merchant, variant=catalog["mug"], vendor=catalog["davao"], unit_cost=Decimal("90.00")
    )
    placed = [
        order_of(owner, (catalog["shirt"], 2), (catalog["mug"], 1), (catalog["scarf"], 1)),
        order_of(owner, (catalog["mug"], 3)),
    ]
    order_of(owner, (catalog["scarf"], 1))  # placed with no vendor: no cost
    owner_client.post(reverse("orders:place_done"), {"orders": [order.pk for order in placed]})

    rows = {}
    for status in queries.TRACKING_TABS:
        page = queries.order_tracking_page(owner.merchant, status=status, with_costs=True)
        rows.update({row.pk: row.vendor_cost for row in page.orders})

    expected = dict(
        Order.objects.for_merchant(owner.merchant)
        .annotate(cost=Subquery(queries._vendor_cost_of_order()))
        .values_list("id", "cost")
    )
    assert rows == expected
    assert sorted(cost for cost in rows.values() if cost is not None) == [
        Decimal("270.00"),
        Decimal("770.00"),
    ]


def test_the_rows_carry_what_the_order_says(owner):
    order = pending_order(owner)

    [row] = queries.order_tracking_page(owner.merchant, status=Order.Status.PENDING).orders

    for field in queries._ROW_FIELDS:
        assert getattr(row, field) == getattr(order, field), field
    assert [tuple(line) for line in row.lines] == [
        (line.quantity, line.title, line.variant_title, line.unit_price)
        for line in order.lines.order_by("id")
    ]
    assert row.is_late(order.due_on) is False and row.flagged_store_change == "" and row.vendor_cost is None


def test_the_order_page_shows_each_orders_own_lines_and_timeline_with_the_queries_compiled_once(
    owner_client, owner
):
    shirt = pending_order(
        owner, lines=[LineInput(title="Linen shirt", sku="LS", quantity=1, unit_price=Decimal("9"))]
    )
    tote = dispatched_order(
        owner, lines=[LineInput(title="Canvas tote", sku="CT", quantity=2, unit_price=Decimal("5"))]
    )
    actions.fulfill_order(tote.pk, by=owner, remarks="Left with the guard")

    first = owner_client.get(reverse("orders:detail", args=[shirt.pk])).content.decode()
    second = owner_client.get(reverse("orders:detail", args=[tote.pk])).content.decode()

    assert "Linen shirt" in first and "Canvas tote" not in first
    assert "Canvas tote" in second and "Linen shirt" not in second
    assert "Left with the guard" in second and "Left with the guard" not in first
    order = queries.order_for_page(owner.merchant, tote.pk)
    assert list(order.lines.all()) == list(tote.lines.order_by("id"))
    assert list(order.events.all()) == list(tote.events.order_by("created_at", "id"))
    [shipment] = order.fulfillments.all()
    stored = Fulfillment.objects.get(pk=shipment.pk)
    assert list(shipment.lines.all()) == list(stored.lines.order_by("id"))
    assert list(shipment.tracking_events.all()) == list(stored.tracking_events.order_by("occurred_at", "id"))
    assert all(entry.order_line.order_id == tote.pk for entry in shipment.lines.all())


def test_another_merchants_order_is_still_a_404_on_the_order_page(owner_client, owner):
    theirs = dispatched_order(owner_actor())

    assert owner_client.get(reverse("orders:detail", args=[theirs.pk])).status_code == 404


def _field_values(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}


def test_the_order_and_its_shipments_compiled_once_are_what_the_orm_reads(owner):
    tote = dispatched_order(
        owner, lines=[LineInput(title="Canvas tote", sku="CT", quantity=2, unit_price=Decimal("5"))]
    )
    for _ in range(2):  # compiled on the first, run as compiled on the second
        order = queries.order_for_page(owner.merchant, tote.pk)
        orm = Order.objects.select_related("store").get(pk=tote.pk)
        assert _field_values(order) == _field_values(orm)
        assert _field_values(order.store) == _field_values(orm.store)
        assert Order.store_link.is_cached(order)  # joined (this order has none)
        assert getattr(order, "store_link", None) is None
        [shipment] = order.fulfillments.all()
        stored = Fulfillment.objects.select_related("vendor").get(pk=shipment.pk)
        assert _field_values(shipment) == _field_values(stored)
        assert shipment.vendor == stored.vendor and shipment.order is order
        assert shipment.has_photos is stored.photos.exists()


def test_the_order_page_read_compiled_once_finds_nothing_outside_the_merchant_or_for_a_wrong_id(owner):
    theirs = dispatched_order(owner_actor())
    mine = pending_order(owner)
    queries.order_for_page(owner.merchant, mine.pk)  # compiled
    for merchant, order_id in [
        (owner.merchant, theirs.pk),
        (owner.merchant.pk, theirs.pk),
        (None, mine.pk),
        (owner.merchant, 2**63),
        (owner.merchant, -1),
        (owner.merchant, "x"),
    ]:
        with pytest.raises(Order.DoesNotExist):
            queries.order_for_page(merchant, order_id)
    assert queries.order_for_page(owner.merchant.pk, mine.pk).pk == mine.pk


@pytest.mark.parametrize("oldest_first", [False, True])
@pytest.mark.parametrize("with_costs", [False, True])
def test_a_tabs_pages_compiled_once_are_what_the_orm_reads_cursor_after_cursor(
    owner, oldest_first, with_costs
):
    first = datetime.datetime(2026, 3, 4, 10, 0, 0, 654321, tzinfo=datetime.UTC)
    for n in range(7):
        pending_order(owner, placed_at=first + datetime.timedelta(minutes=n))
    pending_order(owner, placed_at=first + datetime.timedelta(minutes=3))  # a tie, broken by id
    dispatched_order(owner, placed_at=first)  # another tab

    seen, after = [], None
    while True:
        page = queries.order_tracking_page(
            owner.merchant,
            status=Order.Status.PENDING,
            oldest_first=oldest_first,
            after=after,
            size=3,
            with_costs=with_costs,
        )
        position = queries._read_cursor(after)
        cursor = () if position is None else (position[0],) * 3 + (position[1],)
        orm = queries._tab_page_query(
            owner.merchant.pk,
            Order.Status.PENDING,
            *cursor,
            oldest_first=oldest_first,
            with_costs=with_costs,
            size=3,
        )
        n = len(queries._ROW_FIELDS)
        expected = [(*value[:n], value[n] or "", value[n + 1] if with_costs else None) for value in orm]
        assert [(*row[:n], row.flagged_store_change, row.vendor_cost) for row in page.orders] == expected[:3]
        assert (page.next_cursor is None) == (len(expected) <= 3)
        seen += [row.pk for row in page.orders]
        if page.next_cursor is None:
            break
        after = page.next_cursor
    pending = Order.objects.for_merchant(owner.merchant).filter(status=Order.Status.PENDING)
    ordering = ("placed_at", "id") if oldest_first else ("-placed_at", "-id")
    assert seen == list(pending.order_by(*ordering).values_list("id", flat=True))
