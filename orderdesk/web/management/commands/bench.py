"""How fast Orderdesk answers at scale: fills a bench merchant with exactly N orders shaped as the
actions leave them, then times the pages and writes a merchant's day is made of.

    make bench BENCH_ORDERS=100000                      # SQLite; DATABASE_URL=postgres://… for PostgreSQL
    uv run python manage.py bench --orders 10000 --requests 200

Each figure is p50/p95/p99 over --requests requests with the SQL statements per request; it
prints a table and writes artifacts/bench/bench-<database>-<N>.json. See orderdesk/web/benchmark/.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import django
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test.utils import override_settings
from django.utils import timezone

from orderdesk.accounts.models import Membership, Merchant, User
from orderdesk.fulfillment.models import Fulfillment, FulfillmentLine, TrackingEvent
from orderdesk.orders.models import Order, OrderEvent, OrderLine
from orderdesk.stores.models import Store
from orderdesk.web.benchmark import figures, fill

BENCH_EMAIL = "bench@orderdesk.local"
WRITES_EMAIL = "bench-writes@orderdesk.local"


class Command(BaseCommand):
    help = "Fill a bench merchant with exactly N orders and time Order Tracking, the order page, search and writes."

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=10_000, help="Orders the bench merchant holds.")
        parser.add_argument("--requests", type=int, default=200, help="Requests per figure (at least 200).")
        parser.add_argument(
            "--output", default="", help="JSON file (default artifacts/bench/bench-<db>-<N>.json)."
        )
        parser.add_argument(
            "--only", default="", help="Comma-separated figure names (as in the table) to run."
        )
        parser.add_argument("--skip-writes", action="store_true", help="Leave out the write figures.")
        parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes.")
        parser.add_argument("--clients", type=int, default=8, help="Concurrent HTTP clients for transitions.")
        parser.add_argument(
            "--allow-debug", action="store_true", help="Run although DEBUG is on (figures are wrong)."
        )
        parser.add_argument("--fill-only", action="store_true", help="Fill to N orders and stop.")
        parser.add_argument(
            "--ingest-orders",
            type=int,
            default=10_000,
            help="Orders the backfill and CSV import figures take in (issue 9 measures 100,000).",
        )

    def handle(
        self,
        *args,
        orders,
        requests,
        output,
        only,
        skip_writes,
        workers,
        clients,
        allow_debug,
        fill_only,
        ingest_orders,
        **_,
    ):
        if settings.DEBUG:
            if not allow_debug:
                raise CommandError(
                    "DEBUG is on: every query is kept in memory and pages render debug paths, so the figures "
                    "would be wrong. Run with DEBUG=false (make bench does), or --allow-debug to measure anyway."
                )
            self.stderr.write(
                self.style.WARNING("WARNING: DEBUG is on; these figures are not the product's.")
            )
        if orders < 1:
            raise CommandError("--orders must be at least 1.")
        if requests < 200 and not allow_debug:
            self.stderr.write(
                self.style.WARNING(f"Only {requests} requests per figure; p99 needs 200 or more.")
            )

        self._static = None
        if not settings.DEBUG:
            # Pages name hashed static files, as in production; collected into a folder of the
            # bench's own, so the project's data/static (and the tests that look at it) stay as they were.
            static_root = tempfile.mkdtemp(prefix="bench-static-")
            self._environ_static = os.environ.get("STATIC_ROOT")
            os.environ["STATIC_ROOT"] = static_root  # gunicorn, started later, serves the same files
            self._static = override_settings(STATIC_ROOT=Path(static_root))
            self._static.enable()
            call_command("collectstatic", interactive=False, verbosity=0)
        merchant, owner, store = _merchant(BENCH_EMAIL, "Bench Merchant", "BN")
        self.stdout.write(f"Filling the bench merchant to exactly {orders:,} orders on {connection.vendor}…")
        report = fill.fill_orders(
            merchant, store=store, owner=owner, count=orders, progress=lambda n: self._progress(n, orders)
        )
        self.stdout.write(
            f"\nFill: {report.added:,} added, {report.removed:,} removed"
            f"{' (rebuilt: older shape)' if report.rebuilt else ''} in {report.seconds:.1f} s"
        )
        held = Order.objects.for_merchant(merchant).count()
        if held != orders:
            raise CommandError(f"The bench merchant holds {held:,} orders, not {orders:,}.")
        _analyze()
        if fill_only:
            return

        bench = figures.Bench(merchant=merchant, owner=owner, requests=requests, orders=orders)
        bench.server_workers, bench.clients, bench.ingest_orders = workers, clients, ingest_orders
        wanted = {name.strip() for name in only.split(",") if name.strip()}
        chosen = [(n, f) for n, f in figures.READ_FIGURES if not wanted or n in wanted]
        if not skip_writes:
            chosen += [(n, f) for n, f in figures.WRITE_FIGURES if not wanted or n in wanted]
        results = {}
        sms_folder = tempfile.mkdtemp(prefix="bench-sms-")
        # Messages queued by the writes go to memory and files, not over this table.
        logging.disable(logging.INFO)  # the in-process delivery's log lines would bury the table
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            SMS_BACKEND="file",
            SMS_FILE_PATH=Path(sms_folder),
        ):
            for name, figure in chosen:
                if figure in dict(figures.WRITE_FIGURES).values() and bench.writes_merchant is None:
                    bench.writes_merchant, bench.writes_owner, _ = _merchant(
                        WRITES_EMAIL, f"Bench writes {timezone.now():%H%M%S}", "BW", fresh=True
                    )
                self.stdout.write(f"  {name}…", ending="")
                self.stdout.flush()
                started = time.perf_counter()
                try:
                    results[name] = figure(bench)
                except Exception as error:  # one broken figure must not lose the others
                    results[name] = {"error": repr(error)}
                self.stdout.write(f" {time.perf_counter() - started:.1f} s")
        logging.disable(logging.NOTSET)
        if self._static is not None:
            self._static.disable()
            if self._environ_static is None:
                os.environ.pop("STATIC_ROOT", None)
            else:
                os.environ["STATIC_ROOT"] = self._environ_static

        data = {
            "database": _database(merchant),
            "orders": orders,
            "requests_per_figure": requests,
            "fill": {
                "added": report.added,
                "removed": report.removed,
                "rebuilt": report.rebuilt,
                "seconds": round(report.seconds, 1),
                "shape": "3 lines; status mix "
                + ", ".join(f"{s} {share:.0%}" for s, share in fill.STATUS_MIX)
                + "; shipments, tracking events and timeline events as the actions write them; no outbox rows",
            },
            "settings": _settings(workers, clients),
            "measured_at": timezone.now().isoformat(),
            "figures": results,
        }
        path = (
            Path(output)
            if output
            else settings.BASE_DIR / "artifacts" / "bench" / f"bench-{connection.vendor}-{orders}.json"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2, default=str))
        self._table(data)
        self.stdout.write(f"\nWritten to {path}")

    def _progress(self, done: int, total: int) -> None:
        self.stdout.write(f"\r  {done:,} / {total:,} orders", ending="")
        self.stdout.flush()

    def _table(self, data: dict) -> None:
        database = data["database"]
        self.stdout.write(
            f"\n{database['vendor']} {database.get('version', '')}, {data['orders']:,} orders, "
            f"{database.get('bytes_human', '?')}; DEBUG={data['settings']['DEBUG']}"
        )
        if "server_settings" in database:
            self.stdout.write(", ".join(f"{k} {v}" for k, v in database["server_settings"].items()))
        self.stdout.write(f"{'figure':32} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'SQL':>7} {'rate/s':>8}")
        for name, figure in data["figures"].items():
            if "skipped" in figure or "error" in figure:
                why = (
                    figure.get("skipped") or f"failed: {figure['error']} {figure.get('failures_sample', '')}"
                )
                self.stdout.write(f"{name:32} {'—':>8} {'—':>8} {'—':>8} {'—':>7} {'—':>8}  {why}")
                continue
            if "p50_ms" not in figure:  # a whole run timed once: its rate, and what it says of itself
                said = ", ".join(
                    f"{key} {figure[key]}"
                    for key in (
                        "orders",
                        "seconds",
                        "per_cpu_second",
                        "new",
                        "failed",
                        "again_seconds",
                        "again_new",
                        "peak_memory_mb",
                    )
                    if key in figure
                )
                self.stdout.write(
                    f"{name:32} {'—':>8} {'—':>8} {'—':>8} {'—':>7} {figure['per_second']:>8}  {said}"
                )
                continue
            sql = figure.get("sql_max")
            if sql is None and "sql_per_dispatch" in figure:
                sql = f"{figure['sql_per_dispatch']}+{figure['sql_per_fulfil']}"
            elif figure.get("sql_min") != sql:
                sql = f"{figure['sql_min']}–{sql}"
            extra = f"  CPU {figure['cpu_ms_per_order']} ms/order" if "cpu_ms_per_order" in figure else ""
            if "cpu_p95_ms" in figure:
                extra = f"  CPU p50 {figure['cpu_p50_ms']} ms, p95 {figure['cpu_p95_ms']} ms"
            if "cpu_ms" in figure and "extra_p50_ms" not in figure:
                extra = (
                    f"  CPU p50/p95/p99 {'/'.join(str(ms) for ms in figure['cpu_ms'].values())} ms/request"
                )
            if "extra_p50_ms" in figure:
                off = figure["without_hosting"]
                cpu, cpu_off, cpu_extra = (
                    "/".join(str(figure[key][p]) for p in ("p50", "p95", "p99"))
                    for key in ("cpu_ms", "cpu_ms_without_hosting", "extra_cpu_ms")
                )
                extra = (
                    f"  unhosted: {off['p50_ms']}/{off['p95_ms']}/{off['p99_ms']} ms, {off['sql_max']} SQL; "
                    f"extra p50 {figure['extra_p50_ms']} ms, p95 {figure['extra_p95_ms']} ms, +{figure['extra_sql']} SQL; "
                    f"CPU p50/p95/p99 {cpu} vs {cpu_off} ms (extra {cpu_extra})"
                )
            if "lost_updates" in figure:
                extra = f"  lost updates: {figure['lost_updates']}, failed: {figure['failed_posts']}"
            elif "failed_posts" in figure:
                extra = f"  failed: {figure['failed_posts']}"
            self.stdout.write(
                f"{name:32} {figure['p50_ms']:>8} {figure['p95_ms']:>8} {figure['p99_ms']:>8} {sql!s:>7} "
                f"{figure.get('per_second', ''):>8}{extra}"
            )


def _merchant(email: str, name: str, prefix: str, *, fresh: bool = False):
    """The bench's merchant, owner and store; `fresh` replaces an earlier one's writes."""
    owner = User.objects.filter(email=email).first()
    if owner is not None and fresh:
        old = Membership.objects.get(user=owner).merchant
        fill._delete_orders(old, after_id=None)
        with transaction.atomic():
            Membership.objects.filter(user=owner).delete()
            owner.delete()
        owner = None
    if owner is None:
        with transaction.atomic():
            merchant = Merchant.objects.create(name=name, short_name=prefix, order_reference_prefix=prefix)
            owner = User.objects.create_user(email, None)
            Membership.objects.create(user=owner, merchant=merchant, role=Membership.Role.OWNER)
            Store.objects.create(merchant=merchant, name="Bench store")
    merchant = Membership.objects.get(user=owner).merchant
    return merchant, owner, Store.objects.get(merchant=merchant, name="Bench store")


def _analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


_POSTGRES_SETTINGS_SHOWN = (
    "shared_buffers",
    "effective_cache_size",
    "work_mem",
    "synchronous_commit",
    "fsync",
    "max_connections",
)


def _database(merchant) -> dict:
    rows = {
        model.__name__: model.objects.filter(merchant=merchant).count()
        for model in (Order, OrderLine, OrderEvent, Fulfillment, FulfillmentLine, TrackingEvent)
    }
    info = {"vendor": connection.vendor, "bench_merchant_rows": rows}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT version(), pg_database_size(current_database())")
            version, size = cursor.fetchone()
            info["version"] = version.split(" on ")[0]
            info["bytes"] = size
            # The server's memory and durability settings move every figure: say what they were.
            cursor.execute(
                "SELECT name, setting, unit FROM pg_settings WHERE name = ANY(%s) ORDER BY name",
                [list(_POSTGRES_SETTINGS_SHOWN)],
            )
            info["server_settings"] = {
                name: f"{setting}{' × ' + unit if unit else ''}" for name, setting, unit in cursor.fetchall()
            }
        elif connection.vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
            info["version"] = "SQLite " + cursor.fetchone()[0]
            cursor.execute("PRAGMA page_count")
            pages = cursor.fetchone()[0]
            cursor.execute("PRAGMA page_size")
            info["bytes"] = pages * cursor.fetchone()[0]
    if "bytes" in info:
        info["bytes_human"] = f"{info['bytes'] / 1024**2:,.0f} MB"
    return info


def _settings(workers: int, clients: int) -> dict:
    database = settings.DATABASES["default"]
    return {
        "DEBUG": settings.DEBUG,
        "CONN_MAX_AGE": database.get("CONN_MAX_AGE"),
        "database_options": {
            k: v for k, v in database.get("OPTIONS", {}).items() if "password" not in k.lower()
        },
        "CACHES": settings.CACHES["default"]["BACKEND"],
        "SESSION_ENGINE": settings.SESSION_ENGINE,
        "CELERY_TASK_ALWAYS_EAGER": settings.CELERY_TASK_ALWAYS_EAGER,
        "messages": "email to memory, SMS to files (delivered in-process after commit when Celery is off)",
        "gunicorn_workers": workers,
        "http_clients": clients,
        "python": sys.version.split()[0],
        "django": django.get_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs seen",
        # The machine is shared: a load above the core count slows every figure alike.
        "load_average_at_end": [round(load, 1) for load in os.getloadavg()],
    }
