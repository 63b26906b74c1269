"""The write side of stores: connecting, testing, pausing and removing a store (owners only)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.utils import timezone

from orderdesk.accounts.actors import Actor
from orderdesk.accounts.permissions import Permission, ensure_can
from orderdesk.orders import events as order_events
from orderdesk.orders.errors import OrderNotFound
from orderdesk.orders.models import Order

from .credentials import encrypt_credentials, encrypt_text, hint_of
from .errors import (
    ConnectionRefused,
    InvalidStoreDetails,
    NothingToDismiss,
    StoreNotFound,
    StoreUnreachable,
)
from .models import InboundDelivery, Store, StoreOrderLink

_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
MAX_SECRET_LENGTH = 500


@dataclass(frozen=True)
class StoreDetails:
    """What the owner types to connect a store; which fields matter depends on the channel."""

    channel: str
    name: str
    url: str = ""
    api_base_url: str = ""
    access_token: str = ""
    consumer_key: str = ""
    consumer_secret: str = ""
    webhook_secret: str = ""


def add_store(details: StoreDetails, *, by: Actor) -> Store:
    """Connect a Shopify, WooCommerce or CSV store; credentials are stored encrypted.

    Raises NotAllowed (staff), InvalidStoreDetails (a missing or malformed field, a name in use).
    """
    ensure_can(by, Permission.MANAGE_STORES)
    name = _required(details.name, "Give the store a name.", "name")
    if len(name) > 200:
        raise InvalidStoreDetails("A store name has at most 200 characters.", field="name")
    fields: dict = {"name": name, "channel": details.channel}
    if details.channel == Store.Channel.SHOPIFY:
        domain = _shop_domain(details.url)
        token = _secret(details.access_token, "Enter the Admin API access token.", "access_token")
        fields.update(
            url=f"https://{domain}",
            credentials_encrypted=encrypt_credentials({"access_token": token}),
            credentials_hint=hint_of(token),
            webhook_secret_encrypted=encrypt_text(
                _secret(details.webhook_secret, "Enter the app's webhook signing secret.", "webhook_secret")
            ),
        )
    elif details.channel == Store.Channel.WOOCOMMERCE:
        key = _secret(details.consumer_key, "Enter the REST API consumer key.", "consumer_key")
        secret = _secret(details.consumer_secret, "Enter the REST API consumer secret.", "consumer_secret")
        fields.update(
            url=_http_url(details.url, "Enter the site's address, like https://shop.example.com.", "url"),
            credentials_encrypted=encrypt_credentials({"consumer_key": key, "consumer_secret": secret}),
            credentials_hint=hint_of(key),
            webhook_secret_encrypted=encrypt_text(
                _secret(details.webhook_secret, "Enter the webhook's secret.", "webhook_secret")
            ),
        )
    elif details.channel != Store.Channel.CSV:
        raise InvalidStoreDetails("Choose Shopify, WooCommerce or CSV.", field="channel")
    if details.api_base_url.strip():
        fields["api_base_url"] = _http_url(
            details.api_base_url, "The API address must start with https:// (or http://).", "api_base_url"
        )
    try:
        with transaction.atomic():
            return Store.objects.create(merchant=by.merchant, **fields)
    except IntegrityError as taken:
        raise InvalidStoreDetails(f"You already have a store named “{name}”.", field="name") from taken


def check_store_connection(store_id: int, *, by: Actor) -> str:
    """Ask the store's API who it is with the saved credentials; marks the connection OK or broken.

    Returns what the store said (its name). Raises NotAllowed, StoreNotFound,
    ConnectionRefused (credentials refused), StoreUnreachable.
    """
    from .sync import client_for, mark_connection_broken

    ensure_can(by, Permission.MANAGE_STORES)
    store = _store(store_id, by)
    client = client_for(store)
    try:
        if store.channel == Store.Channel.SHOPIFY:
            shop = client.shop()
            said = f"Connected to {shop.get('name') or store.url} ({shop.get('currencyCode') or '?'})."
        else:
            client.check()
            said = f"Connected to {store.url}: the keys may read orders."
    except ConnectionRefused as refused:
        # The owner pressed Test (or just connected) and reads the refusal: no email as well.
        mark_connection_broken(store, reason=refused.message, tell_owner=False)
        raise
    except StoreUnreachable:
        raise
    Store.objects.filter(pk=store.pk).update(
        connection_state=Store.ConnectionState.OK, broken_since=None, last_sync_error=""
    )
    return said


def update_store_credentials(store_id: int, details: StoreDetails, *, by: Actor) -> Store:
    """Replace a connected store's credentials (after a revoked token); the connection is untested again."""
    ensure_can(by, Permission.MANAGE_STORES)
    with transaction.atomic():
        store = _store(store_id, by, lock=True)
        if store.channel == Store.Channel.SHOPIFY:
            token = _secret(details.access_token, "Enter the Admin API access token.", "access_token")
            store.credentials_encrypted = encrypt_credentials({"access_token": token})
            store.credentials_hint = hint_of(token)
        elif store.channel == Store.Channel.WOOCOMMERCE:
            key = _secret(details.consumer_key, "Enter the REST API consumer key.", "consumer_key")
            secret = _secret(
                details.consumer_secret, "Enter the REST API consumer secret.", "consumer_secret"
            )
            store.credentials_encrypted = encrypt_credentials(
                {"consumer_key": key, "consumer_secret": secret}
            )
            store.credentials_hint = hint_of(key)
        else:
            raise InvalidStoreDetails(f"{store.name} has no credentials to change.")
        if details.webhook_secret.strip():
            store.webhook_secret_encrypted = encrypt_text(details.webhook_secret.strip())
        store.connection_state = Store.ConnectionState.UNTESTED
        store.broken_since = None
        store.save()
    return store


def pause_store(store_id: int, *, by: Actor) -> Store:
    """Stop syncing the store; its webhook deliveries are still stored, and taken in on resume."""
    return _set_active(store_id, by, active=False)


def resume_store(store_id: int, *, by: Actor) -> Store:
    """Sync the store again; webhook deliveries that arrived while it was paused are taken in."""
    from .sync import process_after_commit

    with transaction.atomic():
        store = _set_active(store_id, by, active=True)
        waiting = InboundDelivery.objects.filter(store=store, outcome=InboundDelivery.Outcome.RECEIVED)
        for delivery_id in waiting.order_by("received_at", "pk").values_list("pk", flat=True):
            process_after_commit(delivery_id)
    return store


def remove_store(store_id: int, *, by: Actor) -> Store:
    """Disconnect the store: its credentials are erased and it stops syncing; its orders stay."""
    ensure_can(by, Permission.MANAGE_STORES)
    with transaction.atomic():
        store = _store(store_id, by, lock=True)
        store.removed_at = timezone.now()
        store.is_active = False
        store.credentials_encrypted = ""
        store.webhook_secret_encrypted = ""
        store.credentials_hint = ""
        # Frees the name for a new connection; the orders keep pointing at this row.
        store.name = f"{store.name} (removed {store.removed_at:%Y-%m-%d %H:%M:%S})"[:200]
        store.save()
    return store


def dismiss_store_change(order_id: int, *, by: Actor) -> Order:
    """Put aside the store's change flagged on this order (made after it left Pending): the flag
    goes, nothing of the change is applied, and the timeline says who dismissed what.

    Raises NotAllowed, OrderNotFound, NothingToDismiss (no flag, or dismissed meanwhile).
    """
    ensure_can(by, Permission.RECORD_ORDERS)
    with transaction.atomic():
        try:
            order = (
                Order.objects.for_merchant(by.merchant)
                .select_for_update(of=("self",))
                .select_related("store")
                .get(pk=order_id)
            )
        except (Order.DoesNotExist, ValueError, TypeError) as missing:
            raise OrderNotFound() from missing
        link = StoreOrderLink.objects.select_for_update().filter(order=order).first()
        if link is None or not link.flagged_change:
            raise NothingToDismiss(f"Order {order.reference} has no store change waiting for you.")
        summary = link.flagged_change
        link.flagged_change = ""
        link.flagged_at = None
        link.save(update_fields=["flagged_change", "flagged_at", "updated_at"])
        order_events.record_store_change_dismissed(order, by=by, summary=summary)
    return order


def _set_active(store_id: int, by: Actor, *, active: bool) -> Store:
    ensure_can(by, Permission.MANAGE_STORES)
    with transaction.atomic():
        store = _store(store_id, by, lock=True)
        store.is_active = active
        store.save(update_fields=["is_active"])
    return store


def _store(store_id, by: Actor, *, lock: bool = False) -> Store:
    stores = Store.objects.for_merchant(by.merchant).filter(removed_at=None).select_related("merchant")
    if lock:
        stores = stores.select_for_update(of=("self",))
    try:
        return stores.get(pk=store_id)
    except (Store.DoesNotExist, ValueError, TypeError) as missing:
        raise StoreNotFound() from missing


def _required(value: str, message: str, field: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidStoreDetails(message, field=field)
    if "\x00" in value:
        raise InvalidStoreDetails("That contains a NUL character.", field=field)
    return value


def _secret(value: str, message: str, field: str) -> str:
    value = _required(value, message, field)
    if len(value) > MAX_SECRET_LENGTH or any(ch.isspace() for ch in value):
        raise InvalidStoreDetails("That does not look like a key the store gives out.", field=field)
    return value


def _shop_domain(value: str) -> str:
    domain = _required(value, "Enter the shop's domain, like lakbay.myshopify.com.", "url").lower()
    domain = domain.removeprefix("https://").removeprefix("http://").strip("/")
    if not _HOSTNAME.match(domain):
        raise InvalidStoreDetails(f"“{domain}” is not a shop domain like lakbay.myshopify.com.", field="url")
    return domain


def _http_url(value: str, message: str, field: str) -> str:
    url = _required(value, message, field).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise InvalidStoreDetails(message, field=field)
    if len(url) > 200:
        raise InvalidStoreDetails("That address is too long (at most 200 characters).", field=field)
    return url
