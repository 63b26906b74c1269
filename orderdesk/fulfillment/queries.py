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

    shipments: list[Fulfillment]
    next_cursor: str | None


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_MICROSECOND = datetime.timedelta(microseconds=1)


def shipments_in_status(
    actor, *, status: str, after: str | None = None, size: int = PAGE_SIZE
) -> ShipmentPage:
    """A page of the actor's shipments in one status, newest first, continuing after a cursor
    (keyset on created time and id, never OFFSET). A vendor's list walks the
    fulfillment_by_vendor index, the merchant's fulfillment_by_status."""
    shipments = (
        shipments_for(actor)
        .filter(status=status)
        .select_related("order", "vendor")
        .only(
            "pk",
            "status",
            "vendor__name",
            "vendor__processing_days",
            "shipped_by",
            "carrier",
            "delivery_reference",
            "tracking_url",
            "created_at",
            "ship_by",
            "last_event_at",
            "order__reference",
            "order__customer_name",
            "order__shipping_address",
        )
        .prefetch_related(
            Prefetch("lines", queryset=FulfillmentLine.objects.select_related("order_line").order_by("pk"))
        )
        .order_by("-created_at", "-id")
    )
    position = _read_cursor(after)
    if position is not None:
        created_at, shipment_id = position
        shipments = shipments.filter(
            Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=shipment_id)
        )
    rows = list(shipments[: size + 1])
    now = timezone.now()
    for shipment in rows:
        shipment.attention = attention_for(shipment, now=now)
    if len(rows) <= size:
        return ShipmentPage(shipments=rows, next_cursor=None)
    last = rows[size - 1]
    return ShipmentPage(shipments=rows[:size], next_cursor=_write_cursor(last.created_at, last.pk))


def attention_for(shipment: Fulfillment, *, now: datetime.datetime | None = None) -> str:
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
