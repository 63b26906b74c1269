"""The read side of shipments: who sees which, the shipping-status lists and a shipment's page."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.db import connection
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from orderdesk.tenancy import checked_only

from .models import LIVE_STATUSES, Fulfillment, FulfillmentLine, TrackingEvent

Status = Fulfillment.ShippingStatus
SHIPPING_TABS = [Status.PENDING, Status.PROCESSING, Status.IN_TRANSIT, Status.EXCEPTION, Status.DELIVERED]
PAGE_SIZE = 20


def shipments_for(actor) -> QuerySet[Fulfillment]:
    """The shipments this actor may see: the merchant's all, or a vendor's person only their vendor's."""
    shipments = Fulfillment.objects.for_merchant(actor.merchant)
    if actor.party.vendor_id is not None:
        shipments = shipments.filter(vendor_id=actor.party.vendor_id)
    elif actor.party.kind != "merchant":
        return shipments.none()
    return shipments


def one_shipment_for(actor, shipment_id) -> QuerySet[Fulfillment]:
    """The shipment `shipment_id` if shipments_for(actor) holds it (none otherwise), found by its
    primary key: the merchant and vendor only checked on it, or PostgreSQL walked the index of
    a merchant or vendor it thought small (Fulfillment.objects.one_of_merchant). Raises
    ValueError or TypeError for an id that is not one."""
    shipment = Fulfillment.objects.one_of_merchant(actor.merchant, shipment_id)
    if actor.party.vendor_id is not None:
        shipment = shipment.alias(vendor_checked=checked_only("vendor_id")).filter(
            vendor_checked=actor.party.vendor_id
        )
    elif actor.party.kind != "merchant":
        return shipment.none()
    return shipment


@dataclass(frozen=True)
class ShipmentPage:
    """One page of a shipping-status list and the cursor of the next page (None on the last)."""

    shipments: list[ShipmentRow]
    next_cursor: str | None


@dataclass(slots=True)
class ShipmentRow:
    """What a shipping-status list shows of one shipment: read as plain columns, not model
    instances (building 20 shipments, their lines and orders through the ORM cost more than
    the two index walks that read them)."""

    pk: int
    status: str
    status_label: str
    reference: str
    customer_name: str
    vendor_name: str | None
    created_at: datetime.datetime
    carrier: str
    delivery_reference: str
    ship_by: datetime.datetime | None
    last_event_at: datetime.datetime | None
    items: list[tuple[int, str, str]]  # (quantity, title, SKU) per line, in line order
    attention: str = ""
    url: str = ""  # the shipment page, set by the view


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_MICROSECOND = datetime.timedelta(microseconds=1)


def shipments_in_status(
    actor, *, status: str, after: str | None = None, size: int = PAGE_SIZE
) -> ShipmentPage:
    """A page of the actor's shipments in one status, newest first, continuing after a cursor
    (keyset on created time and id, never OFFSET). A vendor's list walks the
    fulfillment_by_vendor index, the merchant's fulfillment_by_status; their lines are read
    in a second query by shipment id.

    Both statements are written out once per shape (`_page_sql`, `_lines_sql`) rather than
    composed by the ORM on every request: the list is the vendor portal's home page, and
    composing them cost more CPU than PostgreSQL spent running them. They read what
    shipments_for lets the actor see (the merchant's all, or the vendor's own)."""
    vendor_id = actor.party.vendor_id
    if vendor_id is None and actor.party.kind != "merchant":
        return ShipmentPage(shipments=[], next_cursor=None)
    params: list = [actor.merchant.pk, status]
    if vendor_id is not None:
        params.append(vendor_id)
    position = _read_cursor(after)
    if position is not None:
        created_at, shipment_id = position
        at = connection.ops.adapt_datetimefield_value(created_at)
        params += [at, at, at, shipment_id]
    params.append(size + 1)
    label = Status(status).label
    with connection.cursor() as cursor:
        cursor.execute(_page_sql(vendor_id is not None, position is not None), params)
        found = cursor.fetchall()
    rows = [
        ShipmentRow(
            pk=pk,
            status=row_status,
            status_label=label,
            reference=reference,
            customer_name=customer_name,
            vendor_name=vendor_name,
            created_at=_aware(created),
            carrier=carrier,
            delivery_reference=delivery_reference,
            ship_by=_aware(ship_by),
            last_event_at=_aware(last_event_at),
            items=[],
        )
        for (
            pk,
            row_status,
            reference,
            customer_name,
            vendor_name,
            created,
            carrier,
            delivery_reference,
            ship_by,
            last_event_at,
        ) in found
    ]
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        next_cursor = _write_cursor(rows[-1].created_at, rows[-1].pk)
    by_id = {row.pk: row for row in rows}
    if by_id:
        with connection.cursor() as cursor:
            cursor.execute(_lines_sql(len(by_id)), list(by_id))
            for shipment_id, quantity, title, sku in cursor.fetchall():
                by_id[shipment_id].items.append((quantity, title, sku))
    now = timezone.now()
    for row in rows:
        row.attention = attention_for(row, now=now)
    return ShipmentPage(shipments=rows, next_cursor=next_cursor)


def _aware(value):
    """A time as the ORM gives it: PostgreSQL's come aware; SQLite's naive (UTC) or as text."""
    if value is None or not settings.USE_TZ:
        return value
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=datetime.UTC)


def _q(meta, name: str) -> str:
    return connection.ops.quote_name(meta.get_field(name).column)


@lru_cache(maxsize=8)
def _page_sql(for_vendor: bool, after_cursor: bool) -> str:
    """One page of shipments in a status, newest first: merchant, status, [vendor], [cursor
    time ×3, cursor id], limit. The same statement the ORM wrote (joins, bound and order), so the
    same index walk."""
    quote = connection.ops.quote_name
    # The order and vendor tables through the foreign keys (fulfillment imports neither app).
    f = Fulfillment._meta
    o, v = f.get_field("order").related_model._meta, f.get_field("vendor").related_model._meta
    created, pk = _q(f, "created_at"), _q(f, "id")
    where = [f"s.{_q(f, 'merchant')} = %s", f"s.{_q(f, 'status')} = %s"]
    if for_vendor:
        where.append(f"s.{_q(f, 'vendor')} = %s")
    if after_cursor:
        # The bound on created_at alone lets the index seek to the cursor; the OR only breaks
        # ties (as a filter by itself PostgreSQL walks every row before the cursor).
        where.append(f"s.{created} <= %s AND (s.{created} < %s OR (s.{created} = %s AND s.{pk} < %s))")
    return (
        f"SELECT s.{pk}, s.{_q(f, 'status')}, o.{_q(o, 'reference')}, o.{_q(o, 'customer_name')}, "
        f"v.{_q(v, 'name')}, s.{created}, s.{_q(f, 'carrier')}, s.{_q(f, 'delivery_reference')}, "
        f"s.{_q(f, 'ship_by')}, s.{_q(f, 'last_event_at')} "
        f"FROM {quote(f.db_table)} s "
        f"INNER JOIN {quote(o.db_table)} o ON s.{_q(f, 'order')} = o.{_q(o, 'id')} "
        f"LEFT OUTER JOIN {quote(v.db_table)} v ON s.{_q(f, 'vendor')} = v.{_q(v, 'id')} "
        f"WHERE {' AND '.join(where)} "
        f"ORDER BY s.{created} DESC, s.{pk} DESC LIMIT %s"
    )


@lru_cache(maxsize=32)
def _lines_sql(shipment_count: int) -> str:
    """The lines of these shipments (quantity, title, SKU), in line order."""
    quote = connection.ops.quote_name
    e = FulfillmentLine._meta
    line = e.get_field("order_line").related_model._meta
    return (
        f"SELECT e.{_q(e, 'fulfillment')}, e.{_q(e, 'quantity')}, l.{_q(line, 'title')}, l.{_q(line, 'sku')} "
        f"FROM {quote(e.db_table)} e "
        f"INNER JOIN {quote(line.db_table)} l ON e.{_q(e, 'order_line')} = l.{_q(line, 'id')} "
        f"WHERE e.{_q(e, 'fulfillment')} IN ({', '.join(['%s'] * shipment_count)}) "
        f"ORDER BY e.{_q(e, 'id')}"
    )


def attention_for(shipment: Fulfillment | ShipmentRow, *, now: datetime.datetime | None = None) -> str:
    """Why this shipment needs someone's attention, in words, or "": a vendor past its
    processing days with no tracking number, or a live shipment silent for
    SHIPMENT_SILENT_DAYS days."""
    now = now or timezone.now()
    if shipment.status == Status.DELIVERED:
        return ""
    if shipment.ship_by is not None and not shipment.delivery_reference and shipment.ship_by < now:
        late = (now - shipment.ship_by).days
        return f"No tracking number, {late} day{'' if late == 1 else 's'} past the vendor's processing days"
    silent_since = shipment.last_event_at or shipment.created_at
    silent_days = (now - silent_since).days
    if silent_days >= settings.SHIPMENT_SILENT_DAYS:
        return f"No news for {silent_days} days"
    return ""


# Counting every shipment needing attention would walk every live shipment on each page load.
ATTENTION_COUNT_CAP = 100


def attention_count(actor, *, now: datetime.datetime | None = None) -> tuple[int, bool]:
    """How many of the actor's live shipments need attention, counted up to ATTENTION_COUNT_CAP,
    and whether the count stopped there. Two short walks of partial indexes (the silent, and the
    untracked past their processing days), never a walk of every live shipment, in one
    statement written out once per shape (the ORM's composing of two cost more than running them)."""
    vendor_id = actor.party.vendor_id
    if vendor_id is None and actor.party.kind != "merchant":
        return 0, False
    now = now or timezone.now()
    silent_before = now - datetime.timedelta(days=settings.SHIPMENT_SILENT_DAYS)
    adapt = connection.ops.adapt_datetimefield_value
    mine = [actor.merchant.pk, *LIVE_STATUSES] + ([vendor_id] if vendor_id is not None else [])
    params = [
        *mine,
        adapt(silent_before),
        ATTENTION_COUNT_CAP + 1,
        *mine,
        adapt(now),
        ATTENTION_COUNT_CAP + 1,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_attention_sql(vendor_id is not None), params)
        found = cursor.fetchone()[0]
    return min(found, ATTENTION_COUNT_CAP), found > ATTENTION_COUNT_CAP


@lru_cache(maxsize=2)
def _attention_sql(for_vendor: bool) -> str:
    """The distinct ids of the first CAP + 1 silent live shipments and of the first CAP + 1
    untracked past their ship-by time, counted: merchant, the live statuses, [vendor], silent
    before, limit; the same again, now, limit. Each walk keeps its partial index's condition."""
    quote = connection.ops.quote_name
    f = Fulfillment._meta
    live = ", ".join(["%s"] * len(LIVE_STATUSES))
    mine = f"s.{_q(f, 'merchant')} = %s AND s.{_q(f, 'status')} IN ({live})"
    if for_vendor:
        mine += f" AND s.{_q(f, 'vendor')} = %s"
    table, pk = quote(f.db_table), _q(f, "id")
    silent, ship_by = _q(f, "last_event_at"), _q(f, "ship_by")
    return (
        f"SELECT COUNT(*) FROM ("
        f"SELECT {pk} FROM (SELECT s.{pk} FROM {table} s WHERE {mine} AND s.{silent} < %s "
        f"ORDER BY s.{silent} LIMIT %s) silent "
        f"UNION "
        f"SELECT {pk} FROM (SELECT s.{pk} FROM {table} s WHERE {mine} "
        f"AND s.{_q(f, 'delivery_reference')} = '' AND s.{ship_by} < %s ORDER BY s.{ship_by} LIMIT %s) late"
        f") needing"
    )


def shipment_for_page(actor, shipment_id) -> Fulfillment:
    """One shipment with what its page shows (Fulfillment.DoesNotExist outside the actor's sight)."""
    shipment = (
        shipments_for(actor)
        .select_related("order", "vendor")
        .prefetch_related(
            Prefetch("lines", queryset=FulfillmentLine.objects.select_related("order_line").order_by("pk")),
            Prefetch("tracking_events", queryset=TrackingEvent.objects.order_by("-occurred_at", "-id")),
        )
        .get(pk=shipment_id)
    )
    shipment.attention = attention_for(shipment)
    return shipment


def _write_cursor(created_at: datetime.datetime, shipment_id: int) -> str:
    return f"{(created_at - _EPOCH) // _MICROSECOND}.{shipment_id}"


def _read_cursor(cursor: str | None) -> tuple[datetime.datetime, int] | None:
    try:
        microseconds, shipment_id = (cursor or "").split(".")
        return _EPOCH + int(microseconds) * _MICROSECOND, int(shipment_id)
    except (ValueError, OverflowError):
        return None
