import secrets

from django.db import models
from django.utils import timezone

from orderdesk.tenancy import MerchantOwned

# The store APIs' real addresses; each connection may point elsewhere (a loopback double in tests).
SHOPIFY_API_VERSION = "2025-01"


def new_webhook_token() -> str:
    return secrets.token_urlsafe(24)


class Store(MerchantOwned):
    """A sales channel whose orders reach Orderdesk, with its connection and sync state."""

    class Channel(models.TextChoices):
        MANUAL = "manual", "Manual entry"
        API = "api", "API"
        CSV = "csv", "CSV import"
        SHOPIFY = "shopify", "Shopify"
        WOOCOMMERCE = "woocommerce", "WooCommerce"

    class Processing(models.TextChoices):
        # New orders' lines go to their hosting vendors at once.
        AUTOMATIC = "automatic", "Auto-processing"
        # The merchant picks pending orders and places them.
        MANUAL = "manual", "Manual processing"

    class ConnectionState(models.TextChoices):
        UNTESTED = "untested", "Not tested yet"
        OK = "ok", "Connected"
        # The store refused our credentials (revoked token, 401): syncing stops until fixed.
        BROKEN = "broken", "Credentials refused by the store"

    name = models.CharField(max_length=200)
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.MANUAL)
    processing = models.CharField(max_length=10, choices=Processing.choices, default=Processing.AUTOMATIC)
    # The shop's address: a Shopify shop domain (lakbay.myshopify.com) or a WooCommerce site URL.
    url = models.URLField(blank=True)
    # Where the store's API answers; blank means the real one derived from `url`.
    api_base_url = models.URLField(blank=True)
    is_active = models.BooleanField(default=True)
    # Fernet tokens (CREDENTIALS_KEY) of the API credentials (JSON) and of the webhook secret.
    credentials_encrypted = models.TextField(blank=True)
    webhook_secret_encrypted = models.TextField(blank=True)
    # The last characters of the access token or consumer key, all the pages ever show of it.
    credentials_hint = models.CharField(max_length=8, blank=True)
    # Names the store in its webhook URL without revealing its id.
    webhook_token = models.CharField(max_length=64, unique=True, default=new_webhook_token)
    connection_state = models.CharField(
        max_length=10, choices=ConnectionState.choices, default=ConnectionState.UNTESTED
    )
    # Set when the store first refused our credentials; the owner is told once per breakage.
    broken_since = models.DateTimeField(null=True, blank=True)
    # Sync state: where the last import stopped and how it ended.
    sync_cursor = models.CharField(max_length=255, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_sync_error = models.TextField(blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "name"], name="store_name_unique_per_merchant")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_connected_store(self) -> bool:
        """Shopify or WooCommerce: a store Orderdesk talks to over its API."""
        return self.channel in (self.Channel.SHOPIFY, self.Channel.WOOCOMMERCE)


class StoreOrderLink(MerchantOwned):
    """Which Orderdesk order a store's order became, and the store's version last applied to it."""

    # Indexed by store_order_link_unique (store, external id), whose first column serves it.
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="order_links", db_index=False)
    external_id = models.CharField(max_length=100)
    order = models.OneToOneField("orders.Order", on_delete=models.CASCADE, related_name="store_link")
    # A digest of what the store said (customer, address, lines, shipping, cancelled);
    # the same digest again means nothing changed.
    fingerprint = models.CharField(max_length=64)
    # A store change that could not be applied (the order had left Pending); shown on the order.
    flagged_change = models.TextField(blank=True)
    flagged_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "external_id"], name="store_order_link_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.store_id}:{self.external_id}"


class SyncRun(MerchantOwned):
    """One entry of a store's sync log: a backfill, a poll, a webhook or a CSV import."""

    class Kind(models.TextChoices):
        BACKFILL = "backfill", "Backfill"
        POLL = "poll", "Poll"
        WEBHOOK = "webhook", "Webhook"
        CSV = "csv", "CSV import"

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="sync_runs")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    new_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    # How many orders the store said the run would see (a backfill asks first), for its progress bar.
    expected_count = models.PositiveIntegerField(null=True, blank=True)
    # [{"external_id": "...", "reason": "..."}] for each order that could not be taken in.
    failures = models.JSONField(default=list, blank=True)
    # Why the whole run stopped (store unreachable, credentials refused), if it did.
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            # The store page's sync log, newest first; pruning by age.
            models.Index(fields=["store", "-started_at"], name="sync_log_of_store"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.store_id} at {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def seen_count(self) -> int:
        return self.new_count + self.updated_count + self.unchanged_count + self.failed_count

    @property
    def percent_done(self) -> int | None:
        """How far a run with a known total is, 0–100 (None when the store gave no total)."""
        if not self.expected_count:
            return None
        return min(100, self.seen_count * 100 // self.expected_count)


class InboundDelivery(MerchantOwned):
    """A webhook delivery as it arrived (after its signature was checked), processed after commit."""

    class Outcome(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="inbound_deliveries")
    # The store's id of the delivery (X-Shopify-Webhook-Id, X-WC-Webhook-Delivery-ID): a retry repeats it.
    delivery_id = models.CharField(max_length=100)
    topic = models.CharField(max_length=100)
    body = models.TextField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RECEIVED)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "delivery_id"], name="inbound_delivery_once"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.delivery_id}"
