"""Placing orders with vendors: each hosted line's units not yet in a shipment go to its vendor.

The guide's two ways share one rule (`_write_shipments`): for every line whose variant is hosted
with an active vendor, the units not yet in any shipment go into one new shipment per vendor
(Pending until the vendor accepts it, see the README), each line keeping a snapshot of its
hosting's costs; lines with no hosting stay with the merchant. Every placement locks the
order row first, then its lines and shipments, so two placements of one order (two tabs,
auto-processing and a click) allocate it once: the second finds nothing left.

- Auto-processing: `allocate_on_entry`, called by orders.actions when an order enters Order
  Tracking, inside that transaction (one query when nothing of the order is hosted).
- Manual processing: `unhosted_products` lists what the chosen orders hold that no vendor
  hosts (the merchant hosts some, or chooses Done), then `place_orders` allocates them.
- `move_to_vendor` moves units of a line to another vendor (or back to the merchant) while
  its shipment has not left.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

from django.db import connection, transaction
from django.db.models import Q

from orderdesk.accounts.actors import Actor
from orderdesk.accounts.permissions import Permission, ensure_can
from orderdesk.compiled_queries import fixed_statement_cursor
from orderdesk.errors import DomainError
from orderdesk.fulfillment import actions as fulfillment_actions
from orderdesk.fulfillment.actions import OrderAllocation, ShipmentLine, VendorAllocation
from orderdesk.fulfillment.errors import ShipmentNotFound
from orderdesk.fulfillment.models import Fulfillment, FulfillmentLine
from orderdesk.vendors.models import Hosting, Vendor

from . import events
from .allocation_messages import deliver_digests, digests_beside, queue_allocation_digests
from .errors import OrderNotFound
from .models import Order, OrderLine

# One click of Place takes at most this many orders (a page of the Pending tab and some).
MAX_ORDERS_PER_PLACEMENT = 100


class AllocationRefused(DomainError):
    """The order, line or vendor does not allow this placement or move."""


@dataclass
class Placed:
    """What one order's placement did: the new shipments, and why nothing was placed if so."""

    order_id: int
    reference: str
    shipments: list[Fulfillment] = field(default_factory=list)
    skipped: str = ""

    @property
    def units(self) -> int:
        return sum(shipment.units for shipment in self.shipments)


def allocate_on_entry(
    order: Order, *, by: Actor, notify: bool = True, written: list | None = None
) -> list[Fulfillment]:
    """Auto-processing: allocate the order's hosted lines as it enters Order Tracking.

    Call inside the entering action's transaction, with the order row locked (record_order
    created it there; verify_payment locked it). One query when nothing of it is hosted.
    `notify=False` queues no vendor email (as it queues no merchant message). `written`: the
    caller's unsaved timeline events, written together after this; the "Placed with vendors"
    event joins them instead of an INSERT of its own.
    """
    hosted = _hosted_lines(order.pk)
    if not hosted:
        return []
    (shipments,) = _write_shipments([(order, hosted)], by=by, merchant_id=order.merchant_id, notify=notify)
    _say_placed(order, shipments, by=by, auto=True, written=written)
    return shipments


def allocate_many_on_entry(
    orders: Sequence[Order], *, by: Actor, notify: bool = True, written: list | None = None
) -> list[Fulfillment]:
    """Auto-processing of a batch of new orders (record_orders), inside its transaction: one
    query finds the hosted lines of them all (none hosted: that is all it costs), their
    shipments, lines and tracking events are written one INSERT each for the whole batch, and
    each vendor gets one email for it (none with `notify=False`). `written` as for
    allocate_on_entry."""
    if not orders:
        return []
    hosted_by_order: dict[int, list] = {}
    for line in _hosted_lines_of([order.pk for order in orders]):
        hosted_by_order.setdefault(line.order_id, []).append(line)
    placing = [order for order in orders if order.pk in hosted_by_order]
    if not placing:
        return []
    # Every order's shipments, lines and tracking events in one INSERT each, the counts moved once.
    shipments_of = _write_shipments(
        [(order, hosted_by_order[order.pk]) for order in placing],
        by=by,
        merchant_id=orders[0].merchant_id,
        notify=notify,
    )
    shipments = []
    for order, placed in zip(placing, shipments_of, strict=True):
        _say_placed(order, placed, by=by, auto=True, written=written)
        shipments += placed
    return shipments


def place_orders(order_ids: Sequence[int], *, by: Actor) -> list[Placed]:
    """The Pending tab's Place: allocate the hosted lines of these orders, one transaction for
    the batch, each vendor told once of what the batch gave it.

    Orders are locked in id order (so two batches never deadlock). An order that is no longer
    Pending, or has nothing hosted left to allocate, is skipped with the reason. Raises
    AllocationRefused (no orders, too many), OrderNotFound (not the merchant's), NotAllowed.
    """
    ensure_can(by, Permission.PLACE_WITH_VENDORS)
    ids = sorted({int(order_id) for order_id in order_ids})
    if not ids:
        raise AllocationRefused("Choose at least one order to place.", field="orders")
    if len(ids) > MAX_ORDERS_PER_PLACEMENT:
        raise AllocationRefused(f"Place at most {MAX_ORDERS_PER_PLACEMENT} orders at once.", field="orders")
    results: list[Placed] = []
    with transaction.atomic():
        orders = list(
            Order.objects.for_merchant(by.merchant).select_for_update().filter(pk__in=ids).order_by("pk")
        )
        if len(orders) != len(ids):
            raise OrderNotFound()
        # The lines, then the shipments, of every order of the batch, after the orders.
        list(OrderLine.objects.select_for_update().filter(order_id__in=ids).order_by("pk").values_list("pk"))
        list(
            Fulfillment.objects.select_for_update().filter(order_id__in=ids).order_by("pk").values_list("pk")
        )
        hosted_by_order: dict[int, list[HostedLine]] = {}
        for line in _hosted_lines_of(ids):
            hosted_by_order.setdefault(line.order_id, []).append(line)
        placing = []
        for order in orders:
            placed = Placed(order_id=order.pk, reference=order.reference)
            results.append(placed)
            if order.status != Order.Status.PENDING:
                placed.skipped = f"it is {order.get_status_display().lower()}, not pending"
            elif order.pk in hosted_by_order:
                placing.append((order, placed))
        # The batch's shipments, lines and tracking events one INSERT each, its events one more.
        shipments_of = (
            _write_shipments(
                [(order, hosted_by_order[order.pk]) for order, _ in placing],
                by=by,
                merchant_id=by.merchant.pk,
                notify=True,
            )
            if placing
            else []
        )
        written = []
        for (order, placed), shipments in zip(placing, shipments_of, strict=True):
            _say_placed(order, shipments, by=by, auto=False, written=written)
            placed.shipments = shipments
        for placed in results:
            if not placed.shipments and not placed.skipped:
                placed.skipped = "nothing of it is hosted with a vendor, or all of it is placed already"
        events.write_events(written)
    return results


def place_order(order_id: int, *, by: Actor) -> Placed:
    """One order placed (see place_orders)."""
    return place_orders([order_id], by=by)[0]


@dataclass(frozen=True)
class UnhostedProduct:
    """A product variant the chosen orders hold that no active vendor hosts, and how many units."""

    variant_id: int
    sku: str
    title: str
    units: int
    orders: int


def unhosted_products(merchant, order_ids: Sequence[int]) -> list[UnhostedProduct]:
    """The variants of these Pending orders' lines that no active vendor hosts (lines with no
    variant cannot be hosted and are left out), with the units and orders that hold them."""
    lines = (
        OrderLine.objects.for_merchant(merchant)
        .filter(order_id__in=list(order_ids), order__status=Order.Status.PENDING, variant__isnull=False)
        .filter(Q(variant__hosting__isnull=True) | Q(variant__hosting__vendor__is_active=False))
        .values(
            "variant_id", "variant__sku", "variant__product__title", "variant__title", "quantity", "order_id"
        )
    )
    found: dict[int, dict] = {}
    for line in lines:
        entry = found.setdefault(
            line["variant_id"],
            {
                "sku": line["variant__sku"],
                "title": " — ".join(
                    t for t in (line["variant__product__title"], line["variant__title"]) if t
                ),
                "units": 0,
                "orders": set(),
            },
        )
        entry["units"] += line["quantity"]
        entry["orders"].add(line["order_id"])
    return sorted(
        (
            UnhostedProduct(
                variant_id=variant_id,
                sku=e["sku"],
                title=e["title"],
                units=e["units"],
                orders=len(e["orders"]),
            )
            for variant_id, e in found.items()
        ),
        key=lambda product: (product.title.lower(), product.sku),
    )


def move_to_vendor(
    shipment_id: int,
    *,
    by: Actor,
    order_line_id: int,
    quantity: int,
    to_vendor_id: int | None,
    unit_cost: Decimal | str | None = None,
    shipping_cost: Decimal | str | None = None,
) -> Fulfillment | None:
    """Move units of one line out of a vendor's shipment that has not left (pending or
    processing) to another vendor, or back to the merchant (`to_vendor_id=None`).

    The new vendor's costs are its hosting's when it hosts the product, else the costs given.
    The units join that vendor's pending shipment of the order, or a new one; the timeline
    says what moved. Returns the shipment the units went to (None: back to the merchant).
    Raises AllocationRefused, ShipmentNotFound, ShippingStatusRefused, InvalidShipment,
    InvalidHosting (a cost that is not an amount), NotAllowed.
    """
    from orderdesk.vendors.actions import checked_cost

    ensure_can(by, Permission.PLACE_WITH_VENDORS)
    try:
        order_id = (
            Fulfillment.objects.for_merchant(by.merchant)
            .values_list("order_id", flat=True)
            .get(pk=shipment_id)
        )
    except (Fulfillment.DoesNotExist, ValueError, TypeError) as missing:
        raise ShipmentNotFound() from missing
    with transaction.atomic():
        order = _locked_order(order_id, by)
        lines = {
            line.pk: line
            for line in order.lines.select_for_update(of=("self",)).select_related("variant__hosting")
        }
        shipments = {
            shipment.pk: shipment
            for shipment in Fulfillment.objects.select_for_update(of=("self",))
            .filter(order_id=order.pk)
            .select_related("vendor")
            .order_by("pk")
        }
        source = shipments[int(shipment_id)]
        line = lines.get(order_line_id)
        if source.vendor_id is None:
            raise AllocationRefused(
                "Only a vendor's shipment can be moved to another vendor.", field="shipment"
            )
        if line is None:
            raise AllocationRefused("That item is not part of this order.", field="lines")
        if to_vendor_id is not None and int(to_vendor_id) == source.vendor_id:
            raise AllocationRefused(f"These items are already with {source.vendor.name}.", field="vendor")
        target = None
        costs = (None, None)
        if to_vendor_id is not None:
            target = Vendor.objects.for_merchant(by.merchant).filter(pk=to_vendor_id, is_active=True).first()
            if target is None:
                raise AllocationRefused("Choose one of your active vendors.", field="vendor")
            hosting = getattr(line.variant, "hosting", None) if line.variant_id else None
            if unit_cost not in (None, ""):
                costs = (
                    checked_cost(unit_cost, "unit cost", "unit_cost"),
                    checked_cost(shipping_cost or "0", "shipping cost", "shipping_cost"),
                )
            elif hosting is not None and hosting.vendor_id == target.pk:
                costs = (hosting.unit_cost, hosting.shipping_cost)
            else:
                raise AllocationRefused(
                    f"{target.name} does not host {line.title}: enter its unit cost.", field="unit_cost"
                )
        to_name = target.name if target else ""
        fulfillment_actions.take_units_out(
            source.pk,
            by=by,
            order_line_id=line.pk,
            quantity=quantity,
            text=f"{quantity} × {line.title} moved to {to_name or 'the merchant'} by {by.display_name}",
        )
        moved_to = None
        if target is not None:
            moving = [ShipmentLine(line.pk, quantity, unit_cost=costs[0], shipping_cost=costs[1])]
            open_one = next(
                (
                    shipment
                    for shipment in shipments.values()
                    if shipment.vendor_id == target.pk
                    and shipment.status == Fulfillment.ShippingStatus.PENDING
                ),
                None,
            )
            text = f"{quantity} × {line.title} moved from {source.vendor.name} by {by.display_name}"
            if open_one is not None:
                moved_to = fulfillment_actions.add_units(open_one.pk, by=by, lines=moving, text=text)
            else:
                moved_to = fulfillment_actions.create_shipment(
                    order.pk, by=by, vendor_id=target.pk, lines=moving
                )
            moved_to.units = quantity
            moved_to.vendor_email = target.contact_email
            queue_allocation_digests(
                [moved_to],
                merchant_id=order.merchant_id,
                key=f"move:{moved_to.pk}:{line.pk}:{time.time_ns()}",
            )
        events.record_moved_to_vendor(
            order,
            by=by,
            title=line.title,
            quantity=quantity,
            from_vendor=source.vendor.name,
            to_vendor=to_name,
        )
    return moved_to


# --- the pieces the placements share -------------------------------------------------


@dataclass(frozen=True)
class HostedLine:
    """An order line whose variant an active vendor hosts: its units, those already in a
    shipment, and the hosting's terms as they are now."""

    pk: int
    order_id: int
    quantity: int
    shipped: int
    hosting_vendor_id: int
    hosting_vendor_name: str
    hosting_vendor_email: str
    hosting_unit_cost: Decimal
    hosting_shipping_cost: Decimal


def _hosted_lines(order_id: int) -> list[HostedLine]:
    """The order's lines whose variant an active vendor hosts, each with its hosting's terms."""
    return _hosted_lines_of([order_id])


def _hosted_lines_of(order_ids: Sequence[int]) -> list[HostedLine]:
    # One statement written out rather than composed by the ORM: it runs inside every paid
    # order's transaction when auto-processing is on, where composing it cost more than running it.
    # Prepared on PostgreSQL: planning it at every order cost six times what running it does.
    with fixed_statement_cursor() as cursor:
        cursor.execute(_hosted_lines_sql(len(order_ids)), list(order_ids))
        return [
            HostedLine(
                pk=row[0],
                order_id=row[1],
                quantity=row[2],
                shipped=int(row[3] or 0),
                hosting_vendor_id=row[4],
                hosting_vendor_name=row[5],
                hosting_vendor_email=row[6],
                hosting_unit_cost=Decimal(str(row[7])).quantize(CENT),
                hosting_shipping_cost=Decimal(str(row[8])).quantize(CENT),
            )
            for row in cursor.fetchall()
        ]


CENT = Decimal("0.01")


@lru_cache(maxsize=8)
def _hosted_lines_sql(order_count: int) -> str:
    """SELECT the hosted lines of `order_count` orders with the units already in a shipment
    (one sum per line, through the order line's index on fulfillment lines)."""
    quote = connection.ops.quote_name
    line, hosting, vendor, entry = OrderLine._meta, Hosting._meta, Vendor._meta, FulfillmentLine._meta

    def col(meta, name):
        return quote(meta.get_field(name).column)

    placeholders = ", ".join(["%s"] * order_count)
    return (
        f"SELECT l.{col(line, 'id')}, l.{col(line, 'order')}, l.{col(line, 'quantity')}, "
        f"(SELECT SUM(e.{col(entry, 'quantity')}) FROM {quote(entry.db_table)} e "
        f"WHERE e.{col(entry, 'order_line')} = l.{col(line, 'id')}), "
        f"h.{col(hosting, 'vendor')}, v.{col(vendor, 'name')}, v.{col(vendor, 'contact_email')}, "
        f"CAST(h.{col(hosting, 'unit_cost')} AS TEXT), CAST(h.{col(hosting, 'shipping_cost')} AS TEXT) "
        f"FROM {quote(line.db_table)} l "
        f"JOIN {quote(hosting.db_table)} h ON h.{col(hosting, 'variant')} = l.{col(line, 'variant')} "
        f"JOIN {quote(vendor.db_table)} v ON v.{col(vendor, 'id')} = h.{col(hosting, 'vendor')} "
        f"WHERE l.{col(line, 'order')} IN ({placeholders}) AND v.{col(vendor, 'is_active')} "
        f"ORDER BY l.{col(line, 'id')}"
    )


def _write_shipments(
    placing: Sequence[tuple[Order, list[HostedLine]]], *, by: Actor, merchant_id: int, notify: bool
) -> list[list[Fulfillment]]:
    """The units of these orders' hosted lines not yet in a shipment, one shipment per vendor per
    order (the orders are locked by the caller), each named with its vendor; with `notify`, the
    vendors' digest of them all. On PostgreSQL the digests are written by the allocation's one
    statement (a statement fewer inside every auto-processed paid order), on SQLite one INSERT
    after it."""
    on_postgresql = connection.vendor == "postgresql"
    vendors = {line.hosting_vendor_id: line for _, hosted in placing for line in hosted}
    digests = (
        digests_beside(
            {vendor_id: line.hosting_vendor_email for vendor_id, line in vendors.items()},
            merchant_id=merchant_id,
        )
        if notify and on_postgresql
        else None
    )
    shipments_of = fulfillment_actions.allocate_unshipped_units_of_orders(
        [_wanted(order, hosted) for order, hosted in placing], by=by, beside=digests
    )
    every_shipment = [shipment for shipments in shipments_of for shipment in shipments]
    for shipment in every_shipment:
        shipment.vendor_name = vendors[shipment.vendor_id].hosting_vendor_name
        shipment.vendor_email = vendors[shipment.vendor_id].hosting_vendor_email
    if notify:
        if on_postgresql:
            deliver_digests(digests)
        else:
            queue_allocation_digests(every_shipment, merchant_id=merchant_id)
    return shipments_of


def _wanted(order: Order, hosted: list[HostedLine]) -> OrderAllocation:
    return OrderAllocation(
        order=order,
        order_lines=hosted,
        already_shipped={line.pk: line.shipped for line in hosted},
        allocations=[
            VendorAllocation(
                vendor_id=line.hosting_vendor_id,
                order_line_id=line.pk,
                unit_cost=line.hosting_unit_cost,
                shipping_cost=line.hosting_shipping_cost,
            )
            for line in hosted
        ],
    )


def _say_placed(order: Order, shipments: list[Fulfillment], *, by: Actor, auto: bool, written) -> None:
    """Write the timeline event of the new shipments (or add it to `written`)."""
    if not shipments:
        return
    parts = [
        {
            "vendor_id": shipment.vendor_id,
            "vendor": shipment.vendor_name,
            "shipment_id": shipment.pk,
            "units": shipment.units,
        }
        for shipment in shipments
    ]
    if written is not None:
        written.append(events.placed_with_vendors_event(order, by=by, parts=parts, auto=auto))
    else:
        events.record_placed_with_vendors(order, by=by, parts=parts, auto=auto)


def _locked_order(order_id, by: Actor) -> Order:
    try:
        return Order.objects.one_of_merchant(by.merchant, order_id).select_for_update().get()
    except (Order.DoesNotExist, ValueError, TypeError) as missing:
        raise OrderNotFound() from missing
