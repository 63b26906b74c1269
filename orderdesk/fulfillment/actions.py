"""The write side of shipments: create one, move it along SHIPPING_TRANSITIONS, add a tracking event.

Each runs in one transaction and locks in the documented order: the order row, then its
lines, then its shipments, so a shipment action never deadlocks with an order action
(which locks the order first and calls these inside its own transaction). Every change
writes a TrackingEvent, the shipment's timeline.

These functions keep the shipment's rules. The order's status follows its shipments
through `orderdesk.orders.actions` (`ship_order_lines`, `move_order_shipment`, and the
merchant's Dispatch / Fulfill / Cancel), which call these and then apply the roll-up
rule of `orderdesk.orders.shipping`; fulfillment imports nothing from orders.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import DEFAULT_DB_ALIAS, connection, transaction
from django.db.models import DateField, DateTimeField, DecimalField, Sum
from django.db.models.base import ModelState
from django.utils import timezone

from orderdesk import rows
from orderdesk.accounts.actors import Actor
from orderdesk.accounts.errors import NotAllowed
from orderdesk.accounts.permissions import Permission, ensure_can
from orderdesk.compiled_queries import array_literal, fixed_statement_cursor, prepared_cursor
from orderdesk.count_locks import order_counts_first
from orderdesk.errors import NotFound
from orderdesk.notifications.webhooks import (
    PublishedEvent,
    publish_webhook_event,
    publish_webhook_events,
    register_webhook_event,
)
from orderdesk.saved_fields import save_fields

from .counts import count_new_vendor_shipments, count_shipment_change, count_shipment_removed
from .errors import InvalidShipment, ShipmentNotFound, ShippingStatusRefused
from .models import SHIPPING_TRANSITIONS, Fulfillment, FulfillmentLine, ShipmentStatusCount, TrackingEvent
from .queries import one_shipment_for

# Sent to the merchant's endpoints with every tracking event (registered in FulfillmentConfig.ready).
SHIPMENT_UPDATED = "shipment.updated"

MAX_REFERENCE_LENGTH = 100
MAX_TRACKING_URL_LENGTH = 500
MAX_CARRIER_LENGTH = 100
MAX_MESSAGE_LENGTH = 1000
MAX_PLACE_LENGTH = 200
MAX_TEXT_LENGTH = 1000

Status = Fulfillment.ShippingStatus
# A new shipment starts waiting, being prepared, or handed to the carrier at once (Dispatch).
STARTING_STATUSES = (Status.PENDING, Status.PROCESSING, Status.IN_TRANSIT)


@dataclass(frozen=True)
class ShipmentLine:
    """How many units of one order line go into a new shipment."""

    order_line_id: int
    quantity: int
    # A vendor's cost per unit, copied from its hosting when the line is allocated.
    unit_cost: Decimal | None = None
    shipping_cost: Decimal | None = None


@dataclass(frozen=True)
class Handover:
    """What the shipper says when the parcel goes to the carrier, checked (see `checked_handover`)."""

    carrier: str
    delivery_reference: str
    expected_on: datetime.date | None
    message: str = ""
    # The carrier's page for the parcel (http or https), or "".
    tracking_url: str = ""


def checked_handover(
    *,
    by: Actor,
    carrier: str = "",
    delivery_reference: str = "",
    expected_on: datetime.date | None = None,
    message: str = "",
    expected_on_required: bool = False,
    tracking_url: str = "",
) -> Handover:
    """The carrier's details trimmed and checked; raises InvalidShipment naming the field at fault."""
    carrier = (carrier or "").strip()
    delivery_reference = (delivery_reference or "").strip()
    message = (message or "").strip()
    if not delivery_reference:
        raise InvalidShipment("Enter the courier's delivery reference number.", field="delivery_reference")
    if len(delivery_reference) > MAX_REFERENCE_LENGTH:
        raise InvalidShipment(
            f"A delivery reference has at most {MAX_REFERENCE_LENGTH} characters.",
            field="delivery_reference",
        )
    if len(carrier) > MAX_CARRIER_LENGTH:
        raise InvalidShipment(
            f"A courier's name has at most {MAX_CARRIER_LENGTH} characters.", field="carrier"
        )
    if expected_on is None and expected_on_required:
        raise InvalidShipment("Enter the date the customer should receive the order.", field="expected_on")
    if expected_on is not None:
        today = timezone.localdate(timezone=by.merchant.zone)
        if expected_on < today:
            raise InvalidShipment(
                f"The expected delivery date cannot be in the past (today is {today:%b %-d, %Y}).",
                field="expected_on",
            )
    if len(message) > MAX_MESSAGE_LENGTH:
        raise InvalidShipment(f"The message has at most {MAX_MESSAGE_LENGTH} characters.", field="message")
    return Handover(
        carrier=carrier,
        delivery_reference=delivery_reference,
        expected_on=expected_on,
        message=message,
        tracking_url=_checked_tracking_url(tracking_url),
    )


def _checked_tracking_url(url: str) -> str:
    url = (url or "").strip()
    if not url:
        return ""
    if len(url) > MAX_TRACKING_URL_LENGTH:
        raise InvalidShipment(
            f"A tracking link has at most {MAX_TRACKING_URL_LENGTH} characters.", field="tracking_url"
        )
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError as refusal:
        raise InvalidShipment(
            "The tracking link must be a web address starting with https:// or http://.",
            field="tracking_url",
        ) from refusal
    return url


def create_shipment(
    order_id: int,
    *,
    by: Actor,
    lines: Sequence[ShipmentLine] | None = None,
    shipped_by: str = Fulfillment.Shipper.MERCHANT,
    vendor_id: int | None = None,
    status: str = Status.PENDING,
    handover: Handover | None = None,
    photos: Sequence = (),
    resend: bool = False,
    locked_order=None,
) -> Fulfillment:
    """A shipment of some of the order's lines by one party, Pending, Processing or In transit.

    The party is the merchant, or the vendor `vendor_id` (which makes `shipped_by` vendor;
    each line's `unit_cost` / `shipping_cost` is then the hosting's, copied).
    `lines=None` ships every unit not yet in a shipment. In transit needs the `handover`
    (carrier, delivery reference, expected date). Raises InvalidShipment (no lines, a line of
    another order, more units than ordered and not yet shipped), ShippingStatusRefused, NotAllowed.
    `resend=True` ships units again (after-sales): never more than ordered per line, whatever
    was shipped, and the shipment stays outside what the order itself shipped.
    `locked_order`: the order, when the caller has already locked it in this transaction (it is
    then not read again). Its lines and shipments are then not locked again either: every writer
    of them locks the order first. What the caller prefetched of them (lines, shipments with
    their lines) is used as it is; the caller's transaction is joined without a savepoint.
    """
    ensure_can(by, Permission.UPDATE_SHIPMENTS)
    if by.party.vendor_id is not None and not (resend and vendor_id == by.party.vendor_id):
        # Allocation is the merchant's: a vendor ships what it is given, and what it agreed
        # to send again itself when it accepts an after-sales resend.
        raise NotAllowed("Only the shop's owner and staff can allocate items to a shipment.")
    if status not in STARTING_STATUSES:
        raise ShippingStatusRefused(
            f"A new shipment starts pending, processing or in transit, not {Status(status).label.lower()}.",
            field="status",
        )
    if status == Status.IN_TRANSIT and handover is None:
        raise InvalidShipment("Enter the courier's delivery reference number.", field="delivery_reference")
    if vendor_id is not None:
        shipped_by = Fulfillment.Shipper.VENDOR
    costs = {entry.order_line_id: (entry.unit_cost, entry.shipping_cost) for entry in lines or ()}
    with transaction.atomic(savepoint=locked_order is None):
        if locked_order is not None:
            order = locked_order
            order_lines = {line.pk: line for line in sorted(order.lines.all(), key=lambda line: line.pk)}
            already_shipped = {} if resend else _units_shipped_of(order)
        else:
            order = _locked_order(order_id, by)
            order_lines = {line.pk: line for line in order.lines.select_for_update().order_by("pk")}
            list(Fulfillment.objects.select_for_update().filter(order_id=order.pk).order_by("pk"))
            already_shipped = {} if resend else _units_shipped(order.pk)
        wanted = _wanted_units(order_lines, lines, already_shipped=already_shipped)
        now = timezone.now()
        ship_by = None
        if vendor_id is not None:
            processing_days = (
                _Vendor.objects.for_merchant(by.merchant)
                .values_list("processing_days", flat=True)
                .filter(pk=vendor_id)
                .first()
            )
            if processing_days is None:
                raise InvalidShipment("That vendor does not exist.", field="vendor")
            ship_by = now + datetime.timedelta(days=processing_days)
        shipment = _new_shipment(
            merchant_id=order.merchant_id,
            order_id=order.pk,
            shipped_by=shipped_by,
            vendor_id=vendor_id,
            is_resend=resend,
            status=status,
            carrier=handover.carrier if handover else "",
            delivery_reference=handover.delivery_reference if handover else "",
            expected_on=handover.expected_on if handover else None,
            message=handover.message if handover else "",
            tracking_url=handover.tracking_url if handover else "",
            created_by_id=by.user.pk if by.user is not None else None,
            created_at=now,
            shipped_at=now if status == Status.IN_TRANSIT else None,
            ship_by=ship_by,
            last_event_at=now,
        )
        # Plain INSERTs (the ORM's create and bulk_create compiled each on every dispatch).
        _insert_rows([shipment])
        _ORDER_OF_SHIPMENT.set_cached_value(shipment, order)
        count_shipment_change(order.merchant_id, vendor_id, before=None, after=status)
        _insert_values(
            FulfillmentLine,
            _ENTRY_COLUMNS,
            [
                (order.merchant_id, shipment.pk, line_id, quantity, *costs.get(line_id, (None, None)))
                for line_id, quantity in wanted.items()
            ],
        )
        if photos:
            shipment.photos.set(photos)
        # Its photos as just written, as prefetch_related would hold them (the order's timeline
        # event counts them without a read).
        held_photos = shipment.photos.get_queryset()
        held_photos._result_cache, held_photos._prefetch_done = list(photos), True
        shipment.__dict__.setdefault("_prefetched_objects_cache", {})["photos"] = held_photos
        _record_tracking_event(shipment, occurred_at=now, text=_created_text(shipment, by))
    return shipment


def move_shipment(
    shipment_id: int,
    *,
    by: Actor,
    to: str,
    handover: Handover | None = None,
    reason: str = "",
    place: str = "",
    occurred_at: datetime.datetime | None = None,
    order_locked: bool = False,
    locked_shipment: Fulfillment | None = None,
) -> Fulfillment:
    """Move a shipment along SHIPPING_TRANSITIONS, writing a tracking event.

    In transit takes the `handover` (or keeps the reference the shipment already has);
    Exception needs the `reason`. Raises ShipmentNotFound, ShippingStatusRefused,
    InvalidShipment (no reference for in transit, no reason for an exception), NotAllowed.
    `order_locked`: the caller holds the lock of the shipment's order in this transaction (which
    it then joins without a savepoint); `locked_shipment`: and this shipment's, as it read it.
    """
    ensure_can(by, Permission.UPDATE_SHIPMENTS)
    reason = (reason or "").strip()
    place = _checked_place(place)
    with transaction.atomic(savepoint=not order_locked):
        if locked_shipment is not None and order_locked and locked_shipment.pk == shipment_id:
            shipment = locked_shipment
        else:
            shipment = _locked_shipment(shipment_id, by, order_locked=order_locked)
        if to not in SHIPPING_TRANSITIONS[shipment.status]:
            raise ShippingStatusRefused(
                f"Shipment {_shipment_label(shipment)} is {shipment.get_status_display().lower()}, "
                f"so it cannot become {Status(to).label.lower()}.",
                field="status",
            )
        now = timezone.now()
        changed = ["status"]
        if to == Status.IN_TRANSIT:
            if handover is not None:
                shipment.carrier = handover.carrier or shipment.carrier
                shipment.delivery_reference = handover.delivery_reference
                shipment.expected_on = handover.expected_on or shipment.expected_on
                shipment.message = handover.message or shipment.message
                shipment.tracking_url = handover.tracking_url or shipment.tracking_url
                changed += ["carrier", "delivery_reference", "expected_on", "message", "tracking_url"]
            if not shipment.delivery_reference:
                raise InvalidShipment(
                    "Enter the courier's delivery reference number.", field="delivery_reference"
                )
            if shipment.shipped_at is None:
                shipment.shipped_at = now
                changed.append("shipped_at")
            text = f"Handed to {shipment.carrier or 'the courier'}, reference {shipment.delivery_reference}"
        elif to == Status.EXCEPTION:
            if not reason:
                raise InvalidShipment("Say what went wrong with the shipment.", field="reason")
            if len(reason) > MAX_TEXT_LENGTH:
                raise InvalidShipment(f"The reason has at most {MAX_TEXT_LENGTH} characters.", field="reason")
            text = reason
        elif to == Status.DELIVERED:
            shipment.delivered_at = now
            changed.append("delivered_at")
            text = f"Marked delivered by {by.display_name}"
        else:
            text = f"{Status(to).label} ({by.display_name})"
        if shipment.vendor_id is not None and by.party.vendor_id is None and by.user is not None:
            # The merchant moved a vendor's shipment: the timeline says for whom.
            text += f" — by {by.display_name} on behalf of {shipment.vendor.name}"
        count_shipment_change(shipment.merchant_id, shipment.vendor_id, before=shipment.status, after=to)
        shipment.status = to
        shipment.last_event_at = max(occurred_at or now, shipment.last_event_at or now)
        save_fields(shipment, *changed, "last_event_at")
        _record_tracking_event(shipment, occurred_at=occurred_at or now, place=place, text=text)
    return shipment


def add_tracking_event(
    shipment_id: int,
    *,
    by: Actor,
    place: str = "",
    text: str = "",
    occurred_at: datetime.datetime | None = None,
) -> TrackingEvent:
    """A point on the shipment's way (where, what the carrier said, when), at its current status.

    Raises ShipmentNotFound, InvalidShipment (neither place nor text, too long, in the future),
    NotAllowed.
    """
    ensure_can(by, Permission.UPDATE_SHIPMENTS)
    place = _checked_place(place)
    text = (text or "").strip()
    if not place and not text:
        raise InvalidShipment("Say where the parcel is or what the courier said.", field="text")
    if len(text) > MAX_TEXT_LENGTH:
        raise InvalidShipment(f"The text has at most {MAX_TEXT_LENGTH} characters.", field="text")
    now = timezone.now()
    if occurred_at is not None and occurred_at > now:
        raise InvalidShipment("A tracking event cannot be in the future.", field="occurred_at")
    with transaction.atomic():
        shipment = _locked_shipment(shipment_id, by)
        occurred_at = occurred_at or now
        if shipment.last_event_at is None or occurred_at > shipment.last_event_at:
            shipment.last_event_at = occurred_at
            save_fields(shipment, "last_event_at")
        return _record_tracking_event(shipment, occurred_at=occurred_at, place=place, text=text)


def shipments_to_deliver(order_id: int, *, shipped_by: str = Fulfillment.Shipper.MERCHANT) -> list[int]:
    """Ids of the order's shipments by this party not yet delivered, oldest first."""
    return list(_to_deliver(Fulfillment.objects, order_id, shipped_by).values_list("pk", flat=True))


def locked_shipments_to_deliver(
    order_id: int, *, by: Actor, shipped_by: str = Fulfillment.Shipper.MERCHANT
) -> list[Fulfillment]:
    """The order's shipments by this party not yet delivered, oldest first, locked (in one read)
    for the caller that holds the order's lock: each is then moved with
    `move_shipment(…, order_locked=True, locked_shipment=it)`. The shipments `by` may see
    (shipments_for), read in plain SQL: every fulfilment runs it, and the ORM's compiling of it
    cost more than running it."""
    if by.party.vendor_id is None and by.party.kind != "merchant":
        return []
    params = [order_id, shipped_by, Status.DELIVERED, by.merchant.pk]
    if by.party.vendor_id is not None:
        params.append(by.party.vendor_id)
    with fixed_statement_cursor() as cursor:
        cursor.execute(_locked_to_deliver_sql(by.party.vendor_id is not None), params)
        return [rows.instance(Fulfillment, row) for row in cursor.fetchall()]


@functools.cache
def _locked_to_deliver_sql(of_vendor: bool) -> str:
    """Parameters: the order, the shipper, delivered, the merchant (and the vendor). `merchant
    + 0`: the order's own index finds its few shipments; PostgreSQL took the merchant's index
    for a merchant it thought small (one with few shipments yet), walking all of them."""
    quote = connection.ops.quote_name
    meta = Fulfillment._meta
    column = {field.attname: quote(field.column) for field in meta.concrete_fields}
    vendor = f" AND {column['vendor_id']} = %s" if of_vendor else ""
    locking = " FOR UPDATE" if connection.features.has_select_for_update else ""
    return (
        f"SELECT {', '.join(column.values())} FROM {quote(meta.db_table)} WHERE {column['order_id']} = %s "
        f"AND {column['shipped_by']} = %s AND {column['status']} <> %s AND {column['merchant_id']} + 0 = %s"
        f"{vendor} ORDER BY {column['created_at']}, {column['id']}{locking}"
    )


def _to_deliver(shipments, order_id: int, shipped_by: str):
    return shipments.filter(order_id=order_id, shipped_by=shipped_by).exclude(status=Status.DELIVERED).order_by("created_at", "pk")  # fmt: skip


def shipments_still_open(order_id: int) -> list[int]:
    """Ids of the order's shipments, by anyone, neither delivered nor already an exception."""
    return list(
        Fulfillment.objects.filter(order_id=order_id)
        .exclude(status__in=[Status.DELIVERED, Status.EXCEPTION])
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)
    )


# --- the pieces the actions share -------------------------------------------------

# The order's and vendor's tables through the foreign keys, so this app imports neither app.
_Order = Fulfillment._meta.get_field("order").related_model
_Vendor = Fulfillment._meta.get_field("vendor").related_model
_OrderLine = FulfillmentLine._meta.get_field("order_line").related_model
_ORDER_OF_SHIPMENT = Fulfillment._meta.get_field("order")


def _locked_order(order_id, by: Actor):
    try:
        return _Order.objects.one_of_merchant(by.merchant, order_id).select_for_update().get()
    except (_Order.DoesNotExist, ValueError, TypeError) as missing:
        raise NotFound("That order does not exist.") from missing


def _locked_shipment(shipment_id, by: Actor, *, order_locked: bool = False) -> Fulfillment:
    """The shipment, locked after its order (and its order's lines), as every action locks;
    `order_locked` when the caller already holds the order's lock.

    A vendor's person finds only their vendor's shipments; any other is ShipmentNotFound."""
    if order_locked:
        try:
            return one_shipment_for(by, shipment_id).select_for_update().get()
        except (Fulfillment.DoesNotExist, ValueError, TypeError) as missing:
            raise ShipmentNotFound() from missing
    try:
        order_id = one_shipment_for(by, shipment_id).values_list("order_id", flat=True).get()
    except (Fulfillment.DoesNotExist, ValueError, TypeError) as missing:
        raise ShipmentNotFound() from missing
    _locked_order(order_id, by)
    return Fulfillment.objects.select_for_update().get(pk=shipment_id)


def _units_shipped_of(order) -> dict[int, int]:
    """_units_shipped from the order's shipments and their lines when prefetched, else read."""
    held = getattr(order, "_prefetched_objects_cache", {})
    shipments = held.get("fulfillments")
    if shipments is None or any(
        "lines" not in getattr(s, "_prefetched_objects_cache", {}) for s in shipments
    ):
        return _units_shipped(order.pk)
    units: dict[int, int] = {}
    for shipment in shipments:
        if not shipment.is_resend:
            for entry in shipment.lines.all():
                units[entry.order_line_id] = units.get(entry.order_line_id, 0) + entry.quantity
    return units


def _units_shipped(order_id: int) -> dict[int, int]:
    rows = (
        FulfillmentLine.objects.filter(fulfillment__order_id=order_id, fulfillment__is_resend=False)
        .values("order_line_id")
        .annotate(units=Sum("quantity"))
        .order_by()
    )
    return {row["order_line_id"]: row["units"] for row in rows}


def _wanted_units(
    order_lines: dict, lines: Sequence[ShipmentLine] | None, *, already_shipped
) -> dict[int, int]:
    """{order line id: units} for the new shipment, never more than ordered and not yet shipped."""
    if lines is None:
        wanted = {
            line_id: line.quantity - already_shipped.get(line_id, 0)
            for line_id, line in order_lines.items()
            if line.quantity > already_shipped.get(line_id, 0)
        }
        if not wanted:
            raise InvalidShipment("Every item of this order is already in a shipment.", field="lines")
        return wanted
    wanted: dict[int, int] = {}
    for entry in lines:
        line = order_lines.get(entry.order_line_id)
        if line is None:
            raise InvalidShipment("That item is not part of this order.", field="lines")
        if not isinstance(entry.quantity, int) or isinstance(entry.quantity, bool) or entry.quantity < 1:
            raise InvalidShipment(f"Ship at least 1 of {line.title}.", field="lines")
        wanted[line.pk] = wanted.get(line.pk, 0) + entry.quantity
    if not wanted:
        raise InvalidShipment("Choose at least one item to ship.", field="lines")
    for line_id, quantity in wanted.items():
        line = order_lines[line_id]
        left = line.quantity - already_shipped.get(line_id, 0)
        if quantity > left:
            raise InvalidShipment(
                f"{line.title}: {quantity} cannot be shipped; {line.quantity} were ordered "
                f"and {left} {'is' if left == 1 else 'are'} not yet in a shipment.",
                field="lines",
            )
    return wanted


def _checked_place(place: str) -> str:
    place = (place or "").strip()
    if len(place) > MAX_PLACE_LENGTH:
        raise InvalidShipment(f"A place has at most {MAX_PLACE_LENGTH} characters.", field="place")
    return place


def _created_text(shipment: Fulfillment, by: Actor) -> str:
    if shipment.status == Status.IN_TRANSIT:
        return f"Handed to {shipment.carrier or 'the courier'}, reference {shipment.delivery_reference}"
    return f"Shipment created by {by.display_name}"


def _shipment_label(shipment: Fulfillment) -> str:
    return shipment.delivery_reference or f"#{shipment.pk}"


def _record_tracking_event(
    shipment: Fulfillment, *, occurred_at: datetime.datetime, place: str = "", text: str = ""
) -> TrackingEvent:
    tracking_event = TrackingEvent(
        merchant_id=shipment.merchant_id,
        fulfillment=shipment,
        status=shipment.status,
        occurred_at=occurred_at,
        place=place,
        text=text,
    )
    _insert_rows([tracking_event])
    publish_webhook_event(
        SHIPMENT_UPDATED,
        event_id=f"evt_tracking_event_{tracking_event.pk}",
        merchant_id=shipment.merchant_id,
        about_type="shipment",
        about_id=shipment.pk,
        subject=shipment,
    )
    return tracking_event


# --- vendors' shipments: allocation and moving units ----------------------------------


@dataclass(frozen=True)
class VendorAllocation:
    """Every unit of one order line not yet in a shipment goes to this vendor, at these costs per unit."""

    vendor_id: int
    order_line_id: int
    unit_cost: Decimal | None
    shipping_cost: Decimal | None


@dataclass(frozen=True)
class OrderAllocation:
    """One order of an allocation: its lines as the caller read them under the order's lock, the
    vendor and costs for each, and the units already in shipments per line (None: read here)."""

    order: object
    order_lines: Sequence
    allocations: Sequence[VendorAllocation]
    already_shipped: dict[int, int] | None = None


@dataclass
class WrittenBeside:
    """Rows of the caller's written by the allocation's one PostgreSQL statement (the vendors'
    digests in the outbox, see orders.allocation_messages): `sql` is an INSERT … SELECT that
    reads the new shipments from `s` (Fulfillment's id, order, vendor, merchant and status
    columns) and returns one bigint column; `params` are its parameters. Its text should be the
    same on every call: the statement is prepared once per connection. After the write,
    `returned` holds what it returned."""

    sql: str
    params: list
    returned: list[int] = field(default_factory=list)


def allocate_unshipped_units_of_orders(
    batch: Sequence[OrderAllocation], *, by: Actor, beside: WrittenBeside | None = None
) -> list[list[Fulfillment]]:
    """For each order, one Pending shipment per vendor holding the units of its lines not yet in
    any shipment, each line with its cost snapshot; for many orders of one merchant at once (a
    batch of new orders) in the same handful of statements: on PostgreSQL one (the shipments,
    their lines, their tracking events and the counts in one WITH), on SQLite the shipments,
    their lines and their tracking events one INSERT each (more only past the parameter limit)
    and the counts moved in one statement.

    For a caller inside a transaction that holds the orders' row locks (every writer of an
    order's shipments takes it first, so no other can add units meanwhile). A line with no
    unit left is skipped; a line of another order is refused (InvalidShipment). Returns each
    order's new shipments, in batch order, each with `units` set (NotAllowed).

    `beside` (PostgreSQL only: SQLite has no data-modifying WITH) joins the caller's rows to
    that one statement when there are shipments to write; with none it is not run.
    """
    ensure_can(by, Permission.UPDATE_SHIPMENTS)
    if beside is not None and connection.vendor != "postgresql":
        raise ValueError("Rows written beside the allocation need PostgreSQL's data-modifying WITH.")
    parts_of: list[dict[int, list[tuple[VendorAllocation, int]]]] = []
    for wanted in batch:
        order = wanted.order
        parts: dict[int, list[tuple[VendorAllocation, int]]] = {}
        parts_of.append(parts)
        if not wanted.allocations:
            continue
        lines = {line.pk: line for line in wanted.order_lines}
        shipped = (
            dict(wanted.already_shipped) if wanted.already_shipped is not None else _units_shipped(order.pk)
        )
        for allocation in wanted.allocations:
            line = lines.get(allocation.order_line_id)
            if line is None or line.order_id != order.pk:
                raise InvalidShipment("That item is not part of this order.", field="lines")
            left = line.quantity - shipped.get(line.pk, 0)
            if left > 0:
                shipped[line.pk] = line.quantity
                parts.setdefault(allocation.vendor_id, []).append((allocation, left))
    if not any(parts_of):
        return [[] for _ in batch]
    now = timezone.now()
    shipments_of = [
        [
            _new_shipment(
                merchant_id=wanted.order.merchant_id,
                order_id=wanted.order.pk,
                shipped_by=Fulfillment.Shipper.VENDOR,
                vendor_id=vendor_id,
                status=Status.PENDING,
                created_by_id=by.user.pk if by.user else None,
                created_at=now,
            )
            for vendor_id in parts
        ]
        for wanted, parts in zip(batch, parts_of, strict=True)
    ]
    shipments, parts = [], []
    for some, parts_of_order in zip(shipments_of, parts_of, strict=True):
        for shipment, part in zip(some, parts_of_order.values(), strict=True):
            shipment.units = sum(units for _, units in part)
            shipments.append(shipment)
            parts.append(part)
    new_per_vendor: dict[int, int] = {}
    for shipment in shipments:
        new_per_vendor[shipment.vendor_id] = new_per_vendor.get(shipment.vendor_id, 0) + 1
    text = f"Allocated by {by.display_name}"
    if connection.vendor == "postgresql":
        event_ids = _write_allocation_at_once(
            shipments, parts, new_per_vendor, now=now, text=text, beside=beside
        )
    else:
        event_ids = _write_allocation(shipments, parts, new_per_vendor, now=now, text=text)
    publish_webhook_events(
        [
            PublishedEvent(
                name=SHIPMENT_UPDATED,
                event_id=f"evt_tracking_event_{event_id}",
                merchant_id=shipment.merchant_id,
                about_type="shipment",
                about_id=str(shipment.pk),
                occurred_at=now,
                subject=shipment,
            )
            for shipment, event_id in zip(shipments, event_ids, strict=True)
        ]
    )
    return shipments_of


def _write_allocation(shipments, parts, new_per_vendor, *, now, text) -> list[int]:
    """Write the new shipments (setting their ids), their lines (the cost snapshots), one
    tracking event each and the counts: four statements. Returns the tracking events' ids."""
    _insert_rows(shipments)
    count_new_vendor_shipments(shipments[0].merchant_id, new_per_vendor, status=Status.PENDING)
    # The lines and tracking events as plain tuples: nothing reads them back as instances.
    _insert_values(
        FulfillmentLine,
        _ENTRY_COLUMNS,
        [
            (
                shipment.merchant_id,
                shipment.pk,
                allocation.order_line_id,
                units,
                allocation.unit_cost,
                allocation.shipping_cost,
            )
            for shipment, part in zip(shipments, parts, strict=True)
            for allocation, units in part
        ],
    )
    return _insert_values(
        TrackingEvent,
        _TRACKING_EVENT_COLUMNS,
        [(shipment.merchant_id, shipment.pk, shipment.status, now, "", text) for shipment in shipments],
    )


def _write_allocation_at_once(shipments, parts, new_per_vendor, *, now, text, beside=None) -> list[int]:
    """What _write_allocation writes, in one PostgreSQL statement (data-modifying WITH): the
    shipments' INSERT … RETURNING feeds their lines' and tracking events' INSERTs, beside the
    counts' upsert. Allocation runs inside every paid order's transaction when auto-processing
    is on, where each round trip to the database cost more than the work in it.

    The rows go as arrays (unnest), a parameter per column whatever the batch's size: the
    statement's text is the same for every batch (psycopg parses it once, not once per call as
    it does past 50 parameters), and no batch is split for the parameter limit. What all the
    batch's shipments share (merchant, status, creator, time, every default) is given once.
    It is a prepared statement (`compiled_queries.prepared_cursor`): planned once per connection, not per order;
    `beside`'s rows (the vendors' digests) are written by it too."""
    # Its counts' upsert locks shipment counts at once: the order counts held go first (count_locks).
    order_counts_first()
    attnames, _, converters = _insert_statement(Fulfillment, None, 1)
    first = shipments[0]
    shared = [first.__dict__[name] for name in attnames]
    for index, convert in converters:
        if shared[index] is not None:
            shared[index] = convert(shared[index], connection.ops)
    lines = [
        (shipment, allocation, units)
        for shipment, part in zip(shipments, parts, strict=True)
        for allocation, units in part
    ]
    params = [
        *(value for name, value in zip(attnames, shared, strict=True) if name not in _PER_SHIPMENT),
        array_literal([shipment.order_id for shipment in shipments]),
        array_literal([shipment.vendor_id for shipment in shipments]),
        array_literal([shipment.order_id for shipment, _, _ in lines]),
        array_literal([shipment.vendor_id for shipment, _, _ in lines]),
        array_literal([allocation.order_line_id for _, allocation, _ in lines]),
        array_literal([units for _, _, units in lines]),
        array_literal([allocation.unit_cost for _, allocation, _ in lines]),
        array_literal([allocation.shipping_cost for _, allocation, _ in lines]),
        connection.ops.adapt_datetimefield_value(now),
        text,
        first.merchant_id,
        Status.PENDING,
        array_literal(new_per_vendor),
        array_literal(new_per_vendor.values()),
        *(beside.params if beside is not None else ()),
    ]
    written = {}
    # Prepared at its first run (psycopg forgets it after a rollback and prepares it again).
    with prepared_cursor() as cursor:
        cursor.execute(_allocation_statement(beside.sql if beside is not None else ""), params, prepare=True)
        for pk, order_id, vendor_id, returned in cursor.fetchall():
            if pk is None:  # a row of `beside`'s
                beside.returned.append(returned)
            else:
                written[(order_id, vendor_id)] = (pk, returned)
    pk_attname = Fulfillment._meta.pk.attname
    event_ids = []
    for shipment in shipments:
        shipment.__dict__[pk_attname], event_id = written[(shipment.order_id, shipment.vendor_id)]
        shipment._state.adding = False
        event_ids.append(event_id)
    return event_ids


# A new shipment's own columns in _allocation_statement; the batch's shipments share the rest
# (allocate_unshipped_units_of_orders makes them all alike: one merchant, Pending, by one actor at one time).
_PER_SHIPMENT = ("order_id", "vendor_id")


@functools.cache
def _allocation_statement(beside: str) -> str:
    """The one statement of _write_allocation_at_once, with `beside` (WrittenBeside.sql) as a
    last data-modifying part when given. Parameters: every column of a new
    shipment but its id, order and vendor (shared by the batch's shipments), then arrays of the
    shipments' orders and vendors; arrays of the lines' orders, vendors, order lines,
    quantities, unit and shipping costs (a line finds its shipment by order and vendor: one
    shipment per vendor per order); the tracking events' time and text; the merchant, the
    status and arrays of vendors and their new shipments for the counts' upsert; then those of
    `beside`. Returns each shipment's id, order, vendor and tracking event's id, then a row
    (null, null, null, id) for each id `beside` returned."""
    quote = connection.ops.quote_name
    attnames = _insert_statement(Fulfillment, None, 1)[0]

    def col(model, name):
        return quote(model._meta.get_field(name).column)

    def columns(model, attnames):
        by_attname = {f.attname: f.column for f in model._meta.concrete_fields}
        return ", ".join(quote(by_attname[name]) for name in attnames)

    def table(model):
        return quote(model._meta.db_table)

    f, counts = Fulfillment, ShipmentStatusCount
    pk, order, vendor, merchant, status = (
        quote(f._meta.pk.column),
        col(f, "order"),
        col(f, "vendor"),
        col(f, "merchant"),
        col(f, "status"),
    )
    shipment_values = ", ".join({"order_id": "w.o", "vendor_id": "w.v"}.get(name, "%s") for name in attnames)
    event_pk, event_shipment = quote(TrackingEvent._meta.pk.column), col(TrackingEvent, "fulfillment")
    count_merchant, count_vendor, count_status, count = (
        col(counts, name) for name in ("merchant", "vendor", "status", "count")
    )
    return (
        f"WITH s AS (INSERT INTO {table(f)} ({columns(f, attnames)}) "
        f"SELECT {shipment_values} FROM unnest(%s::bigint[], %s::bigint[]) WITH ORDINALITY AS w (o, v, n) "
        f"ORDER BY w.n RETURNING {pk}, {order}, {vendor}, {merchant}, {status}), "
        f"l AS (INSERT INTO {table(FulfillmentLine)} ({columns(FulfillmentLine, _ENTRY_COLUMNS)}) "
        f"SELECT s.{merchant}, s.{pk}, w.line, w.quantity, w.unit_cost, w.shipping_cost "
        f"FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::integer[], %s::numeric[], %s::numeric[]) "
        f"WITH ORDINALITY AS w (o, v, line, quantity, unit_cost, shipping_cost, n) "
        f"JOIN s ON s.{order} = w.o AND s.{vendor} = w.v ORDER BY w.n), "
        f"t AS (INSERT INTO {table(TrackingEvent)} ({columns(TrackingEvent, _TRACKING_EVENT_COLUMNS)}) "
        f"SELECT s.{merchant}, s.{pk}, s.{status}, %s::timestamptz, '', %s::text FROM s ORDER BY s.{pk} "
        f"RETURNING {event_pk}, {event_shipment}), "
        f"c AS (INSERT INTO {table(counts)} ({count_merchant}, {count_vendor}, {count_status}, {count}) "
        f"SELECT %s::bigint, w.v, %s::text, w.n FROM unnest(%s::bigint[], %s::integer[]) AS w (v, n) "
        f"ON CONFLICT ({count_merchant}, {count_vendor}, {count_status}) WHERE {count_vendor} IS NOT NULL "
        f"DO UPDATE SET {count} = {table(counts)}.{count} + excluded.{count})"
        + (f", b (id) AS ({beside}) " if beside else " ")
        + f"SELECT s.{pk}, s.{order}, s.{vendor}, t.{event_pk} FROM s JOIN t ON t.{event_shipment} = s.{pk}"
        + (" UNION ALL SELECT NULL, NULL, NULL, b.id FROM b" if beside else "")
    )


def _new_shipment(**values) -> Fulfillment:
    """An unsaved Fulfillment with these attribute values (attnames) and every other field at
    its default, as Fulfillment(**values) makes it, without the field-by-field __init__ (the
    model has no init signal); created_at is always given."""
    shipment = Fulfillment.__new__(Fulfillment)
    shipment._state = ModelState()
    shipment.__dict__.update(_blank_shipment())
    shipment.__dict__.update(values)
    return shipment


@functools.cache
def _blank_shipment() -> dict:
    """Every field of a new Fulfillment at its default (none of them mutable)."""
    values = dict(Fulfillment().__dict__)
    del values["_state"]
    return values


_ENTRY_COLUMNS = ("merchant_id", "fulfillment_id", "order_line_id", "quantity", "unit_cost", "shipping_cost")
_TRACKING_EVENT_COLUMNS = ("merchant_id", "fulfillment_id", "status", "occurred_at", "place", "text")


def _insert_rows(rows: list) -> None:
    """INSERT these new instances of one model in one statement (a few past the parameter
    limit), setting their ids (RETURNING)."""
    meta = type(rows[0])._meta
    attnames = _insert_statement(type(rows[0]), None, 1)[0]
    ids = _insert_values(
        type(rows[0]), attnames, [tuple(row.__dict__[name] for name in attnames) for row in rows]
    )
    for row, pk in zip(rows, ids, strict=True):
        row.__dict__[meta.pk.attname] = pk
        row._state.adding = False
        row._state.db = DEFAULT_DB_ALIAS  # `connection` is always the default database's


def _insert_values(model, attnames: Sequence[str] | None, rows: list[tuple]) -> list[int]:
    """INSERT rows of `model` given as tuples of these fields' values (every concrete field but
    the id when None) in one statement (a few past the parameter limit); returns their ids.

    What bulk_create does, without its general machinery: allocation runs inside every paid
    order's transaction when auto-processing is on, where that machinery (a model instance and
    a conversion call per value) cost more than the INSERT itself. The statement is built once
    per model, columns and row count; only the values of the few field types that need it are
    converted (None never is).
    """
    attnames, _, converters = _insert_statement(model, attnames, 1)
    if converters:
        ops = connection.ops
        rows = [list(row) for row in rows]
        for row in rows:
            for index, convert in converters:
                if row[index] is not None:
                    row[index] = convert(row[index], ops)
    per_statement = max(1, _MAX_PARAMETERS // len(attnames))
    ids: list[int] = []
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        sql = _insert_statement(model, attnames, len(chunk))[1]
        with fixed_statement_cursor() as cursor:
            cursor.execute(sql, [value for row in chunk for value in row])
            ids += [found[0] for found in cursor.fetchall()]
    return ids


# Below SQLite's (32,766) and PostgreSQL's (65,535) limits on parameters per statement.
_MAX_PARAMETERS = 30_000


@functools.lru_cache(maxsize=64)
def _insert_statement(model, attnames: tuple[str, ...] | None, row_count: int) -> tuple[tuple, str, list]:
    """The columns (every concrete field but the id when `attnames` is None), the INSERT of
    `row_count` rows of them, and (index, field.get_db_prep_save) of the columns whose Python
    values need converting: dates, times and amounts (the others go as they are on both
    databases; none of these models has an auto_now field)."""
    meta = model._meta
    by_attname = {f.attname: f for f in meta.concrete_fields}
    if attnames is None:
        attnames = tuple(f.attname for f in meta.concrete_fields if not f.primary_key)
    fields = [by_attname[name] for name in attnames]
    quote = connection.ops.quote_name
    placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
    converters = [
        (index, _converter(field))
        for index, field in enumerate(fields)
        if field.get_internal_type() not in _PASSED_AS_THEY_ARE
    ]
    return (
        tuple(attnames),
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES {', '.join([placeholders] * row_count)} RETURNING {quote(meta.pk.column)}",
        converters,
    )


def _converter(field):
    """(value, connection.ops) → the query parameter: for the values this module writes (aware
    times of timezone.now(), Decimal amounts) what the field's get_db_prep_save comes to,
    without its checks of what the value is."""
    if isinstance(field, DateTimeField):
        return lambda value, ops: ops.adapt_datetimefield_value(value)
    if isinstance(field, DateField):
        return lambda value, ops: ops.adapt_datefield_value(value)
    if isinstance(field, DecimalField):
        digits, places = field.max_digits, field.decimal_places
        return lambda value, ops: ops.adapt_decimalfield_value(value, digits, places)
    return lambda value, ops: field.get_db_prep_save(value, ops.connection)


_PASSED_AS_THEY_ARE = frozenset(
    {"BigAutoField", "BooleanField", "CharField", "ForeignKey", "PositiveIntegerField", "TextField"}
)


# A vendor's shipment can still change hands until the parcel goes to the carrier.
NOT_YET_LEFT = frozenset({Status.PENDING, Status.PROCESSING})


def take_units_out(
    shipment_id: int, *, by: Actor, order_line_id: int, quantity: int, text: str = ""
) -> int | None:
    """Take units of one line out of a shipment that has not left (pending or processing);
    a shipment left with no units is removed. Returns the shipment's id, or None when removed.

    Raises ShipmentNotFound, ShippingStatusRefused (it has left), InvalidShipment (the line is
    not in it, or not that many units), NotAllowed.
    """
    ensure_can(by, Permission.UPDATE_SHIPMENTS)
    with transaction.atomic():
        shipment = _locked_shipment(shipment_id, by)
        if shipment.status not in NOT_YET_LEFT:
            raise ShippingStatusRefused(
                f"Shipment {_shipment_label(shipment)} is {shipment.get_status_display().lower()}; "
                "only a shipment not yet handed to the carrier can give items up.",
                field="shipment",
            )
        entry = shipment.lines.select_for_update().filter(order_line_id=order_line_id).first()
        if entry is None:
            raise InvalidShipment("That item is not in this shipment.", field="lines")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= entry.quantity:
            raise InvalidShipment(f"Move between 1 and {entry.quantity} of this item.", field="quantity")
        if quantity == entry.quantity:
            entry.delete()
        else:
            entry.quantity -= quantity
            entry.save(update_fields=["quantity"])
        if not shipment.lines.exists():
            shipment.delete()
            count_shipment_removed(shipment.merchant_id, shipment.vendor_id, status=shipment.status)
            return None
        _record_tracking_event(shipment, occurred_at=timezone.now(), text=text)
    return shipment.pk


def add_units(shipment_id: int, *, by: Actor, lines: Sequence[ShipmentLine], text: str = "") -> Fulfillment:
    """Add units of the order's lines to a shipment that has not left, never beyond what was
    ordered and is not yet in a shipment. A line already in it keeps its cost snapshot.

    Raises ShipmentNotFound, ShippingStatusRefused, InvalidShipment, NotAllowed.
    """
    ensure_can(by, Permission.UPDATE_SHIPMENTS)
    with transaction.atomic():
        shipment = _locked_shipment(shipment_id, by)
        if shipment.status not in NOT_YET_LEFT:
            raise ShippingStatusRefused(
                f"Shipment {_shipment_label(shipment)} is {shipment.get_status_display().lower()}; "
                "items can no longer be added to it.",
                field="shipment",
            )
        order_lines = {
            line.pk: line
            for line in _OrderLine.objects.select_for_update()
            .filter(order_id=shipment.order_id)
            .order_by("pk")
        }
        wanted = _wanted_units(order_lines, lines, already_shipped=_units_shipped(shipment.order_id))
        costs = {entry.order_line_id: (entry.unit_cost, entry.shipping_cost) for entry in lines}
        existing = {entry.order_line_id: entry for entry in shipment.lines.select_for_update()}
        for line_id, quantity in wanted.items():
            entry = existing.get(line_id)
            if entry is not None:
                entry.quantity += quantity
                entry.save(update_fields=["quantity"])
            else:
                FulfillmentLine.objects.create(
                    merchant_id=shipment.merchant_id,
                    fulfillment=shipment,
                    order_line_id=line_id,
                    quantity=quantity,
                    unit_cost=costs[line_id][0],
                    shipping_cost=costs[line_id][1],
                )
        _record_tracking_event(shipment, occurred_at=timezone.now(), text=text)
    return shipment


def register_shipment_webhook_events() -> None:
    register_webhook_event(
        SHIPMENT_UPDATED, label="A shipment moves (a new tracking event)", about_type="shipment"
    )
