"""A store's change flagged on an order (made after it left Pending), for the order pages of
apps below stores: `{% load store_flags %}`, then the banner or the list's marker."""

from django import template

from orderdesk.stores.models import StoreOrderLink

register = template.Library()


@register.filter
def flagged_store_change(order) -> str:
    """The store's change waiting for the merchant, or "". Reads the order's store link as the
    page's query joined it (select_related "store_link"), else asks once."""
    try:
        link = order.store_link
    except StoreOrderLink.DoesNotExist:
        return ""
    return link.flagged_change if link is not None else ""


@register.inclusion_tag("stores/_flagged_change.html", takes_context=True)
def flagged_store_change_banner(context, order):
    """The banner on the order page: what the store changed, and Dismiss."""
    return {
        "order": order,
        "flagged": flagged_store_change(order),
        "csrf_token": context.get("csrf_token"),
    }
