"""Keeping the daily order roll-ups in step with the orders, and checking them against a recount.

The order actions belong to the orders app, which cannot know about reports; so instead of being
told of each change, the roll-ups look for the orders changed since their last run (`updated_at`,
which every order action sets) and rebuild the days those orders were placed on. The rebuild runs
in the background (Celery beat, or a thread after a Reports page finds the figures stale) and from
`manage.py reports rollup`.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, F, Max, Q, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from orderdesk.fulfillment.models import FulfillmentLine, TrackingEvent
from orderdesk.orders.models import Order, OrderLine

from .models import DailyCostFigures, DailyOrderFigures, RollupState
from .period import start_of_day

# A transaction that set an order's updated_at before our last run may commit after it; looking
# this far back again each time takes such late commits in.
LATE_COMMIT_MARGIN = datetime.timedelta(minutes=5)


@dataclass(frozen=True)
class RefreshOutcome:
    days_rebuilt: int
    full: bool


def refresh_order_figures(merchant, *, full: bool = False) -> RefreshOutcome:
    """Rebuild the merchant's daily figures for every day an order of which changed since the last
    run (all of them the first time, or with `full`). One run per merchant at a time (row lock)."""
    zone = merchant.zone
    with transaction.atomic():
        state, created = RollupState.objects.select_for_update().get_or_create(
            merchant=merchant, defaults={"counted_through": timezone.now()}
        )
        started = timezone.now()
        events = TrackingEvent.objects.for_merchant(merchant)
        newest_event = events.aggregate(newest=Max("id"))["newest"] or 0
        orders = Order.objects.for_merchant(merchant)
        if created or full:
            DailyOrderFigures.objects.for_merchant(merchant).delete()
            DailyCostFigures.objects.for_merchant(merchant).delete()
            _write_figures(merchant, orders)
            days_rebuilt = len(set(DailyOrderFigures.objects.for_merchant(merchant).values_list("day")))
            full = True
        else:
            since = state.counted_through - LATE_COMMIT_MARGIN
            days = set(
                orders.filter(updated_at__gte=since)
                .annotate(day=TruncDate("placed_at", tzinfo=zone))
                .order_by()
                .values_list("day", flat=True)
                .distinct()
            )
            # Shipments change without their order (a vendor's move): their tracking events say so.
            days |= set(
                events.filter(Q(id__gt=state.tracking_events_through) | Q(occurred_at__gte=since))
                .annotate(day=TruncDate("fulfillment__order__placed_at", tzinfo=zone))
                .order_by()
                .values_list("day", flat=True)
                .distinct()
            )
            for first, last in _runs(sorted(days)):
                DailyOrderFigures.objects.for_merchant(merchant).filter(day__range=(first, last)).delete()
                DailyCostFigures.objects.for_merchant(merchant).filter(day__range=(first, last)).delete()
                _write_figures(
                    merchant,
                    orders.filter(
                        placed_at__gte=start_of_day(first, zone),
                        placed_at__lt=start_of_day(last + datetime.timedelta(days=1), zone),
                    ),
                )
            days_rebuilt = len(days)
        state.counted_through = started
        state.tracking_events_through = newest_event
        state.refreshed_at = timezone.now()
        state.save()
    return RefreshOutcome(days_rebuilt=days_rebuilt, full=full)


def _write_figures(merchant, orders) -> None:
    zone = merchant.zone
    by_key = {
        (row["day"], row["store_id"], row["status"]): row
        for row in orders.annotate(day=TruncDate("placed_at", tzinfo=zone))
        .values("day", "store_id", "status")
        .annotate(order_count=Count("id"), total_sum=Sum("total"))
        .order_by()
    }
    items = (
        OrderLine.objects.filter(order__in=orders.values("pk"))
        .annotate(day=TruncDate("order__placed_at", tzinfo=zone))
        .values("day", "order__store_id", "order__status")
        .annotate(units=Sum("quantity"))
        .order_by()
    )
    units = {(row["day"], row["order__store_id"], row["order__status"]): row["units"] for row in items}
    DailyOrderFigures.objects.bulk_create(
        [
            DailyOrderFigures(
                merchant=merchant,
                day=day,
                store_id=store_id,
                status=status,
                order_count=row["order_count"],
                total_sum=row["total_sum"] or 0,
                item_count=units.get((day, store_id, status)) or 0,
            )
            for (day, store_id, status), row in by_key.items()
        ],
        batch_size=2000,
    )
    zero = Decimal("0")
    costs = (
        FulfillmentLine.objects.filter(
            merchant=merchant,
            fulfillment__order__in=orders.exclude(status=Order.Status.CANCELLED).values("pk"),
        )
        .annotate(
            day=TruncDate("fulfillment__order__placed_at", tzinfo=zone),
            line_revenue=F("quantity") * F("order_line__unit_price"),
            line_cost=F("quantity") * (Coalesce("unit_cost", zero) + Coalesce("shipping_cost", zero)),
        )
        .values(
            "day",
            "fulfillment__order__store_id",
            "fulfillment__vendor_id",
            "order_line__sku",
            "order_line__title",
        )
        .annotate(units=Sum("quantity"), revenue=Sum("line_revenue"), cost=Sum("line_cost"))
        .order_by()
    )
    DailyCostFigures.objects.bulk_create(
        [
            DailyCostFigures(
                merchant=merchant,
                day=row["day"],
                store_id=row["fulfillment__order__store_id"],
                vendor_id=row["fulfillment__vendor_id"],
                sku=row["order_line__sku"],
                title=row["order_line__title"],
                units=row["units"],
                revenue=row["revenue"] or 0,
                cost=row["cost"] or 0,
            )
            for row in costs
        ],
        batch_size=2000,
    )


def _runs(days: list[datetime.date]) -> list[tuple[datetime.date, datetime.date]]:
    """Sorted days as runs of consecutive days: [1, 2, 3, 7] → [(1, 3), (7, 7)]."""
    runs: list[list[datetime.date]] = []
    for day in days:
        if runs and day - runs[-1][1] == datetime.timedelta(days=1):
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return [(first, last) for first, last in runs]


def recount_differences(merchant) -> list[str]:
    """Where the kept figures differ from the orders counted now, one by one in Python (empty when
    they agree): the check of the roll-ups, by another road than the one that builds them."""
    zone = merchant.zone
    kept = defaultdict(lambda: (0, 0, 0))
    for row in DailyOrderFigures.objects.for_merchant(merchant):
        kept[(row.day, row.store_id, row.status)] = (row.order_count, row.total_sum, row.item_count)
    units = defaultdict(int)
    for order_id, quantity in (
        OrderLine.objects.for_merchant(merchant)
        .values_list("order_id", "quantity")
        .iterator(chunk_size=10000)
    ):
        units[order_id] += quantity
    counted = defaultdict(lambda: (0, 0, 0))
    orders = Order.objects.for_merchant(merchant).values_list(
        "pk", "placed_at", "store_id", "status", "total"
    )
    for order_id, placed_at, store_id, status, total in orders.iterator(chunk_size=10000):
        key = (placed_at.astimezone(zone).date(), store_id, status)
        count, total_sum, items = counted[key]
        counted[key] = (count + 1, total_sum + total, items + units[order_id])
    differences = []
    for key in sorted(set(kept) | set(counted), key=str):
        if kept[key] != counted[key]:
            day, store_id, status = key
            differences.append(f"{day} store {store_id} {status}: kept {kept[key]}, counted {counted[key]}")
    return differences + _cost_differences(merchant)


def _cost_differences(merchant) -> list[str]:
    zone, zero = merchant.zone, Decimal("0")
    kept = defaultdict(lambda: (0, zero, zero))
    for row in DailyCostFigures.objects.for_merchant(merchant):
        key = (row.day, row.store_id, row.vendor_id, row.sku, row.title)
        kept[key] = (row.units, row.revenue, row.cost)
    counted = defaultdict(lambda: (0, zero, zero))
    lines = (
        FulfillmentLine.objects.for_merchant(merchant)
        .exclude(fulfillment__order__status=Order.Status.CANCELLED)
        .values_list(
            "fulfillment__order__placed_at",
            "fulfillment__order__store_id",
            "fulfillment__vendor_id",
            "order_line__sku",
            "order_line__title",
            "quantity",
            "order_line__unit_price",
            "unit_cost",
            "shipping_cost",
        )  # fmt: skip
    )
    for (
        placed_at,
        store_id,
        vendor_id,
        sku,
        title,
        quantity,
        price,
        unit_cost,
        shipping_cost,
    ) in lines.iterator(chunk_size=10000):
        key = (placed_at.astimezone(zone).date(), store_id, vendor_id, sku, title)
        units, revenue, cost = counted[key]
        counted[key] = (
            units + quantity,
            revenue + quantity * price,
            cost + quantity * ((unit_cost or zero) + (shipping_cost or zero)),
        )
    return [
        f"costs {key}: kept {kept[key]}, counted {counted[key]}"
        for key in sorted(set(kept) | set(counted), key=str)
        if kept[key] != counted[key]
    ]


def refresh_all_merchants() -> int:
    """Refresh every merchant's roll-ups that has orders (the periodic task); how many were refreshed."""
    from orderdesk.accounts.models import Merchant

    merchants = Merchant.objects.filter(pk__in=Order.objects.values("merchant_id").distinct())
    for merchant in merchants:
        refresh_order_figures(merchant)
    return len(merchants)
