"""The read side of stores."""

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse

from .models import Store, StoreOrderLink, SyncRun


def stores_of(merchant) -> QuerySet[Store]:
    """The merchant's sales channels in use (removed ones left out), by name."""
    return Store.objects.for_merchant(merchant).filter(removed_at=None).order_by("name")


def webhook_url(store: Store) -> str:
    """Where the store sends its order webhooks (empty for stores without webhooks)."""
    if store.channel == Store.Channel.SHOPIFY:
        name = "stores:shopify_webhook"
    elif store.channel == Store.Channel.WOOCOMMERCE:
        name = "stores:woocommerce_webhook"
    else:
        return ""
    return settings.SITE_URL + reverse(name, args=[store.webhook_token])


def sync_log_of(store: Store, *, limit: int = 20) -> QuerySet[SyncRun]:
    """The store's latest sync runs, newest first (index sync_log_of_store)."""
    return SyncRun.objects.filter(store=store).order_by("-started_at", "-id")[:limit]


def flagged_store_change(order) -> str:
    """The store's change that was not applied to this order (after dispatch), or ''."""
    link = StoreOrderLink.objects.filter(order=order).only("flagged_change").first()
    return link.flagged_change if link else ""
