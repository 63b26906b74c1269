"""The messages one shipment's moves send (a vendor's parcel, or any shipment moved on its own).

The customer hears when a shipment goes In transit (carrier, tracking number, link) and when
it is delivered; the merchant hears of an exception. `move_order_shipment` queues them in its
transaction; the worker writes the text after commit. When the same move makes the whole
order Dispatched or Fulfilled, the order's own message says it and this one is not sent.
"""

from __future__ import annotations

from django.template.loader import render_to_string

from orderdesk.fulfillment.models import Fulfillment
from orderdesk.notifications.actions import OutgoingMessage, queue_messages
from orderdesk.notifications.errors import PermanentFailure
from orderdesk.notifications.models import Notification
from orderdesk.notifications.preferences import preferences_for, register_switches
from orderdesk.notifications.sms.segments import fit_sms
from orderdesk.notifications.topics import Composed, register_topic

from .links import customer_page_url, order_path, order_url
from .models import Order

Status = Fulfillment.ShippingStatus
SMS_MAX_SEGMENTS = 2
# Which shipment statuses send a message, and to whom.
TO_THE_CUSTOMER = (Status.IN_TRANSIT, Status.DELIVERED)
TO_THE_MERCHANT = (Status.EXCEPTION,)
LABELS = {
    Status.IN_TRANSIT: "Shipment in transit",
    Status.DELIVERED: "Shipment delivered",
    Status.EXCEPTION: "Shipment exception",
}


def topic_for(status: str) -> str:
    return f"shipment.{status}"


def queue_shipment_notifications(order: Order, shipment: Fulfillment) -> list[Notification]:
    """Queue the messages of the shipment's new status; call inside the action's transaction."""
    status = shipment.status
    wanted: list[tuple[str, str, str]] = []
    if status in TO_THE_CUSTOMER:
        audience = Notification.Audience.CUSTOMER
        if order.customer_phone:
            wanted.append((audience, Notification.Channel.SMS, order.customer_phone))
        if order.customer_email:
            wanted.append((audience, Notification.Channel.EMAIL, order.customer_email))
    elif status in TO_THE_MERCHANT:
        audience = Notification.Audience.MERCHANT
        if order.merchant.notification_phone:
            wanted.append((audience, Notification.Channel.SMS, order.merchant.notification_phone))
        if order.merchant.notification_email:
            wanted.append((audience, Notification.Channel.EMAIL, order.merchant.notification_email))
    if not wanted:
        return []
    preferences = preferences_for(order.merchant)
    # A shipment can meet an exception, and go in transit, more than once: each time is news.
    moment = int(shipment.last_event_at.timestamp() * 1_000_000) if shipment.last_event_at else 0
    return queue_messages(
        [
            OutgoingMessage(
                topic=topic_for(status),
                channel=channel,
                audience=audience,
                recipient=recipient,
                idempotency_key=f"shipment:{shipment.pk}:{status}:{moment}:{channel}:{recipient}",
                merchant_id=order.merchant_id,
                about_type="order",
                about_id=str(order.pk),
                payload={"order_id": order.pk, "shipment_id": shipment.pk, "status": status},
            )
            for audience, channel, recipient in wanted
            if preferences.allows(topic_for(status), channel, audience)
        ]
    )


def compose_shipment_message(notification: Notification) -> Composed:
    """The text of a shipment message, from the shipment as it is when the worker sends it."""
    payload = notification.payload
    shipment = (
        Fulfillment.objects.select_related("order", "order__merchant", "vendor")
        .prefetch_related("lines__order_line")
        .filter(pk=payload.get("shipment_id"))
        .first()
    )
    if shipment is None:
        raise PermanentFailure("The shipment of this message no longer exists.")
    order, status = shipment.order, payload["status"]
    reason = ""
    if status == Status.EXCEPTION:
        newest = (
            shipment.tracking_events.filter(status=Status.EXCEPTION).order_by("-occurred_at", "-id").first()
        )
        reason = newest.text if newest else ""
    context = {
        "order": order,
        "shop": order.merchant.name,
        "shipment": shipment,
        "status": status,
        "reason": reason,
        "items": [(entry.quantity, entry.order_line.title) for entry in shipment.lines.all()],
        "customer_page_url": customer_page_url(order),
        "order_url": order_url(order),
    }
    if notification.channel == Notification.Channel.SMS:
        return Composed(subject="", body=_sms_text(context))
    return Composed(
        subject=" ".join(_subject(context).split())[:255],
        body=render_to_string("orders/email/shipment_message.txt", context).strip() + "\n",
    )


def _subject(context) -> str:
    order, shop, status = context["order"], context["shop"], context["status"]
    if status == Status.IN_TRANSIT:
        return f"Part of your {shop} order {order.reference} is on its way"
    if status == Status.DELIVERED:
        return f"Part of your {shop} order {order.reference} was delivered"
    vendor = context["shipment"].vendor
    return f"Shipment exception on order {order.reference}{f' ({vendor.name})' if vendor else ''}"


def _sms_text(context) -> str:
    order, shop, shipment, status = context["order"], context["shop"], context["shipment"], context["status"]
    if status == Status.IN_TRANSIT:
        text = f"{shop}: a parcel of your order {order.reference} is on its way"
        if shipment.carrier:
            text += f" with {shipment.carrier}"
        text += f", tracking no. {shipment.delivery_reference}."
        return fit_sms(text, keep=f"Track: {context['customer_page_url']}", max_segments=SMS_MAX_SEGMENTS)
    if status == Status.DELIVERED:
        text = f"{shop}: a parcel of your order {order.reference} was delivered."
        return fit_sms(text, keep=f"Details: {context['customer_page_url']}", max_segments=SMS_MAX_SEGMENTS)
    who = shipment.vendor.name if shipment.vendor else "your shipment"
    text = f"Shipment exception, order {order.reference} ({who}): {context['reason']}"
    return fit_sms(text, keep=order_url(order), max_segments=SMS_MAX_SEGMENTS)


def _order_page(notification: Notification) -> str:
    return order_path(int(notification.about_id))


def register_shipment_messages() -> None:
    """Tell the outbox about shipment messages and the merchant's switches (OrdersConfig.ready)."""
    for status, label in LABELS.items():
        register_topic(topic_for(status), label=label, compose=compose_shipment_message, page=_order_page)
    register_switches(
        topic_for(Status.IN_TRANSIT),
        audience=Notification.Audience.CUSTOMER,
        when="When a vendor's parcel goes in transit",
        name="shipment_in_transit",
    )
    register_switches(
        topic_for(Status.DELIVERED),
        audience=Notification.Audience.CUSTOMER,
        when="When a vendor's parcel is delivered",
        name="shipment_delivered",
    )
    register_switches(
        topic_for(Status.EXCEPTION),
        audience=Notification.Audience.MERCHANT,
        when="When a shipment meets an exception",
        name="shipment_exception",
    )
