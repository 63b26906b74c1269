"""The batched write path's figures: a backfill from the loopback Shopify double, and a CSV
import streamed from a file, each of `ingest_orders` 3-line orders end to end.

The double's orders are made page by page as it is asked for them, in a child process of
its own (a store is another machine: its JSON work must not count as the backfill's CPU),
and the CSV import runs in a child process, so neither the bench's own memory nor its fill
stands in the figures.
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.urls import reverse

from orderdesk.accounts.actors import Actor
from orderdesk.orders.models import Order
from orderdesk.stores import actions as store_actions
from orderdesk.stores import sync
from orderdesk.stores.actions import StoreDetails
from orderdesk.stores.csv_import import TEMPLATE_COLUMNS
from orderdesk.stores.models import Store, SyncRun

from . import fill
from .stats import CountedQueries, summarize


def _lines(number: int) -> list[tuple[str, str, int, Decimal]]:
    return [
        (sku, title, 1 + (number + k) % 2, price)
        for k, (sku, title, price) in enumerate(fill.PRODUCTS[: fill.LINES_PER_ORDER])
    ]


def _shopify_node(number: int) -> dict:
    from orderdesk.stores.tests.peers import money_set, shopify_node

    return shopify_node(
        10_000_000 + number,
        shippingAddress={
            "name": f"Liza Garcia {number}",
            "address1": "12 Mabini St",
            "address2": "",
            "city": "Makati",
            "province": "Metro Manila",
            "zip": "1200",
            "country": "Philippines",
            "phone": f"+63918{number % 10_000_000:07d}",
        },
        lineItems={
            "nodes": [
                {
                    "sku": sku,
                    "title": title,
                    "variantTitle": None,
                    "quantity": quantity,
                    "originalUnitPriceSet": money_set(str(price)),
                }
                for sku, title, quantity, price in _lines(number)
            ]
        },
    )


class _MadeOnDemand:
    """`count` Shopify order nodes, made when a page of them is asked for."""

    def __init__(self, count: int):
        self.count = count

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, wanted: slice) -> list[dict]:
        return [_shopify_node(n) for n in range(*wanted.indices(self.count))]


def _serve_shopify_double(count: int, page_size: int, answer) -> None:
    """In the child: the Shopify double with `count` orders made on demand, until told to stop."""
    from orderdesk.stores.tests.peers import ShopifyDouble

    double = ShopifyDouble()
    double.page_size_cap = page_size
    double._matching = lambda search: _MadeOnDemand(count)
    double.start()
    answer.send(double.base_url)
    answer.recv()
    double.stop()


def backfill_from_shopify(bench) -> dict:
    """A backfill of `ingest_orders` paid 3-line orders through sync_store, read in pages (the
    bulk export is its own figure, "Backfill from Shopify (bulk)"), then the same again."""
    figures, _ = timed_backfill(
        bench,
        serve=_serve_shopify_double,
        serve_args=(_shopify_page_size(),),
        store_url="bench.myshopify.com",
        bulk_backfill_orders=0,  # 0: always in pages
    )
    return {
        "what": f"sync_store backfill of {bench.ingest_orders:,} paid 3-line orders from the loopback "
        f"Shopify double (pages of {_shopify_page_size()}), end to end; then the same backfill again",
        **figures,
    }


def timed_backfill(bench, *, serve, serve_args: tuple, store_url: str, bulk_backfill_orders: int):
    """A new Shopify store's backfill of `ingest_orders` orders from the double that
    `serve(count, *serve_args, pipe)` runs in a child process, with STORE_BULK_BACKFILL_ORDERS
    set as given, then the same backfill again: the figures both backfill figures report, and
    the store."""
    from django.test import override_settings

    from orderdesk.stores.tests.peers import SHOPIFY_TOKEN

    count = bench.ingest_orders
    # Forked before this process opens more database connections; the child never uses its copy.
    ours, theirs = multiprocessing.get_context("fork").Pipe()
    server = multiprocessing.get_context("fork").Process(
        target=serve, args=(count, *serve_args, theirs), daemon=True
    )
    server.start()
    try:
        base_url = ours.recv()
        store = store_actions.add_store(
            StoreDetails(
                channel=Store.Channel.SHOPIFY,
                name=f"Bench Shopify {time.time_ns()}",
                url=store_url,
                api_base_url=base_url,
                access_token=SHOPIFY_TOKEN,
                webhook_secret="bench-webhook-secret",
            ),
            by=Actor.for_user(bench.writes_owner),
        )
        # A worker that has served anything has its URLconf loaded; loaded here, Django's one-time
        # import of every view module (about a second of CPU, for the backfill's summary link)
        # no longer lands in whichever backfill figure of the process runs first.
        reverse("orders:tracking")
        peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with override_settings(STORE_BULK_BACKFILL_ORDERS=bulk_backfill_orders):
            started, cpu_started, backend_started = time.perf_counter(), time.process_time(), _backend_cpu()
            first = sync.sync_store(store.pk, kind=SyncRun.Kind.BACKFILL)
            first_seconds = time.perf_counter() - started
            # This process's CPU only (the double runs in its own): what a busy machine cannot inflate much.
            first_cpu = time.process_time() - cpu_started
            first_backend_cpu = _minus(_backend_cpu(), backend_started)
            started, cpu_started = time.perf_counter(), time.process_time()
            again = sync.sync_store(store.pk, kind=SyncRun.Kind.BACKFILL)
            again_seconds = time.perf_counter() - started
            again_cpu = time.process_time() - cpu_started
        peak_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    finally:
        ours.send("stop")
        server.join(timeout=10)
    figures = {
        "orders": count,
        "seconds": round(first_seconds, 2),
        "per_second": round(count / first_seconds, 1),
        "cpu_seconds": round(first_cpu, 2),
        "per_cpu_second": round(count / first_cpu, 1),
        "database_cpu_seconds": first_backend_cpu,
        "per_cpu_second_with_database": round(count / (first_cpu + (first_backend_cpu or 0)), 1),
        "new": first.new_count,
        "failed": first.failed_count,
        "failures_sample": first.failures[:3],
        "orders_recorded": Order.objects.filter(store=store).count(),
        # The bench process's peak size (KiB on Linux) before and after: orders are streamed,
        # so a larger backfill should not raise it by much more than a batch's worth.
        "peak_memory_mb_before": round(peak_before / 1024, 1),
        "peak_memory_mb_after": round(peak_after / 1024, 1),
        "again_seconds": round(again_seconds, 2),
        "again_cpu_seconds": round(again_cpu, 2),
        "again_new": again.new_count,
        "again_unchanged": again.unchanged_count,
        "again_share_of_first": round(again_seconds / first_seconds, 3),
    }
    return figures, store


def _backend_cpu() -> float | None:
    """CPU seconds the PostgreSQL backend serving this connection has used (None on SQLite,
    or when the server runs where /proc cannot see it)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # utime and stime, the 14th and 15th fields of proc(5), in clock ticks.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _minus(after: float | None, before: float | None) -> float | None:
    return None if after is None or before is None else round(after - before, 2)


def _shopify_page_size() -> int:
    from orderdesk.stores.shopify import ORDERS_PAGE

    return ORDERS_PAGE


def webhooks_in_over_http(bench) -> dict:
    """Signed Shopify orders/paid webhooks, each a new paid 3-line order, from `clients`
    senders at once against gunicorn on loopback: the time until each is answered (the
    order is taken in afterwards, in the background), then whether every one was."""
    from orderdesk.stores.tests.peers import shopify_webhook_order
    from orderdesk.stores.webhooks import signature_of

    from .figures import _gunicorn, posts_from_clients

    count = max(bench.requests, 200)
    secret = "bench-webhook-secret"
    cpu = _webhook_cpu_in_process(bench, secret)
    store = store_actions.add_store(
        StoreDetails(
            channel=Store.Channel.SHOPIFY,
            name=f"Bench webhooks {time.time_ns()}",
            url="bench-webhooks.myshopify.com",
            api_base_url="http://127.0.0.1:9",
            access_token="shpat_bench",
            webhook_secret=secret,
        ),
        by=Actor.for_user(bench.writes_owner),
    )
    warm_store = store_actions.add_store(
        StoreDetails(
            channel=Store.Channel.SHOPIFY,
            name=f"Bench webhooks warm-up {time.time_ns()}",
            url="bench-webhooks-warm.myshopify.com",
            api_base_url="http://127.0.0.1:9",
            access_token="shpat_bench",
            webhook_secret=secret,
        ),
        by=Actor.for_user(bench.writes_owner),
    )
    bodies = [json.dumps(shopify_webhook_order(20_000_000 + number)).encode() for number in range(count)]
    warm_bodies = [
        json.dumps(shopify_webhook_order(25_000_000 + number)).encode()
        for number in range(4 * bench.server_workers)
    ]
    broker = os.environ.get("BENCH_CELERY_BROKER_URL", "")
    queue_name = f"orderdesk-bench-{time.time_ns()}"
    celery_env = {"CELERY_BROKER_URL": broker, "CELERY_TASK_DEFAULT_QUEUE": queue_name} if broker else {}
    with _celery_worker(celery_env), _gunicorn(workers=bench.server_workers, env=celery_env) as base:

        def post(session, job):
            where, number, body = job
            signed = {
                "X-Shopify-Hmac-Sha256": signature_of(body, secret),
                "X-Shopify-Webhook-Id": f"bench-{where.pk}-{number}",
            }
            return session.post(urls[where.pk], data=body, headers=signed, timeout=120)

        urls = {
            s.pk: base + reverse("stores:shopify_webhook", args=[s.webhook_token])
            for s in (store, warm_store)
        }

        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": "orders/paid",
            "X-Forwarded-Proto": "https",
        }
        # Untimed, from every sender at once so each web worker gets some: a worker's first
        # webhook sets up what it needs once (with a broker, its connection and Celery's
        # producer), and their orders are taken in before the timing starts.
        warm_up = [(warm_store, n, body) for n, body in enumerate(warm_bodies)]
        posts_from_clients(bench.clients, warm_up, post, expected_status=200, headers=headers)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and Order.objects.filter(store=warm_store).count() < len(warm_up):
            time.sleep(0.5)
        timings, failures, seconds = posts_from_clients(
            bench.clients,
            [(store, n, body) for n, body in enumerate(bodies)],
            post,
            expected_status=200,
            headers=headers,
        )
        # The background work (a thread of each worker without a broker) is given time to finish.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and Order.objects.filter(store=store).count() < count:
            time.sleep(0.5)
    if not timings:
        return {"error": "no webhook answered", "failures_sample": failures[:5]}
    return (
        summarize(timings, [])
        | {
            "what": f"{count} signed Shopify orders/paid webhooks (new 3-line orders), {bench.clients} senders, "
            f"gunicorn {bench.server_workers} workers; answered, then taken in "
            + ("by a Celery worker (2 threads)" if broker else "in a thread of each web worker (no broker)"),
            "per_second": round(len(timings) / seconds, 1),
            "failed": len(failures),
            "failures_sample": failures[:5],
            "orders_taken_in": Order.objects.filter(store=store).count(),
        }
        | cpu
    )


def _webhook_cpu_in_process(bench, secret: str, count: int = 100) -> dict:
    """CPU time in this process (which a busy machine stretches far less than wall-clock
    time) of answering `count` signed webhooks through the real view and middleware (the
    Django test client), and of taking their orders in afterwards, as a burst: the jobs are
    run one after another once all have been answered."""
    from unittest import mock

    from django.test import Client

    from orderdesk.stores.models import InboundDelivery
    from orderdesk.stores.tests.peers import shopify_webhook_order
    from orderdesk.stores.webhooks import signature_of

    store = store_actions.add_store(
        StoreDetails(
            channel=Store.Channel.SHOPIFY,
            name=f"Bench webhooks CPU {time.time_ns()}",
            url="bench-webhooks-cpu.myshopify.com",
            api_base_url="http://127.0.0.1:9",
            access_token="shpat_bench",
            webhook_secret=secret,
        ),
        by=Actor.for_user(bench.writes_owner),
    )
    path = reverse("stores:shopify_webhook", args=[store.webhook_token])
    bodies = [json.dumps(shopify_webhook_order(40_000_000 + n)).encode() for n in range(count + 1)]
    client = Client()
    answers, statements, refused = [], 0, []
    # The background job is left out here: the deliveries wait, then are taken in below.
    with mock.patch("orderdesk.stores.webhooks.process_after_commit", lambda delivery_id: None):
        for number, body in enumerate(bodies):
            started = time.process_time()
            with CountedQueries(connection) as captured:
                answer = client.post(
                    path,
                    data=body,
                    content_type="application/json",
                    headers={
                        "X-Shopify-Hmac-Sha256": signature_of(body, secret),
                        "X-Shopify-Webhook-Id": f"cpu-{number}",
                        "X-Shopify-Topic": "orders/paid",
                        "X-Forwarded-Proto": "https",
                    },
                )
            if answer.status_code != 200:
                refused.append(answer.status_code)
            if number:  # the first one warms up
                answers.append((time.process_time() - started) * 1000)
                statements = captured.count
    waiting = list(InboundDelivery.objects.filter(store=store).order_by("pk").values_list("pk", flat=True))
    started = time.process_time()
    for delivery_id in waiting:
        sync.process_delivery(delivery_id)
    taking = (time.process_time() - started) * 1000 / len(waiting)
    answers.sort()
    return {
        "answer_cpu_ms_p50": round(answers[len(answers) // 2], 2),
        "answer_cpu_ms_p95": round(answers[int(len(answers) * 0.95)], 2),
        "answer_sql": statements,
        "taking_in_cpu_ms_per_delivery": round(taking, 2),
        "answers_refused": refused[:5],
        "cpu_measured_on": f"{count} webhooks answered in this process (test client), then their "
        f"{len(waiting)} deliveries' jobs run",
    }


class _celery_worker:
    """A `celery -A orderdesk worker` on the queue `env` names, for the length of a `with`
    (nothing without a broker: the web workers' own threads do the work then)."""

    def __init__(self, env: dict):
        self.env = env

    def __enter__(self):
        if not self.env:
            return self
        queue_name = self.env["CELERY_TASK_DEFAULT_QUEUE"]
        self.log = tempfile.NamedTemporaryFile("w+", prefix="bench-celery-", suffix=".log", delete=False)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "orderdesk", "worker", "-Q", queue_name,
             "-n", f"{queue_name}@%h", "--pool", "threads", "--concurrency", "2", "--loglevel", "WARNING",
             "--without-heartbeat", "--without-mingle", "--without-gossip"],
            cwd=settings.BASE_DIR, env={**os.environ, **self.env}, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        return self

    def __exit__(self, *exc) -> None:
        if not self.env:
            return
        from .figures import stop_process

        stop_process(self.process)
        self.log.close()
        import redis

        # Leave the broker as it was: this run's queue and its bindings go.
        broker = redis.Redis.from_url(self.env["CELERY_BROKER_URL"])
        for key in broker.scan_iter(f"*{self.env['CELERY_TASK_DEFAULT_QUEUE']}*"):
            broker.delete(key)


def csv_import(bench) -> dict:
    """A CSV file of `ingest_orders` 3-line orders (template columns) imported in a child process,
    timing the import and reporting that process's peak memory (VmHWM) before and after it."""
    count = bench.ingest_orders
    store = Store.objects.create(
        merchant=bench.writes_merchant, name=f"Bench CSV {time.time_ns()}", channel=Store.Channel.CSV
    )
    with tempfile.NamedTemporaryFile("w", suffix=".csv", newline="", delete=False) as file:
        writer = csv.writer(file)
        writer.writerow(TEMPLATE_COLUMNS)
        for number in range(count):
            for sku, title, quantity, price in _lines(number):
                writer.writerow(
                    [
                        f"CSV-{number}", "2026-11-20 16:00", f"Liza Garcia {number}", f"+63919{number:07d}",
                        "", "12 Mabini St, Makati", "J&T Express", "120.00", "0.00", "gcash", "", "",
                        sku, title, "", quantity, price,
                    ]
                )  # fmt: skip
    size = os.path.getsize(file.name)
    try:
        answer = subprocess.run(
            # The same database as this process (under tests, the test database).
            [sys.executable, "-c", _CHILD, file.name, str(store.pk), str(connection.settings_dict["NAME"])],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        os.unlink(file.name)
    if answer.returncode != 0:
        return {"error": answer.stderr[-2000:]}
    measured = json.loads(answer.stdout.strip().splitlines()[-1])
    return {
        "what": f"import_csv of {count:,} 3-line orders ({size / 1024**2:,.0f} MB file), streamed, in a child process",
        "orders": count,
        "seconds": measured["seconds"],
        "per_second": round(count / measured["seconds"], 1),
        "cpu_seconds": measured["cpu_seconds"],
        "per_cpu_second": round(count / measured["cpu_seconds"], 1),
        "new": measured["new"],
        "failed": measured["failed"],
        "peak_memory_mb": measured["peak_mb"],
        "memory_before_import_mb": measured["before_mb"],
    }


_CHILD = """
import json, os, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orderdesk.settings")
import django
django.setup()
from django.conf import settings
settings.DATABASES["default"]["NAME"] = sys.argv[3]
from orderdesk.stores import csv_import
from orderdesk.stores.models import Store

def peak_mb():
    # This process's own peak (VmHWM). Not getrusage's ru_maxrss: Linux carries that over
    # exec from the forked bench process, whose size it then reports.
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024

store = Store.objects.select_related("merchant").get(pk=int(sys.argv[2]))
before = peak_mb()
started, cpu_started = time.perf_counter(), time.process_time()
with open(sys.argv[1], "rb") as file:
    run = csv_import.import_csv(file, store=store)
seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
print(json.dumps({"seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2), "new": run.new_count, "failed": run.failed_count,
                  "peak_mb": round(peak_mb(), 1), "before_mb": round(before, 1)}))
"""
