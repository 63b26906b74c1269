"""The bench's shipment figures: a vendor's work list and the merchant's shipping-status tabs.

The fill makes the merchant's own shipments; before timing, every third one is handed to a
bench vendor (as if allocated to it), each shipment's last tracking time is set from its
dates, and the kept shipment counts are rebuilt, since the fill bypasses the actions. On
PostgreSQL the shipments are then vacuumed, as autovacuum would after such a mass update: the
tabs' index-only scans need the visibility map, and a first reader of a freshly updated row
pays for its hint bits (the first run after a fill measured a p95 of 507 ms, the next 7 ms)."""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce, Mod
from django.test import Client
from django.urls import reverse

from orderdesk.accounts.models import Membership, User
from orderdesk.fulfillment.counts import recount_shipments
from orderdesk.fulfillment.models import Fulfillment
from orderdesk.fulfillment.queries import SHIPPING_TABS
from orderdesk.vendors.models import Vendor

VENDOR_EMAIL = "bench-vendor@orderdesk.local"


def vendor_client(bench) -> Client:
    """The bench vendor's person, signed in; its shipments are every third of the merchant's."""
    with transaction.atomic():
        vendor, _ = Vendor.objects.get_or_create(merchant=bench.merchant, name="Bench vendor")
        user = User.objects.filter(email=VENDOR_EMAIL).first() or User.objects.create_user(VENDOR_EMAIL, None)
        Membership.objects.filter(user=user).exclude(merchant=bench.merchant).delete()
        Membership.objects.get_or_create(
            user=user,
            merchant=bench.merchant,
            defaults={"role": Membership.Role.VENDOR_USER, "vendor": vendor},
        )
        shipments = Fulfillment.objects.for_merchant(bench.merchant)
        changed = shipments.filter(last_event_at=None).update(
            last_event_at=Coalesce(F("delivered_at"), F("shipped_at"), F("created_at"))
        )
        changed += (
            shipments.filter(vendor=None)
            .annotate(third=Mod("id", 3))
            .filter(third=0)
            .update(vendor=vendor, shipped_by=Fulfillment.Shipper.VENDOR)
        )
    if changed and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(Fulfillment._meta.db_table)}")
    recount_shipments(bench.merchant)
    client = Client(HTTP_X_FORWARDED_PROTO="https")
    client.force_login(user)
    return client


def _five_tabs(bench, client) -> dict:
    """The first page of each of the five statuses in turn, timed, with this process's CPU time
    per request (p50/p95/p99): on a loaded machine the wall clock mostly measures the wait for a core."""
    import time

    from .figures import answered_200, timed
    from .stats import percentile

    url = reverse("shipments:list")
    statuses = [SHIPPING_TABS[i % len(SHIPPING_TABS)] for i in range(bench.requests)]
    cpu: list[float] = []

    def request(status):
        started = time.process_time()
        response = client.get(url, {"status": status})
        cpu.append((time.process_time() - started) * 1000)
        return response

    figure = timed([(lambda status=status: request(status)) for status in statuses], check=answered_200)
    cpu = cpu[1:]  # the warm-up call
    return figure | {"cpu_ms": {f"p{share}": round(percentile(cpu, share), 2) for share in (50, 95, 99)}}


def vendor_work_list(bench) -> dict:
    client = vendor_client(bench)
    held = Fulfillment.objects.for_merchant(bench.merchant).exclude(vendor=None).count()
    return _five_tabs(bench, client) | {
        "what": f"a vendor's work list, first page of each of the five statuses in turn ({held:,} shipments)"
    }


def shipping_status_tabs(bench) -> dict:
    vendor_client(bench)  # the same shipments as the work list's
    held = Fulfillment.objects.for_merchant(bench.merchant).count()
    return _five_tabs(bench, bench.client()) | {
        "what": f"Order Tracking's shipping-status view, the five tabs in turn ({held:,} shipments)"
    }


def auto_allocation(bench) -> dict:
    """What auto-allocation adds to placing a paid order of 3 lines hosted with 2 vendors: the same
    order recorded with its variants hosted and with variants no vendor hosts, alternately (so load
    drifts hit both alike), auto-processing on for both. The unhosted order pays the hosting lookup
    and nothing more, so the difference is the allocation itself: shipments, their lines, cost
    snapshots, tracking events, counts, the timeline event, the vendors' digests and webhooks."""
    import time

    from django.db import connection

    from orderdesk.accounts.actors import Actor
    from orderdesk.accounts.models import Merchant
    from orderdesk.catalog.models import Product, Variant
    from orderdesk.notifications import delivery
    from orderdesk.orders import actions
    from orderdesk.orders.actions import LineInput, NewOrder
    from orderdesk.vendors.models import Hosting

    from . import fill
    from .figures import _paid_order
    from .stats import CountedQueries, percentile, summarize

    merchant = bench.writes_merchant
    actor = Actor.for_user(bench.writes_owner)
    Merchant.objects.filter(pk=merchant.pk).update(auto_processing=True)
    vendors = [
        Vendor.objects.get_or_create(
            merchant=merchant, name=f"Bench vendor {n}", defaults={"contact_email": f"v{n}@bench.example"}
        )[0]
        for n in (1, 2)
    ]
    variant_ids: dict[bool, list[int]] = {True: [], False: []}
    for hosted in (True, False):
        for k, (sku, title, price) in enumerate(fill.PRODUCTS[: fill.LINES_PER_ORDER]):
            product, _ = Product.objects.get_or_create(
                merchant=merchant, title=f"{title} ({'hosted' if hosted else 'own'})"
            )
            variant, _ = Variant.objects.get_or_create(
                merchant=merchant,
                sku=f"{'AUTO' if hosted else 'OWN'}-{sku}",
                defaults={"product": product, "price": price},
            )
            if hosted:
                Hosting.objects.update_or_create(
                    variant=variant,
                    defaults={
                        "merchant": merchant,
                        "vendor": vendors[0 if k < 2 else 1],
                        "unit_cost": price / 2,
                    },
                )
            variant_ids[hosted].append(variant.pk)

    def order(number: int, hosted: bool) -> NewOrder:
        new = _paid_order(3_000_000 + number)
        lines = [
            LineInput(
                title=line.title,
                sku=line.sku,
                quantity=line.quantity,
                unit_price=line.unit_price,
                variant_id=pk,
            )
            for line, pk in zip(new.lines, variant_ids[hosted], strict=True)
        ]
        return NewOrder(**{**new.__dict__, "lines": lines})

    # The vendors' emails are sent after the timings: a delivery thread writing beside the timed
    # transactions would time SQLite's one writer, not the allocation.
    held: list[int] = []
    start_delivery = delivery.start_delivery
    delivery.start_delivery = held.extend
    timings: dict[bool, list[float]] = {True: [], False: []}
    # CPU time of this process (SQLite works inside it): what a loaded machine's waits leave out.
    cpu: dict[bool, list[float]] = {True: [], False: []}
    counts: dict[bool, list[int]] = {True: [], False: []}
    try:
        for number in range(2 * bench.requests + 2):
            hosted = number % 2 == 0
            new = order(number, hosted)
            with CountedQueries(connection) as captured:
                started, cpu_started = time.perf_counter(), time.process_time()
                actions.record_order(new, by=actor, payment_confirmed=True)
                elapsed = (time.perf_counter() - started) * 1000
                cpu_used = (time.process_time() - cpu_started) * 1000
            if number >= 2:  # the first of each is a warm-up
                timings[hosted].append(elapsed)
                cpu[hosted].append(cpu_used)
                counts[hosted].append(captured.count)
    finally:
        delivery.start_delivery = start_delivery
    start_delivery(held)
    hosted_figure, unhosted = summarize(timings[True], counts[True]), summarize(timings[False], counts[False])

    def cpu_at(share: int, hosted: bool) -> float:
        return round(percentile(cpu[hosted], share), 2)

    return hosted_figure | {
        "what": "record_order(payment_confirmed=True) of 3 lines hosted with 2 vendors, auto-processing on; "
        "alternating with the same order of 3 variants no vendor hosts; the vendors' emails queued inside, sent after",
        "without_hosting": unhosted,
        "extra_p50_ms": round(hosted_figure["p50_ms"] - unhosted["p50_ms"], 2),
        "extra_p95_ms": round(hosted_figure["p95_ms"] - unhosted["p95_ms"], 2),
        "extra_sql": hosted_figure["sql_max"] - unhosted["sql_max"],
        # CPU ms per order of this process, p50/p95/p99, with and without hosting, and the difference.
        "cpu_ms": {f"p{share}": cpu_at(share, True) for share in (50, 95, 99)},
        "cpu_ms_without_hosting": {f"p{share}": cpu_at(share, False) for share in (50, 95, 99)},
        "extra_cpu_ms": {
            f"p{share}": round(cpu_at(share, True) - cpu_at(share, False), 2) for share in (50, 95, 99)
        },
    }
