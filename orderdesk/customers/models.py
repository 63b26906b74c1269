from django.db import models

from orderdesk.customers.phones import normalize_phone_field
from orderdesk.tenancy import MerchantOwned


class Customer(MerchantOwned):
    """Someone who buys from the merchant; orders keep a snapshot of these details."""

    # Indexed by customer_by_phone and customer_by_email, which start with it.
    merchant = models.ForeignKey(
        "accounts.Merchant", on_delete=models.PROTECT, related_name="+", db_index=False
    )

    name = models.CharField(max_length=200)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164, e.g. +639171234567")
    email = models.EmailField(blank=True)
    address = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # Finding the existing customer when an order arrives with a phone or email.
            models.Index(fields=["merchant", "phone"], name="customer_by_phone"),
            models.Index(fields=["merchant", "email"], name="customer_by_email"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        normalize_phone_field(self, "phone")
