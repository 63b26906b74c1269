"""The bulk backfill's figure: `ingest_orders` paid 3-line orders read from the loopback Shopify
double as one bulk export (bulkOperationRunQuery, currentBulkOperation, the JSONL file streamed)
through sync_store, then the same backfill again.

As ingest.backfill_from_shopify does, the double runs in a child process of its own and makes
its orders as the file is read, so the figure's CPU is the backfill's: the first page, the
operation, the download, rebuilding orders from `__parentId` and the batched upsert.
"""

from __future__ import annotations

from orderdesk.orders.models import OrderLine

from .ingest import _MadeOnDemand, timed_backfill


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
    figures, store = timed_backfill(
        bench,
        serve=_serve_bulk_double,
        serve_args=(),
        store_url="bench-bulk.myshopify.com",
        bulk_backfill_orders=1,
    )
    return {
        "what": f"sync_store backfill of {bench.ingest_orders:,} paid 3-line orders from the loopback "
        "Shopify double as one bulk export (JSONL streamed, orders rebuilt from __parentId), end to "
        "end; then the same backfill again",
        **figures,
        "lines_recorded": OrderLine.objects.filter(order__store=store).count(),
    }
