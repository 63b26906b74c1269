"""Order messages in tests: paying an order, reading its outbox rows, writing their text as
the worker would, and a clock to run the sweep later."""

import datetime

from django.utils import timezone

from orderdesk.notifications.queries import notifications_about
from orderdesk.notifications.topics import compose_message
from orderdesk.orders import actions
from orderdesk.orders.models import Order
from orderdesk.orders.tests.factories import awaiting_order


def messages_of(order):
    """The order's messages, oldest first (what its page lists)."""
    return notifications_about(order.merchant, "order", order.pk)


def order_of(notification) -> Order:
    return Order.objects.get(pk=notification.about_id)


def composed(notification):
    """The row with the text its composer writes when the worker sends it."""
    text = compose_message(notification)
    notification.subject, notification.body, notification.html_body = text.subject, text.body, text.html_body
    return notification


def pay(actor, capture, **overrides) -> Order:
    """Verify a new order's payment and run what follows the commit (the first delivery attempt)."""
    order = awaiting_order(actor, **overrides)
    with capture(execute=True):
        actions.verify_payment(order.pk, by=actor)
    return order


def merchant_sms(order):
    return messages_of(order).get(channel="sms")


def later(*, seconds: float = 0, minutes: float = 0) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(seconds=seconds, minutes=minutes)
