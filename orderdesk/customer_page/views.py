from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from orderdesk.orders.models import Order

from .queries import CUSTOMER_STATUS, customer_timeline, order_for_customer_page


@require_safe
def customer_page(request, token: str):
    """The customer's page of their order: no sign-in, the token in the link is the key."""
    try:
        order = order_for_customer_page(token)
    except Order.DoesNotExist as missing:
        raise Http404("No order has this tracking link.") from missing
    timezone.activate(order.merchant.zone)
    response = render(
        request,
        "customer_page/order.html",
        {
            "order": order,
            "shop": order.merchant,
            "status": CUSTOMER_STATUS[order.status],
            "timeline": customer_timeline(order),
            "shipments": order.fulfillments.all(),
            "lines": order.lines.all(),
        },
    )
    # The token is the key: keep it out of Referer headers, search engines and shared caches.
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "private, no-store"
    return response
