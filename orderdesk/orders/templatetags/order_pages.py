"""What the order pages need to say about an order in words."""

import datetime
from dataclasses import dataclass

from django import template
from django.utils import timezone

from orderdesk.money import format_money
from orderdesk.orders import events
from orderdesk.orders.models import Order, OrderEvent, can_move
from orderdesk.orders.shipping import shipping_progress

register = template.Library()


@register.filter(name="can_move")
def can_move_to(order: Order, status: str) -> bool:
    """{% if order|can_move:"dispatched" %}: the buttons follow ORDER_TRANSITIONS."""
    return can_move(order, status)


@register.filter
def partly_dispatched(order: Order) -> bool:
    """{% if order|partly_dispatched %}: Pending with some units on their way (orders.shipping)."""
    return order.status == Order.Status.PENDING and shipping_progress(order).partly_dispatched


@register.filter
def money(amount, currency: str = "") -> str:
    """1234.5, "PHP" → "PHP 1,234.50"."""
    return format_money(amount, currency)


@dataclass(frozen=True)
class DueNote:
    """What the order's processing days mean for it now, in words: "Dispatch by" "Nov 21, 2026"."""

    label: str
    when: str
    note: str = ""
    late: bool = False


def _days(n: int, what: str = "day") -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _local_day(moment: datetime.datetime | None) -> str:
    return f"{timezone.localtime(moment):%b %-d, %Y}" if moment else "—"


@register.filter
def due_note(order: Order, today: datetime.date) -> DueNote:
    """The due date said for what it is: a deadline while pending, what happened after that."""
    processing = _days(order.processing_days, "processing day")
    if order.status == Order.Status.CANCELLED:
        return DueNote("Cancelled", _local_day(order.cancelled_at))
    if order.status == Order.Status.FULFILLED:
        return DueNote("Fulfilled", _local_day(order.fulfilled_at))
    if order.status == Order.Status.DISPATCHED:
        dispatched_on = timezone.localtime(order.dispatched_at).date() if order.dispatched_at else None
        if dispatched_on and order.due_on and dispatched_on > order.due_on:
            note = f"{_days((dispatched_on - order.due_on).days)} after the due date"
        else:
            note = "on time" if order.due_on else ""
        return DueNote("Dispatched", _local_day(order.dispatched_at), note)
    if order.due_on is None:
        return DueNote("Processing time", processing, "counted from payment")
    when = f"{order.due_on:%b %-d, %Y}"
    if today > order.due_on:
        return DueNote("Dispatch by", when, f"{_days((today - order.due_on).days)} late", late=True)
    if today == order.due_on:
        return DueNote("Dispatch by", when, "today")
    return DueNote("Dispatch by", when, processing)


@register.filter
def event_actor(event: OrderEvent, order: Order) -> str:
    """Who the timeline says did it: a store order is placed by its customer, through the store."""
    if event.kind == OrderEvent.Kind.PLACED and order.store.channel != order.store.Channel.MANUAL:
        # The event's actor is whoever recorded the import (an owner, a sync); the customer placed it.
        return f"by {order.customer_name} through {events.placed_details(event).store or order.store.name}"
    return f"by {event.actor_name}"


@register.filter
def event_details(event: OrderEvent) -> list[str]:
    """The values an event carries, as short sentences for the timeline (read through events.py)."""
    kind = event.kind
    if kind == OrderEvent.Kind.PLACED:
        placed = events.placed_details(event)
        return [f"Total {money(placed.total, placed.currency)} from {placed.store}"]
    if kind in (OrderEvent.Kind.PAYMENT_VERIFIED, OrderEvent.Kind.COD_CONFIRMED):
        due_on = events.due_on(event)
        return [f"Due by {due_on:%b %-d, %Y}"] if due_on else []
    if kind == OrderEvent.Kind.DISPATCHED:
        dispatched = events.dispatch_details(event)
        lines = [f"Delivery reference {dispatched.delivery_reference}"]
        if dispatched.carrier:
            lines.append(f"Courier {dispatched.carrier}")
        if dispatched.expected_on:
            lines.append(f"Expected {dispatched.expected_on:%b %-d, %Y}")
        if dispatched.photos:
            lines.append(f"{dispatched.photos} photo{'s' if dispatched.photos != 1 else ''}")
        if dispatched.message:
            lines.append(f"Message: {dispatched.message}")
        return lines
    if kind == OrderEvent.Kind.FULFILLED:
        remarks = events.fulfill_remarks(event)
        return [f"Remarks: {remarks}"] if remarks else []
    if kind == OrderEvent.Kind.CANCELLED:
        return [f"Reason: {events.cancel_reason(event)}"]
    if kind == OrderEvent.Kind.NOTIFICATIONS_QUEUED:
        return [f"{n.channel_label} to {n.recipient}" for n in events.notifications_queued(event)]
    if kind == OrderEvent.Kind.NOTIFICATION_RESENT:
        resent, last_error = events.notification_resent(event)
        line = f"{resent.channel_label} to {resent.recipient}"
        return [f"{line} (was: {last_error})" if last_error else line]
    if kind == OrderEvent.Kind.UPDATED_FROM_STORE:
        return [_store_change(name, change) for name, change in events.store_changes(event).items()]
    if kind in (OrderEvent.Kind.STORE_CHANGE_FLAGGED, OrderEvent.Kind.STORE_CHANGE_DISMISSED):
        return [events.store_change_summary(event)]
    if kind in events.AFTER_SALES_KINDS:
        return events.after_sales_details(event)
    if kind == OrderEvent.Kind.PLACED_WITH_VENDORS:
        parts = events.vendor_parts(event)
        return [*parts, "Automatically (auto-processing)"] if events.placed_automatically(event) else parts
    if kind == OrderEvent.Kind.MOVED_TO_VENDOR:
        return [events.vendor_move(event)]
    return []


_STORE_CHANGE_LABELS = {
    "customer_name": "Customer",
    "customer_phone": "Phone",
    "customer_email": "Email",
    "shipping_address": "Address",
    "shipping_option": "Shipping",
    "shipping_fee": "Shipping fee",
    "discount": "Discount",
    "lines": "Items",
}


def _store_change(name: str, change: dict) -> str:
    def shown(value) -> str:
        if isinstance(value, list):
            return "; ".join(value) or "none"
        return str(value) if value not in ("", None) else "none"

    return f"{_STORE_CHANGE_LABELS.get(name, name)}: {shown(change.get('before'))} → {shown(change.get('after'))}"
