"""Reading an order's outbox rows in tests, and writing their text as the worker would."""

from orderdesk.notifications.queries import notifications_about
from orderdesk.notifications.topics import compose_message
from orderdesk.orders.models import Order


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
