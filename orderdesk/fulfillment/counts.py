"""Keeping ShipmentStatusCount in step with the shipments (write side) and rebuilding it."""

from __future__ import annotations

import functools

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F

from orderdesk.compiled_queries import fixed_statement_cursor
from orderdesk.count_locks import SHIPMENT_COUNTS, order_counts_first
from orderdesk.notifications.webhooks import current_publish_batch

from .models import Fulfillment, ShipmentStatusCount


def count_shipment_change(merchant_id: int, vendor_id: int | None, *, before: str | None, after: str) -> None:
    """One shipment moved from `before` (None: it is new) to `after`; call inside the action's transaction."""
    if before == after:
        return
    batch = current_publish_batch()
    if batch is not None:
        # Inside an order action (publishing_once): moved just before its commit, so these hot
        # rows are held locked for the commit alone (as orders.counts does with the tab counts),
        # and moved after the order counts, as every transaction locks them (orderdesk.count_locks).
        batch.hold([(merchant_id, vendor_id, before, after)], write=_count_held_changes, rank=SHIPMENT_COUNTS)
        return
    _count_change(merchant_id, vendor_id, before=before, after=after)


def _count_held_changes(held: list[tuple[int, int | None, str | None, str]]) -> None:
    """The moves one transaction held, summed per merchant, vendor and status: one UPDATE for
    each merchant and vendor (a transition moves its shipment's two counts at once)."""
    summed: dict[tuple[int, int | None], dict[str, int]] = {}
    for merchant_id, vendor_id, before, after in held:
        changes = summed.setdefault((merchant_id, vendor_id), {})
        if before is not None:
            changes[before] = changes.get(before, 0) - 1
        changes[after] = changes.get(after, 0) + 1
    for (merchant_id, vendor_id), changes in sorted(
        summed.items(), key=lambda item: (item[0][0], item[0][1] or 0)
    ):
        _move_counts(merchant_id, vendor_id, changes)


def _count_change(merchant_id: int, vendor_id: int | None, *, before: str | None, after: str) -> None:
    _move_counts(merchant_id, vendor_id, {before: -1, after: 1} if before is not None else {after: 1})


def _move_counts(merchant_id: int, vendor_id: int | None, changes: dict[str, int]) -> None:
    """Move the vendor's (None: the merchant's own) count of each status by its change, in one
    plain UPDATE; a count never goes below zero, and a status entered for the first time gets
    its row."""
    moved = sorted((status, change) for status, change in changes.items() if change)
    if not moved:
        return
    owner = [merchant_id] if vendor_id is None else [merchant_id, vendor_id]
    listed = [status for status, _ in moved]
    params = [value for pair in moved for value in pair] + owner + listed
    if connection.vendor == "postgresql":
        params += owner + listed
    with fixed_statement_cursor() as cursor:
        cursor.execute(_move_counts_sql(connection.vendor, len(moved), vendor_id is None), params)
        found = {status for (status,) in cursor.fetchall()}
    for status, change in moved:
        if change > 0 and status not in found:
            _first_of_status(merchant_id, vendor_id, status, change)


def _first_of_status(merchant_id: int, vendor_id: int | None, status: str, added: int) -> None:
    # The first shipment of this vendor in this status. Two first-timers racing: the unique
    # constraint lets one insert; the other finds the row and adds to it.
    try:
        with transaction.atomic():
            ShipmentStatusCount.objects.create(
                merchant_id=merchant_id, vendor_id=vendor_id, status=status, count=added
            )
    except IntegrityError:
        ShipmentStatusCount.objects.filter(
            merchant_id=merchant_id, vendor_id=vendor_id, status=status
        ).update(count=F("count") + added)


@functools.cache
def _move_counts_sql(vendor: str, statuses: int, merchants_own: bool) -> str:
    """UPDATE … RETURNING the statuses whose row was there. Parameters: (status, change) for each
    status in sorted order, the merchant (and vendor), the statuses; on PostgreSQL the merchant
    (and vendor) and the statuses again: the rows are locked in the order of their status (a
    sub-select ORDER BY … FOR UPDATE) whatever plan the UPDATE gets, so two moves of one
    merchant's shipments never wait for each other in a circle."""
    meta = ShipmentStatusCount._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    merchant, vendor_column, status, count = (
        quote(meta.get_field(name).column) for name in ("merchant", "vendor", "status", "count")
    )
    change = f"CASE {status} {' '.join(['WHEN %s THEN %s'] * statuses)} ELSE 0 END"
    owner = f"{merchant} = %s AND {vendor_column} " + ("IS NULL" if merchants_own else "= %s")
    where = f"{owner} AND {status} IN ({', '.join(['%s'] * statuses)})"
    if vendor == "postgresql":
        where += f" AND {quote(meta.pk.column)} IN (SELECT {quote(meta.pk.column)} FROM {table} WHERE {where} ORDER BY {status} FOR UPDATE)"
    greatest = "GREATEST" if vendor == "postgresql" else "MAX"
    return f"UPDATE {table} SET {count} = {greatest}({count} + {change}, 0) WHERE {where} RETURNING {status}"


def count_new_vendor_shipments(merchant_id: int, new: dict[int, int], *, status: str) -> None:
    """`new` = {vendor id: shipments created} in `status`, counted in one statement whatever the
    number of vendors (allocation runs inside every paid order's transaction): an upsert on the
    per-vendor unique index, so a vendor's first shipment in a status needs no read first."""
    if not new:
        return
    order_counts_first()
    meta = ShipmentStatusCount._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    merchant, vendor, status_column, count = (
        quote(meta.get_field(name).column) for name in ("merchant", "vendor", "status", "count")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({merchant}, {vendor}, {status_column}, {count}) "
            f"VALUES {', '.join(['(%s, %s, %s, %s)'] * len(new))} "
            f"ON CONFLICT ({merchant}, {vendor}, {status_column}) WHERE {vendor} IS NOT NULL "
            f"DO UPDATE SET {count} = {table}.{count} + excluded.{count}",
            [value for vendor_id, n in new.items() for value in (merchant_id, vendor_id, status, n)],
        )


def count_shipment_removed(merchant_id: int, vendor_id: int | None, *, status: str) -> None:
    """A shipment in `status` was removed (its last units moved away); inside the action's transaction."""
    order_counts_first()
    ShipmentStatusCount.objects.filter(
        merchant_id=merchant_id, vendor_id=vendor_id, status=status, count__gt=0
    ).update(count=F("count") - 1)


def shipment_counts(merchant, *, vendor_id: int | None = None) -> dict[str, int]:
    """How many shipments are in each status: the merchant's all (vendors' and its own), or one
    vendor's. Written out once (every shipping-status page reads it; the ORM's composing cost
    more than the read)."""
    counts = dict.fromkeys(Fulfillment.ShippingStatus.values, 0)
    params = [merchant.pk] if vendor_id is None else [merchant.pk, vendor_id]
    with connection.cursor() as cursor:
        cursor.execute(_counts_sql(vendor_id is not None), params)
        for status, count in cursor.fetchall():
            counts[status] += count
    return counts


@functools.cache
def _counts_sql(for_vendor: bool) -> str:
    meta = ShipmentStatusCount._meta
    quote = connection.ops.quote_name
    merchant, vendor, status, count = (
        quote(meta.get_field(name).column) for name in ("merchant", "vendor", "status", "count")
    )
    return f"SELECT {status}, {count} FROM {quote(meta.db_table)} WHERE {merchant} = %s" + (
        f" AND {vendor} = %s" if for_vendor else ""
    )


def recount_shipments(merchant) -> dict[tuple[int | None, str], int]:
    """Rebuild the merchant's shipment counts from its shipments (after a bulk load, or to repair)."""
    with transaction.atomic():
        actual = {
            (row["vendor_id"], row["status"]): row["n"]
            for row in Fulfillment.objects.for_merchant(merchant)
            .values("vendor_id", "status")
            .annotate(n=Count("id"))
            .order_by()
        }
        ShipmentStatusCount.objects.filter(merchant=merchant).delete()
        ShipmentStatusCount.objects.bulk_create(
            ShipmentStatusCount(merchant=merchant, vendor_id=vendor_id, status=status, count=n)
            for (vendor_id, status), n in actual.items()
        )
    return actual
