"""The read side of shipments: who sees which, the shipping-status lists and a shipment's page."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

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
_ROW_COLUMNS = (
    "pk",
    "status",
    "order__reference",
    "order__customer_name",
    "vendor__name",
    "created_at",
    "carrier",
    "delivery_reference",
    "ship_by",
    "last_event_at",
)


def shipments_in_status(
    actor, *, status: str, after: str | None = None, size: int = PAGE_SIZE
) -> ShipmentPage:
    """A page of the actor's shipments in one status, newest first, continuing after a cursor
    (keyset on created time and id, never OFFSET). A vendor's list walks the
    fulfillment_by_vendor index, the merchant's fulfillment_by_status; their lines are read
    in a second query by shipment id."""
    shipments = shipments_for(actor).filter(status=status).order_by("-created_at", "-id")
    position = _read_cursor(after)
    if position is not None:
        created_at, shipment_id = position
        # The bound on created_at alone lets the index seek to the cursor; the OR only breaks ties
        # (as a filter by itself PostgreSQL walks every row before the cursor).
        shipments = shipments.filter(
            Q(created_at__lte=created_at),
            Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=shipment_id),
        )
    label = Status(status).label
    rows = [
        ShipmentRow(
            pk=pk,
            status=row_status,
            status_label=label,
            reference=reference,
            customer_name=customer_name,
            vendor_name=vendor_name,
            created_at=created,
            carrier=carrier,
            delivery_reference=delivery_reference,
            ship_by=ship_by,
            last_event_at=last_event_at,
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
        ) in shipments.values_list(*_ROW_COLUMNS)[: size + 1]
    ]
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        next_cursor = _write_cursor(rows[-1].created_at, rows[-1].pk)
    by_id = {row.pk: row for row in rows}
    if by_id:
        lines = (
            FulfillmentLine.objects.filter(fulfillment_id__in=list(by_id))
            .order_by("pk")
            .values_list("fulfillment_id", "quantity", "order_line__title", "order_line__sku")
        )
        for shipment_id, quantity, title, sku in lines:
            by_id[shipment_id].items.append((quantity, title, sku))
    now = timezone.now()
    for row in rows:
        row.attention = attention_for(row, now=now)
    return ShipmentPage(shipments=rows, next_cursor=next_cursor)


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
    untracked past their processing days), never a walk of every live shipment."""
    now = now or timezone.now()
    silent_before = now - datetime.timedelta(days=settings.SHIPMENT_SILENT_DAYS)
    live = shipments_for(actor).filter(status__in=LIVE_STATUSES)
    silent = live.filter(last_event_at__lt=silent_before).order_by("last_event_at")
    untracked = live.filter(delivery_reference="", ship_by__lt=now).order_by("ship_by")
    found = set(silent.values_list("pk", flat=True)[: ATTENTION_COUNT_CAP + 1])
    found |= set(untracked.values_list("pk", flat=True)[: ATTENTION_COUNT_CAP + 1])
    return min(len(found), ATTENTION_COUNT_CAP), len(found) > ATTENTION_COUNT_CAP


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
