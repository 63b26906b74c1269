"""The order page's After-sales bits: the Confirm After Sales button and the order's cases."""

from django import template

from orderdesk.accounts.permissions import Permission, can

from ..queries import cases_of_order

register = template.Library()


@register.inclusion_tag("aftersales/_order_cases.html", takes_context=True)
def order_after_sales(context, order):
    """The order's cases the signed-in person may see, newest first: one query, none for an
    order that never had a case (the order row counts them)."""
    actor = context["request"].actor
    has_cases = actor and order.after_sales_case_count
    return {"order": order, "cases": cases_of_order(actor, order.pk) if has_cases else []}


@register.filter
def can_open_after_sales(request, order) -> bool:
    """{% if request|can_open_after_sales:order %}: the merchant's side, on an order in Order Tracking."""
    actor = getattr(request, "actor", None)
    return bool(
        actor
        and actor.party.vendor_id is None
        and can(actor, Permission.MANAGE_AFTER_SALES)
        and order.status != order.Status.AWAITING_PAYMENT
    )
