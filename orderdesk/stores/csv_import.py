"""CSV import: orders with their lines from Orderdesk's template or Shopify's orders export.

Reading makes a preview (the orders found, and each bad row with its reason) and writes
nothing; importing takes the good orders in through the same upsert as the other
channels, quietly, so the same file twice changes nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from typing import BinaryIO

from django.db import transaction
from django.utils import timezone

from orderdesk.errors import DomainError

from . import incoming
from .errors import InvalidStoreDetails, MalformedStoreOrder
from .incoming import IncomingLine, IncomingOrder
from .models import Store, SyncRun
from .read_ahead import read_ahead

# Orderdesk's template: one row per item; rows with the same order_id make one order, and
# the order's own columns are read from its first row.
TEMPLATE_COLUMNS = [
    "order_id",
    "placed_at",
    "customer_name",
    "customer_phone",
    "customer_email",
    "shipping_address",
    "shipping_option",
    "shipping_fee",
    "discount",
    "payment_method",
    "currency",
    "note",
    "sku",
    "title",
    "variant_title",
    "quantity",
    "unit_price",
]
REQUIRED_COLUMNS = {"order_id", "customer_name", "title", "quantity", "unit_price"}
TEMPLATE_EXAMPLE = [
    "1001", "2026-11-20 16:00", "Rosa Reyes", "0917 555 0199", "rosa@example.com",
    "5 Rizal Ave, Quezon City, Metro Manila 1100", "J&T Express", "120.00", "0.00", "gcash", "PHP", "",
    "LS-M", "Linen shirt", "M", "2", "799.00",
]  # fmt: skip
# Shopify's Orders → Export: the columns we read from it.
SHOPIFY_EXPORT_COLUMNS = {"Name", "Lineitem name", "Lineitem quantity", "Lineitem price"}
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 20_000
PAYMENT_METHODS = {"cod", "card", "gcash", "maya", "bank_transfer", "paypal", "other"}


@dataclass
class RowError:
    row: int
    message: str


@dataclass
class Preview:
    """What a file would import: good orders (with the rows they came from) and bad rows."""

    orders: list[tuple[list[int], IncomingOrder]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    already_imported: int = 0
    # Orders the store has not been paid for (or already fulfilled or cancelled): left out.
    not_paid: int = 0

    @property
    def importable(self) -> int:
        return len(self.orders) - self.already_imported - self.not_paid


def template_csv() -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(TEMPLATE_COLUMNS)
    writer.writerow(TEMPLATE_EXAMPLE)
    return out.getvalue()


def read_csv(data: bytes, *, store: Store) -> Preview:
    """The preview of a file; raises InvalidStoreDetails when it is not a CSV we can read at all."""
    if len(data) > MAX_FILE_BYTES:
        raise InvalidStoreDetails(
            f"The file is over {MAX_FILE_BYTES // (1024 * 1024)} MB; split it.", field="file"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as garbled:
        raise InvalidStoreDetails(
            "The file is not UTF-8 text; save it as “CSV UTF-8”.", field="file"
        ) from garbled
    if "\x00" in text:
        raise InvalidStoreDetails("The file contains NUL characters; it is not a CSV.", field="file")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    parse_group, key = _shape_of(reader)
    groups: dict[str, list[tuple[int, dict]]] = {}
    preview = Preview()
    try:
        for row_number, row in _rows(reader):
            if row_number > MAX_ROWS + 1:
                raise InvalidStoreDetails(
                    f"The file has more than {MAX_ROWS:,} rows; split it.", field="file"
                )
            if row is None:
                preview.errors.append(RowError(row_number, "The row has more cells than the header."))
                continue
            order_key = row.get(key, "")
            if not order_key:
                preview.errors.append(RowError(row_number, f"The row has no {key}."))
                continue
            groups.setdefault(order_key, []).append((row_number, row))
    except csv.Error as broken:
        raise InvalidStoreDetails(f"The file is not a readable CSV: {broken}.", field="file") from broken
    for order_key, rows in groups.items():
        try:
            order = parse_group(order_key, [row for _, row in rows])
        except MalformedStoreOrder as refusal:
            preview.errors.append(RowError(rows[0][0], f"Order {order_key}: {refusal.message}"))
            continue
        preview.orders.append(([number for number, _ in rows], order))
    _try_each_order(preview, store)
    return preview


def _try_each_order(preview: Preview, store: Store) -> None:
    """Run every order through the real upsert and roll it all back: the preview refuses
    exactly what the import would, and counts what is already imported."""
    from .sync import Outcome, apply_incoming_order

    good = []
    with transaction.atomic():
        for rows, order in preview.orders:
            try:
                with transaction.atomic():
                    outcome = apply_incoming_order(store, order, notify=False)
            except DomainError as refusal:
                preview.errors.append(RowError(rows[0], f"Order {order.external_id}: {refusal.message}"))
                continue
            good.append((rows, order))
            if outcome == Outcome.UNCHANGED and order.standing != IncomingOrder.Standing.PAID:
                preview.not_paid += 1
            elif outcome == Outcome.UNCHANGED:
                preview.already_imported += 1
        transaction.set_rollback(True)
    preview.orders = good
    preview.errors.sort(key=lambda error: error.row)


def _shape_of(reader: csv.DictReader):
    """Which kind of file this is by its header: (how an order's rows are read, the order column)."""
    try:
        columns = set(reader.fieldnames or [])
    except csv.Error as broken:
        raise InvalidStoreDetails(f"The file is not a readable CSV: {broken}.", field="file") from broken
    if columns >= SHOPIFY_EXPORT_COLUMNS:
        return _shopify_export_order, "Name"
    if columns >= REQUIRED_COLUMNS:
        return _template_order, "order_id"
    missing = ", ".join(sorted(REQUIRED_COLUMNS - columns))
    raise InvalidStoreDetails(
        f"The file lacks the columns {missing}. Use the template, or Shopify's orders export.",
        field="file",
    )


# Orders taken in per transaction while importing; the file is read as it goes.
IMPORT_CHUNK_ORDERS = 1000


def import_csv(data: bytes | BinaryIO, *, store: Store) -> SyncRun:
    """Take the file's good orders in (quietly); logs the import in the store's sync log.

    `data` is the file's bytes or an open binary file. It is streamed: rows are read as they
    come and new orders recorded IMPORT_CHUNK_ORDERS at a time through the batched path, so
    memory stays flat whatever the size (the preview's size limits are the upload page's);
    the next chunk is read and parsed by a thread of its own while one is recorded.
    An order's rows must follow one another (Shopify's export and the template do); a row
    of an order already taken in further up is refused with its row number.
    Raises InvalidStoreDetails when the header is not one we read.
    """
    from .sync import _count_failure, _counted, _end_run, apply_incoming_orders

    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    reader = csv.DictReader(io.TextIOWrapper(stream, encoding="utf-8-sig", newline=""))
    parse_group, key = _shape_of(reader)
    run = SyncRun.objects.create(merchant_id=store.merchant_id, store=store, kind=SyncRun.Kind.CSV)
    error = ""
    try:
        chunks = read_ahead(_chunks(reader, parse_group, key), name=f"CSV import to store {store.pk}")
        with closing(chunks):
            for chunk in chunks:
                for where, reason in chunk.refused:
                    _count_failure(run, where, reason)
                if not chunk.orders:
                    continue
                outcomes = apply_incoming_orders(store, [order for _, order in chunk.orders], notify=False)
                for (first_row, order), outcome in zip(chunk.orders, outcomes, strict=True):
                    _counted(run, store, f"{order.external_id} (row {first_row})", outcome)
    except UnicodeDecodeError:
        error = "The file is not UTF-8 text; save it as “CSV UTF-8”."
    except csv.Error as broken:
        error = f"The file is not a readable CSV: {broken}."
    _end_run(run, error=error)
    return run


@dataclass
class _Chunk:
    """Up to IMPORT_CHUNK_ORDERS orders of a file, parsed, with the rows and orders refused
    on the way ((where, reason), in the order they were found)."""

    refused: list[tuple[str, str]]
    orders: list[tuple[int, IncomingOrder]]


def _chunks(reader: csv.DictReader, parse_group, key: str) -> Iterator[_Chunk]:
    """The file's orders, parsed, a chunk at a time (run by the read-ahead thread: no database)."""
    groups: dict[str, list[tuple[int, dict]]] = {}
    done: set[str] = set()
    refused: list[tuple[str, str]] = []

    def chunk() -> _Chunk:
        nonlocal refused
        orders = []
        for order_key, rows in groups.items():
            try:
                order = parse_group(order_key, [row for _, row in rows])
            except MalformedStoreOrder as refusal:
                refused.append((f"row {rows[0][0]}", f"Order {order_key}: {refusal.message}"))
                continue
            order.work_out_ahead()
            orders.append((rows[0][0], order))
        made = _Chunk(refused=refused, orders=orders)
        done.update(groups)
        groups.clear()
        refused = []
        return made

    for row_number, row in _rows(reader):
        if row is None:
            refused.append((f"row {row_number}", "The row has more cells than the header."))
            continue
        order_key = row.get(key, "")
        if not order_key:
            refused.append((f"row {row_number}", f"The row has no {key}."))
            continue
        if "\x00" in "".join(row.values()):
            refused.append((f"row {row_number}", "The row contains NUL characters."))
            continue
        if order_key in done:
            refused.append(
                (f"row {row_number}", f"Order {order_key}: its rows must follow one another in the file.")
            )
            continue
        if order_key not in groups and len(groups) >= IMPORT_CHUNK_ORDERS:
            yield chunk()
        groups.setdefault(order_key, []).append((row_number, row))
    yield chunk()


def _rows(reader: csv.DictReader) -> Iterator[tuple[int, dict[str, str] | None]]:
    """The file's rows after its header, numbered from 2 (blank rows skipped, as DictReader
    skips them), each as {column: its cell, stripped}: a column the row lacks reads "" (a
    later column of the same name wins, as in DictReader); None for a row with more cells
    than the header. DictReader's rows, made from its reader's lists in one pass each (a
    file of 100,000 orders has 300,000 rows)."""
    columns = reader.fieldnames or []
    width = len(columns)
    strip = str.strip
    row_number = 1
    for cells in reader.reader:
        if not cells:
            continue
        row_number += 1
        if len(cells) > width:
            yield row_number, None
            continue
        row = dict(zip(columns, map(strip, cells), strict=False))
        if len(cells) < width:
            for column in columns[len(cells) :]:
                row[column] = ""
        yield row_number, row


def _cell(row: dict, name: str) -> str:
    return row.get(name, "")


def _placed_at(value: str):
    if not value:
        return None
    moment = incoming.moment(value.replace(" +", "+").replace(" ", "T", 1))
    return moment or timezone.now()


def _template_order(order_id: str, rows: list[dict]) -> IncomingOrder:
    first = rows[0]
    payment = _cell(first, "payment_method").lower() or "other"
    if payment not in PAYMENT_METHODS:
        raise MalformedStoreOrder(
            f"“{payment}” is not a payment method ({', '.join(sorted(PAYMENT_METHODS))})."
        )
    return IncomingOrder(
        external_id=order_id,
        standing=IncomingOrder.Standing.PAID,
        currency=_cell(first, "currency").upper(),
        customer_name=_cell(first, "customer_name"),
        customer_phone=_cell(first, "customer_phone"),
        customer_email=_cell(first, "customer_email"),
        shipping_address=_cell(first, "shipping_address"),
        lines=tuple(_template_line(row) for row in rows),
        payment_method=payment,
        shipping_option=_cell(first, "shipping_option"),
        shipping_fee=incoming.amount(_cell(first, "shipping_fee"), "shipping fee"),
        discount=incoming.amount(_cell(first, "discount"), "discount"),
        note=_cell(first, "note"),
        placed_at=_placed_at(_cell(first, "placed_at")),
    )


def _template_line(row: dict) -> IncomingLine:
    title = row.get("title", "")
    return IncomingLine(
        sku=row.get("sku", ""),
        title=title,
        variant_title=row.get("variant_title", ""),
        quantity=incoming.quantity(row.get("quantity", ""), title or "an item"),
        unit_price=incoming.amount(row.get("unit_price", ""), f"price of {title or 'an item'}"),
    )


def _shopify_export_order(name: str, rows: list[dict]) -> IncomingOrder:
    first = rows[0]
    financial = _cell(first, "Financial Status").lower()
    fulfillment = _cell(first, "Fulfillment Status").lower()
    if _cell(first, "Cancelled at"):
        standing = IncomingOrder.Standing.CANCELLED
    elif fulfillment == "fulfilled":
        standing = IncomingOrder.Standing.FULFILLED
    elif financial in ("paid", "partially_refunded"):
        standing = IncomingOrder.Standing.PAID
    else:
        standing = IncomingOrder.Standing.UNPAID
    gateway = _cell(first, "Payment Method").lower()
    return IncomingOrder(
        # The export's Id is the order's id in Shopify, which webhooks and the API use too.
        external_id=_cell(first, "Id") or name,
        standing=standing,
        currency=_cell(first, "Currency").upper(),
        customer_name=_cell(first, "Shipping Name")
        or _cell(first, "Billing Name")
        or f"Customer of order {name}",
        customer_phone=_cell(first, "Shipping Phone") or _cell(first, "Phone"),
        customer_email=_cell(first, "Email"),
        shipping_address=incoming.address_text(
            _cell(first, "Shipping Address1") or _cell(first, "Shipping Street"),
            _cell(first, "Shipping Address2"),
            _cell(first, "Shipping City"),
            _cell(first, "Shipping Province"),
            _cell(first, "Shipping Zip"),
            _cell(first, "Shipping Country"),
        ),
        lines=tuple(
            IncomingLine(
                sku=_cell(row, "Lineitem sku"),
                title=_cell(row, "Lineitem name"),
                variant_title="",
                quantity=incoming.quantity(
                    _cell(row, "Lineitem quantity"), _cell(row, "Lineitem name") or "an item"
                ),
                unit_price=incoming.amount(
                    _cell(row, "Lineitem price"), f"price of {_cell(row, 'Lineitem name') or 'an item'}"
                ),
            )
            for row in rows
        ),
        payment_method="cod"
        if "cash on delivery" in gateway
        else ("paypal" if "paypal" in gateway else "card" if gateway else "other"),
        shipping_option=_cell(first, "Shipping Method"),
        shipping_fee=incoming.amount(_cell(first, "Shipping"), "shipping fee"),
        discount=incoming.amount(_cell(first, "Discount Amount"), "discount"),
        note=_cell(first, "Notes"),
        placed_at=_placed_at(_cell(first, "Created at")),
        extra={"shopify_name": name},
    )
