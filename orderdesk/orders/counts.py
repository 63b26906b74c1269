"""Keeping OrderStatusCount in step with the orders (write side) and rebuilding it."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, F

from .models import Order, OrderStatusCount


def count_status_change(merchant_id: int, *, before: str | None, after: str) -> None:
    """One order moved from `before` (None: it is new) to `after`; call inside the action's transaction."""
    if before == after:
        return
    if before is not None:
        OrderStatusCount.objects.filter(merchant_id=merchant_id, status=before, count__gt=0).update(
            count=F("count") - 1
        )
    updated = OrderStatusCount.objects.filter(merchant_id=merchant_id, status=after).update(
        count=F("count") + 1
    )
    if not updated:
        # The merchant's first order in this status. Two first-timers racing: the unique
        # constraint lets one create the row; get_or_create then finds it for the other.
        row, created = OrderStatusCount.objects.get_or_create(
            merchant_id=merchant_id, status=after, defaults={"count": 1}
        )
        if not created:
            OrderStatusCount.objects.filter(pk=row.pk).update(count=F("count") + 1)


def recount_orders(merchant) -> dict[str, int]:
    """Rebuild the merchant's counts from its orders (after a bulk import, or to repair)."""
    with transaction.atomic():
        actual = dict(
            Order.objects.for_merchant(merchant)
            .values("status")
            .annotate(n=Count("id"))
            .order_by()
            .values_list("status", "n")
        )
        OrderStatusCount.objects.filter(merchant=merchant).delete()
        OrderStatusCount.objects.bulk_create(
            OrderStatusCount(merchant=merchant, status=status, count=n) for status, n in actual.items()
        )
    return actual
