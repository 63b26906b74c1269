"""A large Shopify backfill read as one bulk export (bulkOperationRunQuery, currentBulkOperation,
the JSONL file) from the loopback double, and what happens when Shopify cannot give it."""

import datetime
import json

import pytest
import requests
from django.urls import reverse
from django.utils import timezone

from orderdesk.orders.models import Order, OrderLine
from orderdesk.stores import shopify_bulk
from orderdesk.stores.models import Store, SyncRun
from orderdesk.stores.sync import sync_store

from .factories import shopify_store
from .peers import money_set, shopify_node

pytestmark = pytest.mark.django_db

RECENT = (timezone.now() - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _node(number, lines=3, **overrides):
    items = [
        {
            "sku": f"SKU-{number}-{index}",
            "title": f"Item {index}",
            "variantTitle": None,
            "quantity": 1 + index % 3,
            "originalUnitPriceSet": money_set(f"{100 + index}.50"),
        }
        for index in range(lines)
    ]
    fields = {"createdAt": RECENT, "updatedAt": RECENT, "lineItems": {"nodes": items}, **overrides}
    return shopify_node(number, **fields)


@pytest.fixture(autouse=True)
def _bulk_from_100_orders(settings, monkeypatch):
    settings.STORE_BULK_BACKFILL_ORDERS = 100
    monkeypatch.setattr(shopify_bulk, "BULK_PAGE", 50)


@pytest.fixture
def waits():
    return []


def _operations(double):
    return [q for q in double.queries() if "bulkOperationRunQuery" in q["query"]]


def _polls(double):
    return [q for q in double.queries() if "currentBulkOperation" in q["query"]]


def _downloads(double):
    return [r for r in double.requests if r.path.startswith("/bulk-files/")]


def test_a_large_backfill_is_read_as_one_bulk_export_with_every_line(owner, shopify_double, waits):
    shopify_double.orders = [_node(n) for n in range(1, 121)]
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    seen = []
    run = sync_store(
        store.pk, kind=SyncRun.Kind.BACKFILL, progress=lambda r: seen.append(r.seen_count), sleep=waits.append
    )
    assert (run.outcome, run.new_count, run.failed_count, run.failures) == ("done", 120, 0, [])
    # Progress as the paged backfill shows it: batch by batch, of the count Shopify gave.
    assert seen == [50, 100, 120]
    assert run.expected_count == 120
    # The first page (ordersCount) only, then the export: no further page of orders.
    page_queries = [q for q in shopify_double.queries() if q["query"].lstrip().startswith("query Orders(")]
    assert len(page_queries) == 1
    (started,) = _operations(shopify_double)
    assert (
        "financial_status:paid fulfillment_status:unfulfilled created_at:>=" in started["variables"]["query"]
    )
    assert "lineItems { edges { node {" in started["variables"]["query"]
    # Polled with back-off until COMPLETED (RUNNING once: one wait of a second).
    assert len(_polls(shopify_double)) == 2
    assert waits == [1.0]
    # The file is fetched once, from file storage, without the shop's access token.
    (download,) = _downloads(shopify_double)
    assert "x-shopify-access-token" not in download.headers
    assert Order.objects.filter(store=store, status=Order.Status.PENDING).count() == 120
    assert OrderLine.objects.filter(order__store=store).count() == 360
    order = Order.objects.get(external_id="7")
    assert sorted((line.sku, line.quantity, line.unit_price) for line in order.lines.all()) == [
        ("SKU-7-0", 1, pytest.approx(100.50)),
        ("SKU-7-1", 2, pytest.approx(101.50)),
        ("SKU-7-2", 3, pytest.approx(102.50)),
    ]


def test_a_second_bulk_backfill_creates_nothing(owner, shopify_double, waits):
    shopify_double.orders = [_node(n) for n in range(1, 121)]
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=waits.append)
    again = sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=waits.append)
    assert (again.outcome, again.new_count, again.updated_count, again.unchanged_count) == ("done", 0, 0, 120)
    assert len(_operations(shopify_double)) == 2
    assert Order.objects.count() == 120
    assert OrderLine.objects.count() == 360


def test_a_small_backfill_pages_as_before(owner, shopify_double, waits):
    shopify_double.orders = [_node(n) for n in range(1, 100)]
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    run = sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=waits.append)
    assert run.new_count == 99
    assert _operations(shopify_double) == []


def test_bulk_is_off_when_the_threshold_is_zero(owner, shopify_double, waits, settings):
    settings.STORE_BULK_BACKFILL_ORDERS = 0
    shopify_double.orders = [_node(n) for n in range(1, 121)]
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    assert sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=waits.append).new_count == 120
    assert _operations(shopify_double) == []


def test_the_poll_never_goes_bulk(owner, shopify_double, waits):
    shopify_double.orders = [_node(n) for n in range(1, 121)]
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=waits.append)
    later = (timezone.now() + datetime.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    shopify_double.orders = [_node(n, updatedAt=later) for n in range(1, 121)]
    run = sync_store(store.pk, kind=SyncRun.Kind.POLL, sleep=waits.append)
    assert run.unchanged_count == 120
    assert len(_operations(shopify_double)) == 1


def test_an_order_with_more_than_250_lines_comes_whole_from_the_export(owner, shopify_double, waits):
    shopify_double.orders = [_node(n) for n in range(1, 120)] + [_node(120, lines=300)]
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    run = sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=waits.append)
    assert (run.new_count, run.failed_count) == (120, 0)
    assert Order.objects.get(external_id="120").lines.count() == 300


def test_lines_far_from_their_order_in_the_file_are_read_again_whole(
    owner, shopify_double, waits, monkeypatch
):
    monkeypatch.setattr(shopify_bulk, "OPEN_ORDERS", 5)

    def last_line_of_order_3_at_the_end(lines):
        moved = next(
            line
            for line in reversed(lines)
            if isinstance(line, dict) and line.get("__parentId") == "gid://shopify/Order/3"
        )
        return [line for line in lines if line is not moved] + [moved]

    shopify_double.bulk_lines = last_line_of_order_3_at_the_end
    shopify_double.orders = [_node(n) for n in range(1, 121)]
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    run = sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=waits.append)
    assert (run.outcome, run.failed_count) == ("done", 0)
    assert Order.objects.count() == 120
    assert Order.objects.get(external_id="3").lines.count() == 3
    # Read again by id through the paged query, and said in the log.
    assert any(q["variables"].get("query") == "id:3" for q in shopify_double.queries())
    assert [f["external_id"] for f in run.failures] == [""]
    assert "read again whole" in run.failures[0]["reason"]


def test_a_failed_bulk_operation_is_logged_and_the_backfill_pages_instead(
    owner, shopify_double, waits, owner_client
):
    shopify_double.bulk_outcome = ("FAILED", "INTERNAL_SERVER_ERROR")
    shopify_double.orders = [_node(n) for n in range(1, 121)]
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    run = sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=waits.append)
    assert (run.outcome, run.new_count, run.failed_count) == ("done", 120, 0)
    assert run.failures == [
        {
            "external_id": "",
            "reason": "Shopify's bulk export failed (INTERNAL_SERVER_ERROR); "
            "the backfill read the orders page by page instead.",
        }
    ]
    assert _downloads(shopify_double) == []
    page = owner_client.get(reverse("stores:detail", args=[store.pk])).content.decode()
    assert "Shopify&#x27;s bulk export failed (INTERNAL_SERVER_ERROR)" in page
    assert "Order :" not in page


def test_a_cancelled_bulk_operation_falls_back_to_pages(owner, shopify_double, waits):
    shopify_double.bulk_outcome = ("CANCELED", None)
    shopify_double.orders = [_node(n) for n in range(1, 121)]
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    run = sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=waits.append)
    assert run.new_count == 120
    assert "bulk export was cancelled" in run.failures[0]["reason"]


def test_a_bulk_query_refused_as_a_whole_falls_back_to_pages(owner, shopify_double, waits):
    shopify_double.bulk_access_denied = True
    shopify_double.orders = [_node(n) for n in range(1, 121)]
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    run = sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=waits.append)
    assert (run.outcome, run.new_count) == ("done", 120)
    assert "Access denied for bulkOperationRunQuery" in run.failures[0]["reason"]
    store.refresh_from_db()
    assert store.connection_state == Store.ConnectionState.OK


def test_an_expired_file_link_falls_back_to_pages_and_never_breaks_the_connection(
    owner, shopify_double, waits
):
    shopify_double.bulk_file_expired = True
    shopify_double.orders = [_node(n) for n in range(1, 121)]
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    run = sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=waits.append)
    assert (run.outcome, run.new_count) == ("done", 120)
    assert "HTTP 403" in run.failures[0]["reason"]
    store.refresh_from_db()
    # A refusal from file storage is not the shop refusing the token.
    assert store.connection_state == Store.ConnectionState.OK


def test_a_bulk_query_already_running_is_waited_for_then_ours_runs(owner, shopify_double, waits):
    shopify_double.bulk_busy_polls = 3
    shopify_double.orders = [_node(n) for n in range(1, 121)]
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    run = sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=waits.append)
    assert (run.new_count, run.failures) == (120, [])
    assert len(_operations(shopify_double)) == 2
    assert len(_downloads(shopify_double)) == 1
    # Seen running at 3 polls after 1, 2 and 4 seconds (back-off), gone after 8 more; then
    # 1 second while ours ran.
    assert waits == [1.0, 2.0, 4.0, 8.0, 1.0]


def test_a_bulk_query_that_keeps_running_makes_the_backfill_page(owner, shopify_double, waits, monkeypatch):
    monkeypatch.setattr(shopify_bulk, "BUSY_WAIT_LIMIT_SECONDS", 60)
    shopify_double.bulk_busy_polls = 1000
    shopify_double.orders = [_node(n) for n in range(1, 121)]
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    run = sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=waits.append)
    assert run.new_count == 120
    assert "Another bulk export of this app was still running" in run.failures[0]["reason"]
    assert sum(waits) <= 60 + shopify_bulk.POLL_MAX_SECONDS


def test_bad_orders_in_the_export_are_refused_with_their_reason_and_the_rest_taken_in(
    owner, shopify_double, waits
):
    orders = [_node(n) for n in range(1, 121)]
    orders[10]["lineItems"]["nodes"][0]["quantity"] = "lots"
    orders[20] = "not an order"
    shopify_double.orders = orders
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    run = sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=waits.append)
    assert (run.outcome, run.new_count, run.failed_count) == ("done", 118, 1)
    reasons = {f["external_id"]: f["reason"] for f in run.failures}
    assert "lots" in reasons["11"]
    assert "were not JSON objects" in reasons[""]


def test_an_export_with_nothing_in_it_ends_the_backfill_done(owner, shopify_double, waits, monkeypatch):
    shopify_double.orders = [_node(n) for n in range(1, 121)]
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    # Orders gone between the count and the export: Shopify gives no file.
    monkeypatch.setattr(type(shopify_double), "_matching", lambda self, search: [])
    shopify_double.orders = shopify_double.orders  # the count came from the first page already
    run = sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=waits.append)
    assert (run.outcome, run.new_count) == ("done", 0)
    assert _downloads(shopify_double) == []


def test_the_rebuilt_orders_carry_lines_split_over_the_file_in_the_paged_shape():
    lines = [
        {"id": "gid://shopify/Order/1", "name": "#1"},
        {"id": "gid://shopify/LineItem/11", "sku": "A", "__parentId": "gid://shopify/Order/1"},
        {"id": "gid://shopify/Order/2", "name": "#2"},
        {"id": "gid://shopify/LineItem/12", "sku": "B", "__parentId": "gid://shopify/Order/1"},
        {"id": "gid://shopify/LineItem/21", "sku": "C", "__parentId": "gid://shopify/Order/2"},
    ]
    late: set[str] = set()
    pages = list(shopify_bulk._pages((json.dumps(line).encode() for line in lines), late=late))
    assert [[(o["id"], [i["sku"] for i in o["lineItems"]["nodes"]]) for o in page] for page in pages] == [
        [("gid://shopify/Order/1", ["A", "B"]), ("gid://shopify/Order/2", ["C"])]
    ]
    assert pages[0][0]["lineItems"]["pageInfo"]["hasNextPage"] is False
    assert late == set()


def test_the_bulk_query_quotes_the_search_as_a_graphql_string():
    query = shopify_bulk.bulk_orders_query("created_at:>='2026-01-01T00:00:00Z' \"x\"")
    assert 'orders(query: "created_at:>=\'2026-01-01T00:00:00Z\' \\"x\\"", sortKey: UPDATED_AT)' in query


def test_a_download_that_breaks_off_fails_the_run_clearly_and_a_rerun_completes_it(
    owner, shopify_double, waits, monkeypatch
):
    real_get = shopify_bulk.requests.get

    class BreaksOff:
        """The file's first 300 lines (75 orders), then the connection drops."""

        def __init__(self, response):
            self.response, self.status_code = response, response.status_code

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.response.close()

        def iter_lines(self, chunk_size):
            for count, line in enumerate(self.response.iter_lines(chunk_size=chunk_size)):
                if count == 300:
                    raise requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead")
                yield line

    monkeypatch.setattr(shopify_bulk.requests, "get", lambda url, **kw: BreaksOff(real_get(url, **kw)))
    monkeypatch.setattr(shopify_bulk, "OPEN_ORDERS", 10)
    shopify_double.orders = [_node(n) for n in range(1, 121)]
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    run = sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=waits.append)
    assert run.outcome == "failed"
    assert "bulk export broke off" in run.error
    assert "backfill again" in run.error
    # The orders of the batches before the break are in, each whole.
    assert Order.objects.count() == 50
    assert all(order.lines.count() == 3 for order in Order.objects.all())

    monkeypatch.setattr(shopify_bulk.requests, "get", real_get)
    again = sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=waits.append)
    assert again.outcome == "done"
    assert again.new_count + again.unchanged_count == 120
    assert Order.objects.count() == 120


def test_the_export_is_read_as_it_streams_never_whole(monkeypatch):
    """The first page comes out after its orders (and OPEN_ORDERS more) were read, not the file."""
    monkeypatch.setattr(shopify_bulk, "OPEN_ORDERS", 10)
    consumed = []

    def endless_file():
        number = 0
        while True:
            number += 1
            consumed.append(number)
            yield json.dumps({"id": f"gid://shopify/Order/{number}"}).encode()
            yield json.dumps({"sku": "A", "__parentId": f"gid://shopify/Order/{number}"}).encode()

    pages = shopify_bulk._pages(endless_file(), late=set())
    first = next(pages)
    assert len(first) == 50
    # The 60th order pushed the 50th out of the window of 10: nothing further was read.
    assert len(consumed) == 50 + 10


def test_an_export_finished_while_another_began_is_read_by_its_id(owner, shopify_double, waits):
    """Another backfill's bulk query started between ours completing and our poll."""
    answer_current = shopify_double._current_bulk_operation

    def another_began_after_ours():
        answer = answer_current()
        ours = answer["currentBulkOperation"]
        if ours and ours["status"] == "COMPLETED":
            other = {"id": "gid://shopify/BulkOperation/9999", "status": "RUNNING", "search": "", "polls": 0}
            shopify_double.bulk_operations.append(other)
            return {"currentBulkOperation": {**ours, "id": other["id"], "status": "RUNNING", "url": None}}
        return answer

    shopify_double._current_bulk_operation = another_began_after_ours
    shopify_double.orders = [_node(n) for n in range(1, 121)]
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    run = sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=waits.append)
    assert (run.outcome, run.new_count, run.failures) == ("done", 120, [])
    (by_id,) = [q for q in shopify_double.queries() if "node(id: $id)" in q["query"]]
    assert by_id["variables"] == {"id": "gid://shopify/BulkOperation/5001"}
    assert len(_downloads(shopify_double)) == 1


def test_an_export_that_never_finishes_is_cancelled_and_the_backfill_pages(
    owner, shopify_double, waits, monkeypatch
):
    monkeypatch.setattr(shopify_bulk, "WAIT_LIMIT_SECONDS", 100)
    shopify_double.bulk_polls_to_finish = 10_000
    shopify_double.orders = [_node(n) for n in range(1, 121)]
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    run = sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=waits.append)
    assert (run.outcome, run.new_count) == ("done", 120)
    assert "had not finished after 1 minutes (it was cancelled)" in run.failures[0]["reason"]
    assert shopify_double.bulk_operations[-1]["status"] == "CANCELED"
    # Back-off: 1, 2, 4 … 30 s between polls, until 100 s were waited.
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
