"""What each message says: subject and bodies, rendered when the message is queued."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.template.loader import render_to_string

from orderdesk.orders.models import Order, OrderEvent

from .links import order_url, tracking_url
from .models import Notification
from .sms.segments import fit_sms

# An SMS is at most this many segments; longer content is cut, links kept whole.
SMS_MAX_SEGMENTS = 2

PAID = (OrderEvent.Kind.PAYMENT_VERIFIED, OrderEvent.Kind.COD_CONFIRMED)


@dataclass(frozen=True)
class Composed:
    subject: str
    body: str
    html_body: str = ""


def money(amount: Decimal, currency: str) -> str:
    return f"{currency} {amount:,.2f}"


def short_date(day: datetime.date | None) -> str:
    return f"{day:%b} {day.day}" if day else "soon"


def long_date(day: datetime.date | None) -> str:
    return f"{day:%A}, {day:%B} {day.day}, {day.year}" if day else "to be confirmed"


def compose(order: Order, trigger: str, channel: str) -> Composed:
    """The message this order event sends on this channel (merchant or customer by event)."""
    shipment = _latest_shipment(order) if trigger == OrderEvent.Kind.DISPATCHED else None
    if channel == Notification.Channel.SMS:
        return Composed(subject="", body=_sms_text(order, trigger, shipment))
    context = _email_context(order, trigger, shipment)
    template = _EMAIL_TEMPLATES[trigger]
    return Composed(
        subject=_email_subject(order, trigger),
        body=render_to_string(f"notifications/email/{template}.txt", context).strip() + "\n",
        html_body=render_to_string(f"notifications/email/{template}.html", context),
    )


_EMAIL_TEMPLATES = {
    OrderEvent.Kind.PAYMENT_VERIFIED: "order_paid",
    OrderEvent.Kind.COD_CONFIRMED: "order_paid",
    OrderEvent.Kind.DISPATCHED: "order_dispatched",
    OrderEvent.Kind.FULFILLED: "order_fulfilled",
    OrderEvent.Kind.CANCELLED: "order_cancelled",
}


def _latest_shipment(order: Order):
    return order.fulfillments.order_by("-created_at", "-id").first()


def _items(order: Order) -> int:
    return sum(line.quantity for line in order.lines.all())


def _sms_text(order: Order, trigger: str, shipment) -> str:
    shop = order.merchant.name
    if trigger in PAID:
        what = "COD order confirmed" if trigger == OrderEvent.Kind.COD_CONFIRMED else "New paid order"
        items = _items(order)
        text = (
            f"{what} {order.reference}: {order.customer_name}, {money(order.total, order.currency)}, "
            f"{items} item{'s' if items != 1 else ''}. Dispatch by {short_date(order.due_on)}."
        )
        return fit_sms(text, keep=order_url(order), max_segments=SMS_MAX_SEGMENTS)
    if trigger == OrderEvent.Kind.DISPATCHED:
        text = f"{shop}: your order {order.reference} is on its way"
        if shipment is not None:
            if shipment.carrier:
                text += f" with {shipment.carrier}"
            text += f", ref {shipment.delivery_reference}, expected {short_date(shipment.expected_on)}."
            if shipment.message:
                text += f" {shipment.message}"
        else:
            text += "."
        return fit_sms(text, keep=f"Track: {tracking_url(order)}", max_segments=SMS_MAX_SEGMENTS)
    if trigger == OrderEvent.Kind.FULFILLED:
        text = f"{shop}: your order {order.reference} was delivered. Thank you for shopping with us!"
        return fit_sms(text, keep=f"Details: {tracking_url(order)}", max_segments=SMS_MAX_SEGMENTS)
    if trigger == OrderEvent.Kind.CANCELLED:
        text = f"{shop}: your order {order.reference} was cancelled. Reason: {order.cancel_reason}"
        return fit_sms(text, keep=f"Details: {tracking_url(order)}", max_segments=SMS_MAX_SEGMENTS)
    raise ValueError(f"No SMS is written for “{trigger}”.")


def _email_subject(order: Order, trigger: str) -> str:
    shop = order.merchant.name
    subjects = {
        OrderEvent.Kind.PAYMENT_VERIFIED: f"Paid order {order.reference} from {order.customer_name}",
        OrderEvent.Kind.COD_CONFIRMED: f"Cash on delivery order {order.reference} from {order.customer_name}",
        OrderEvent.Kind.DISPATCHED: f"Your {shop} order {order.reference} is on its way",
        OrderEvent.Kind.FULFILLED: f"Your {shop} order {order.reference} was delivered",
        OrderEvent.Kind.CANCELLED: f"Your {shop} order {order.reference} was cancelled",
    }
    # A subject is one line, whatever the names hold.
    return " ".join(subjects[trigger].split())[:255]


def _email_context(order: Order, trigger: str, shipment) -> dict:
    lines = [
        {
            "title": line.title,
            "variant_title": line.variant_title,
            "sku": line.sku,
            "quantity": line.quantity,
            "unit_price": money(line.unit_price, order.currency),
            "line_total": money(line.line_total, order.currency),
        }
        for line in order.lines.all()
    ]
    return {
        "order": order,
        "shop": order.merchant.name,
        "cod": trigger == OrderEvent.Kind.COD_CONFIRMED,
        "lines": lines,
        "subtotal": money(order.subtotal, order.currency),
        "shipping_fee": money(order.shipping_fee, order.currency),
        "discount": money(order.discount, order.currency) if order.discount else "",
        "total": money(order.total, order.currency),
        "due_on": long_date(order.due_on),
        "shipment": shipment,
        "expected_on": long_date(shipment.expected_on) if shipment else "",
        "order_url": order_url(order),
        "tracking_url": tracking_url(order),
    }
