"""How fast Order Tracking answers at scale: fills one merchant with N orders, then times
the pages a merchant opens most, through the real views and queries.

    uv run python manage.py bench --orders 1000000      # prints a table, writes artifacts/bench-*.json

Orders are bulk-inserted (not through the actions) so a million take minutes, not hours;
the timed part uses the same code the pages use.
"""

import datetime
import json
import random
import statistics
import time
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orderdesk.accounts.models import Membership, Merchant, User
from orderdesk.orders import queries
from orderdesk.orders.counts import recount_orders
from orderdesk.orders.models import Order, OrderLine
from orderdesk.stores.models import Store

BENCH_EMAIL = "bench@orderdesk.local"
BATCH = 5000
STATUS_SHARE = [
    (Order.Status.PENDING, 0.08),
    (Order.Status.DISPATCHED, 0.10),
    (Order.Status.FULFILLED, 0.72),
    (Order.Status.CANCELLED, 0.05),
    (Order.Status.AWAITING_PAYMENT, 0.05),
]
NAMES = [
    "Maria Santos",
    "Jose Reyes",
    "Ana Cruz",
    "Juan Bautista",
    "Liza Garcia",
    "Mark Mendoza",
    "Grace Torres",
    "Paolo Ramos",
    "Bea Aquino",
    "Carlo Navarro",
    "Joy Flores",
    "Miguel Lim",
]


class Command(BaseCommand):
    help = "Fill a bench merchant with N orders (once) and time Order Tracking's pages and queries."

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=100_000)
        parser.add_argument("--repeat", type=int, default=7, help="Timed runs per measurement.")
        parser.add_argument("--output", default="", help="JSON file (default artifacts/bench-<db>-<N>.json)")

    def handle(self, *args, orders: int, repeat: int, output: str, **options):
        merchant, owner = self._bench_merchant()
        have = Order.objects.for_merchant(merchant).count()
        if have < orders:
            started = time.perf_counter()
            self._fill(merchant, have, orders)
            recount_orders(merchant)  # bulk inserts bypass the actions that keep the counts
            self.stdout.write(f"Inserted {orders - have:,} orders in {time.perf_counter() - started:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

        client = Client()
        client.force_login(owner)
        tracking = reverse("orders:tracking")
        deep_cursor = self._cursor_pages_deep(merchant, pages=500)
        sample = (
            Order.objects.for_merchant(merchant).order_by("-id").values("reference", "customer_phone").first()
        )
        measurements = {
            "tracking page, Pending tab": lambda: client.get(tracking, {"status": "pending"}),
            "tracking page, Fulfilled tab": lambda: client.get(tracking, {"status": "fulfilled"}),
            "tracking page, Fulfilled 500 pages deep": lambda: client.get(
                tracking, {"status": "fulfilled", "after": deep_cursor}
            ),
            "tracking page, search exact reference": lambda: client.get(
                tracking, {"status": "fulfilled", "q": sample["reference"]}
            ),
            "tracking page, search phone": lambda: client.get(
                tracking, {"status": "fulfilled", "q": sample["customer_phone"]}
            ),
            "tracking page, search a name": lambda: client.get(
                tracking, {"status": "fulfilled", "q": "Garcia"}
            ),
            "tracking page, search with no match": lambda: client.get(
                tracking, {"status": "fulfilled", "q": "Zzyzx"}
            ),
            "order page": lambda: client.get(
                reverse("orders:detail", args=[Order.objects.for_merchant(merchant).latest("id").pk])
            ),
            "tab counts query": lambda: queries.tab_counts(merchant),
        }
        results = {}
        for name, call in measurements.items():
            response = call()  # warm up, and check the page answers
            if hasattr(response, "status_code") and response.status_code != 200:
                raise SystemExit(f"{name}: HTTP {response.status_code}")
            timings = []
            for _ in range(repeat):
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    call()
                    timings.append((time.perf_counter() - started) * 1000)
            results[name] = {
                "median_ms": round(statistics.median(timings), 1),
                "max_ms": round(max(timings), 1),
                "queries": len(captured.captured_queries),
            }

        vendor = connection.vendor
        report = {
            "database": vendor,
            "orders": orders,
            "measured_at": timezone.now().isoformat(),
            "repeat": repeat,
            "results": results,
        }
        self.stdout.write(f"\nOrder Tracking on {vendor} with {orders:,} orders (median of {repeat} runs)")
        self.stdout.write(f"{'measurement':45} {'median ms':>10} {'max ms':>10} {'queries':>8}")
        for name, numbers in results.items():
            self.stdout.write(
                f"{name:45} {numbers['median_ms']:>10} {numbers['max_ms']:>10} {numbers['queries']:>8}"
            )
        path = Path(output) if output else settings.BASE_DIR / "artifacts" / f"bench-{vendor}-{orders}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2))
        self.stdout.write(f"\nWritten to {path}")

    def _bench_merchant(self):
        owner = User.objects.filter(email=BENCH_EMAIL).first()
        if owner is None:
            with transaction.atomic():
                merchant = Merchant.objects.create(
                    name="Bench Merchant", short_name="BENCH", order_reference_prefix="BN"
                )
                owner = User.objects.create_user(BENCH_EMAIL, None)
                Membership.objects.create(user=owner, merchant=merchant, role=Membership.Role.OWNER)
                Store.objects.create(merchant=merchant, name="Bench store")
        return owner.memberships.get().merchant, owner

    def _fill(self, merchant, start: int, end: int) -> None:
        rng = random.Random(start)
        store = Store.objects.get(merchant=merchant, name="Bench store")
        statuses = [status for status, _ in STATUS_SHARE]
        weights = [share for _, share in STATUS_SHARE]
        now = timezone.now()
        span_seconds = 2 * 365 * 24 * 3600
        for batch_start in range(start, end, BATCH):
            batch_end = min(batch_start + BATCH, end)
            new_orders = []
            for number in range(batch_start, batch_end):
                status = rng.choices(statuses, weights)[0]
                placed_at = now - datetime.timedelta(seconds=span_seconds * (1 - number / end))
                total = Decimal(rng.randrange(10_000, 500_000)) / 100
                new_orders.append(
                    Order(
                        merchant=merchant,
                        store=store,
                        reference=f"BN-{number + 1}",
                        status=status,
                        customer_name=rng.choice(NAMES),
                        customer_phone=f"+63917{number:07d}",
                        shipping_address="12 Mabini St, Makati",
                        currency="PHP",
                        subtotal=total,
                        total=total,
                        payment_method=Order.PaymentMethod.GCASH,
                        payment_status=Order.PaymentStatus.UNPAID
                        if status == Order.Status.AWAITING_PAYMENT
                        else Order.PaymentStatus.PAID,
                        shipping_option="J&T Express",
                        processing_days=3,
                        due_on=(placed_at + datetime.timedelta(days=3)).date(),
                        placed_at=placed_at,
                        customer_page_token=f"bench-{merchant.pk}-{number}",
                    )
                )
            with transaction.atomic():
                created = Order.objects.bulk_create(new_orders)
                if created[0].pk is None:  # backends that do not return ids
                    created = list(
                        Order.objects.for_merchant(merchant)
                        .filter(reference__in=[o.reference for o in new_orders])
                        .only("id", "total")
                    )
                OrderLine.objects.bulk_create(
                    OrderLine(
                        merchant=merchant,
                        order_id=order.pk,
                        sku="BN-1",
                        title="Abaca tote bag",
                        quantity=1,
                        unit_price=order.total,
                    )
                    for order in created
                )
            self.stdout.write(f"  {batch_end:,} orders", ending="\r")
            self.stdout.flush()
        self.stdout.write("")

    def _cursor_pages_deep(self, merchant, pages: int) -> str | None:
        cursor = None
        for _ in range(pages):
            page = queries.order_tracking_page(merchant, status=Order.Status.FULFILLED, after=cursor)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        return cursor
