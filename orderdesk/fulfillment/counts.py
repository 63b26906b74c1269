"""Keeping ShipmentStatusCount in step with the shipments (write side) and rebuilding it."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Count, F

from .models import Fulfillment, ShipmentStatusCount


def count_shipment_change(merchant_id: int, vendor_id: int | None, *, before: str | None, after: str) -> None:
    """One shipment moved from `before` (None: it is new) to `after`; call inside the action's transaction."""
    if before == after:
        return
    mine = ShipmentStatusCount.objects.filter(merchant_id=merchant_id, vendor_id=vendor_id)
    if before is not None:
        mine.filter(status=before, count__gt=0).update(count=F("count") - 1)
    if mine.filter(status=after).update(count=F("count") + 1):
        return
    # The first shipment of this vendor in this status. Two first-timers racing: the unique
    # constraint lets one insert; the other finds the row and adds to it.
    try:
        with transaction.atomic():
            ShipmentStatusCount.objects.create(
                merchant_id=merchant_id, vendor_id=vendor_id, status=after, count=1
            )
    except IntegrityError:
        mine.filter(status=after).update(count=F("count") + 1)


def shipment_counts(merchant, *, vendor_id: int | None = None) -> dict[str, int]:
    """How many shipments are in each status: the merchant's all (vendors' and its own), or one vendor's."""
    counts = dict.fromkeys(Fulfillment.ShippingStatus.values, 0)
    rows = ShipmentStatusCount.objects.for_merchant(merchant)
    if vendor_id is not None:
        rows = rows.filter(vendor_id=vendor_id)
    for status, count in rows.values_list("status", "count"):
        counts[status] += count
    return counts


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
