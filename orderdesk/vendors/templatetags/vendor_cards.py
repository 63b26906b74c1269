"""The Account page's Vendors card (pages of apps below vendors show it without importing vendors)."""

from django import template

from orderdesk.accounts.permissions import Permission, can

from ..forms import ProcessingSettingsForm
from ..queries import vendors_of

register = template.Library()


@register.inclusion_tag("vendors/_account_card.html", takes_context=True)
def vendors_card(context):
    """Vendors, hosting and the processing switches: the owner changes them, others see them."""
    request = context["request"]
    actor = request.actor
    if actor is None or actor.party.vendor_id is not None:
        return {"shown": False}
    merchant = actor.merchant
    return {
        "shown": True,
        "merchant": merchant,
        "can_manage": can(actor, Permission.MANAGE_VENDORS),
        "vendor_count": vendors_of(merchant, active_only=True).count(),
        "form": ProcessingSettingsForm(
            initial={
                "auto_processing": merchant.auto_processing,
                "fulfil_when_delivered": merchant.fulfil_when_delivered,
            }
        ),
        "csrf_token": context.get("csrf_token"),
    }
