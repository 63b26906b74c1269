"""The bench's data: one merchant holding exactly N orders shaped as the order actions leave them.

Each order has 3 lines, its customer (one per phone number, as record_order keeps them) and a
"placed" event; paid ones a "payment verified" event; dispatched ones a shipment of every line
(in transit, a tracking event, a "dispatched" event); fulfilled ones that shipment delivered (a
second tracking event, a "fulfilled" event); cancelled ones a "cancelled" event, and half of
them a shipment flagged Exception. Outbox rows (and the
"notifications queued" events naming them) are not written: the outbox is being reshaped.

Rows are written with their ids chosen here, so a million orders need no read-back: PostgreSQL
takes them by COPY, SQLite by executemany, one transaction per batch.
"""

from __future__ import annotations

import datetime
import json
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.management.color import no_style
from django.db import connection, models, transaction

from orderdesk.customers.models import Customer
from orderdesk.fulfillment.models import Fulfillment, FulfillmentLine, TrackingEvent
from orderdesk.orders.counts import recount_orders
from orderdesk.orders.models import Order, OrderEvent, OrderLine

LINES_PER_ORDER = 3
BATCH_ORDERS = 5_000
# The mix a busy shop's list holds: mostly done, a working set in flight.
STATUS_MIX = [
    (Order.Status.FULFILLED, 0.72),
    (Order.Status.DISPATCHED, 0.10),
    (Order.Status.PENDING, 0.08),
    (Order.Status.CANCELLED, 0.05),
    (Order.Status.AWAITING_PAYMENT, 0.05),
]
# Twelve names, so a common one ("Garcia") is in about 1 order in 12.
CUSTOMER_NAMES = [
    "Maria Santos",
    "Jose Reyes",
    "Ana Cruz",
    "Juan Bautista",
    "Liza Garcia",
    "Mark Mendoza",
    "Grace Torres",
    "Paolo Ramos",
    "Bea Aquino",
    "Carlo Navarro",
    "Joy Flores",
    "Miguel Lim",
]
PRODUCTS = [
    ("AT-1", "Abaca tote bag", Decimal("850.00")),
    ("LS-M", "Linen shirt", Decimal("799.00")),
    ("CM-2", "Coconut bowl set", Decimal("420.00")),
    ("WB-3", "Woven basket", Decimal("1250.00")),
    ("SC-1", "Scented candle", Decimal("310.50")),
]
# Orders are spaced this far apart, oldest first, so the newest is about now.
SPACING = datetime.timedelta(seconds=30)
PLACED_EVENT = OrderEvent.Kind.PLACED


def reference_of(number: int) -> str:
    return f"BN-{number}"


def phone_of(number: int) -> str:
    return f"+63917{number % 10_000_000:07d}"


class _Table:
    """Rows of one model as tuples: the columns given per row, then every other column's default."""

    def __init__(self, model: type[models.Model], given: list[str]):
        self.model = model
        fields = {f.attname: f for f in model._meta.concrete_fields}
        self.given = [fields[name].column for name in given]
        # An id not given is the database's to choose.
        rest = [f for name, f in fields.items() if name not in given and not f.primary_key]
        missing = [f.attname for f in rest if not (f.has_default() or f.null or f.empty_strings_allowed)]
        if missing:
            raise RuntimeError(f"The bench fill does not set {model.__name__}.{', '.join(missing)}")
        self.rest = [f.column for f in rest]
        self.tail = tuple(_db_value(f.get_db_prep_save(f.get_default(), connection)) for f in rest)
        self.rows: list[tuple] = []

    def add(self, *values) -> None:
        self.rows.append(values + self.tail)

    def write(self) -> None:
        if not self.rows:
            return
        table = connection.ops.quote_name(self.model._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(c) for c in [*self.given, *self.rest])
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in self.rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(self.rows[0]))
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", self.rows)
        self.rows = []


def _db_value(value):
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def _as_stored(vendor: str) -> Callable[[datetime.datetime], object]:
    """How a UTC datetime goes into the table: SQLite stores naive UTC text (as Django writes it),
    PostgreSQL takes the aware datetime. Chosen once: it runs ten times per order."""
    if vendor == "postgresql":
        return lambda value: value
    return lambda value: str(value.replace(tzinfo=None))


@dataclass
class FillReport:
    """What fill_orders did: orders added and removed, how long it took."""

    added: int = 0
    removed: int = 0
    rebuilt: bool = False
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def fill_orders(
    merchant, *, store, owner, count: int, progress: Callable[[int], None] | None = None
) -> FillReport:
    """Make the merchant hold exactly `count` bench orders: rebuild if their shape is not
    today's, trim the newest beyond `count`, add the missing ones; then recount the tabs."""
    import time

    started = time.perf_counter()
    report = FillReport()
    mine = Order.objects.for_merchant(merchant)
    have = mine.count()
    if have and not _has_todays_shape(merchant):
        _delete_orders(merchant, after_id=None)
        report.rebuilt, report.removed, have = True, have, 0
    if have > count:
        cutoff = mine.order_by("id").values_list("id", flat=True)[count - 1] if count else 0
        _delete_orders(merchant, after_id=cutoff)
        report.removed += have - count
        have = count
    if have < count:
        _add_orders(merchant, store=store, owner=owner, start=have, end=count, progress=progress)
        report.added = count - have
    recount_orders(merchant)  # the rows bypassed the actions that keep the tab counts
    report.seconds = time.perf_counter() - started
    return report


def _has_todays_shape(merchant) -> bool:
    first = Order.objects.for_merchant(merchant).order_by("id").first()
    return (
        first is not None
        and first.reference == reference_of(1)
        and first.customer_id is not None
        and first.lines.count() == LINES_PER_ORDER
        and first.events.filter(kind=PLACED_EVENT).exists()
    )


def _delete_orders(merchant, *, after_id: int | None) -> None:
    """Delete the merchant's orders (those with a larger id than after_id), every row that
    hangs on them and their customers, in SQL: a million rows through Django's collector would
    take an hour."""
    where, params = "merchant_id = %s", [merchant.pk]
    if after_id is not None:
        where, params = "merchant_id = %s AND id > %s", [merchant.pk, after_id]
    with transaction.atomic():
        # First, while the orders still name them (the orders' reference to them is checked at
        # commit); a customer an order left standing also names is kept.
        customers, orders = (connection.ops.quote_name(m._meta.db_table) for m in (Customer, Order))
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {customers} WHERE merchant_id = %s "
                f"AND id IN (SELECT customer_id FROM {orders} WHERE {where}) "
                f"AND NOT EXISTS (SELECT 1 FROM {orders} AS kept WHERE kept.customer_id = {customers}.id "
                f"AND NOT ({where}))",
                [merchant.pk, *params, *params],
            )
        _delete_with_dependents(Order, where, params)


def _delete_with_dependents(model: type[models.Model], where: str, params: list) -> None:
    table = connection.ops.quote_name(model._meta.db_table)
    for relation in model._meta.get_fields(include_hidden=True):
        if not (
            relation.auto_created and not relation.concrete and (relation.one_to_many or relation.one_to_one)
        ):
            continue
        child = relation.related_model
        column = connection.ops.quote_name(relation.field.column)
        child_where = f"{column} IN (SELECT id FROM {table} WHERE {where})"
        if relation.on_delete is models.SET_NULL:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {connection.ops.quote_name(child._meta.db_table)} SET {column} = NULL WHERE {child_where}",
                    params,
                )
        else:
            _delete_with_dependents(child, child_where, params)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE {where}", params)


def _next_ids(*tables: type[models.Model]) -> dict[type[models.Model], int]:
    return {model: (model.objects.aggregate(top=models.Max("id"))["top"] or 0) + 1 for model in tables}


def _add_orders(merchant, *, store, owner, start: int, end: int, progress) -> None:
    orders = _Table(
        Order,
        [
            "id", "merchant_id", "store_id", "reference", "status", "customer_id", "customer_name", "customer_phone",
            "shipping_address", "currency", "subtotal", "shipping_fee", "total", "payment_method",
            "payment_status", "shipping_option", "processing_days", "due_on", "placed_at",
            "payment_verified_at", "dispatched_at", "fulfilled_at", "cancelled_at", "cancel_reason",
            "customer_page_token", "updated_at",
        ],
    )  # fmt: skip
    customers = _Table(Customer, ["id", "merchant_id", "name", "phone", "address", "created_at"])
    lines = _Table(OrderLine, ["id", "merchant_id", "order_id", "sku", "title", "quantity", "unit_price"])
    events = _Table(
        OrderEvent, ["merchant_id", "order_id", "kind", "actor_id", "actor_name", "created_at", "data"]
    )
    shipments = _Table(
        Fulfillment,
        [
            "id", "merchant_id", "order_id", "status", "carrier", "delivery_reference", "expected_on",
            "created_by_id", "created_at", "shipped_at", "delivered_at",
        ],
    )  # fmt: skip
    shipped_lines = _Table(FulfillmentLine, ["merchant_id", "fulfillment_id", "order_line_id", "quantity"])
    tracking = _Table(TrackingEvent, ["merchant_id", "fulfillment_id", "status", "occurred_at", "text"])

    _when = _as_stored(connection.vendor)
    ids = _next_ids(Order, OrderLine, Fulfillment, Customer)
    order_id, line_id, shipment_id = ids[Order], ids[OrderLine], ids[Fulfillment]
    customer_id = ids[Customer]
    statuses = [status for status, _ in STATUS_MIX]
    weights = [share for _, share in STATUS_MIX]
    owner_name = owner.get_full_name() or owner.email
    newest = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    oldest = newest - SPACING * end
    S, SH = Order.Status, Fulfillment.ShippingStatus

    for batch_start in range(start, end, BATCH_ORDERS):
        rng = random.Random(batch_start)  # the same orders whenever the same range is filled
        for index in range(batch_start, min(batch_start + BATCH_ORDERS, end)):
            number = index + 1
            status = rng.choices(statuses, weights)[0]
            placed_at = oldest + SPACING * number
            verified_at = placed_at + datetime.timedelta(minutes=5)
            dispatched_at = verified_at + datetime.timedelta(hours=20)
            ends_at = dispatched_at + datetime.timedelta(days=2)
            was_shipped = status in (S.DISPATCHED, S.FULFILLED) or (status == S.CANCELLED and number % 2 == 0)
            bought = [PRODUCTS[(number + k) % len(PRODUCTS)] for k in range(LINES_PER_ORDER)]
            quantities = [1 + (number + k) % 2 for k in range(LINES_PER_ORDER)]
            subtotal = sum(
                (price * q for (_, _, price), q in zip(bought, quantities, strict=True)), Decimal(0)
            )
            fee = Decimal("120.00")
            reference = reference_of(number)
            name, phone, address = (
                rng.choice(CUSTOMER_NAMES),
                phone_of(number),
                "12 Mabini St, Makati, Metro Manila",
            )
            customers.add(customer_id, merchant.pk, name, phone, address, _when(placed_at))
            orders.add(
                order_id, merchant.pk, store.pk, reference, status, customer_id, name, phone, address, "PHP", str(subtotal), str(fee), str(subtotal + fee),
                Order.PaymentMethod.GCASH,
                Order.PaymentStatus.UNPAID if status == S.AWAITING_PAYMENT else Order.PaymentStatus.PAID,
                "J&T Express", 3,
                None if status == S.AWAITING_PAYMENT else (verified_at + datetime.timedelta(days=3)).date().isoformat(),
                _when(placed_at),
                None if status == S.AWAITING_PAYMENT else _when(verified_at),
                _when(dispatched_at) if was_shipped else None,
                _when(ends_at) if status == S.FULFILLED else None,
                _when(ends_at) if status == S.CANCELLED else None,
                "Customer changed their mind" if status == S.CANCELLED else "",
                f"bench-{merchant.pk}-{number}", _when(ends_at),
            )  # fmt: skip
            first_line = line_id
            for (sku, title, price), quantity in zip(bought, quantities, strict=True):
                lines.add(line_id, merchant.pk, order_id, sku, title, quantity, str(price))
                line_id += 1
            events.add(
                merchant.pk, order_id, PLACED_EVENT, None, store.name, _when(placed_at),
                json.dumps({
                    "reference": reference, "store": store.name, "external_id": None,
                    "total": str(subtotal + fee), "currency": "PHP",
                    "payment_method": Order.PaymentMethod.GCASH, "lines": LINES_PER_ORDER,
                }),
            )  # fmt: skip
            customer_id += 1
            if status == S.AWAITING_PAYMENT:
                order_id += 1
                continue
            events.add(
                merchant.pk, order_id, OrderEvent.Kind.PAYMENT_VERIFIED, owner.pk, owner_name, _when(verified_at),
                json.dumps({
                    "status": {"before": S.AWAITING_PAYMENT, "after": S.PENDING},
                    "payment_status": Order.PaymentStatus.PAID,
                    "due_on": (verified_at + datetime.timedelta(days=3)).date().isoformat(),
                }),
            )  # fmt: skip
            if was_shipped:
                delivery_reference = f"JT{number:010d}"
                expected_on = (dispatched_at + datetime.timedelta(days=2)).date().isoformat()
                shipment_status = {S.DISPATCHED: SH.IN_TRANSIT, S.FULFILLED: SH.DELIVERED}.get(
                    status, SH.EXCEPTION
                )
                shipments.add(
                    shipment_id, merchant.pk, order_id, shipment_status, "J&T Express", delivery_reference,
                    expected_on, owner.pk, _when(dispatched_at), _when(dispatched_at),
                    _when(ends_at) if status == S.FULFILLED else None,
                )  # fmt: skip
                for offset, quantity in enumerate(quantities):
                    shipped_lines.add(merchant.pk, shipment_id, first_line + offset, quantity)
                tracking.add(
                    merchant.pk, shipment_id, SH.IN_TRANSIT, _when(dispatched_at),
                    f"Handed to J&T Express, reference {delivery_reference}",
                )  # fmt: skip
                events.add(
                    merchant.pk, order_id, OrderEvent.Kind.DISPATCHED, owner.pk, owner_name, _when(dispatched_at),
                    json.dumps({
                        "status": {"before": S.PENDING, "after": S.DISPATCHED}, "fulfillment_id": shipment_id,
                        "carrier": "J&T Express", "delivery_reference": delivery_reference,
                        "expected_on": expected_on, "message": "", "photos": 0,
                    }),
                )  # fmt: skip
                if status == S.FULFILLED:
                    tracking.add(
                        merchant.pk,
                        shipment_id,
                        SH.DELIVERED,
                        _when(ends_at),
                        f"Marked delivered by {owner_name}",
                    )
                elif status == S.CANCELLED:
                    tracking.add(
                        merchant.pk, shipment_id, SH.EXCEPTION, _when(ends_at), "Order cancelled: Customer changed their mind"
                    )  # fmt: skip
                shipment_id += 1
            if status == S.FULFILLED:
                events.add(
                    merchant.pk, order_id, OrderEvent.Kind.FULFILLED, owner.pk, owner_name, _when(ends_at),
                    json.dumps({"status": {"before": S.DISPATCHED, "after": S.FULFILLED}, "remarks": ""}),
                )  # fmt: skip
            elif status == S.CANCELLED:
                before = S.DISPATCHED if was_shipped else S.PENDING
                events.add(
                    merchant.pk, order_id, OrderEvent.Kind.CANCELLED, owner.pk, owner_name, _when(ends_at),
                    json.dumps({"status": {"before": before, "after": S.CANCELLED}, "reason": "Customer changed their mind"}),
                )  # fmt: skip
            order_id += 1
        with transaction.atomic():
            for table in (customers, orders, lines, events, shipments, shipped_lines, tracking):
                table.write()
        if progress:
            progress(min(batch_start + BATCH_ORDERS, end))
    _reset_id_sequences(Customer, Order, OrderLine, OrderEvent, Fulfillment, FulfillmentLine, TrackingEvent)


def _reset_id_sequences(*tables: Iterable[type[models.Model]]) -> None:
    """PostgreSQL's sequences move past the ids chosen here (SQLite follows the largest id itself)."""
    statements = connection.ops.sequence_reset_sql(no_style(), tables)
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
