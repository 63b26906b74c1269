"""The links order messages carry: every URL in an order's SMS or email is built here."""

from django.conf import settings
from django.urls import reverse


def order_path(order_id: int) -> str:
    """The order's page in the web app (it asks for sign-in first, then lands there)."""
    return reverse("orders:detail", args=[order_id])


def order_url(order) -> str:
    return settings.SITE_URL + order_path(order.pk)


def customer_page_url(order) -> str:
    """The customer page of the order, reached by the order's unguessable token alone."""
    return settings.SITE_URL + reverse("customer_page:order", args=[order.customer_page_token])
