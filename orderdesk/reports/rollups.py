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
from django.db.models import Count, Exists, F, Max, OuterRef, Q, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from orderdesk.fulfillment.models import Fulfillment, FulfillmentLine, TrackingEvent
from orderdesk.orders.models import LATE_STATUSES, Order, OrderLine
from orderdesk.vendors.models import Vendor

from .figures import EpochSeconds
from .models import DailyCostFigures, DailyDatedCounts, DailyOrderFigures, DailyShipmentFigures, RollupState
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
            for table in ROLLUP_TABLES:
                table.objects.for_merchant(merchant).delete()
            _write_figures(merchant, _Placed())
            days_rebuilt = len(set(DailyOrderFigures.objects.for_merchant(merchant).values_list("day")))
            full = True
        else:
            # Changed within (since, started]: a later change is the next run's (it looks back
            # to this run's start less the margin), and a time ahead of the clock is no change.
            since = state.counted_through - LATE_COMMIT_MARGIN
            days = set(
                orders.filter(updated_at__gte=since, updated_at__lte=started)
                .annotate(day=TruncDate("placed_at", tzinfo=zone))
                .order_by()
                .values_list("day", flat=True)
                .distinct()
            )
            # Shipments change without their order (a vendor's move): their tracking events say so.
            days |= set(
                events.filter(
                    Q(id__gt=state.tracking_events_through)
                    | Q(occurred_at__gte=since, occurred_at__lte=started)
                )
                .annotate(day=TruncDate("fulfillment__order__placed_at", tzinfo=zone))
                .order_by()
                .values_list("day", flat=True)
                .distinct()
            )
            # A vendor's processing days changed: its on-time counts were judged with the old ones.
            days |= set(
                DailyShipmentFigures.objects.for_merchant(merchant)
                .filter(vendor__isnull=False)
                .exclude(processing_days=F("vendor__processing_days"))
                .order_by()
                .values_list("day", flat=True)
                .distinct()
            )
            for first, last in _runs(sorted(days)):
                for table in ROLLUP_TABLES:
                    table.objects.for_merchant(merchant).filter(day__range=(first, last)).delete()
                _write_figures(
                    merchant,
                    _Placed(start_of_day(first, zone), start_of_day(last + datetime.timedelta(days=1), zone)),
                )
            days_rebuilt = len(days)
        state.counted_through = started
        state.tracking_events_through = newest_event
        state.refreshed_at = timezone.now()
        state.save()
    return RefreshOutcome(days_rebuilt=days_rebuilt, full=full)


ROLLUP_TABLES = (DailyOrderFigures, DailyCostFigures, DailyShipmentFigures, DailyDatedCounts)


@dataclass(frozen=True)
class _Placed:
    """Orders placed from `starts_at` until `ends_before` (every order when they are None), as a
    filter of the rows reached from an order by `path`: joined, so the planner walks from the
    orders of those days (index on placed_at) to their rows, not through every shipment."""

    starts_at: datetime.datetime | None = None
    ends_before: datetime.datetime | None = None

    def of(self, path: str = "") -> dict:
        if self.starts_at is None:
            return {}
        prefix = f"{path}__" if path else ""
        return {f"{prefix}placed_at__gte": self.starts_at, f"{prefix}placed_at__lt": self.ends_before}


def _write_figures(merchant, placed: _Placed) -> None:
    _write_order_and_cost_figures(merchant, placed)
    _write_shipment_figures(merchant, placed)
    _write_dated_counts(merchant, placed)


def _write_order_and_cost_figures(merchant, placed: _Placed) -> None:
    zone = merchant.zone
    orders = Order.objects.for_merchant(merchant).filter(**placed.of())
    by_key = {
        (row["day"], row["store_id"], row["status"]): row
        for row in orders.annotate(day=TruncDate("placed_at", tzinfo=zone))
        .values("day", "store_id", "status")
        .annotate(order_count=Count("id"), total_sum=Sum("total"))
        .order_by()
    }
    items = (
        OrderLine.objects.for_merchant(merchant)
        .filter(**placed.of("order"))
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
        FulfillmentLine.objects.filter(merchant=merchant, **placed.of("fulfillment__order"))
        .exclude(fulfillment__order__status=Order.Status.CANCELLED)
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


def _on_time_conditions(merchant) -> tuple[Q, Q]:
    """Shipped within its vendor's processing days of being allocated, and shipped after them: one
    condition per distinct number of days, OR'ed, so one pass judges every vendor."""
    days_of = defaultdict(list)
    for vendor_id, days in Vendor.objects.for_merchant(merchant).values_list("pk", "processing_days"):
        days_of[days].append(vendor_id)
    on_time, late = Q(pk__in=[]), Q(pk__in=[])
    for days, vendor_ids in days_of.items():
        allowed = datetime.timedelta(days=days)
        mine = Q(vendor_id__in=vendor_ids, shipped_at__isnull=False)
        on_time |= mine & Q(shipped_at__lte=F("created_at") + allowed)
        late |= mine & Q(shipped_at__gt=F("created_at") + allowed)
    return on_time, late


def _write_shipment_figures(merchant, placed: _Placed) -> None:
    zone = merchant.zone
    on_time, late = _on_time_conditions(merchant)
    paid = Q(order__payment_verified_at__isnull=False)
    shipped = paid & Q(shipped_at__isnull=False)
    delivered = paid & Q(delivered_at__isnull=False)
    paid_at = EpochSeconds("order__payment_verified_at")
    met_exception = Exists(
        TrackingEvent.objects.filter(
            merchant=merchant, fulfillment=OuterRef("pk"), status=Fulfillment.ShippingStatus.EXCEPTION
        )
    )
    by_status = {status: Count("id", filter=Q(status=status)) for status in Fulfillment.ShippingStatus.values}
    rows = (
        Fulfillment.objects.filter(merchant=merchant, **placed.of("order"))
        .annotate(
            day=TruncDate("order__placed_at", tzinfo=zone),
            shipped_on=TruncDate("shipped_at", tzinfo=zone),
        )
        .values("day", "order__store_id", "vendor_id", "vendor__processing_days")
        .annotate(
            shipments=Count("id"),
            orders=Count("order_id", distinct=True),
            **by_status,
            met_exception=Count("id", filter=Q(met_exception)),
            on_time=Count("id", filter=on_time),
            shipped_late=Count("id", filter=late),
            paid_shipments=Count("id", filter=paid),
            paid_shipped=Count("id", filter=shipped),
            seconds_to_in_transit=Sum(EpochSeconds("shipped_at") - paid_at, filter=shipped),
            shipped_by_due_day=Count("id", filter=shipped & Q(shipped_on__lte=F("order__due_on"))),
            paid_delivered=Count("id", filter=delivered),
            seconds_to_delivered=Sum(EpochSeconds("delivered_at") - paid_at, filter=delivered),
        )
        .order_by()
    )
    counted = (
        "shipments", "orders", *by_status, "met_exception", "on_time", "shipped_late",
        "paid_shipments", "paid_shipped", "shipped_by_due_day", "paid_delivered",
    )  # fmt: skip
    DailyShipmentFigures.objects.bulk_create(
        [
            DailyShipmentFigures(
                merchant=merchant,
                day=row["day"],
                store_id=row["order__store_id"],
                vendor_id=row["vendor_id"],
                processing_days=row["vendor__processing_days"] or 0,
                seconds_to_in_transit=float(row["seconds_to_in_transit"] or 0),
                seconds_to_delivered=float(row["seconds_to_delivered"] or 0),
                **{name: row[name] for name in counted},
            )
            for row in rows
        ],
        batch_size=2000,
    )


def _dated(merchant, placed: _Placed):
    """The (store, day placed, what, date) of every waiting order and shipment in transit, as SQL."""
    zone = merchant.zone
    orders = Order.objects.for_merchant(merchant).filter(**placed.of())
    waiting = orders.filter(status__in=LATE_STATUSES, due_on__isnull=False).annotate(
        store_of=F("store_id"), day=TruncDate("placed_at", tzinfo=zone), on=F("due_on")
    )
    in_transit = Fulfillment.objects.filter(
        merchant=merchant,
        **placed.of("order"),
        status=Fulfillment.ShippingStatus.IN_TRANSIT,
        shipped_at__isnull=False,
    ).annotate(
        store_of=F("order__store_id"),
        day=TruncDate("order__placed_at", tzinfo=zone),
        on=TruncDate("shipped_at", tzinfo=zone),
    )
    return ((DailyDatedCounts.What.DUE, waiting), (DailyDatedCounts.What.IN_TRANSIT, in_transit))


def _write_dated_counts(merchant, placed: _Placed) -> None:
    for what, rows in _dated(merchant, placed):
        DailyDatedCounts.objects.bulk_create(
            [
                DailyDatedCounts(merchant=merchant, store_id=store_id, day=day, what=what, on=on, count=count)
                for store_id, day, on, count in rows.values("store_of", "day", "on")
                .annotate(count=Count("id"))
                .order_by()
                .values_list("store_of", "day", "on", "count")
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
    return (
        differences
        + _cost_differences(merchant)
        + _shipment_differences(merchant)
        + _dated_differences(merchant)
    )


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


def _shipment_differences(merchant) -> list[str]:
    zone = merchant.zone
    numbers = [field.name for field in DailyShipmentFigures._meta.fields[5:]]
    kept = {}
    for row in DailyShipmentFigures.objects.for_merchant(merchant):
        kept[(row.day, row.store_id, row.vendor_id)] = {name: getattr(row, name) for name in numbers}
    days_of = dict(Vendor.objects.for_merchant(merchant).values_list("pk", "processing_days"))
    met_exception = set(
        TrackingEvent.objects.for_merchant(merchant)
        .filter(status=Fulfillment.ShippingStatus.EXCEPTION)
        .values_list("fulfillment_id", flat=True)
    )
    counted = defaultdict(lambda: dict.fromkeys(numbers, 0))
    orders_of = defaultdict(set)
    shipments = Fulfillment.objects.for_merchant(merchant).values_list(
        "pk", "order_id", "order__placed_at", "order__store_id", "order__payment_verified_at",
        "order__due_on", "vendor_id", "status", "created_at", "shipped_at", "delivered_at",
    )  # fmt: skip
    for (
        pk, order_id, placed_at, store_id, paid_at, due_on, vendor_id, status, created_at, shipped_at,
        delivered_at,
    ) in shipments.iterator(chunk_size=10000):  # fmt: skip
        key = (placed_at.astimezone(zone).date(), store_id, vendor_id)
        figures = counted[key]
        orders_of[key].add(order_id)
        figures["processing_days"] = days_of.get(vendor_id, 0)
        figures["shipments"] += 1
        figures[status] += 1
        figures["met_exception"] += pk in met_exception
        if vendor_id and shipped_at:
            in_time = shipped_at - created_at <= datetime.timedelta(days=days_of[vendor_id])
            figures["on_time" if in_time else "shipped_late"] += 1
        if paid_at:
            figures["paid_shipments"] += 1
            if shipped_at:
                figures["paid_shipped"] += 1
                figures["seconds_to_in_transit"] += (shipped_at - paid_at).total_seconds()
                figures["shipped_by_due_day"] += shipped_at.astimezone(zone).date() <= due_on
            if delivered_at:
                figures["paid_delivered"] += 1
                figures["seconds_to_delivered"] += (delivered_at - paid_at).total_seconds()
    for key, order_ids in orders_of.items():
        counted[key]["orders"] = len(order_ids)
    differences = []
    for key in sorted(set(kept) | set(counted), key=str):
        mine, theirs = kept.get(key, {}), counted.get(key, {})
        if set(mine) != set(theirs) or any(not _same(mine[name], theirs[name]) for name in mine):
            differences.append(f"shipments {key}: kept {mine}, counted {theirs}")
    return differences


def _same(kept, counted) -> bool:
    """Equal; sums of seconds within a millisecond or a billionth (SQLite's julianday is a float)."""
    if isinstance(kept, float) or isinstance(counted, float):
        return abs(kept - counted) <= 0.001 + abs(counted) * 1e-9
    return kept == counted


def _dated_differences(merchant) -> list[str]:
    zone = merchant.zone
    kept = {
        (row.day, row.store_id, row.what, row.on): row.count
        for row in DailyDatedCounts.objects.for_merchant(merchant)
    }
    counted = defaultdict(int)
    waiting = Order.objects.for_merchant(merchant).filter(status__in=LATE_STATUSES, due_on__isnull=False)
    for placed_at, store_id, due_on in waiting.values_list("placed_at", "store_id", "due_on").iterator(
        chunk_size=10000
    ):
        counted[(placed_at.astimezone(zone).date(), store_id, DailyDatedCounts.What.DUE, due_on)] += 1
    in_transit = Fulfillment.objects.for_merchant(merchant).filter(
        status=Fulfillment.ShippingStatus.IN_TRANSIT, shipped_at__isnull=False
    )
    for placed_at, store_id, shipped_at in in_transit.values_list(
        "order__placed_at", "order__store_id", "shipped_at"
    ).iterator(chunk_size=10000):
        on = shipped_at.astimezone(zone).date()
        counted[(placed_at.astimezone(zone).date(), store_id, DailyDatedCounts.What.IN_TRANSIT, on)] += 1
    return [
        f"dated counts {key}: kept {kept.get(key)}, counted {counted.get(key)}"
        for key in sorted(set(kept) | set(counted), key=str)
        if kept.get(key) != counted.get(key)
    ]


def refresh_all_merchants() -> int:
    """Refresh every merchant's roll-ups that has orders (the periodic task); how many were refreshed."""
    from orderdesk.accounts.models import Merchant

    merchants = Merchant.objects.filter(pk__in=Order.objects.values("merchant_id").distinct())
    for merchant in merchants:
        refresh_order_figures(merchant)
    return len(merchants)
