"""Rows of orders, lines, shipments and costs as a spreadsheet expects them, written as CSV or XLSX.

Money is a number with two decimals; dates and times are real dates in the merchant's time zone
(XLSX cells with date formats; CSV `2026-11-02` and `2026-11-02 14:05:00`). Rows are read a chunk
at a time and written as they come, so memory stays flat however many orders there are.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet

from orderdesk.aftersales.models import AfterSalesCase
from orderdesk.fulfillment.models import Fulfillment, FulfillmentLine
from orderdesk.orders.models import Order, OrderLine
from orderdesk.orders.queries import matching_search

from .models import Export
from .period import start_of_day

CHUNK = 2000
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Column:
    title: str
    # money, date, datetime, int or text: how the cell is written.
    kind: str = "text"


def orders_for(merchant, criteria: dict) -> QuerySet[Order]:
    """The merchant's orders an export covers: a period (placed, in the merchant's zone), a store,
    an Order Tracking tab and a search, each only when given."""
    orders = Order.objects.for_merchant(merchant)
    zone = merchant.zone
    if criteria.get("starts_on"):
        orders = orders.filter(placed_at__gte=start_of_day(_date(criteria["starts_on"]), zone))
    if criteria.get("ends_on"):
        next_day = _date(criteria["ends_on"]) + datetime.timedelta(days=1)
        orders = orders.filter(placed_at__lt=start_of_day(next_day, zone))
    if criteria.get("store_id"):
        orders = orders.filter(store_id=criteria["store_id"])
    if criteria.get("status"):
        orders = orders.filter(status=criteria["status"])
    if criteria.get("search"):
        orders = orders.filter(matching_search(merchant, criteria["search"]))
    return orders


def _date(value) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)


@dataclass(frozen=True)
class Sheet:
    """One kind of export: its columns and the rows (plain tuples) of some orders."""

    kind: str
    columns: list[Column]
    rows: Callable[[object, QuerySet[Order]], Iterator[tuple]]
    count: Callable[[object, QuerySet[Order]], int]


def _local(zone):
    def at(moment):
        return moment.astimezone(zone).replace(tzinfo=None) if moment else None

    return at


def _order_rows(merchant, orders) -> Iterator[tuple]:
    at = _local(merchant.zone)
    fields = (
        "reference", "placed_at", "store__name", "status", "customer_name", "customer_phone",
        "customer_email", "currency", "subtotal", "shipping_fee", "discount", "total", "payment_method",
        "payment_status", "shipping_option", "processing_days", "due_on", "payment_verified_at",
        "dispatched_at", "fulfilled_at", "cancelled_at",
    )  # fmt: skip
    for row in orders.order_by("placed_at", "id").values_list(*fields).iterator(chunk_size=CHUNK):
        placed = at(row[1])
        yield (
            row[0], placed.date(), placed, row[2], row[3], row[4], row[5], row[6], row[7],
            row[8], row[9], row[10], row[11], row[12], row[13], row[14], row[15], row[16],
            at(row[17]), at(row[18]), at(row[19]), at(row[20]),
        )  # fmt: skip


def _line_rows(merchant, orders) -> Iterator[tuple]:
    at = _local(merchant.zone)
    lines = (
        OrderLine.objects.for_merchant(merchant)
        .filter(order__in=orders.values("pk"))
        .order_by("order__placed_at", "order_id", "id")
        .values_list(
            "order__reference",
            "order__placed_at",
            "order__status",
            "sku",
            "title",
            "variant_title",
            "quantity",
            "unit_price",
        )  # fmt: skip
    )
    for reference, placed_at, status, sku, title, variant, quantity, price in lines.iterator(
        chunk_size=CHUNK
    ):
        yield (
            reference,
            at(placed_at).date(),
            status,
            sku,
            title,
            variant,
            quantity,
            price,
            price * quantity,
        )


def _shipment_rows(merchant, orders) -> Iterator[tuple]:
    at = _local(merchant.zone)
    shipments = (
        Fulfillment.objects.for_merchant(merchant)
        .filter(order__in=orders.values("pk"))
        .order_by("order__placed_at", "order_id", "id")
        .values_list(
            "order__reference",
            "id",
            "vendor__name",
            "status",
            "carrier",
            "delivery_reference",
            "expected_on",
            "created_at",
            "shipped_at",
            "delivered_at",
            "shipping_cost",
        )  # fmt: skip
    )
    for row in shipments.iterator(chunk_size=CHUNK):
        yield (
            row[0], row[1], row[2] or "The shop", row[3], row[4], row[5], row[6],
            at(row[7]), at(row[8]), at(row[9]), row[10],
        )  # fmt: skip


def _cost_rows(merchant, orders) -> Iterator[tuple]:
    at = _local(merchant.zone)
    lines = (
        FulfillmentLine.objects.for_merchant(merchant)
        .filter(fulfillment__order__in=orders.values("pk"))
        .order_by("fulfillment__order__placed_at", "fulfillment__order_id", "fulfillment_id", "id")
        .values_list(
            "fulfillment__order__reference",
            "fulfillment__order__placed_at",
            "fulfillment__order__status",
            "fulfillment_id",
            "fulfillment__vendor__name",
            "order_line__sku",
            "order_line__title",
            "quantity",
            "order_line__unit_price",
            "unit_cost",
            "shipping_cost",
        )  # fmt: skip
    )
    zero = Decimal("0")
    for row in lines.iterator(chunk_size=CHUNK):
        quantity, price, unit_cost, shipping_cost = row[7], row[8], row[9], row[10]
        revenue = price * quantity
        cost = quantity * ((unit_cost or zero) + (shipping_cost or zero))
        yield (
            row[0], at(row[1]).date(), row[2], row[3], row[4] or "The shop", row[5], row[6], quantity,
            price, unit_cost, shipping_cost, revenue, cost, revenue - cost,
        )  # fmt: skip


def _case_rows(merchant, orders) -> Iterator[tuple]:
    at = _local(merchant.zone)
    cases = (
        AfterSalesCase.objects.for_merchant(merchant)
        .filter(order__in=orders.values("pk"))
        .order_by("order__placed_at", "order_id", "id")
        .values_list(
            "order__reference",
            "order__placed_at",
            "id",
            "type",
            "mode",
            "status",
            "vendor__name",
            "created_at",
            "resolved_at",
            "closed_at",
            "customer_refund",
            "vendor_credit",
            "resend_cost",
        )  # fmt: skip
    )
    for row in cases.iterator(chunk_size=CHUNK):
        yield (
            row[0], at(row[1]).date(), row[2], row[3], row[4], row[5], row[6] or "", at(row[7]), at(row[8]),
            at(row[9]), row[10], row[11], row[12],
        )  # fmt: skip


def _count_cases(merchant, orders) -> int:
    return AfterSalesCase.objects.for_merchant(merchant).filter(order__in=orders.values("pk")).count()


def _count_lines(merchant, orders) -> int:
    return OrderLine.objects.for_merchant(merchant).filter(order__in=orders.values("pk")).count()


def _count_shipments(merchant, orders) -> int:
    return Fulfillment.objects.for_merchant(merchant).filter(order__in=orders.values("pk")).count()


def _count_costs(merchant, orders) -> int:
    return (
        FulfillmentLine.objects.for_merchant(merchant)
        .filter(fulfillment__order__in=orders.values("pk"))
        .count()
    )


SHEETS = {
    Export.Kind.ORDERS: Sheet(
        kind=Export.Kind.ORDERS,
        columns=[
            Column("Order"),
            Column("Placed on", "date"),
            Column("Placed at", "datetime"),
            Column("Store"),
            Column("Status"),
            Column("Customer"),
            Column("Phone"),
            Column("Email"),
            Column("Currency"),
            Column("Subtotal", "money"),
            Column("Shipping fee", "money"),
            Column("Discount", "money"),
            Column("Total", "money"),
            Column("Payment method"),
            Column("Payment status"),
            Column("Shipping option"),
            Column("Processing days", "int"),
            Column("Due on", "date"),
            Column("Paid at", "datetime"),
            Column("Dispatched at", "datetime"),
            Column("Fulfilled at", "datetime"),
            Column("Cancelled at", "datetime"),
        ],  # fmt: skip
        rows=_order_rows,
        count=lambda merchant, orders: orders.count(),
    ),
    Export.Kind.LINES: Sheet(
        kind=Export.Kind.LINES,
        columns=[
            Column("Order"),
            Column("Placed on", "date"),
            Column("Order status"),
            Column("SKU"),
            Column("Product"),
            Column("Variant"),
            Column("Quantity", "int"),
            Column("Unit price", "money"),
            Column("Line total", "money"),
        ],  # fmt: skip
        rows=_line_rows,
        count=_count_lines,
    ),
    Export.Kind.SHIPMENTS: Sheet(
        kind=Export.Kind.SHIPMENTS,
        columns=[
            Column("Order"),
            Column("Shipment", "int"),
            Column("Shipped by"),
            Column("Shipping status"),
            Column("Carrier"),
            Column("Delivery reference"),
            Column("Expected on", "date"),
            Column("Created at", "datetime"),
            Column("In transit at", "datetime"),
            Column("Delivered at", "datetime"),
            Column("Shipping cost", "money"),
        ],  # fmt: skip
        rows=_shipment_rows,
        count=_count_shipments,
    ),
    Export.Kind.COSTS: Sheet(
        kind=Export.Kind.COSTS,
        columns=[
            Column("Order"),
            Column("Placed on", "date"),
            Column("Order status"),
            Column("Shipment", "int"),
            Column("Shipped by"),
            Column("SKU"),
            Column("Product"),
            Column("Quantity", "int"),
            Column("Unit price", "money"),
            Column("Unit cost", "money"),
            Column("Shipping cost per unit", "money"),
            Column("Revenue", "money"),
            Column("Cost", "money"),
            Column("Margin", "money"),
        ],  # fmt: skip
        rows=_cost_rows,
        count=_count_costs,
    ),
    Export.Kind.AFTER_SALES: Sheet(
        kind=Export.Kind.AFTER_SALES,
        columns=[
            Column("Order"),
            Column("Placed on", "date"),
            Column("Case", "int"),
            Column("Type"),
            Column("Mode"),
            Column("Status"),
            Column("Vendor"),
            Column("Opened at", "datetime"),
            Column("Resolved at", "datetime"),
            Column("Closed at", "datetime"),
            Column("Refunded to the customer", "money"),
            Column("Vendor credit", "money"),
            Column("Resend cost", "money"),
        ],  # fmt: skip
        rows=_case_rows,
        count=_count_cases,
    ),
}


def _csv_writer_of(kind: str):
    """The cell writer of one column kind; text and whole numbers go to the csv module as they are."""
    if kind == "money":
        return lambda value: "" if value is None else f"{value:.2f}"
    if kind == "datetime":
        return lambda value: "" if value is None else value.strftime("%Y-%m-%d %H:%M:%S")
    if kind == "date":
        return lambda value: "" if value is None else value.isoformat()
    return None


def csv_chunks(sheet: Sheet, rows: Iterator[tuple]) -> Iterator[str]:
    """The CSV text a few hundred rows at a time (a UTF-8 BOM first, so Excel reads it as UTF-8)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([column.title for column in sheet.columns])
    yield "\ufeff" + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    converted = [
        (index, convert)
        for index, convert in enumerate(_csv_writer_of(column.kind) for column in sheet.columns)
        if convert
    ]
    for number, row in enumerate(rows, 1):
        cells = list(row)
        for index, convert in converted:
            cells[index] = convert(cells[index])
        writer.writerow(cells)
        if number % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_csv(
    sheet: Sheet, rows: Iterator[tuple], out, *, progress: Callable[[int], None] | None = None
) -> int:
    """Write the CSV to a binary file; how many rows were written."""
    counted = _Counted(rows, progress)
    for chunk in csv_chunks(sheet, counted):
        out.write(chunk.encode("utf-8"))
    return counted.count


def write_xlsx(
    sheet: Sheet, rows: Iterator[tuple], out, *, progress: Callable[[int], None] | None = None
) -> int:
    """Write an XLSX workbook (openpyxl's write-only mode: rows go to disk as they come); rows written."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(title=Export.Kind(sheet.kind).label)
    bold = Font(bold=True)
    header = []
    for column in sheet.columns:
        cell = WriteOnlyCell(worksheet, value=column.title)
        cell.font = bold
        header.append(cell)
    worksheet.append(header)
    formats = {"money": MONEY_FORMAT, "date": DATE_FORMAT, "datetime": DATETIME_FORMAT}
    # One template cell per formatted column; a cell is a value plus its number format.
    styled = [
        (index, formats[column.kind]) for index, column in enumerate(sheet.columns) if column.kind in formats
    ]
    money_columns = {index for index, column in enumerate(sheet.columns) if column.kind == "money"}
    counted = _Counted(rows, progress)
    for row in counted:
        values: list = list(row)
        for index in money_columns:
            if values[index] is not None:
                # Excel has no decimal type; a float of a two-decimal amount reads back the same.
                values[index] = float(values[index])
        for index, number_format in styled:
            if values[index] is not None:
                cell = WriteOnlyCell(worksheet, value=values[index])
                cell.number_format = number_format
                values[index] = cell
        worksheet.append(values)
    workbook.save(out)
    return counted.count


class _Counted:
    """Rows passed through, counted, with `progress(count)` every few thousand."""

    def __init__(self, rows, progress):
        self.rows, self.progress, self.count = rows, progress, 0

    def __iter__(self):
        for row in self.rows:
            self.count += 1
            if self.progress and self.count % 5000 == 0:
                self.progress(self.count)
            yield row


def file_name(merchant, kind: str, file_format: str, criteria: dict) -> str:
    """'lakbay-crafts-orders-2026-11-01-to-2026-11-30.csv' and the like (ASCII only)."""
    from django.utils.text import slugify

    parts = [slugify(merchant.name) or "shop", kind]
    if criteria.get("starts_on") or criteria.get("ends_on"):
        parts.append(f"{criteria.get('starts_on') or 'start'}-to-{criteria.get('ends_on') or 'now'}")
    if criteria.get("status"):
        parts.append(criteria["status"])
    return "-".join(parts) + f".{file_format}"
