"""The bulk backfill's figure: `ingest_orders` paid 3-line orders read from the loopback Shopify
double as one bulk export (bulkOperationRunQuery, currentBulkOperation, the JSONL file streamed)
through sync_store, then the same backfill again.

As ingest.backfill_from_shopify does, the double runs in a child process of its own and makes
its orders as the file is read, so the figure's CPU is the backfill's: the first page, the
operation, the download, rebuilding orders from `__parentId` and the batched upsert.
"""

from __future__ import annotations

import multiprocessing
import resource
import time

from django.test import override_settings

from orderdesk.accounts.actors import Actor
from orderdesk.orders.models import Order, OrderLine
from orderdesk.stores import actions as store_actions
from orderdesk.stores import sync
from orderdesk.stores.actions import StoreDetails
from orderdesk.stores.models import Store, SyncRun

from .ingest import _backend_cpu, _MadeOnDemand, _minus


def _serve_bulk_double(count: int, answer) -> None:
    """In the child: the Shopify double with `count` orders made on demand; its bulk operations
    are done at the first poll (the figure measures our side, not Shopify's queue)."""
    from orderdesk.stores.tests.peers import ShopifyDouble

    double = ShopifyDouble()
    double.bulk_polls_to_finish = 1
    double._matching = lambda search: _MadeOnDemand(count)
    double.start()
    answer.send(double.base_url)
    answer.recv()
    double.stop()


def backfill_from_shopify_bulk(bench) -> dict:
    from orderdesk.stores.tests.peers import SHOPIFY_TOKEN

    count = bench.ingest_orders
    ours, theirs = multiprocessing.get_context("fork").Pipe()
    server = multiprocessing.get_context("fork").Process(
        target=_serve_bulk_double, args=(count, theirs), daemon=True
    )
    server.start()
    try:
        base_url = ours.recv()
        store = store_actions.add_store(
            StoreDetails(
                channel=Store.Channel.SHOPIFY,
                name=f"Bench Shopify bulk {time.time_ns()}",
                url="bench-bulk.myshopify.com",
                api_base_url=base_url,
                access_token=SHOPIFY_TOKEN,
                webhook_secret="bench-webhook-secret",
            ),
            by=Actor.for_user(bench.writes_owner),
        )
        peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with override_settings(STORE_BULK_BACKFILL_ORDERS=1):
            started, cpu_started, backend_started = time.perf_counter(), time.process_time(), _backend_cpu()
            first = sync.sync_store(store.pk, kind=SyncRun.Kind.BACKFILL)
            first_seconds = time.perf_counter() - started
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
    recorded = Order.objects.filter(store=store).count()
    return {
        "what": f"sync_store backfill of {count:,} paid 3-line orders from the loopback Shopify double "
        "as one bulk export (JSONL streamed, orders rebuilt from __parentId), end to end; "
        "then the same backfill again",
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
        "orders_recorded": recorded,
        "lines_recorded": OrderLine.objects.filter(order__store=store).count(),
        # The bench process's peak size (KiB on Linux) before and after: the export is streamed,
        # so a larger backfill should not raise it by much more than a batch's worth.
        "peak_memory_mb_before": round(peak_before / 1024, 1),
        "peak_memory_mb_after": round(peak_after / 1024, 1),
        "again_seconds": round(again_seconds, 2),
        "again_cpu_seconds": round(again_cpu, 2),
        "again_new": again.new_count,
        "again_unchanged": again.unchanged_count,
        "again_share_of_first": round(again_seconds / first_seconds, 3),
    }
