"""New store orders go in through the batched write path, a page (or a CSV chunk) at a time,
without losing any rule of the one-at-a-time path."""

import csv
import dataclasses
import io
from unittest import mock

import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from orderdesk.orders import actions as order_actions
from orderdesk.orders.models import Order, OrderEvent
from orderdesk.stores import csv_import, shopify, sync
from orderdesk.stores.models import Store, StoreOrderLink
from orderdesk.stores.shopify import order_from_webhook
from orderdesk.stores.sync import Outcome, apply_incoming_orders

from .factories import shopify_store
from .peers import shopify_node, shopify_webhook_order

pytestmark = pytest.mark.django_db


def _incoming(number, **overrides):
    return order_from_webhook(shopify_webhook_order(number, **overrides))


def test_a_page_records_its_new_orders_together_and_refuses_the_bad_one_with_its_reason(owner):
    store = shopify_store(owner)
    page = [
        _incoming(1),
        _incoming(2, currency="USD"),
        _incoming(3, financial_status="pending"),
        _incoming(4),
    ]

    with mock.patch.object(order_actions, "record_order", side_effect=AssertionError("one at a time")):
        outcomes = apply_incoming_orders(store, page, notify=False)

    assert outcomes[0] == outcomes[3] == Outcome.NEW
    assert outcomes[1].message == "The order is in USD, but the shop keeps its books in PHP."
    assert outcomes[2] == Outcome.UNCHANGED  # not paid yet: enters when paid
    assert sorted(StoreOrderLink.objects.values_list("external_id", flat=True)) == ["1", "4"]
    assert Order.objects.get(external_id="4").store_link.fingerprint == page[3].fingerprint


def test_the_same_store_order_twice_in_a_page_is_one_order(owner):
    store = shopify_store(owner)
    outcomes = apply_incoming_orders(
        store, [_incoming(7), _incoming(7), _incoming(7, note="gift wrap")], notify=False
    )
    assert outcomes == [Outcome.NEW, Outcome.UNCHANGED, Outcome.UPDATED]
    assert Order.objects.filter(store=store, external_id="7").count() == 1
    assert OrderEvent.objects.filter(kind=OrderEvent.Kind.PLACED).count() == 1


def test_a_page_already_taken_in_is_answered_from_its_links_in_a_few_statements(owner):
    store = shopify_store(owner)
    page = [_incoming(n) for n in range(1, 31)]
    apply_incoming_orders(store, page, notify=False)
    with CaptureQueriesContext(connection) as captured:
        outcomes = apply_incoming_orders(store, page, notify=False)
    assert outcomes == [Outcome.UNCHANGED] * 30
    assert len(captured.captured_queries) <= 5


def test_a_batch_the_database_refuses_is_taken_in_one_order_at_a_time(owner):
    store = shopify_store(owner)
    with mock.patch.object(order_actions, "record_orders", side_effect=DatabaseError("deadlock")):
        outcomes = apply_incoming_orders(store, [_incoming(1), _incoming(2)], notify=False)
    assert outcomes == [Outcome.NEW, Outcome.NEW]
    assert Order.objects.filter(store=store).count() == 2


def _template_rows(orders: int, *, lines: int = 3) -> list[list[str]]:
    return [
        [f"{1000 + n}", "2026-11-20 16:00", f"Buyer {n}", f"0917 555 {n:04d}", "", "5 Rizal Ave", "J&T Express",
         "120.00", "0.00", "gcash", "PHP", "", f"SKU-{k}", f"Item {k}", "", "1", "100.00"]
        for n in range(orders)
        for k in range(lines)
    ]  # fmt: skip


def _csv(rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(csv_import.TEMPLATE_COLUMNS)
    writer.writerows(rows)
    return out.getvalue().encode()


def test_a_csv_import_reads_an_open_file_in_chunks_and_the_same_file_twice_changes_nothing(owner):
    store = Store.objects.create(merchant=owner.merchant, name="CSV", channel=Store.Channel.CSV)
    data = _csv(_template_rows(12))
    with mock.patch.object(csv_import, "IMPORT_CHUNK_ORDERS", 5):
        run = csv_import.import_csv(io.BytesIO(data), store=store)
        again = csv_import.import_csv(io.BytesIO(data), store=store)
    assert (run.new_count, run.failed_count, run.outcome) == (12, 0, "done")
    assert (again.new_count, again.unchanged_count) == (0, 12)
    assert Order.objects.filter(store=store).count() == 12
    assert all(order.lines.count() == 3 for order in Order.objects.filter(store=store))


def test_a_row_of_an_order_already_taken_in_further_up_is_refused_with_its_row(owner):
    store = Store.objects.create(merchant=owner.merchant, name="CSV", channel=Store.Channel.CSV)
    rows = _template_rows(3, lines=1)
    rows.append(list(rows[0]))  # order 1000 again, after 1001 and 1002
    with mock.patch.object(csv_import, "IMPORT_CHUNK_ORDERS", 2):
        run = csv_import.import_csv(_csv(rows), store=store)
    assert (run.new_count, run.failed_count) == (3, 1)
    assert run.failures == [
        {"external_id": "row 5", "reason": "Order 1000: its rows must follow one another in the file."}
    ]


def test_a_file_that_turns_unreadable_midway_keeps_the_whole_chunks_before_and_says_why(owner):
    """The next chunk is read by a thread of its own while one is recorded: its error still
    comes after every chunk read before it, and ends the run with the reason."""
    store = Store.objects.create(merchant=owner.merchant, name="CSV", channel=Store.Channel.CSV)
    # Far more than the text decoder's first read (8 KiB), then a byte that is not UTF-8.
    data = _csv(_template_rows(100)) + b"1100,,Broken \xff row,,,,,,,,,,,Item,,1,100.00\r\n"
    with mock.patch.object(csv_import, "IMPORT_CHUNK_ORDERS", 5):
        run = csv_import.import_csv(io.BytesIO(data), store=store)
    assert run.outcome == "failed"
    assert run.error == "The file is not UTF-8 text; save it as “CSV UTF-8”."
    assert 0 < run.new_count < 100 and run.new_count % 5 == 0
    assert Order.objects.filter(store=store).count() == run.new_count


def test_a_sync_digests_each_order_and_checks_a_paid_ones_phone_beside_the_parsing(owner):
    store = shopify_store(owner)
    node = shopify_node(7)
    node["shippingAddress"]["phone"] = "0917 555 0107"
    [batch] = list(sync._parsed_batches(store, iter([[node, "not an order"]]), shopify.order_from_graphql))
    (external_id, parsed), (_, unreadable) = batch
    assert external_id == "7" and isinstance(unreadable, sync.Unreadable)
    # Made in the reading thread and kept: the thread that writes the batch finds them made.
    assert parsed.__dict__["_fingerprint"] == shopify.order_from_graphql(node).fingerprint
    assert order_actions._PHONES_SEEN["0917 555 0107"] == "+639175550107"


def test_the_reading_thread_works_out_each_orders_digest_and_phone_before_the_chunk_is_written():
    rows = _template_rows(2, lines=1)
    rows[1][3] = "0917 555 0123"  # a phone the parse has to normalize
    reader = csv.DictReader(io.StringIO(_csv(rows).decode(), newline=""))
    parse_group, key = csv_import._shape_of(reader)
    order_actions._PHONES_SEEN.clear()
    (chunk,) = csv_import._chunks(reader, parse_group, key)
    orders = [order for _, order in chunk.orders]
    assert all("_fingerprint" in order.__dict__ for order in orders)
    assert [order.fingerprint for order in orders] == [
        dataclasses.replace(order).fingerprint for order in orders
    ]
    assert [order_actions._PHONES_SEEN.get(order.customer_phone) for order in orders] == [
        "+639175550000",
        "+639175550123",
    ]
