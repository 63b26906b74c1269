from django.db import models

from orderdesk.tenancy import MerchantOwned


class Store(MerchantOwned):
    """A sales channel whose orders reach Orderdesk, with its sync state."""

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

    name = models.CharField(max_length=200)
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.MANUAL)
    processing = models.CharField(max_length=10, choices=Processing.choices, default=Processing.AUTOMATIC)
    url = models.URLField(blank=True)
    is_active = models.BooleanField(default=True)
    # Sync state: where the last import stopped and how it ended.
    sync_cursor = models.CharField(max_length=255, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_sync_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "name"], name="store_name_unique_per_merchant")
        ]

    def __str__(self) -> str:
        return self.name
