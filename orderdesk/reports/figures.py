"""The read side of the Reports page: every figure of one period, as plain rows.

Every figure adds up the daily roll-ups (rollups.py); what depends on the moment of asking —
shipments stuck in transit, vendors' shipments not yet handed over and past their processing
days — is counted from the live shipments of the period's orders on each request. "The period's orders" are those placed within it, in the
merchant's time zone, in the chosen store (or all).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, DateField, F, FloatField, Func, Q, Sum
from django.db.models.functions import Coalesce, Trunc
from django.utils import timezone

from orderdesk.aftersales.models import AfterSalesCase
from orderdesk.fulfillment.models import Fulfillment, FulfillmentLine
from orderdesk.orders.models import Order
from orderdesk.vendors.models import Vendor

from .models import DailyCostFigures, DailyDatedCounts, DailyOrderFigures, DailyShipmentFigures
from .period import ReportPeriod

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
# A shipment with the carrier longer than this without being delivered is stuck.
STUCK_IN_TRANSIT_DAYS = 14
# Shipments not yet handed to the carrier.
NOT_HANDED_OVER = (Fulfillment.ShippingStatus.PENDING, Fulfillment.ShippingStatus.PROCESSING)
# The product table shows the products that sold most; the export holds every one.
TOP_PRODUCTS = 20

# Orders that are sales: in Order Tracking and not cancelled.
SALES_STATUSES = (Order.Status.PENDING, Order.Status.DISPATCHED, Order.Status.FULFILLED)


def money(amount) -> Decimal:
    return Decimal(amount or 0).quantize(CENT)


def share(part: int, whole: int) -> Decimal | None:
    """part / whole as a percentage with one decimal; None when there is nothing to divide."""
    if not whole:
        return None
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class SalesRow:
    bucket: datetime.date
    label: str
    orders: int
    revenue: Decimal

    @property
    def average(self) -> Decimal | None:
        return money(self.revenue / self.orders) if self.orders else None


@dataclass(frozen=True)
class CountRow:
    key: str
    label: str
    count: int


@dataclass(frozen=True)
class FulfillmentTimeRow:
    bucket: datetime.date | None
    label: str
    shipments: int
    # Average days from payment to the carrier, and to delivery (None: none got there yet).
    days_to_in_transit: Decimal | None
    delivered: int
    days_to_delivered: Decimal | None
    # Shipments handed to the carrier by the order's due day (payment day + processing days).
    within_processing_days: int
    shipped: int

    @property
    def within_processing_days_rate(self) -> Decimal | None:
        return share(self.within_processing_days, self.shipped)


@dataclass(frozen=True)
class CostRow:
    key: str
    label: str
    units: int
    revenue: Decimal
    cost: Decimal

    @property
    def margin(self) -> Decimal:
        return self.revenue - self.cost

    @property
    def margin_rate(self) -> Decimal | None:
        return (self.margin * 100 / self.revenue).quantize(Decimal("0.1")) if self.revenue else None


@dataclass(frozen=True)
class VendorScore:
    vendor_id: int
    name: str
    processing_days: int
    shipments: int
    # Shipped within the vendor's processing days of being allocated, of those shipped or overdue.
    on_time: int
    judged: int
    exceptions: int
    orders: int
    cost: Decimal
    # Orders of this vendor's shipments with an after-sales case naming the vendor.
    after_sales_orders: int = 0

    @property
    def after_sales_rate(self) -> Decimal | None:
        return share(self.after_sales_orders, self.orders)

    @property
    def on_time_rate(self) -> Decimal | None:
        return share(self.on_time, self.judged)

    @property
    def exception_rate(self) -> Decimal | None:
        return share(self.exceptions, self.shipments)

    @property
    def average_cost_per_order(self) -> Decimal | None:
        return money(self.cost / self.orders) if self.orders else None


@dataclass
class Report:
    period: ReportPeriod
    currency: str
    sales: list[SalesRow] = field(default_factory=list)
    statuses: list[CountRow] = field(default_factory=list)
    shipping_statuses: list[CountRow] = field(default_factory=list)
    late: int = 0
    stuck: int = 0
    fulfillment_times: list[FulfillmentTimeRow] = field(default_factory=list)
    fulfillment_total: FulfillmentTimeRow | None = None
    cost_by_vendor: list[CostRow] = field(default_factory=list)
    cost_by_product: list[CostRow] = field(default_factory=list)
    cost_by_period: list[CostRow] = field(default_factory=list)
    scorecard: list[VendorScore] = field(default_factory=list)
    cost_by_vendor_id: dict = field(default_factory=dict)
    after_sales_by_type: list[CountRow] = field(default_factory=list)
    after_sales_by_mode: list[CountRow] = field(default_factory=list)
    # Sales orders of the period with at least one after-sales case, and what was refunded.
    orders_with_after_sales: int = 0
    refunded: Decimal = ZERO
    after_sales_orders_by_vendor: dict = field(default_factory=dict)

    @property
    def after_sales_cases(self) -> int:
        return sum(row.count for row in self.after_sales_by_type)

    @property
    def after_sales_rate(self) -> Decimal | None:
        return share(self.orders_with_after_sales, self.orders)

    @property
    def orders(self) -> int:
        return sum(row.orders for row in self.sales)

    @property
    def revenue(self) -> Decimal:
        return money(sum((row.revenue for row in self.sales), ZERO))

    @property
    def average_order_value(self) -> Decimal | None:
        return money(self.revenue / self.orders) if self.orders else None

    @property
    def cost(self) -> Decimal:
        return money(sum((row.cost for row in self.cost_by_period), ZERO))

    @property
    def shipped_revenue(self) -> Decimal:
        return money(sum((row.revenue for row in self.cost_by_period), ZERO))


def build_report(merchant, period: ReportPeriod, *, today: datetime.date | None = None) -> Report:
    """Every figure of the period for the merchant (the roll-ups as they stand: refresh them first)."""
    today = today or timezone.localdate(timezone=merchant.zone)
    report = Report(period=period, currency=merchant.currency)
    _add_sales_and_statuses(report, merchant, period)
    _add_late_and_shipping(report, merchant, period, today)
    _add_fulfillment_times(report, merchant, period)
    _add_costs(report, merchant, period)
    _add_after_sales(report, merchant, period)
    _add_scorecard(report, merchant, period, today)
    return report


def _add_after_sales(report: Report, merchant, period: ReportPeriod) -> None:
    cases = AfterSalesCase.objects.for_merchant(merchant).filter(
        order__placed_at__gte=period.starts_at, order__placed_at__lt=period.ends_before
    )
    if period.store_id:
        cases = cases.filter(order__store_id=period.store_id)
    by_type = dict(cases.values("type").annotate(n=Count("id")).order_by().values_list("type", "n"))
    by_mode = dict(cases.values("mode").annotate(n=Count("id")).order_by().values_list("mode", "n"))
    report.after_sales_by_type = [
        CountRow(key=kind.value, label=kind.label, count=by_type.get(kind.value, 0))
        for kind in AfterSalesCase.Type
    ]
    report.after_sales_by_mode = [
        CountRow(key=mode.value, label=mode.label, count=by_mode.get(mode.value, 0))
        for mode in AfterSalesCase.Mode
    ]
    totals = cases.filter(order__status__in=SALES_STATUSES).aggregate(orders=Count("order_id", distinct=True))
    report.orders_with_after_sales = totals["orders"] or 0
    report.refunded = money(cases.aggregate(refunded=Sum("customer_refund"))["refunded"])
    vendor_orders = (
        cases.filter(vendor__isnull=False)
        .values("vendor_id")
        .annotate(n=Count("order_id", distinct=True))
        .order_by()
        .values_list("vendor_id", "n")
    )
    report.after_sales_orders_by_vendor = dict(vendor_orders)


def period_orders(merchant, period: ReportPeriod):
    """The orders placed within the period (in the merchant's time zone), in its store if it has one."""
    orders = Order.objects.for_merchant(merchant).filter(
        placed_at__gte=period.starts_at, placed_at__lt=period.ends_before
    )
    if period.store_id:
        orders = orders.filter(store_id=period.store_id)
    return orders


def _add_sales_and_statuses(report: Report, merchant, period: ReportPeriod) -> None:
    figures = DailyOrderFigures.objects.for_merchant(merchant).filter(
        day__gte=period.starts_on, day__lte=period.ends_on
    )
    if period.store_id:
        figures = figures.filter(store_id=period.store_id)
    sales = {bucket: [0, ZERO] for bucket in period.buckets()}
    rows = (
        figures.filter(status__in=SALES_STATUSES)
        .annotate(bucket=Trunc("day", period.grain, output_field=DateField()))
        .values("bucket")
        .annotate(orders=Sum("order_count"), revenue=Sum("total_sum"))
        .order_by()
    )
    for row in rows:
        sales[_as_date(row["bucket"])] = [row["orders"], money(row["revenue"])]
    report.sales = [
        SalesRow(bucket=bucket, label=period.label(bucket), orders=orders, revenue=revenue)
        for bucket, (orders, revenue) in sales.items()
    ]
    counts = dict(
        figures.values("status").annotate(n=Sum("order_count")).order_by().values_list("status", "n")
    )
    report.statuses = [
        CountRow(key=status.value, label=status.label, count=counts.get(status.value, 0))
        for status in Order.Status
    ]


def _shipment_figures(merchant, period: ReportPeriod):
    figures = DailyShipmentFigures.objects.for_merchant(merchant).filter(
        day__gte=period.starts_on, day__lte=period.ends_on
    )
    if period.store_id:
        figures = figures.filter(store_id=period.store_id)
    return figures


def _add_late_and_shipping(report: Report, merchant, period, today: datetime.date) -> None:
    dated = DailyDatedCounts.objects.for_merchant(merchant).filter(
        day__gte=period.starts_on, day__lte=period.ends_on
    )
    if period.store_id:
        dated = dated.filter(store_id=period.store_id)
    stuck_before = today - datetime.timedelta(days=STUCK_IN_TRANSIT_DAYS)
    waiting = dated.aggregate(
        # Order.is_late's rule: still waiting, due before today.
        late=Sum("count", filter=Q(what=DailyDatedCounts.What.DUE, on__lt=today)),
        # In transit since a day more than 14 days before today.
        stuck=Sum("count", filter=Q(what=DailyDatedCounts.What.IN_TRANSIT, on__lt=stuck_before)),
    )
    report.late = waiting["late"] or 0
    statuses = Fulfillment.ShippingStatus.values
    totals = _shipment_figures(merchant, period).aggregate(**{status: Sum(status) for status in statuses})
    report.shipping_statuses = [
        CountRow(key=status.value, label=status.label, count=totals[status.value] or 0)
        for status in Fulfillment.ShippingStatus
    ]
    # Stuck: in exception, or in transit for over 14 days.
    report.stuck = (totals[Fulfillment.ShippingStatus.EXCEPTION] or 0) + (waiting["stuck"] or 0)


class EpochSeconds(Func):
    """A datetime as seconds since 1970, in SQL: differences of these add up on both databases
    (SQLite and PostgreSQL disagree on adding up durations)."""

    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)"
        )

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)")

    def as_sql(self, compiler, connection, template=None, **extra):
        template = template or "EXTRACT(EPOCH FROM %(expressions)s)"
        return super().as_sql(compiler, connection, template=template, **extra)


def _add_fulfillment_times(report: Report, merchant, period: ReportPeriod) -> None:
    rows = (
        _shipment_figures(merchant, period)
        .annotate(bucket=Trunc("day", period.grain, output_field=DateField()))
        .values("bucket")
        .annotate(
            shipments=Sum("paid_shipments"),
            shipped=Sum("paid_shipped"),
            to_transit=Sum("seconds_to_in_transit"),
            within=Sum("shipped_by_due_day"),
            delivered=Sum("paid_delivered"),
            to_delivered=Sum("seconds_to_delivered"),
        )
        .order_by()
    )
    totals: dict = defaultdict(lambda: [0, 0.0, 0, 0.0, 0, 0])
    for row in rows:
        for key in (_as_date(row["bucket"]), None):
            entry = totals[key]
            entry[0] += row["shipments"] or 0
            entry[1] += float(row["to_transit"] or 0)
            entry[2] += row["delivered"] or 0
            entry[3] += float(row["to_delivered"] or 0)
            entry[4] += row["shipped"] or 0
            entry[5] += row["within"] or 0

    def row_for(key, label):
        count, to_transit, delivered, to_delivered, shipped, within = totals[key]
        return FulfillmentTimeRow(
            bucket=key,
            label=label,
            shipments=count,
            days_to_in_transit=_days(to_transit / shipped) if shipped else None,
            delivered=delivered,
            days_to_delivered=_days(to_delivered / delivered) if delivered else None,
            within_processing_days=within,
            shipped=shipped,
        )

    report.fulfillment_times = [row_for(bucket, period.label(bucket)) for bucket in period.buckets()]
    report.fulfillment_total = row_for(None, "All")


def _shipments_of(merchant, period: ReportPeriod):
    """The shipments of the period's orders, filtered through the join (not an IN list of order ids)."""
    shipments = Fulfillment.objects.for_merchant(merchant).filter(
        order__placed_at__gte=period.starts_at, order__placed_at__lt=period.ends_before
    )
    if period.store_id:
        shipments = shipments.filter(order__store_id=period.store_id)
    return shipments


def _days(seconds: float) -> Decimal:
    # Whole seconds add up exactly in a float; three decimals keep the rounding the same as in Decimal.
    return (Decimal(str(round(seconds, 3))) / 86400).quantize(Decimal("0.1"))


def shipped_lines(merchant, period: ReportPeriod):
    """The shipped lines of the period's orders (cancelled ones left out), each with its revenue and cost."""
    lines = FulfillmentLine.objects.for_merchant(merchant).filter(
        fulfillment__order__placed_at__gte=period.starts_at,
        fulfillment__order__placed_at__lt=period.ends_before,
    )
    if period.store_id:
        lines = lines.filter(fulfillment__order__store_id=period.store_id)
    return lines.exclude(fulfillment__order__status=Order.Status.CANCELLED).annotate(
        line_revenue=F("quantity") * F("order_line__unit_price"),
        line_cost=F("quantity") * (Coalesce("unit_cost", ZERO) + Coalesce("shipping_cost", ZERO)),
    )


def _add_costs(report: Report, merchant, period: ReportPeriod) -> None:
    # The daily cost roll-ups, grouped finely; the three tables add them up here.
    figures = DailyCostFigures.objects.for_merchant(merchant).filter(
        day__gte=period.starts_on, day__lte=period.ends_on
    )
    if period.store_id:
        figures = figures.filter(store_id=period.store_id)
    rows = (
        figures.annotate(bucket=Trunc("day", period.grain, output_field=DateField()))
        .values("vendor_id", "sku", "title", "bucket")
        .annotate(units=Sum("units"), revenue=Sum("revenue"), cost=Sum("cost"))
        .order_by()
        .values_list("vendor_id", "sku", "title", "bucket", "units", "revenue", "cost")
    )
    rows = [
        {
            "fulfillment__vendor_id": vendor_id,
            "order_line__sku": sku,
            "order_line__title": title,
            "bucket": bucket,
            "units": units,
            "revenue": revenue,
            "cost": cost,
        }
        for vendor_id, sku, title, bucket, units, revenue, cost in rows
    ]
    by_vendor, by_product, by_bucket = (defaultdict(lambda: [0, ZERO, ZERO]) for _ in range(3))
    for row in rows:
        keys = (
            (by_vendor, row["fulfillment__vendor_id"]),
            (by_product, (row["order_line__sku"], row["order_line__title"])),
            (by_bucket, _as_date(row["bucket"])),
        )
        for table, key in keys:
            entry = table[key]
            entry[0] += row["units"]
            entry[1] += row["revenue"] or ZERO
            entry[2] += row["cost"] or ZERO
    names = dict(Vendor.objects.for_merchant(merchant).values_list("pk", "name"))
    report.cost_by_vendor = sorted(
        (
            CostRow(
                key=str(vendor_id or ""),
                label=names.get(vendor_id, "Shipped by the shop"),
                units=units,
                revenue=money(revenue),
                cost=money(cost),
            )
            for vendor_id, (units, revenue, cost) in by_vendor.items()
        ),
        key=lambda row: (-row.revenue, row.label),
    )
    products = sorted(
        (
            CostRow(
                key=sku or title,
                label=_product_label(sku, title),
                units=units,
                revenue=money(revenue),
                cost=money(cost),
            )
            for (sku, title), (units, revenue, cost) in by_product.items()
        ),
        key=lambda row: (-row.revenue, row.label),
    )
    report.cost_by_product = products[:TOP_PRODUCTS]
    report.cost_by_period = [
        CostRow(
            key=bucket.isoformat(),
            label=period.label(bucket),
            units=by_bucket[bucket][0] if bucket in by_bucket else 0,
            revenue=money(by_bucket[bucket][1] if bucket in by_bucket else ZERO),
            cost=money(by_bucket[bucket][2] if bucket in by_bucket else ZERO),
        )
        for bucket in period.buckets()
    ]
    report.cost_by_vendor_id = {vendor_id: money(cost) for vendor_id, (_, _, cost) in by_vendor.items()}


def _product_label(sku: str, title: str) -> str:
    return f"{title} ({sku})" if sku else title


def _add_scorecard(report: Report, merchant, period: ReportPeriod, today: datetime.date) -> None:
    now = timezone.now()
    vendors = {vendor.pk: vendor for vendor in Vendor.objects.for_merchant(merchant)}
    rows = (
        _shipment_figures(merchant, period)
        .filter(vendor__isnull=False)
        .values("vendor_id")
        .annotate(
            shipments=Sum("shipments"),
            on_time=Sum("on_time"),
            late=Sum("shipped_late"),
            orders=Sum("orders"),
            exceptions=Sum("met_exception"),
        )
        .order_by()
    )
    scores: dict[int, dict] = {row["vendor_id"]: row for row in rows}
    # Not handed to the carrier yet (pending or processing) and past the vendor's processing days:
    # late as of now. Few shipments wait so; the index of a vendor's shipments by status and
    # allocation time finds them.
    overdue = Q(pk__in=[])
    days_of = defaultdict(list)
    for vendor in vendors.values():
        days_of[vendor.processing_days].append(vendor.pk)
    for days, vendor_ids in days_of.items():
        overdue |= Q(vendor_id__in=vendor_ids, created_at__lt=now - datetime.timedelta(days=days))
    if scores:
        unshipped = (
            _shipments_of(merchant, period)
            .filter(status__in=NOT_HANDED_OVER, shipped_at__isnull=True)
            .filter(overdue)
            .values("vendor_id")
            .annotate(n=Count("id"))
            .order_by()
            .values_list("vendor_id", "n")
        )
        for vendor_id, count in unshipped:
            scores[vendor_id]["late"] += count
    costs = report.cost_by_vendor_id
    report.scorecard = sorted(
        (
            VendorScore(
                vendor_id=vendor_id,
                name=vendors[vendor_id].name,
                processing_days=vendors[vendor_id].processing_days,
                shipments=score["shipments"],
                on_time=score["on_time"],
                judged=score["on_time"] + score["late"],
                exceptions=score["exceptions"],
                orders=score["orders"],
                cost=money(costs.get(vendor_id)),
                after_sales_orders=report.after_sales_orders_by_vendor.get(vendor_id, 0),
            )
            for vendor_id, score in scores.items()
        ),
        key=lambda score: (-score.shipments, score.name),
    )


def _as_date(value) -> datetime.date:
    """A bucket as a date (SQLite hands back text, some backends datetimes)."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, str):
        return datetime.date.fromisoformat(value[:10])
    return value
