"""The order timeline: one function per kind of event; nothing else writes OrderEvent rows.

Each event's payload (`OrderEvent.data`) is written here and read here: pages and messages
read an event's details through the readers at the end of this module, never by its keys.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from orderdesk.accounts.actors import Actor
from orderdesk.notifications.models import Notification

from .inserts import insert, new_row
from .models import Order, OrderEvent
from .webhooks import publish_order_events


def _event(order: Order, kind: str, by: Actor, data: dict[str, Any]) -> OrderEvent:
    # Ids, not instances: a batch builds thousands of these, and the related-object setters cost.
    return new_row(
        OrderEvent,
        {
            "merchant_id": order.merchant_id,
            "order_id": order.pk,
            "kind": kind,
            "actor_id": by.user.pk if by.user is not None else None,
            "actor_name": by.display_name,
            "data": data,
        },
    )


def _record(order: Order, kind: str, by: Actor, data: dict[str, Any]) -> OrderEvent:
    event = _event(order, kind, by, data)
    event.save(force_insert=True)
    publish_order_events([event], orders=[order])
    return event


def write_events(
    events: list[OrderEvent], *, orders: list[Order] | None = None, bulk: bool = False
) -> list[OrderEvent]:
    """Save events built by the *_event functions below, in the order given, in one INSERT
    (a few for a large batch): a new order's events are written together. `orders`, when the
    caller holds them, are what the webhooks show (saves reading each again). `bulk`: a
    batch's events (orders.inserts: by COPY on PostgreSQL)."""
    insert(events, bulk=bulk)
    publish_order_events(events, orders=orders)
    return events


def order_placed_event(order: Order, *, by: Actor, line_count: int) -> OrderEvent:
    return _event(
        order,
        OrderEvent.Kind.PLACED,
        by,
        {
            "reference": order.reference,
            "store": order.store.name,
            "external_id": order.external_id,
            "total": str(order.total),
            "currency": order.currency,
            "payment_method": order.payment_method,
            "lines": line_count,
        },
    )


def payment_verified_kind(order: Order) -> str:
    """The kind of the event of the order's payment: cash on delivery confirmed, or paid."""
    if order.payment_status == Order.PaymentStatus.COD_CONFIRMED:
        return OrderEvent.Kind.COD_CONFIRMED
    return OrderEvent.Kind.PAYMENT_VERIFIED


def payment_verified_event(order: Order, *, by: Actor, status_before: str) -> OrderEvent:
    return _event(
        order,
        payment_verified_kind(order),
        by,
        {
            "status": {"before": status_before, "after": order.status},
            "payment_status": order.payment_status,
            "due_on": order.due_on.isoformat() if order.due_on else None,
        },
    )


def record_payment_verified(order: Order, *, by: Actor, status_before: str) -> OrderEvent:
    event = payment_verified_event(order, by=by, status_before=status_before)
    event.save(force_insert=True)
    publish_order_events([event], orders=[order])
    return event


def record_order_dispatched(order: Order, *, by: Actor, status_before: str, shipment) -> OrderEvent:
    event = order_dispatched_event(order, by=by, status_before=status_before, shipment=shipment)
    return write_events([event], orders=[order])[0]


def order_dispatched_event(order: Order, *, by: Actor, status_before: str, shipment) -> OrderEvent:
    """The dispatched event, unsaved: an order action writes it with its other events (write_events)."""
    return _event(
        order,
        OrderEvent.Kind.DISPATCHED,
        by,
        {
            "status": {"before": status_before, "after": order.status},
            "shipment_id": shipment.pk,
            "carrier": shipment.carrier,
            "delivery_reference": shipment.delivery_reference,
            "expected_on": shipment.expected_on.isoformat() if shipment.expected_on else None,
            "message": shipment.message,
            "photos": shipment.photos.count(),
        },
    )


def record_order_fulfilled(order: Order, *, by: Actor, status_before: str) -> OrderEvent:
    event = order_fulfilled_event(order, by=by, status_before=status_before)
    return write_events([event], orders=[order])[0]


def order_fulfilled_event(order: Order, *, by: Actor, status_before: str) -> OrderEvent:
    """The fulfilled event, unsaved: an order action writes it with its other events (write_events)."""
    return _event(
        order,
        OrderEvent.Kind.FULFILLED,
        by,
        {"status": {"before": status_before, "after": order.status}, "remarks": order.fulfill_remarks},
    )


def record_order_cancelled(order: Order, *, by: Actor, status_before: str) -> OrderEvent:
    return _record(
        order,
        OrderEvent.Kind.CANCELLED,
        by,
        {"status": {"before": status_before, "after": order.status}, "reason": order.cancel_reason},
    )


def record_notifications_queued(order: Order, *, by: Actor, notifications) -> OrderEvent:
    event = notifications_queued_event(order, by=by, notifications=notifications)
    event.save(force_insert=True)
    return event


def notifications_queued_event(order: Order, *, by: Actor, notifications) -> OrderEvent:
    return _event(
        order,
        OrderEvent.Kind.NOTIFICATIONS_QUEUED,
        by,
        {
            "notifications": [
                {
                    "id": n.pk,
                    "channel": n.channel,
                    "recipient": n.recipient,
                    "trigger": n.payload.get("event", ""),
                }
                for n in notifications
            ]
        },
    )


def record_notification_resent(order: Order, *, by: Actor, notification, last_error: str) -> OrderEvent:
    return _record(
        order,
        OrderEvent.Kind.NOTIFICATION_RESENT,
        by,
        {
            "notification": {
                "id": notification.pk,
                "channel": notification.channel,
                "recipient": notification.recipient,
                "trigger": notification.payload.get("event", ""),
            },
            "last_error": last_error,
        },
    )


def record_order_updated_from_store(order: Order, *, by: Actor, changes: dict[str, Any]) -> OrderEvent:
    """The store changed the order before dispatch: {field: {"before": …, "after": …}}."""
    return _record(
        order,
        OrderEvent.Kind.UPDATED_FROM_STORE,
        by,
        {"store": order.store.name, "external_id": order.external_id, "changes": changes},
    )


def record_store_change_flagged(order: Order, *, by: Actor, summary: str) -> OrderEvent:
    """The store changed or cancelled the order after it left Pending; nothing was applied."""
    return _record(
        order,
        OrderEvent.Kind.STORE_CHANGE_FLAGGED,
        by,
        {"store": order.store.name, "external_id": order.external_id, "summary": summary},
    )


AFTER_SALES_KINDS = frozenset(
    {
        OrderEvent.Kind.AFTER_SALES_OPENED,
        OrderEvent.Kind.AFTER_SALES_ACCEPTED,
        OrderEvent.Kind.AFTER_SALES_REJECTED,
        OrderEvent.Kind.AFTER_SALES_REFUNDED,
        OrderEvent.Kind.AFTER_SALES_MESSAGE,
        OrderEvent.Kind.AFTER_SALES_RESOLVED,
        OrderEvent.Kind.AFTER_SALES_CLOSED,
    }
)


def record_after_sales_step(
    order: Order, *, by: Actor, kind: str, case_id: int, details: list[str]
) -> OrderEvent:
    """A step of an after-sales case of this order (orderdesk.aftersales.actions calls it):
    `details` are the short sentences the timeline shows ("2 × Linen shirt", "Reason: …")."""
    if kind not in AFTER_SALES_KINDS:
        raise ValueError(f"“{kind}” is not an after-sales event.")
    return _record(order, kind, by, {"case_id": case_id, "details": [str(line) for line in details]})


def record_placed_with_vendors(
    order: Order, *, by: Actor, parts: list[dict[str, Any]], auto: bool
) -> OrderEvent:
    """Lines allocated to vendors: [{"vendor_id", "vendor", "shipment_id", "units"}], by auto-processing or not."""
    return _record(order, OrderEvent.Kind.PLACED_WITH_VENDORS, by, {"parts": parts, "auto": auto})


def placed_with_vendors_event(
    order: Order, *, by: Actor, parts: list[dict[str, Any]], auto: bool
) -> OrderEvent:
    """record_placed_with_vendors' event unsaved, for write_events with the new order's others."""
    return _event(order, OrderEvent.Kind.PLACED_WITH_VENDORS, by, {"parts": parts, "auto": auto})


def record_moved_to_vendor(
    order: Order, *, by: Actor, title: str, quantity: int, from_vendor: str, to_vendor: str
) -> OrderEvent:
    """Units of a line moved from one vendor's shipment to another vendor (or back to the merchant: to_vendor "")."""
    return _record(
        order,
        OrderEvent.Kind.MOVED_TO_VENDOR,
        by,
        {"title": title, "quantity": quantity, "from_vendor": from_vendor, "to_vendor": to_vendor},
    )


def record_store_change_dismissed(order: Order, *, by: Actor, summary: str) -> OrderEvent:
    """The merchant dismissed the store's flagged change (it stays as it was, not applied)."""
    return _record(
        order,
        OrderEvent.Kind.STORE_CHANGE_DISMISSED,
        by,
        {"store": order.store.name, "external_id": order.external_id, "summary": summary},
    )


# --- reading the payloads ---------------------------------------------------------


@dataclass(frozen=True)
class Placed:
    total: Decimal
    currency: str
    store: str


@dataclass(frozen=True)
class Dispatched:
    shipment_id: int | None
    carrier: str
    delivery_reference: str
    expected_on: datetime.date | None
    message: str
    photos: int


_CHANNEL_LABELS = dict(Notification.Channel.choices)


@dataclass(frozen=True)
class MessageMention:
    """A message named in the timeline: its channel and recipient."""

    channel: str
    recipient: str

    @property
    def channel_label(self) -> str:
        # Every outbox channel by its name ("Store" for tracking sent to the order's store).
        return _CHANNEL_LABELS.get(self.channel, "Email")


def status_change(event: OrderEvent) -> tuple[str, str] | None:
    """(before, after) of an event that moved the order, else None."""
    change = (event.data or {}).get("status")
    return (change["before"], change["after"]) if change else None


def placed_details(event: OrderEvent) -> Placed:
    data = event.data or {}
    return Placed(
        total=Decimal(data.get("total") or 0), currency=data.get("currency", ""), store=data.get("store", "")
    )


def due_on(event: OrderEvent) -> datetime.date | None:
    """The due date a payment-verified event set."""
    return _date((event.data or {}).get("due_on"))


def dispatch_details(event: OrderEvent) -> Dispatched:
    data = event.data or {}
    return Dispatched(
        # Events written before shipments were named so carry "fulfillment_id".
        shipment_id=data.get("shipment_id", data.get("fulfillment_id")),
        carrier=data.get("carrier", ""),
        delivery_reference=data.get("delivery_reference", ""),
        expected_on=_date(data.get("expected_on")),
        message=data.get("message", ""),
        photos=data.get("photos") or 0,
    )


def fulfill_remarks(event: OrderEvent) -> str:
    return (event.data or {}).get("remarks", "")


def cancel_reason(event: OrderEvent) -> str:
    return (event.data or {}).get("reason", "")


def notifications_queued(event: OrderEvent) -> list[MessageMention]:
    return [
        MessageMention(channel=n.get("channel", ""), recipient=n.get("recipient", ""))
        for n in (event.data or {}).get("notifications", [])
    ]


def notification_resent(event: OrderEvent) -> tuple[MessageMention, str]:
    """The message resent and the error it had stopped with."""
    data = event.data or {}
    resent = data.get("notification") or {}
    return (
        MessageMention(channel=resent.get("channel", ""), recipient=resent.get("recipient", "")),
        data.get("last_error", ""),
    )


def _date(iso_date: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(iso_date) if iso_date else None
    except ValueError:
        return None


def store_changes(event: OrderEvent) -> dict[str, dict]:
    """{field: {"before": …, "after": …}} of an updated-from-store event."""
    return (event.data or {}).get("changes") or {}


def after_sales_details(event: OrderEvent) -> list[str]:
    """The sentences an after-sales step carries, with the case's number first."""
    data = event.data or {}
    case = [f"Case #{data['case_id']}"] if data.get("case_id") else []
    return case + list(data.get("details") or [])


def after_sales_case_id(event: OrderEvent) -> int | None:
    return (event.data or {}).get("case_id")


def store_change_summary(event: OrderEvent) -> str:
    return (event.data or {}).get("summary", "")


def vendor_parts(event: OrderEvent) -> list[str]:
    """ "Cebu Source Co.: 2 items" for each vendor of a placed-with-vendors event."""
    return [
        f"{part.get('vendor', '')}: {part.get('units', 0)} item{'s' if part.get('units') != 1 else ''}"
        for part in (event.data or {}).get("parts", [])
    ]


def placed_automatically(event: OrderEvent) -> bool:
    return bool((event.data or {}).get("auto"))


def vendor_move(event: OrderEvent) -> str:
    """ "2 × Linen shirt from Cebu Source Co. to Davao Makers" of a moved-to-vendor event."""
    data = event.data or {}
    to = data.get("to_vendor") or "you (the merchant)"
    return f"{data.get('quantity', 0)} × {data.get('title', '')} from {data.get('from_vendor', '')} to {to}"
