"""What the order pages need to say about an order in words."""

import datetime
from decimal import Decimal

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma

from orderdesk.orders.models import Order, OrderEvent, can_move

register = template.Library()


@register.filter(name="can_move")
def can_move_to(order: Order, status: str) -> bool:
    """{% if order|can_move:"dispatched" %}: the buttons follow ORDER_TRANSITIONS."""
    return can_move(order, status)


@register.filter
def money(amount, currency: str = "") -> str:
    """1234.5, "PHP" → "PHP 1,234.50"."""
    text = intcomma(f"{amount:.2f}")
    return f"{currency} {text}".strip()


@register.filter
def event_details(event: OrderEvent) -> list[str]:
    """The values an event carries, as short sentences for the timeline."""
    data = event.data or {}
    kind = event.kind
    if kind == OrderEvent.Kind.PLACED:
        total = money(Decimal(data.get("total") or 0), data.get("currency", ""))
        return [f"Total {total} from {data.get('store', '')}"]
    if kind in (OrderEvent.Kind.PAYMENT_VERIFIED, OrderEvent.Kind.COD_CONFIRMED) and data.get("due_on"):
        return [f"Due by {_day(data['due_on'])}"]
    if kind == OrderEvent.Kind.DISPATCHED:
        lines = [f"Delivery reference {data.get('delivery_reference', '')}"]
        if data.get("carrier"):
            lines.append(f"Courier {data['carrier']}")
        if data.get("expected_on"):
            lines.append(f"Expected {_day(data['expected_on'])}")
        photos = data.get("photos") or 0
        if photos:
            lines.append(f"{photos} photo{'s' if photos != 1 else ''}")
        if data.get("message"):
            lines.append(f"Message: {data['message']}")
        return lines
    if kind == OrderEvent.Kind.FULFILLED:
        return [f"Remarks: {data['remarks']}"] if data.get("remarks") else []
    if kind == OrderEvent.Kind.CANCELLED:
        return [f"Reason: {data.get('reason', '')}"]
    if kind == OrderEvent.Kind.NOTIFICATIONS_QUEUED:
        return [
            f"{'SMS' if n.get('channel') == 'sms' else 'Email'} to {n.get('recipient', '')}"
            for n in data.get("notifications", [])
        ]
    if kind == OrderEvent.Kind.NOTIFICATION_RESENT:
        resent = data.get("notification") or {}
        line = f"{'SMS' if resent.get('channel') == 'sms' else 'Email'} to {resent.get('recipient', '')}"
        return [f"{line} (was: {data['last_error']})" if data.get("last_error") else line]
    return []


def _day(iso_date: str) -> str:
    try:
        return f"{datetime.date.fromisoformat(iso_date):%b %-d, %Y}"
    except ValueError:
        return iso_date
