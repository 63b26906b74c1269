"""The messages after-sales cases send, and what they say.

- A new case with a vendor → the vendor, by email (its contact email, else its people's).
- The vendor's answer (accept, reject, a message) → the merchant's notification email.
- The merchant's message or closing → the vendor, by email.
- Resolved, when the merchant ticks it → the customer, by SMS and email.

Vendor messages name the order's reference, the products and quantities, the words and the
credit asked: never the order's prices, the customer's contacts or the refund to the customer.
Rows are queued inside the step's transaction; the worker composes them after commit.
"""

from __future__ import annotations

from django.template.loader import render_to_string

from orderdesk.money import format_money
from orderdesk.notifications.actions import OutgoingMessage, queue_messages
from orderdesk.notifications.errors import PermanentFailure
from orderdesk.notifications.models import Notification
from orderdesk.notifications.sms.segments import fit_sms
from orderdesk.notifications.topics import Composed, register_topic
from orderdesk.orders.links import customer_page_url

from .links import case_path, case_url
from .models import AfterSalesCase

OPENED = "after_sales.opened"
ANSWERED = "after_sales.answered"
TO_VENDOR = "after_sales.to_vendor"
RESOLVED = "after_sales.resolved"

_LABELS = {
    OPENED: "After-sales case opened",
    ANSWERED: "After-sales answer",
    TO_VENDOR: "After-sales message to the vendor",
    RESOLVED: "After-sales case resolved",
}


def vendor_recipients(case: AfterSalesCase) -> list[str]:
    """Where a vendor's case emails go: its contact email, else its people's."""
    vendor = case.vendor
    if vendor is None:
        return []
    if vendor.contact_email:
        return [vendor.contact_email]
    return sorted({email for email in vendor.memberships.values_list("user__email", flat=True) if email})


def _queue(case: AfterSalesCase, topic: str, event: str, audience: str, recipients: list[tuple[str, str]]):
    return queue_messages(
        [
            OutgoingMessage(
                topic=topic,
                channel=channel,
                audience=audience,
                recipient=recipient,
                idempotency_key=f"case:{case.pk}:{event}:{channel}:{recipient}",
                merchant_id=case.merchant_id,
                about_type="after_sales_case",
                about_id=str(case.pk),
                payload={"case_id": case.pk, "event": event},
            )
            for channel, recipient in recipients
        ]
    )


def queue_case_opened(case: AfterSalesCase) -> list[Notification]:
    email = Notification.Channel.EMAIL
    return _queue(
        case, OPENED, "opened", Notification.Audience.VENDOR, [(email, r) for r in vendor_recipients(case)]
    )


def queue_case_answered(case: AfterSalesCase, event: str) -> list[Notification]:
    """The vendor's answer (`event`: accepted, rejected, message:<id>) to the merchant."""
    merchant = case.order.merchant
    if not merchant.notification_email:
        return []
    return _queue(
        case,
        ANSWERED,
        event,
        Notification.Audience.MERCHANT,
        [(Notification.Channel.EMAIL, merchant.notification_email)],
    )


def queue_case_message_to_vendor(case: AfterSalesCase, *, event: str) -> list[Notification]:
    email = Notification.Channel.EMAIL
    return _queue(
        case, TO_VENDOR, event, Notification.Audience.VENDOR, [(email, r) for r in vendor_recipients(case)]
    )


def queue_case_resolved(case: AfterSalesCase) -> list[Notification]:
    order = case.order
    wanted = []
    if order.customer_phone:
        wanted.append((Notification.Channel.SMS, order.customer_phone))
    if order.customer_email:
        wanted.append((Notification.Channel.EMAIL, order.customer_email))
    return _queue(case, RESOLVED, "resolved", Notification.Audience.CUSTOMER, wanted)


# --- composing, in the worker -------------------------------------------------------


def compose_case_message(notification: Notification) -> Composed:
    try:
        case = (
            AfterSalesCase.objects.select_related("order__merchant", "vendor", "resend_shipment")
            .prefetch_related("lines__order_line", "messages")
            .get(pk=notification.payload["case_id"])
        )
    except AfterSalesCase.DoesNotExist as gone:
        raise PermanentFailure("The after-sales case of this message no longer exists.") from gone
    event = notification.payload.get("event", "")
    order = case.order
    shop = order.merchant.name
    if notification.topic == RESOLVED:
        shipment = case.resend_shipment
        if notification.channel == Notification.Channel.SMS:
            text = f"{shop}: your issue with order {order.reference} is resolved."
            if shipment is not None and shipment.delivery_reference:
                text += f" Replacement: {shipment.carrier or 'courier'} ref {shipment.delivery_reference}."
            return Composed("", fit_sms(text, keep=f"Details: {customer_page_url(order)}", max_segments=2))
        context = {
            "case": case,
            "order": order,
            "shop": shop,
            "shipment": shipment,
            "customer_page_url": customer_page_url(order),
        }
        return Composed(
            subject=f"Your {shop} order {order.reference}: your after-sales request is resolved",
            body=render_to_string("aftersales/email/resolved_customer.txt", context).strip() + "\n",
        )
    last_message = None
    if event.startswith("message:"):
        last_message = next((m for m in case.messages.all() if str(m.pk) == event.split(":", 1)[1]), None)
    context = {
        "case": case,
        "order": order,
        "shop": shop,
        "event": event.split(":", 1)[0],
        "message": last_message,
        "case_url": case_url(case.pk),
        "requested_credit": format_money(case.requested_credit, case.vendor.currency)
        if case.vendor and case.requested_credit is not None
        else "",
        "vendor_credit": format_money(case.vendor_credit, case.vendor.currency)
        if case.vendor and case.vendor_credit is not None
        else "",
    }
    if notification.topic == OPENED:
        subject = f"New after-sales case #{case.pk} from {shop}: order {order.reference}"
        template = "opened_vendor"
    elif notification.topic == TO_VENDOR:
        verb = "closed" if context["event"] == "closed" else "a new message"
        subject = f"After-sales case #{case.pk} from {shop}: {verb}"
        template = "to_vendor"
    else:
        what = {"accepted": "accepted", "rejected": "rejected"}.get(context["event"], "a new message")
        subject = f"{case.vendor.name if case.vendor else 'Case'}: after-sales case #{case.pk} on {order.reference}, {what}"
        template = "answered_merchant"
    return Composed(
        subject=" ".join(subject.split())[:255],
        body=render_to_string(f"aftersales/email/{template}.txt", context).strip() + "\n",
    )


def _case_page(notification: Notification) -> str:
    return case_path(int(notification.about_id))


def register_after_sales_messages() -> None:
    """Tell the outbox about after-sales messages (AfterSalesConfig.ready)."""
    for topic, label in _LABELS.items():
        register_topic(topic, label=label, compose=compose_case_message, page=_case_page)
