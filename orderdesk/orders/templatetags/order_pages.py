"""What the order pages need to say about an order in words."""

from django import template

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
    if kind == OrderEvent.Kind.STORE_CHANGE_FLAGGED:
        return [events.store_change_summary(event)]
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
