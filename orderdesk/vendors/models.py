"""A merchant's vendors (source agents, suppliers) and the products they host.

A hosted variant is shipped by its vendor: allocation (auto or the Pending tab's Place)
puts an order's lines hosted with one vendor into one shipment of that vendor, and each
allocated line keeps a snapshot of the hosting's costs (`FulfillmentLine.unit_cost`,
`.shipping_cost`), so a later cost change applies only to later allocations.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from orderdesk.money import MONEY
from orderdesk.tenancy import MerchantOwned


class Vendor(MerchantOwned):
    """One merchant's source agent or supplier; its people sign in to the vendor portal."""

    name = models.CharField(max_length=200)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=20, blank=True, help_text="E.164")
    currency = models.CharField(max_length=3, default=settings.DEFAULT_CURRENCY)
    # Days from allocation to handing the parcel to the carrier before the shipment is late.
    processing_days = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(0), MaxValueValidator(365)]
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "name"], name="one_vendor_name_per_merchant")
        ]

    def __str__(self) -> str:
        return self.name


class Hosting(MerchantOwned):
    """A variant hosted with a vendor: the vendor ships it at these costs.

    One vendor hosts a variant at a time; re-hosting replaces the row (later allocations
    follow it, earlier ones keep their snapshot). Costs are per unit, in the vendor's
    currency; `shipping_cost` is per unit too (see the README's "Shipping costs").
    """

    variant = models.OneToOneField("catalog.Variant", on_delete=models.CASCADE, related_name="hosting")
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="hostings")
    vendor_sku = models.CharField("vendor's SKU", max_length=64, blank=True)
    unit_cost = models.DecimalField(**MONEY, validators=[MinValueValidator(Decimal("0"))])
    shipping_cost = models.DecimalField(
        **MONEY, default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))]
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["merchant", "vendor"], name="hosting_by_vendor")]

    def __str__(self) -> str:
        return f"{self.variant_id} at {self.vendor}"
