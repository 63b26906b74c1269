"""The carrier-tracking feed: AfterShip's tracking webhook read and applied to our shipments.

AfterShip posts `{"event": "tracking_update", "event_id", "ts", "msg": {"tracking_number",
"slug", "tag", "subtag", "subtag_message", "checkpoints": [...]}}`, signed with the header
`aftership-hmac-sha256` (base64 HMAC-SHA256 of the raw body under the webhook secret). Its
tags become our five shipping statuses by one table, AFTERSHIP_TAGS; a tag not in it is kept
as a tracking event's text and moves nothing. Each checkpoint not seen before becomes a
tracking event; the shipment then moves to its tag's status when SHIPPING_TRANSITIONS allow
it (a late "in transit" after "delivered" is kept as text). The same delivery twice (by
event id) changes nothing, and neither does the same content under a new id.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from orderdesk.accounts.actors import Actor
from orderdesk.fulfillment.actions import MAX_PLACE_LENGTH, MAX_TEXT_LENGTH, add_tracking_event
from orderdesk.fulfillment.models import SHIPPING_TRANSITIONS, Fulfillment, TrackingEvent
from orderdesk.orders.actions import move_order_shipment

from .models import CarrierDelivery, CarrierFeed

Status = Fulfillment.ShippingStatus

# AfterShip's delivery tags (its "tag") → our shipping status: the one table.
AFTERSHIP_TAGS: dict[str, str] = {
    "Pending": Status.PROCESSING,  # AfterShip has no news from the carrier yet
    "InfoReceived": Status.PROCESSING,  # the carrier has the label, not yet the parcel
    "InTransit": Status.IN_TRANSIT,
    "OutForDelivery": Status.IN_TRANSIT,
    "AvailableForPickup": Status.IN_TRANSIT,  # waiting at a pick-up point: still on its way
    "AttemptFail": Status.EXCEPTION,
    "Exception": Status.EXCEPTION,
    "Expired": Status.EXCEPTION,  # no news for 30 days: AfterShip stopped tracking it
    "Delivered": Status.DELIVERED,
}
FEED_LABEL = "AfterShip"
MAX_CHECKPOINTS = 200


class MalformedDelivery(ValueError):
    """The body is not an AfterShip tracking update we can read; the message says what is wrong."""


@dataclass(frozen=True)
class Checkpoint:
    occurred_at: datetime.datetime
    place: str
    text: str
    tag: str


@dataclass(frozen=True)
class TrackingUpdate:
    """One AfterShip delivery, read and checked."""

    event: str
    event_id: str
    sent_at: datetime.datetime
    tracking_number: str
    slug: str
    tag: str
    subtag: str
    subtag_message: str
    checkpoints: tuple[Checkpoint, ...]


@dataclass(frozen=True)
class Applied:
    """What a delivery did: its shipment, whether it was seen before, the move, the events added."""

    shipment_id: int
    already_applied: bool = False
    moved_to: str = ""
    events_added: int = 0
    kept_as_text: bool = False


def read_update(payload: object, *, zone) -> TrackingUpdate:
    """The delivery's fields checked for shape; raises MalformedDelivery naming what is wrong."""
    if not isinstance(payload, dict):
        raise MalformedDelivery("The body is not a JSON object.")
    msg = payload.get("msg")
    if not isinstance(msg, dict):
        raise MalformedDelivery("“msg” is missing or not an object.")
    event_id = payload.get("event_id")
    if not isinstance(event_id, str) or not event_id.strip() or len(event_id) > 100:
        raise MalformedDelivery("“event_id” is missing or not a short text.")
    ts = payload.get("ts")
    if not isinstance(ts, int) or isinstance(ts, bool):
        raise MalformedDelivery("“ts” is missing or not a Unix time.")
    try:
        sent_at = datetime.datetime.fromtimestamp(ts, tz=datetime.UTC)
    except (OverflowError, OSError, ValueError) as unreadable:
        raise MalformedDelivery("“ts” is not a Unix time.") from unreadable
    tracking_number = msg.get("tracking_number")
    if not isinstance(tracking_number, str) or not tracking_number.strip() or len(tracking_number) > 100:
        raise MalformedDelivery("“msg.tracking_number” is missing or not a short text.")
    texts = {}
    for name in ("slug", "tag", "subtag", "subtag_message"):
        value = msg.get(name) or ""
        if not isinstance(value, str):
            raise MalformedDelivery(f"“msg.{name}” is not text.")
        texts[name] = value.strip()[:200]
    if not texts["tag"]:
        raise MalformedDelivery("“msg.tag” is missing.")
    raw_checkpoints = msg.get("checkpoints") or []
    if not isinstance(raw_checkpoints, list) or len(raw_checkpoints) > MAX_CHECKPOINTS:
        raise MalformedDelivery(f"“msg.checkpoints” is not a list of at most {MAX_CHECKPOINTS}.")
    checkpoints = tuple(_read_checkpoint(index, raw, zone) for index, raw in enumerate(raw_checkpoints))
    event = payload.get("event") or "tracking_update"
    if not isinstance(event, str):
        raise MalformedDelivery("“event” is not text.")
    return TrackingUpdate(
        event=event,
        event_id=event_id.strip(),
        sent_at=sent_at,
        tracking_number=tracking_number.strip(),
        slug=texts["slug"],
        tag=texts["tag"],
        subtag=texts["subtag"],
        subtag_message=texts["subtag_message"],
        checkpoints=tuple(sorted(checkpoints, key=lambda point: point.occurred_at)),
    )


def _read_checkpoint(index: int, raw: object, zone) -> Checkpoint:
    if not isinstance(raw, dict):
        raise MalformedDelivery(f"Checkpoint {index + 1} is not an object.")
    when = raw.get("checkpoint_time")
    parsed = parse_datetime(when) if isinstance(when, str) else None
    if parsed is None:
        raise MalformedDelivery(f"Checkpoint {index + 1} has no readable “checkpoint_time”.")
    if timezone.is_naive(parsed):
        # The carrier's local time without an offset: read in the merchant's zone.
        parsed = timezone.make_aware(parsed, zone)
    parts = []
    for name in ("location", "city", "state", "country_name"):
        value = raw.get(name)
        if isinstance(value, str) and value.strip() and value.strip() not in parts:
            parts.append(value.strip())
    message = raw.get("message")
    tag = raw.get("tag")
    return Checkpoint(
        occurred_at=min(parsed, timezone.now()),
        place=", ".join(parts)[:MAX_PLACE_LENGTH],
        text=(message.strip() if isinstance(message, str) else "")[:MAX_TEXT_LENGTH],
        tag=tag.strip()[:50] if isinstance(tag, str) else "",
    )


class UnknownTrackingNumber(LookupError):
    """No shipment of the merchant has this tracking number."""


def apply_tracking_update(feed: CarrierFeed, update: TrackingUpdate) -> Applied:
    """Apply one delivery to the merchant's shipment with its tracking number, in one transaction.

    Raises UnknownTrackingNumber (nothing changed). A delivery already applied returns
    `already_applied` and changes nothing.
    """
    merchant = feed.merchant
    by = Actor.system(merchant, FEED_LABEL)
    shipment = (
        Fulfillment.objects.for_merchant(merchant)
        .filter(delivery_reference=update.tracking_number)
        .order_by("-created_at", "-id")
        .first()
    )
    if shipment is None:
        raise UnknownTrackingNumber(update.tracking_number)
    try:
        with transaction.atomic():
            CarrierDelivery.objects.create(
                merchant=merchant,
                feed=feed,
                event_id=update.event_id,
                tracking_number=update.tracking_number,
                tag=update.tag,
            )
            return _apply(shipment, update, by=by)
    except IntegrityError:
        return Applied(shipment_id=shipment.pk, already_applied=True)


def _apply(shipment: Fulfillment, update: TrackingUpdate, *, by: Actor) -> Applied:
    seen = set(TrackingEvent.objects.filter(fulfillment=shipment).values_list("occurred_at", "place", "text"))
    added = 0
    for point in update.checkpoints:
        text = point.text or f"Carrier status: {point.tag or update.tag}"
        if (point.occurred_at, point.place, text) in seen:
            continue
        add_tracking_event(shipment.pk, by=by, place=point.place, text=text, occurred_at=point.occurred_at)
        seen.add((point.occurred_at, point.place, text))
        added += 1
    shipment.refresh_from_db(fields=["status"])
    target = AFTERSHIP_TAGS.get(update.tag)
    latest = update.checkpoints[-1] if update.checkpoints else None
    if target is None or (target != shipment.status and target not in SHIPPING_TRANSITIONS[shipment.status]):
        # An unknown tag, or a move our statuses do not allow: kept as text, never dropped.
        why = (
            "a status Orderdesk does not know"
            if target is None
            else f"the shipment stays {shipment.get_status_display().lower()}"
        )
        text = f"Carrier status “{_tag_words(update)}” ({why})"
        if text not in {seen_text for _, _, seen_text in seen}:
            add_tracking_event(shipment.pk, by=by, text=text[:MAX_TEXT_LENGTH])
            added += 1
        return Applied(shipment_id=shipment.pk, events_added=added, kept_as_text=True)
    if target == shipment.status:
        return Applied(shipment_id=shipment.pk, events_added=added)
    reason = ""
    if target == Status.EXCEPTION:
        reason = update.subtag_message or (latest.text if latest else "") or f"Carrier: {_tag_words(update)}"
    move_order_shipment(
        shipment.pk,
        by=by,
        to=target,
        reason=reason[:MAX_TEXT_LENGTH],
        place=latest.place if latest else "",
        occurred_at=latest.occurred_at if latest else None,
    )
    return Applied(shipment_id=shipment.pk, moved_to=target, events_added=added + 1)


def _tag_words(update: TrackingUpdate) -> str:
    return update.tag + (f" / {update.subtag}" if update.subtag else "")
