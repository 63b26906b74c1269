"""The messages an order's events send: who hears of which event, and what they are told.

Actions queue rows in the outbox (queue_order_notifications, inside their transaction);
the outbox's worker calls compose_order_message when it sends one, after commit.
OrdersConfig.ready registers the topics and the merchant's switches with the outbox.
"""

from __future__ import annotations

import datetime
import functools
from decimal import Decimal

from django.db import connection
from django.db.models import prefetch_related_objects
from django.template.loader import render_to_string

from orderdesk import rows
from orderdesk.accounts.actors import Actor
from orderdesk.compiled_queries import fixed_statement_cursor
from orderdesk.money import format_money
from orderdesk.notifications.actions import OutgoingMessage, queue_messages
from orderdesk.notifications.errors import PermanentFailure
from orderdesk.notifications.models import Notification
from orderdesk.notifications.preferences import Preferences, preferences_for, register_switches
from orderdesk.notifications.sms.segments import fit_sms
from orderdesk.notifications.topics import Composed, register_topic, shared_read

from .links import customer_page_url, order_path, order_url
from .models import Order, OrderEvent

# An SMS is at most this many segments; longer content is cut, links kept whole.
SMS_MAX_SEGMENTS = 2

PAID = (OrderEvent.Kind.PAYMENT_VERIFIED, OrderEvent.Kind.COD_CONFIRMED)
TO_THE_CUSTOMER = (OrderEvent.Kind.DISPATCHED, OrderEvent.Kind.FULFILLED, OrderEvent.Kind.CANCELLED)
# The events that send messages; each is the outbox topic "order.<kind>".
MESSAGE_EVENTS = (*PAID, *TO_THE_CUSTOMER)

# One switch governs both ways an order gets paid.
_SWITCH_TOPIC = {OrderEvent.Kind.COD_CONFIRMED: OrderEvent.Kind.PAYMENT_VERIFIED}


def topic_for(kind: str) -> str:
    return f"order.{kind}"


def recipients_for(
    order: Order, kind: str, preferences: Preferences | None = None
) -> list[tuple[str, str, str]]:
    """(audience, channel, recipient) for each message this event causes, as the merchant chose."""
    merchant = order.merchant
    wanted: list[tuple[str, str, str]] = []
    if kind in PAID:
        if merchant.notification_phone:
            wanted.append(
                (Notification.Audience.MERCHANT, Notification.Channel.SMS, merchant.notification_phone)
            )
        if merchant.notification_email:
            wanted.append(
                (Notification.Audience.MERCHANT, Notification.Channel.EMAIL, merchant.notification_email)
            )
    elif kind in TO_THE_CUSTOMER:
        if order.customer_phone:
            wanted.append((Notification.Audience.CUSTOMER, Notification.Channel.SMS, order.customer_phone))
        if order.customer_email:
            wanted.append((Notification.Audience.CUSTOMER, Notification.Channel.EMAIL, order.customer_email))
    if not wanted:
        return wanted
    preferences = preferences if preferences is not None else preferences_for(merchant)
    switch_topic = topic_for(_SWITCH_TOPIC.get(kind, kind))
    return [want for want in wanted if preferences.allows(switch_topic, want[1], want[0])]


def queue_order_notifications(order: Order, kind: str, *, shipment=None) -> list[Notification]:
    """Queue the messages this order event causes (no text yet: the worker writes it);
    call inside the action's transaction. Returns the rows written; one per event and
    recipient, ever. `shipment` is the dispatch's shipment, which the message describes."""
    return queue_messages(_messages(order, kind, recipients_for(order, kind), shipment=shipment))


def queue_many_order_notifications(
    happened: list[tuple[Order, str]], *, preferences: Preferences
) -> dict[int, list[Notification]]:
    """queue_order_notifications for many events of one merchant's orders (a batch of new
    orders), with the merchant's choices read once, in one outbox write and one hand-over to
    delivery. Returns the rows written by order id."""
    messages = [
        message
        for order, kind in happened
        for message in _messages(order, kind, recipients_for(order, kind, preferences))
    ]
    written: dict[int, list[Notification]] = {}
    for row in queue_messages(messages):
        written.setdefault(int(row.about_id), []).append(row)
    return written


def _messages(order: Order, kind: str, recipients, *, shipment=None) -> list[OutgoingMessage]:
    payload = {"order_id": order.pk, "event": kind}
    if shipment is not None:
        payload["shipment_id"] = shipment.pk
    return [
        OutgoingMessage(
            topic=topic_for(kind),
            channel=channel,
            audience=audience,
            recipient=recipient,
            idempotency_key=f"order:{order.pk}:{kind}:{channel}:{recipient}",
            merchant_id=order.merchant_id,
            about_type="order",
            about_id=str(order.pk),
            payload=payload,
        )
        for audience, channel, recipient in recipients
    ]


# --- composing, in the worker -------------------------------------------------------


def compose_order_message(notification: Notification) -> Composed:
    """The text of an order message, from the order as it is when the worker sends it."""
    payload = notification.payload
    # An event's SMS and email, sent together, read the order (and shipment) once.
    order = shared_read(("order", payload["order_id"]), lambda: _order_with_merchant(payload["order_id"]))
    if order is None:
        raise PermanentFailure("The order of this message no longer exists.")
    shipment = shared_read(("shipment", payload["order_id"], payload.get("shipment_id")), lambda: _shipment_of(order, payload))  # fmt: skip
    return compose(order, payload["event"], notification.channel, shipment=shipment)


def compose(order: Order, kind: str, channel: str, *, shipment=None) -> Composed:
    """The message this order event sends on this channel (merchant or customer by event)."""
    if kind == OrderEvent.Kind.DISPATCHED and shipment is None:
        shipment = _latest_shipment(order)
    if channel != Notification.Channel.SMS or kind in PAID:
        # Its lines, read once, only for the messages that count or list them (a dispatch's or
        # fulfilment's SMS does neither).
        prefetch_related_objects([order], "lines")
    if channel == Notification.Channel.SMS:
        return Composed(subject="", body=_sms_text(order, kind, shipment))
    context = _email_context(order, kind, shipment)
    template = _EMAIL_TEMPLATES[kind]
    return Composed(
        subject=_email_subject(order, kind),
        body=render_to_string(f"orders/email/{template}.txt", context).strip() + "\n",
        html_body=render_to_string(f"orders/email/{template}.html", context),
    )


def money(amount: Decimal, currency: str) -> str:
    return format_money(amount, currency)


def short_date(day: datetime.date | None) -> str:
    return f"{day:%b} {day.day}" if day else "soon"


def long_date(day: datetime.date | None) -> str:
    return f"{day:%A}, {day:%B} {day.day}, {day.year}" if day else "to be confirmed"


_EMAIL_TEMPLATES = {
    OrderEvent.Kind.PAYMENT_VERIFIED: "order_paid",
    OrderEvent.Kind.COD_CONFIRMED: "order_paid",
    OrderEvent.Kind.DISPATCHED: "order_dispatched",
    OrderEvent.Kind.FULFILLED: "order_fulfilled",
    OrderEvent.Kind.CANCELLED: "order_cancelled",
}


def _order_with_merchant(order_id: int) -> Order | None:
    """The order with its merchant, in plain SQL (every message sent reads it; the ORM's compiling
    of the query cost more than running it); None when it is gone."""
    with fixed_statement_cursor() as cursor:
        cursor.execute(_order_with_merchant_sql(), [order_id])
        found = cursor.fetchone()
    if found is None:
        return None
    split = rows.width(Order)
    order = rows.instance(Order, found[:split])
    _ORDER_MERCHANT.set_cached_value(order, rows.instance(_ORDER_MERCHANT.related_model, found[split:]))
    return order


_ORDER_MERCHANT = Order._meta.get_field("merchant")


@functools.cache
def _order_with_merchant_sql() -> str:
    quote = connection.ops.quote_name
    merchants = _ORDER_MERCHANT.related_model
    return (
        f"SELECT {rows.columns(Order, 'o')}, {rows.columns(merchants, 'm')} FROM {quote(Order._meta.db_table)} "
        f"{quote('o')} JOIN {quote(merchants._meta.db_table)} {quote('m')} "
        f"ON {quote('m')}.{quote('id')} = {quote('o')}.{quote('merchant_id')} WHERE {quote('o')}.{quote('id')} = %s"
    )


def _shipment_of(order: Order, payload: dict):
    if payload.get("event") != OrderEvent.Kind.DISPATCHED:
        return None
    if payload.get("shipment_id"):
        with fixed_statement_cursor() as cursor:
            cursor.execute(_shipment_sql(), [payload["shipment_id"], order.pk])
            found = cursor.fetchone()
        if found is None:
            return None
        shipment = rows.instance(_SHIPMENTS, found)
        _SHIPMENT_ORDER.set_cached_value(shipment, order)
        return shipment
    return None


_SHIPMENTS = Order._meta.get_field("fulfillments").related_model
_SHIPMENT_ORDER = _SHIPMENTS._meta.get_field("order")


@functools.cache
def _shipment_sql() -> str:
    quote = connection.ops.quote_name
    return (
        f"SELECT {rows.columns(_SHIPMENTS)} FROM {quote(_SHIPMENTS._meta.db_table)} "
        f"WHERE {quote('id')} = %s AND {quote('order_id')} = %s"
    )


def _latest_shipment(order: Order):
    return order.fulfillments.order_by("-created_at", "-id").first()


def _items(order: Order) -> int:
    return sum(line.quantity for line in order.lines.all())


def _sms_text(order: Order, kind: str, shipment) -> str:
    shop = order.merchant.name
    if kind in PAID:
        what = "COD order confirmed" if kind == OrderEvent.Kind.COD_CONFIRMED else "New paid order"
        items = _items(order)
        text = (
            f"{what} {order.reference}: {order.customer_name}, {money(order.total, order.currency)}, "
            f"{items} item{'s' if items != 1 else ''}. Dispatch by {short_date(order.due_on)}."
        )
        return fit_sms(text, keep=order_url(order), max_segments=SMS_MAX_SEGMENTS)
    if kind == OrderEvent.Kind.DISPATCHED:
        text = f"{shop}: your order {order.reference} is on its way"
        if shipment is not None:
            if shipment.carrier:
                text += f" with {shipment.carrier}"
            text += f", ref {shipment.delivery_reference}, expected {short_date(shipment.expected_on)}."
            if shipment.message:
                text += f" {shipment.message}"
        else:
            text += "."
        return fit_sms(text, keep=f"Track: {customer_page_url(order)}", max_segments=SMS_MAX_SEGMENTS)
    if kind == OrderEvent.Kind.FULFILLED:
        text = f"{shop}: your order {order.reference} was delivered. Thank you for shopping with us!"
        return fit_sms(text, keep=f"Details: {customer_page_url(order)}", max_segments=SMS_MAX_SEGMENTS)
    if kind == OrderEvent.Kind.CANCELLED:
        text = f"{shop}: your order {order.reference} was cancelled. Reason: {order.cancel_reason}"
        return fit_sms(text, keep=f"Details: {customer_page_url(order)}", max_segments=SMS_MAX_SEGMENTS)
    raise ValueError(f"No SMS is written for “{kind}”.")


def _email_subject(order: Order, kind: str) -> str:
    shop = order.merchant.name
    subjects = {
        OrderEvent.Kind.PAYMENT_VERIFIED: f"Paid order {order.reference} from {order.customer_name}",
        OrderEvent.Kind.COD_CONFIRMED: f"Cash on delivery order {order.reference} from {order.customer_name}",
        OrderEvent.Kind.DISPATCHED: f"Your {shop} order {order.reference} is on its way",
        OrderEvent.Kind.FULFILLED: f"Your {shop} order {order.reference} was delivered",
        OrderEvent.Kind.CANCELLED: f"Your {shop} order {order.reference} was cancelled",
    }
    # A subject is one line, whatever the names hold.
    return " ".join(subjects[kind].split())[:255]


def _email_context(order: Order, kind: str, shipment) -> dict:
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
        "cod": kind == OrderEvent.Kind.COD_CONFIRMED,
        "lines": lines,
        "subtotal": money(order.subtotal, order.currency),
        "shipping_fee": money(order.shipping_fee, order.currency),
        "discount": money(order.discount, order.currency) if order.discount else "",
        "total": money(order.total, order.currency),
        "due_on": long_date(order.due_on),
        "shipment": shipment,
        "expected_on": long_date(shipment.expected_on) if shipment else "",
        "order_url": order_url(order),
        "customer_page_url": customer_page_url(order),
    }


# --- what the outbox is told --------------------------------------------------------


def _order_page(notification: Notification) -> str:
    return order_path(int(notification.about_id))


def _record_resent(notification: Notification, *, by, label: str, last_error: str) -> None:
    from . import events

    order = Order.objects.select_related("merchant").get(pk=notification.payload["order_id"])
    if by is None:
        by = Actor.system(order.merchant, label)
    events.record_notification_resent(order, by=by, notification=notification, last_error=last_error)


def register_order_messages() -> None:
    """Tell the outbox about order messages and the merchant's switches (OrdersConfig.ready)."""
    for kind in MESSAGE_EVENTS:
        register_topic(
            topic_for(kind),
            label=OrderEvent.Kind(kind).label,
            compose=compose_order_message,
            page=_order_page,
            resent=_record_resent,
        )
    merchant, customer = Notification.Audience.MERCHANT, Notification.Audience.CUSTOMER
    register_switches(
        topic_for(OrderEvent.Kind.PAYMENT_VERIFIED),
        audience=merchant,
        when="When a payment is verified",
        name="payment",
    )
    register_switches(
        topic_for(OrderEvent.Kind.DISPATCHED),
        audience=customer,
        when="When an order is dispatched",
        name="dispatch",
    )
    register_switches(
        topic_for(OrderEvent.Kind.FULFILLED),
        audience=customer,
        when="When an order is fulfilled",
        name="fulfillment",
    )
    register_switches(
        topic_for(OrderEvent.Kind.CANCELLED),
        audience=customer,
        when="When an order is cancelled",
        name="cancellation",
    )
