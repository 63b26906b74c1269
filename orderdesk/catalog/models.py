from django.core.validators import MinValueValidator
from django.db import models

from orderdesk.tenancy import MerchantOwned


class Product(MerchantOwned):
    """Something the merchant sells; what is bought is one of its variants."""

    title = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # Product search in the back office and reports per product.
            models.Index(fields=["merchant", "title"], name="product_by_title"),
        ]

    def __str__(self) -> str:
        return self.title


class Variant(MerchantOwned):
    """A sellable version of a product, with its SKU and price."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField("SKU", max_length=64)
    title = models.CharField(max_length=255, blank=True, help_text="e.g. Red / Large")
    price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "sku"], name="sku_unique_per_merchant"),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="variant_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product.title} — {self.title}" if self.title else self.product.title
