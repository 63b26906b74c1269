"""The Reports page and exports at scale (issue 13): every report's p50/p95/p99, the roll-up refresh,
the roll-ups checked against a recount, and exports' rows per second and peak memory.

The bench fill has no vendors; before timing, a quarter of the shipments is given to each of two
bench vendors with costs on their lines (once: a later run finds them given), so the cost and
scorecard figures read real rows; then the roll-ups are rebuilt in full.
"""

from __future__ import annotations

import datetime
import os
import resource
import tempfile
import threading
import time
from decimal import Decimal

from django.db import connection
from django.db.models import F
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone

from orderdesk.fulfillment.models import Fulfillment, FulfillmentLine
from orderdesk.orders.models import Order
from orderdesk.reports.exports import SHEETS, formats_in_the_database, orders_for, write_csv, write_xlsx
from orderdesk.reports.models import Export
from orderdesk.reports.rollups import recount_differences, refresh_order_figures
from orderdesk.vendors.models import Vendor

from .figures import Bench, answered_200, timed

BENCH_VENDORS = [("Bench vendor A", 2, Decimal("210.00")), ("Bench vendor B", 3, Decimal("180.00"))]


def _give_shipments_vendors(bench: Bench) -> None:
    """A quarter of the shipments (by id) to each bench vendor, with costs on their lines: two
    UPDATEs of each table the first time, and one indexed look the next (a run at a million orders
    must not rewrite half the shipments again)."""
    merchant = bench.merchant
    vendors = [
        Vendor.objects.get_or_create(merchant=merchant, name=name, defaults={"processing_days": days})[0]
        for name, days, _ in BENCH_VENDORS
    ]
    if Fulfillment.objects.filter(vendor__in=vendors).exists():
        return
    shipments = Fulfillment.objects.for_merchant(merchant).filter(vendor__isnull=True)
    for remainder, vendor in ((1, vendors[0]), (3, vendors[1])):
        chosen = shipments.annotate(slot=F("id") % 4).filter(slot=remainder)
        chosen.update(vendor=vendor, shipped_by=Fulfillment.Shipper.VENDOR)
    for vendor, (_, _, unit_cost) in zip(vendors, BENCH_VENDORS, strict=True):
        FulfillmentLine.objects.for_merchant(merchant).filter(
            fulfillment__vendor=vendor, unit_cost__isnull=True
        ).update(unit_cost=unit_cost, shipping_cost=Decimal("35.00"))


def _prepared(bench: Bench) -> None:
    if getattr(bench, "_reports_ready", False):
        return
    _give_shipments_vendors(bench)
    refresh_order_figures(bench.merchant, full=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    bench._reports_ready = True


def _report_figure(bench: Bench, *, days: int, grain: str, what: str) -> dict:
    _prepared(bench)
    today = timezone.localdate(timezone=bench.merchant.zone)
    query = {
        "starts_on": (today - datetime.timedelta(days=days - 1)).isoformat(),
        "ends_on": today.isoformat(),
        "grain": grain,
    }
    client, url = bench.client(), reverse("reports:report")
    # The roll-ups were refreshed just now; the page must not start a refresh per request.
    with override_settings(REPORTS_ROLLUP_MAX_AGE_SECONDS=10**6):
        result = timed([lambda: client.get(url, query)] * bench.requests, check=answered_200)
    orders = (
        Order.objects.for_merchant(bench.merchant).filter(placed_at__date__gte=query["starts_on"]).count()
    )
    return result | {"what": f"{what}; {orders:,} orders placed in the period"}


def report_30_days(bench: Bench) -> dict:
    return _report_figure(bench, days=30, grain="day", what="Reports page, last 30 days by day, all stores")


def report_12_months(bench: Bench) -> dict:
    return _report_figure(bench, days=365, grain="month", what="Reports page, last 365 days by month")


def rollup_refresh(bench: Bench) -> dict:
    """A refresh after one order changed (the work the background does every minute)."""
    _prepared(bench)
    merchant = bench.merchant
    ids = list(Order.objects.for_merchant(merchant).order_by("-id").values_list("id", flat=True)[:1000])

    def touch_and_refresh(order_id):
        Order.objects.filter(pk=order_id).update(updated_at=timezone.now())
        return refresh_order_figures(merchant)

    chosen = [ids[i % len(ids)] for i in range(bench.requests)]
    calls = [(lambda order_id=order_id: touch_and_refresh(order_id)) for order_id in chosen]
    result = timed(calls)
    started = time.perf_counter()
    differences = recount_differences(merchant)
    return result | {
        "what": "one order touched, then the roll-ups refreshed for the days touched (incl. the scan for them)",
        "recount_agrees": differences == [],
        "recount_seconds": round(time.perf_counter() - started, 1),
    }


def _export(bench: Bench, kind: str, file_format: str) -> dict:
    _prepared(bench)
    merchant = bench.merchant
    sheet = SHEETS[kind]
    orders = orders_for(merchant, {})
    write = write_xlsx if file_format == Export.Format.XLSX else write_csv
    watcher = _PeakMemory()
    cpu_started, started = time.process_time(), time.perf_counter()
    with watcher, tempfile.TemporaryFile() as out:
        rows = write(sheet, merchant, orders, out)
        size = out.tell()
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    milliseconds = round(seconds * 1000, 1)
    how = "COPY in PostgreSQL" if file_format == "csv" and formats_in_the_database() else "Python"
    return {
        "requests": 1,
        "p50_ms": milliseconds,
        "p95_ms": milliseconds,
        "p99_ms": milliseconds,
        "sql_min": None,
        "sql_max": None,
        "per_second": round(rows / seconds),
        "rows": rows,
        "file_mb": round(size / 1024**2, 1),
        "cpu_seconds": round(cpu_seconds, 1),
        "peak_rss_mb": round(watcher.peak / 1024**2, 1),
        "rss_growth_mb": round((watcher.peak - watcher.before) / 1024**2, 1),
        "what": f"every order's {kind} as {file_format} ({rows:,} rows, {how}) to a file; one run: time in "
        "ms, rows/s, the bench process's CPU seconds, its peak resident memory (sampled every 20 ms) "
        "and its growth during the export",
    }


class _PeakMemory:
    """The process's resident memory at its highest while inside the block (read from /proc)."""

    def __enter__(self):
        self.before = self.peak = _resident_bytes()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._done.wait(0.02):
            self.peak = max(self.peak, _resident_bytes())

    def __exit__(self, *exc):
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, _resident_bytes())


def _resident_bytes() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # not Linux: the high-water mark of the whole process
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def export_orders_csv(bench: Bench) -> dict:
    return _export(bench, Export.Kind.ORDERS, Export.Format.CSV)


def export_lines_csv(bench: Bench) -> dict:
    return _export(bench, Export.Kind.LINES, Export.Format.CSV)


def export_orders_xlsx(bench: Bench) -> dict:
    return _export(bench, Export.Kind.ORDERS, Export.Format.XLSX)


def export_lines_xlsx(bench: Bench) -> dict:
    return _export(bench, Export.Kind.LINES, Export.Format.XLSX)


FIGURES = [
    ("Report 30 days by day", report_30_days),
    ("Report 365 days by month", report_12_months),
    # The exports before the recount, whose dictionaries of a million orders would stay in the
    # process's resident memory and hide the exports' own peak.
    ("Export orders CSV", export_orders_csv),
    ("Export lines CSV", export_lines_csv),
    ("Export orders XLSX", export_orders_xlsx),
    ("Export lines XLSX", export_lines_xlsx),
    ("Roll-up refresh (1 order)", rollup_refresh),
]
