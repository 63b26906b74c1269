from django import template

from orderdesk.accounts.permissions import Permission, can

from ..forms import ApiKeyForm
from ..queries import api_keys_of

register = template.Library()


@register.inclusion_tag("api/_api_keys_card.html", takes_context=True)
def api_keys_card(context):
    """The Account page's API keys card: shown to those who may manage keys."""
    actor = context["request"].actor
    if actor is None or not can(actor, Permission.MANAGE_API_KEYS):
        return {"shown": False}
    return {
        "shown": True,
        "request": context["request"],
        "csrf_token": context.get("csrf_token"),
        "api_keys": api_keys_of(actor.merchant),
        "api_key_form": ApiKeyForm(),
    }


@register.inclusion_tag("api/_webhook_endpoints_card.html", takes_context=True)
def webhook_endpoints_card(context):
    """The Account page's webhooks card: shown to those who may manage webhooks."""
    from ..forms import WebhookEndpointForm
    from ..webhook_queries import webhook_endpoints_of

    actor = context["request"].actor
    if actor is None or not can(actor, Permission.MANAGE_WEBHOOKS):
        return {"shown": False}
    return {
        "shown": True,
        "request": context["request"],
        "csrf_token": context.get("csrf_token"),
        "endpoints": webhook_endpoints_of(actor.merchant),
        "endpoint_form": WebhookEndpointForm(),
    }
