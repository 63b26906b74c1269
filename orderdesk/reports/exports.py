"""Rows of orders, lines, shipments, costs and after-sales cases as a spreadsheet expects them,
written as CSV or XLSX.

Money is a number with two decimals; dates and times are real dates in the merchant's time zone
(XLSX cells with date formats; CSV `2026-11-02` and `2026-11-02 14:05:00`). Each kind of export is
a table (`SHEETS`): its rows' model, the path to their order and its columns; one reader and one
writer per format serve them all. On PostgreSQL a CSV is written by the database itself
(`COPY (SELECT …) TO STDOUT`, formatted in SQL); elsewhere, and for XLSX, rows are read as plain
tuples from a server-side cursor and only money and date columns are converted. Either way rows
are written as they come, so memory stays flat however many orders there are.
"""

from __future__ import annotations

import csv
import datetime
import io
import itertools
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from xml.sax.saxutils import escape

from django.db import connection
from django.db.models import (
    CharField,
    DateField,
    DateTimeField,
    DecimalField,
    ExpressionWrapper,
    F,
    Func,
    QuerySet,
    Value,
)
from django.db.models.functions import Coalesce

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
# The most rows an XLSX sheet holds (Excel's limit, the header included); more go on to a new sheet.
XLSX_MAX_ROWS = 1_048_576
ZERO = Decimal("0")
TWO_PLACES = DecimalField(max_digits=16, decimal_places=2)


@dataclass(frozen=True)
class Column:
    title: str
    # The row's field path, or the name of one of the sheet's computed values.
    source: str
    # text, int, money, date, datetime, or day (the merchant's local date of a date and time).
    kind: str = "text"


@dataclass(frozen=True)
class Sheet:
    """One kind of export: whose rows (a model, and the path from one of its rows to the order),
    in what order, with what computed values, and its columns."""

    kind: str
    model: type
    to_order: str
    order_by: tuple[str, ...]
    columns: list[Column]
    computed: Callable[[], dict] = dict

    def queryset(self, merchant, orders: QuerySet[Order]) -> QuerySet:
        if self.model is Order:
            rows = orders
        else:
            rows = self.model.objects.for_merchant(merchant).filter(
                **{f"{self.to_order}__in": orders.values("pk")}
            )
        return rows.annotate(**self.computed()).order_by(*self.order_by)

    def count(self, merchant, orders: QuerySet[Order]) -> int:
        if self.model is Order:
            return orders.count()
        return (
            self.model.objects.for_merchant(merchant)
            .filter(**{f"{self.to_order}__in": orders.values("pk")})
            .count()
        )

    def rows(self, merchant, orders: QuerySet[Order]) -> Iterator[tuple]:
        """Plain tuples from a server-side cursor, dates and times in the merchant's time zone
        (converted by PostgreSQL there, in Python elsewhere)."""
        queryset = self.queryset(merchant, orders)
        if formats_in_the_database():
            zone_name = merchant.zone.key
            cells = {
                f"cell_{index}": _local_cell(column, zone_name) for index, column in enumerate(self.columns)
            }
            yield from queryset.annotate(**cells).values_list(*cells).iterator(chunk_size=CHUNK)
            return
        sources = list(dict.fromkeys(column.source for column in self.columns))
        position = [sources.index(column.source) for column in self.columns]
        zone = merchant.zone
        local = [
            (index, column.kind == "day")
            for index, column in enumerate(self.columns)
            if column.kind in ("datetime", "day")
        ]
        for values in queryset.values_list(*sources).iterator(chunk_size=CHUNK):
            row = [values[index] for index in position]
            for index, as_day in local:
                moment = row[index]
                if moment is not None:
                    moment = moment.astimezone(zone).replace(tzinfo=None)
                    row[index] = moment.date() if as_day else moment
            yield tuple(row)


def _vendor_or(default: str):
    return Coalesce("vendor__name", Value(default))


def _line_costs() -> dict:
    revenue = ExpressionWrapper(F("quantity") * F("order_line__unit_price"), output_field=TWO_PLACES)
    cost = ExpressionWrapper(
        F("quantity") * (Coalesce("unit_cost", ZERO) + Coalesce("shipping_cost", ZERO)),
        output_field=TWO_PLACES,
    )
    return {
        "shipper": Coalesce("fulfillment__vendor__name", Value("The shop")),
        "line_revenue": revenue,
        "line_cost": cost,
        "line_margin": ExpressionWrapper(revenue - cost, output_field=TWO_PLACES),
    }


SHEETS = {
    Export.Kind.ORDERS: Sheet(
        kind=Export.Kind.ORDERS,
        model=Order,
        to_order="",
        order_by=("placed_at", "id"),
        columns=[
            Column("Order", "reference"),
            Column("Placed on", "placed_at", "day"),
            Column("Placed at", "placed_at", "datetime"),
            Column("Store", "store__name"),
            Column("Status", "status"),
            Column("Customer", "customer_name"),
            Column("Phone", "customer_phone"),
            Column("Email", "customer_email"),
            Column("Currency", "currency"),
            Column("Subtotal", "subtotal", "money"),
            Column("Shipping fee", "shipping_fee", "money"),
            Column("Discount", "discount", "money"),
            Column("Total", "total", "money"),
            Column("Payment method", "payment_method"),
            Column("Payment status", "payment_status"),
            Column("Shipping option", "shipping_option"),
            Column("Processing days", "processing_days", "int"),
            Column("Due on", "due_on", "date"),
            Column("Paid at", "payment_verified_at", "datetime"),
            Column("Dispatched at", "dispatched_at", "datetime"),
            Column("Fulfilled at", "fulfilled_at", "datetime"),
            Column("Cancelled at", "cancelled_at", "datetime"),
        ],
    ),
    Export.Kind.LINES: Sheet(
        kind=Export.Kind.LINES,
        model=OrderLine,
        to_order="order",
        order_by=("order__placed_at", "order_id", "id"),
        columns=[
            Column("Order", "order__reference"),
            Column("Placed on", "order__placed_at", "day"),
            Column("Order status", "order__status"),
            Column("SKU", "sku"),
            Column("Product", "title"),
            Column("Variant", "variant_title"),
            Column("Quantity", "quantity", "int"),
            Column("Unit price", "unit_price", "money"),
            Column("Line total", "line_total", "money"),
        ],
        computed=lambda: {
            "line_total": ExpressionWrapper(F("quantity") * F("unit_price"), output_field=TWO_PLACES)
        },
    ),
    Export.Kind.SHIPMENTS: Sheet(
        kind=Export.Kind.SHIPMENTS,
        model=Fulfillment,
        to_order="order",
        order_by=("order__placed_at", "order_id", "id"),
        columns=[
            Column("Order", "order__reference"),
            Column("Shipment", "id", "int"),
            Column("Shipped by", "shipper"),
            Column("Shipping status", "status"),
            Column("Carrier", "carrier"),
            Column("Delivery reference", "delivery_reference"),
            Column("Expected on", "expected_on", "date"),
            Column("Created at", "created_at", "datetime"),
            Column("In transit at", "shipped_at", "datetime"),
            Column("Delivered at", "delivered_at", "datetime"),
            Column("Shipping cost", "shipping_cost", "money"),
        ],
        computed=lambda: {"shipper": _vendor_or("The shop")},
    ),
    Export.Kind.COSTS: Sheet(
        kind=Export.Kind.COSTS,
        model=FulfillmentLine,
        to_order="fulfillment__order",
        order_by=("fulfillment__order__placed_at", "fulfillment__order_id", "fulfillment_id", "id"),
        columns=[
            Column("Order", "fulfillment__order__reference"),
            Column("Placed on", "fulfillment__order__placed_at", "day"),
            Column("Order status", "fulfillment__order__status"),
            Column("Shipment", "fulfillment_id", "int"),
            Column("Shipped by", "shipper"),
            Column("SKU", "order_line__sku"),
            Column("Product", "order_line__title"),
            Column("Quantity", "quantity", "int"),
            Column("Unit price", "order_line__unit_price", "money"),
            Column("Unit cost", "unit_cost", "money"),
            Column("Shipping cost per unit", "shipping_cost", "money"),
            Column("Revenue", "line_revenue", "money"),
            Column("Cost", "line_cost", "money"),
            Column("Margin", "line_margin", "money"),
        ],
        computed=_line_costs,
    ),
    Export.Kind.AFTER_SALES: Sheet(
        kind=Export.Kind.AFTER_SALES,
        model=AfterSalesCase,
        to_order="order",
        order_by=("order__placed_at", "order_id", "id"),
        columns=[
            Column("Order", "order__reference"),
            Column("Placed on", "order__placed_at", "day"),
            Column("Case", "id", "int"),
            Column("Type", "type"),
            Column("Mode", "mode"),
            Column("Status", "status"),
            Column("Vendor", "vendor_name"),
            Column("Opened at", "created_at", "datetime"),
            Column("Resolved at", "resolved_at", "datetime"),
            Column("Closed at", "closed_at", "datetime"),
            Column("Refunded to the customer", "customer_refund", "money"),
            Column("Vendor credit", "vendor_credit", "money"),
            Column("Resend cost", "resend_cost", "money"),
        ],
        computed=lambda: {"vendor_name": _vendor_or("")},
    ),
}


# CSV ------------------------------------------------------------------------------------------


def _csv_text_of(kind: str):
    """The cell text of one column kind; text and whole numbers go to the csv module as they are."""
    if kind == "money":
        return lambda value: "" if value is None else f"{value:.2f}"
    if kind == "datetime":
        return lambda value: "" if value is None else value.strftime("%Y-%m-%d %H:%M:%S")
    if kind in ("date", "day"):
        return lambda value: "" if value is None else value.isoformat()
    return None


def _csv_header(sheet: Sheet) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([column.title for column in sheet.columns])
    # A UTF-8 BOM first, so Excel reads it as UTF-8.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def csv_chunks(
    sheet: Sheet, merchant, orders: QuerySet[Order], *, progress: Callable[[int], None] | None = None
) -> Iterator[bytes]:
    """The CSV a block at a time: made by PostgreSQL's COPY there, by the csv module elsewhere.
    `progress(rows)` is told how far it got every few thousand rows."""
    yield _csv_header(sheet)
    if formats_in_the_database():
        yield from _copied_csv(sheet, merchant, orders, progress)
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    converted = [
        (index, convert)
        for index, convert in enumerate(_csv_text_of(column.kind) for column in sheet.columns)
        if convert
    ]
    number = 0
    for number, row in enumerate(sheet.rows(merchant, orders), 1):
        cells = list(row)
        for index, convert in converted:
            cells[index] = convert(cells[index])
        writer.writerow(cells)
        if number % 1000 == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            if progress and number % 5000 == 0:
                progress(number)
    yield buffer.getvalue().encode("utf-8")
    if progress:
        progress(number)


def formats_in_the_database() -> bool:
    """PostgreSQL converts times to the merchant's zone, and writes a CSV by itself (COPY)."""
    return connection.vendor == "postgresql"


class _AtZoneText(Func):
    arg_joiner = " AT TIME ZONE "
    template = "to_char(%(expressions)s, 'YYYY-MM-DD HH24:MI:SS')"
    output_field = CharField()


class _AtZoneDay(Func):
    arg_joiner = " AT TIME ZONE "
    template = "((%(expressions)s)::date)"
    output_field = DateField()


class _AtZone(Func):
    arg_joiner = " AT TIME ZONE "
    template = "(%(expressions)s)"
    output_field = DateTimeField()


def _local_cell(column: Column, zone_name: str):
    """A column's value with its time in the merchant's zone, as a plain date and time (PostgreSQL)."""
    if column.kind == "datetime":
        return _AtZone(F(column.source), Value(zone_name))
    if column.kind == "day":
        return _AtZoneDay(F(column.source), Value(zone_name))
    return F(column.source)


def _as_csv_cell(column: Column, zone_name: str):
    """The SQL of a column's CSV text, as the csv module writes it: money with two decimals, times
    local, and an empty text as an empty cell (COPY would quote it to tell it from NULL)."""
    value = F(column.source)
    if column.kind == "money":
        return Func(value, template="ROUND((%(expressions)s)::numeric, 2)", output_field=TWO_PLACES)
    if column.kind == "datetime":
        return _AtZoneText(value, Value(zone_name))
    if column.kind == "day":
        return _AtZoneDay(value, Value(zone_name))
    if column.kind == "text":
        return Func(value, Value(""), function="NULLIF", output_field=CharField())
    return value


def _copied_csv(sheet: Sheet, merchant, orders, progress) -> Iterator[bytes]:
    zone_name = merchant.zone.key
    cells = {f"cell_{index}": _as_csv_cell(column, zone_name) for index, column in enumerate(sheet.columns)}
    query = sheet.queryset(merchant, orders).annotate(**cells).values_list(*cells)
    sql, params = query.query.sql_with_params()
    lines = 0
    with connection.cursor() as cursor:
        copy_sql = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER false)"
        with cursor.cursor.copy(copy_sql, params) as copy:
            for block in copy:
                data = bytes(block)
                if progress:
                    # Lines, not rows (a text may hold a newline): close enough for a progress bar.
                    before, lines = lines, lines + data.count(b"\n")
                    if lines // 5000 > before // 5000:
                        progress(lines)
                yield data
        if progress:
            progress(cursor.cursor.rowcount)


def write_csv(
    sheet: Sheet, merchant, orders: QuerySet[Order], out, *, progress: Callable[[int], None] | None = None
) -> int:
    """Write the CSV to a binary file; how many rows were written."""
    written = [0]

    def counted(rows: int) -> None:
        written[0] = rows
        if progress:
            progress(rows)

    for chunk in csv_chunks(sheet, merchant, orders, progress=counted):
        out.write(chunk)
    return written[0]


# XLSX -----------------------------------------------------------------------------------------

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE = "http://schemas.openxmlformats.org/package/2006"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
# Cell styles (styles.xml's cellXfs): 1 bold (the header), 2 money, 3 date, 4 date and time.
_STYLES = (
    f'{_XML}<styleSheet xmlns="{_MAIN}">'
    f'<numFmts count="3"><numFmt numFmtId="164" formatCode="{MONEY_FORMAT}"/>'
    f'<numFmt numFmtId="165" formatCode="{DATE_FORMAT}"/><numFmt numFmtId="166" formatCode="{DATETIME_FORMAT}"/>'
    "</numFmts>"
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
)
_EPOCH = datetime.datetime(1899, 12, 30)
_EPOCH_DAY = _EPOCH.date()
# What a text needs done before it goes into XML: escaping, and dropping the control characters
# XML 1.0 has no place for. Most texts need neither, and are written as they are.
_NEEDS_ESCAPING = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f]")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _text_cell(value) -> str:
    text = value if isinstance(value, str) else str(value)
    if _NEEDS_ESCAPING.search(text):
        text = _NOT_XML.sub("", escape(text))
    if text[:1].isspace() or text[-1:].isspace():
        return f'<c t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
    return f'<c t="inlineStr"><is><t>{text}</t></is></c>'


def _number_cell(style: str):
    return lambda value: f"<c{style}><v>{value}</v></c>"


def _xlsx_cell_of(kind: str):
    """How a value of one column kind becomes a cell: money and dates are numbers with a format."""
    if kind == "money":
        return _number_cell(' s="2"')
    if kind == "int":
        return _number_cell("")
    if kind in ("date", "day"):
        return lambda value: f'<c s="3"><v>{(value - _EPOCH_DAY).days}</v></c>'
    if kind == "datetime":
        return lambda value: f'<c s="4"><v>{(value - _EPOCH) / _ONE_DAY!r}</v></c>'
    return _text_cell


_ONE_DAY = datetime.timedelta(days=1)


def write_xlsx(
    sheet: Sheet, merchant, orders: QuerySet[Order], out, *, progress: Callable[[int], None] | None = None
) -> int:
    """Write an XLSX workbook to a binary file, rows streamed straight into the zipped sheet XML
    (cells without addresses, text inline: no table of strings held in memory). Past
    XLSX_MAX_ROWS rows it goes on in a new sheet, with the header again; rows written."""
    title = Export.Kind(sheet.kind).label
    cell_of = [_xlsx_cell_of(column.kind) for column in sheet.columns]
    header = "".join(_text_cell(column.title).replace("<c ", '<c s="1" ', 1) for column in sheet.columns)
    per_sheet = XLSX_MAX_ROWS - 1
    written, sheets = 0, 0
    rows = sheet.rows(merchant, orders)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as package:
        while sheets == 0 or written == sheets * per_sheet:
            first = next(rows, None)
            if first is None and sheets:
                break
            sheets += 1
            with package.open(f"xl/worksheets/sheet{sheets}.xml", "w", force_zip64=True) as part:
                stream = io.TextIOWrapper(part, encoding="utf-8", write_through=False)
                stream.write(f'{_XML}<worksheet xmlns="{_MAIN}"><sheetData><row r="1">{header}</row>')
                number = 1
                for row in itertools.chain([first] if first is not None else [], rows):
                    number += 1
                    cells = "".join(
                        "<c/>" if value is None else write(value)
                        for value, write in zip(row, cell_of, strict=True)
                    )
                    stream.write(f'<row r="{number}">{cells}</row>')
                    written += 1
                    if progress and written % 5000 == 0:
                        progress(written)
                    if number > per_sheet:
                        break
                stream.write("</sheetData></worksheet>")
                stream.flush()
                stream.detach()
        names = [title if n == 1 else f"{title} ({n})" for n in range(1, sheets + 1)]
        _write_workbook_parts(package, names)
    if progress:
        progress(written)
    return written


def _write_workbook_parts(package: zipfile.ZipFile, names: list[str]) -> None:
    sheets = "".join(
        f'<sheet name="{escape(name)}" sheetId="{n}" r:id="rId{n}"/>' for n, name in enumerate(names, 1)
    )
    relations = "".join(
        f'<Relationship Id="rId{n}" Type="{_RELATIONSHIPS}/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, len(names) + 1)
    )
    styles_id = len(names) + 1
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for n in range(1, len(names) + 1)
    )
    package.writestr(
        "[Content_Types].xml",
        f'{_XML}<Types xmlns="{_PACKAGE}/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        f"{overrides}</Types>",
    )
    package.writestr(
        "_rels/.rels",
        f'{_XML}<Relationships xmlns="{_PACKAGE}/relationships">'
        f'<Relationship Id="rId1" Type="{_RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>",
    )
    package.writestr(
        "xl/workbook.xml",
        f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_RELATIONSHIPS}"><sheets>{sheets}</sheets></workbook>',
    )
    package.writestr(
        "xl/_rels/workbook.xml.rels",
        f'{_XML}<Relationships xmlns="{_PACKAGE}/relationships">{relations}'
        f'<Relationship Id="rId{styles_id}" Type="{_RELATIONSHIPS}/styles" Target="styles.xml"/>'
        "</Relationships>",
    )
    package.writestr("xl/styles.xml", _STYLES)


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


def file_name(merchant, kind: str, file_format: str, criteria: dict) -> str:
    """'lakbay-crafts-orders-2026-11-01-to-2026-11-30.csv' and the like (ASCII only)."""
    from django.utils.text import slugify

    parts = [slugify(merchant.name) or "shop", kind]
    if criteria.get("starts_on") or criteria.get("ends_on"):
        parts.append(f"{criteria.get('starts_on') or 'start'}-to-{criteria.get('ends_on') or 'now'}")
    if criteria.get("status"):
        parts.append(criteria["status"])
    return "-".join(parts) + f".{file_format}"
