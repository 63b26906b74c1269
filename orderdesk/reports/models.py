"""What the reports keep: daily roll-ups of the orders (rebuilt for the days touched) and exports."""

import secrets
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

from orderdesk.tenancy import MerchantOwned


class DailyOrderFigures(MerchantOwned):
    """How many orders a store took on one day (in the merchant's time zone) that are now in one
    status, and what they came to. The sales and status figures add these up instead of the orders.

    Rebuilt by `rollups.refresh_order_figures` for every day an order of which changed since the
    last run; `rollups.recount_differences` compares them with the orders themselves.
    """

    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    status = models.CharField(max_length=20)
    order_count = models.PositiveIntegerField(default=0)
    total_sum = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    item_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            # Also the index of a report's sales and statuses: a merchant's days in a range.
            models.UniqueConstraint(
                fields=["merchant", "day", "store", "status"], name="one_figure_per_store_day_status"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} store {self.store_id} {self.status}: {self.order_count}"


class DailyCostFigures(MerchantOwned):
    """What one product shipped by one vendor (or the shop, vendor empty) for the orders a store took
    on one day brought in and cost: the cost and margin figures add these up. Orders cancelled
    are left out. Rebuilt with DailyOrderFigures, for the days whose orders or shipments changed.
    """

    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    vendor = models.ForeignKey(
        "vendors.Vendor", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    sku = models.CharField(max_length=64, blank=True)
    title = models.CharField(max_length=255)
    units = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    cost = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))

    class Meta:
        indexes = [
            # A report's cost tables: a merchant's days in a range.
            models.Index(fields=["merchant", "day"], name="cost_figures_by_day"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.day} store {self.store_id} vendor {self.vendor_id} {self.sku or self.title}: {self.units}"
        )


class DailyShipmentFigures(MerchantOwned):
    """The shipments of the orders a store took on one day (in the merchant's time zone), per vendor
    (or the shop, vendor empty): counts, and sums of times rather than verdicts, so the shipping,
    fulfillment-time and scorecard figures add these up instead of reading the shipments. What
    depends on the moment of asking is kept as dates (DailyDatedCounts), or, for vendors'
    shipments not yet handed over and past their processing days, counted on each request. Rebuilt with DailyOrderFigures, for the days whose orders
    or shipments changed, and for those counted with a vendor's earlier processing days.
    """

    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    vendor = models.ForeignKey(
        "vendors.Vendor", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # The vendor's processing days `on_time` was judged with (0 for the shop's own shipments).
    processing_days = models.PositiveIntegerField(default=0)
    shipments = models.PositiveIntegerField(default=0)
    orders = models.PositiveIntegerField(default=0)
    # By shipping status now.
    pending = models.PositiveIntegerField(default=0)
    processing = models.PositiveIntegerField(default=0)
    in_transit = models.PositiveIntegerField(default=0)
    exception = models.PositiveIntegerField(default=0)
    delivered = models.PositiveIntegerField(default=0)
    # Shipments that met an exception on the way (a tracking event says so), whatever they are now.
    met_exception = models.PositiveIntegerField(default=0)
    # Handed to the carrier within the vendor's processing days of being allocated, or after.
    on_time = models.PositiveIntegerField(default=0)
    shipped_late = models.PositiveIntegerField(default=0)
    # Of the shipments of paid orders: how many, those handed to the carrier (with the seconds from
    # payment, and those by the order's due day), those delivered (with the seconds from payment).
    paid_shipments = models.PositiveIntegerField(default=0)
    paid_shipped = models.PositiveIntegerField(default=0)
    seconds_to_in_transit = models.FloatField(default=0)
    shipped_by_due_day = models.PositiveIntegerField(default=0)
    paid_delivered = models.PositiveIntegerField(default=0)
    seconds_to_delivered = models.FloatField(default=0)

    class Meta:
        indexes = [
            # A report's shipment figures: a merchant's days in a range.
            models.Index(fields=["merchant", "day"], name="shipment_figures_by_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} store {self.store_id} vendor {self.vendor_id}: {self.shipments} shipment(s)"


class DailyDatedCounts(MerchantOwned):
    """What of the orders a store took on one day waits on a date: orders still to be dispatched
    (LATE_STATUSES) by their due day, and shipments in transit by the day (in the merchant's zone)
    they were handed to the carrier. "Late" and "stuck" today are the counts before a day, so no
    report reads the orders or shipments for them. Rebuilt with DailyOrderFigures."""

    class What(models.TextChoices):
        DUE = "due", "Orders waiting, by due day"
        IN_TRANSIT = "in_transit", "Shipments in transit, by the day handed over"

    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    what = models.CharField(max_length=10, choices=What.choices)
    on = models.DateField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["merchant", "day"], name="dated_counts_by_day")]

    def __str__(self) -> str:
        return f"{self.day} store {self.store_id} {self.what} {self.on}: {self.count}"


class RollupState(models.Model):
    """Up to when a merchant's roll-ups have taken in its orders' changes."""

    merchant = models.OneToOneField("accounts.Merchant", on_delete=models.CASCADE, related_name="+")
    # Every order changed before this (less a margin for transactions still open) is counted.
    counted_through = models.DateTimeField()
    # Every shipment change writes a tracking event: those up to this id are counted.
    tracking_events_through = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.merchant_id}: counted through {self.counted_through:%Y-%m-%d %H:%M}"


def new_download_token() -> str:
    return secrets.token_urlsafe(24)


class Export(MerchantOwned):
    """A large export made in the background: what was asked, how far it got, and its file."""

    class Kind(models.TextChoices):
        ORDERS = "orders", "Orders"
        LINES = "lines", "Order lines"
        SHIPMENTS = "shipments", "Shipments"
        COSTS = "costs", "Costs"
        AFTER_SALES = "after_sales", "After-sales cases"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel (XLSX)"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    file_format = models.CharField(max_length=4, choices=Format.choices)
    # The filter it was asked with (an Order Tracking filter or a report's), as the query string held it.
    criteria = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    row_count = models.PositiveIntegerField(default=0)
    rows_written = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    file_name = models.CharField(max_length=255, blank=True)
    # Where the file lies in the default storage (a generated name, never the user's words).
    file_path = models.CharField(max_length=255, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_email = models.EmailField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The Reports page's list of a merchant's recent exports.
            models.Index(fields=["merchant", "-created_at"], name="export_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.get_file_format_display()} ({self.get_status_display()})"

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.row_count:
            return 0
        return min(99, self.rows_written * 100 // self.row_count)
