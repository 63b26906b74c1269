"""Shopify's bulk operations: a large backfill as one export instead of thousands of pages.

A paged backfill asks 24 orders a query (the 1,000-point cost limit) and waits for the cost
bucket between queries: on a standard plan (50 points a second) that is a few orders a second,
hours for a big shop. `bulkOperationRunQuery` runs the same orders query in Shopify's
background without cost limits; we poll the operation (back-off) until it is COMPLETED, then
stream its JSONL file: one object a line, each line item on a line of its own naming its order
in `__parentId`, after its order. The orders are rebuilt into the nodes the paged query gives
(`lineItems.nodes`) and go through the same parser and batched upsert as pages do.

A backfill goes bulk when the store's `ordersCount` for the backfill's window (on its first
page) is at least STORE_BULK_BACKFILL_ORDERS (0 turns bulk off). When Shopify cannot give the export (the
operation FAILED or was CANCELED, its file expired, another bulk query of the app kept running)
the reason goes in the sync log and the backfill pages instead; a download that breaks off
after orders were taken in fails the run with its reason (a re-run changes nothing twice).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal

import requests
from django.conf import settings

from .errors import StoreUnreachable

logger = logging.getLogger(__name__)

# Orders a page of the rebuilt export holds (the sync batches them further).
BULK_PAGE = 250
# Orders kept open for line items still to come. Shopify lists an order's line items after
# the order (in practice right after it); an order leaves the window when this many later
# orders have begun; a line item of an order no longer open makes that order be read again
# whole (exported_order_pages).
OPEN_ORDERS = 250
# Polling the operation: waits of 1, 2, 4 … seconds, at most POLL_MAX_SECONDS each, and
# WAIT_LIMIT_SECONDS in all before the backfill gives up on it and pages instead.
POLL_FIRST_SECONDS = 1.0
POLL_MAX_SECONDS = 30.0
WAIT_LIMIT_SECONDS = 2 * 60 * 60
# Another bulk query of this app running on the shop (one at a time per shop): how long we wait
# for it to end before paging instead.
BUSY_WAIT_LIMIT_SECONDS = 5 * 60

# What the bulk export reads of each order and line item: the paged ORDERS_QUERY's fields
# (orders_from_graphql reads both alike). A bulk query takes no page sizes and no variables.
_ORDER_FIELDS = """
      id legacyResourceId name createdAt updatedAt cancelledAt
      displayFinancialStatus displayFulfillmentStatus
      email phone note currencyCode paymentGatewayNames
      customer { firstName lastName email phone }
      shippingAddress { name address1 address2 city province zip country phone }
      shippingLine { title originalPriceSet { shopMoney { amount currencyCode } } }
      totalDiscountsSet { shopMoney { amount currencyCode } }"""
_LINE_FIELDS = "id sku title variantTitle quantity originalUnitPriceSet { shopMoney { amount currencyCode } }"

BULK_RUN_MUTATION = """
mutation BulkOrders($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}
"""

CURRENT_BULK_OPERATION_QUERY = """
query CurrentBulkOperation {
  currentBulkOperation(type: QUERY) {
    id status errorCode objectCount rootObjectCount url partialDataUrl
  }
}
"""


# One decoder for every line (json.loads would make one a line); amounts exactly, as Decimal.
_decode = json.JSONDecoder(parse_float=Decimal).decode


# Our operation by its id, when the app's current one is another (started after ours ended).
BULK_OPERATION_QUERY = """
query BulkOperation($id: ID!) {
  node(id: $id) {
    ... on BulkOperation { id status errorCode objectCount rootObjectCount url partialDataUrl }
  }
}
"""


BULK_CANCEL_MUTATION = """
mutation BulkCancel($id: ID!) {
  bulkOperationCancel(id: $id) {
    bulkOperation { id status }
    userErrors { field message }
  }
}
"""


def bulk_orders_query(search: str) -> str:
    """The bulk export's query: every order the search finds, with all its line items."""
    # A JSON string is a GraphQL string literal (quotes and backslashes escaped alike).
    return (
        f"{{ orders(query: {json.dumps(search)}, sortKey: UPDATED_AT) {{ edges {{ node {{{_ORDER_FIELDS}\n"
        f"      lineItems {{ edges {{ node {{ {_LINE_FIELDS} }} }} }}\n    }} }} }} }}"
    )


class BulkUnavailable(Exception):
    """Shopify could not give the export; the reason says why (the backfill pages instead)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def should_go_bulk(expected_orders: int | None) -> bool:
    threshold = settings.STORE_BULK_BACKFILL_ORDERS
    return bool(threshold) and expected_orders is not None and expected_orders >= threshold


def exported_order_pages(client, search: str) -> Iterator[list[dict]]:
    """Pages of order nodes of a bulk export of `search` (raises BulkUnavailable before any
    page when Shopify cannot give it; StoreUnreachable when the download breaks off)."""
    try:
        operation_id = _start(client, search)
        url = _wait_until_done(client, operation_id)
    except StoreUnreachable as refused:
        # A bulk query refused as a whole (a scope bulk operations need, a query Shopify will not
        # run in bulk), or polls that kept failing: paging may still work, and says so if not.
        # (A refusal of our credentials, ConnectionRefused, goes up: it ends the run.)
        raise BulkUnavailable(f"Shopify's bulk export could not be run: {refused.message[:300]}") from refused
    if not url:
        # COMPLETED with nothing found: Shopify gives no file.
        return
    note = getattr(client, "note", None)
    late: set[str] = set()
    yield from _pages(_download(client, url), late=late, note=note)
    if late:
        # Orders given out before all their lines came: read again whole, by id, through the
        # paged query (taken in again, the missing lines are applied as a store update).
        logger.warning("Bulk export of %s: %s orders had lines after them", client.api.store_name, len(late))
        if note:
            note(
                f"{len(late)} order(s) had lines far from them in Shopify's bulk export; "
                "they were read again whole."
            )
        yield from client.orders_by_id(sorted(late))


def _start(client, search: str) -> str:
    waited = 0.0
    for _attempt in range(20):
        data = client.query(BULK_RUN_MUTATION, {"query": bulk_orders_query(search)})
        started = data.get("bulkOperationRunQuery") or {}
        errors = [e for e in started.get("userErrors") or [] if isinstance(e, dict)]
        operation = started.get("bulkOperation") or {}
        if not errors and operation.get("id"):
            return str(operation["id"])
        busy = any(
            e.get("code") == "OPERATION_IN_PROGRESS" or "already in progress" in str(e.get("message", ""))
            for e in errors
        )
        messages = "; ".join(str(e.get("message")) for e in errors)[:300] or "no operation was started"
        if not busy:
            raise BulkUnavailable(f"Shopify refused the bulk export: {messages}")
        # One bulk query per app and shop at a time: wait for the running one (perhaps an
        # earlier backfill's), then start ours.
        if waited >= BUSY_WAIT_LIMIT_SECONDS:
            break
        waited += _wait_while_running(client, limit=BUSY_WAIT_LIMIT_SECONDS - waited)
    raise BulkUnavailable(
        f"Another bulk export of this app was still running on the shop after {BUSY_WAIT_LIMIT_SECONDS // 60} minutes"
    )


def _wait_while_running(client, *, limit: float) -> float:
    """Wait (back-off) while the app's current bulk query runs, up to `limit` seconds; the
    seconds waited (at least one wait: the start is never asked again at once)."""
    waited, delay = 0.0, POLL_FIRST_SECONDS
    while True:
        client.api.wait(delay)
        waited += delay
        delay = min(delay * 2, POLL_MAX_SECONDS)
        current = client.query(CURRENT_BULK_OPERATION_QUERY).get("currentBulkOperation") or {}
        if current.get("status") not in ("CREATED", "RUNNING", "CANCELING") or waited >= limit:
            return waited


def _wait_until_done(client, operation_id: str) -> str | None:
    """Poll the operation until it ends; its file's URL (None: nothing found)."""
    waited, delay = 0.0, POLL_FIRST_SECONDS
    while True:
        current = client.query(CURRENT_BULK_OPERATION_QUERY).get("currentBulkOperation") or {}
        if current.get("id") != operation_id:
            # Another bulk query of the app (another backfill) started after ours ended: ask
            # for ours by its id.
            current = client.query(BULK_OPERATION_QUERY, {"id": operation_id}).get("node") or {}
            if current.get("id") != operation_id:
                raise BulkUnavailable("Shopify no longer knows our bulk export")
        status = current.get("status")
        if status == "COMPLETED":
            return current.get("url") or None
        if status == "FAILED":
            raise BulkUnavailable(
                f"Shopify's bulk export failed ({current.get('errorCode') or 'no reason given'})"
            )
        if status == "CANCELED":
            raise BulkUnavailable("Shopify's bulk export was cancelled")
        if status == "EXPIRED":
            raise BulkUnavailable("Shopify's bulk export expired before it was read")
        if waited >= WAIT_LIMIT_SECONDS:
            # Cancelled, so the shop's one bulk query slot is free for the next backfill.
            client.query(BULK_CANCEL_MUTATION, {"id": operation_id})
            raise BulkUnavailable(
                f"Shopify's bulk export had not finished after {WAIT_LIMIT_SECONDS // 60} minutes "
                "(it was cancelled)"
            )
        client.api.wait(delay)
        waited += delay
        delay = min(delay * 2, POLL_MAX_SECONDS)


def _download(client, url: str) -> Iterator[bytes]:
    """The export's lines, streamed (the file is never held whole). The URL is a signed link
    to Shopify's file storage: no access token goes with it, and a refusal there (an expired
    link: 403 or 400 with an XML error) is not the shop refusing our credentials."""
    timeout = settings.STORE_API_TIMEOUT_SECONDS
    try:
        response = requests.get(url, stream=True, timeout=timeout)
    except requests.RequestException as failed:
        raise BulkUnavailable(f"Shopify's bulk export file could not be fetched: {failed}") from failed
    with response:
        if response.status_code != 200:
            raise BulkUnavailable(
                f"Shopify's bulk export file could not be fetched (HTTP {response.status_code}; "
                "the link may have expired)"
            )
        try:
            yield from response.iter_lines(chunk_size=64 * 1024)
        except requests.RequestException as broken:
            raise StoreUnreachable(
                f"The download of {client.api.store_name}'s bulk export broke off: {broken}. "
                "The orders read before are in; backfill again to take in the rest."
            ) from broken


def _pages(
    lines: Iterable[bytes], *, late: set[str], note: Callable[[str], None] | None = None
) -> Iterator[list[dict]]:
    """Order nodes rebuilt from the export's lines, in pages of BULK_PAGE.

    An order is given out once OPEN_ORDERS later orders have begun (or at the end), with the
    line items that named it. A line item naming an order already given out (Shopify promises
    only that it comes after its order) is never dropped silently: the order's id goes in
    `late`, and the caller reads those orders again, whole."""
    open_orders: dict[str, dict] = {}
    ready: list[dict] = []
    given_out: set[str] = set()
    unreadable = orphans = 0
    for raw in lines:
        if not raw or not raw.strip():
            continue
        try:
            item = _decode(raw.decode() if isinstance(raw, bytes) else raw)
        except ValueError:
            item = None
        if not isinstance(item, dict):
            unreadable += 1
            continue
        parent_id = item.pop("__parentId", None)
        if parent_id is None:
            item_id = str(item.get("id") or "")
            item["lineItems"] = {"nodes": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}
            open_orders[item_id] = item
            if len(open_orders) > OPEN_ORDERS:
                oldest = next(iter(open_orders))
                ready.append(open_orders.pop(oldest))
                given_out.add(oldest)
        elif parent_id in open_orders:
            open_orders[parent_id]["lineItems"]["nodes"].append(item)
        elif parent_id in given_out:
            late.add(parent_id)
        else:
            orphans += 1
        if len(ready) >= BULK_PAGE:
            yield ready
            ready = []
    if note and unreadable:
        note(f"{unreadable} line(s) of Shopify's bulk export were not JSON objects; they were skipped.")
    if note and orphans:
        note(f"{orphans} line item(s) of Shopify's bulk export named no order it listed; they were skipped.")
    ready += open_orders.values()
    while ready:
        yield ready[:BULK_PAGE]
        ready = ready[BULK_PAGE:]
