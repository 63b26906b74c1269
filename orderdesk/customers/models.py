from django.db import models

from orderdesk.customers.phones import normalize_phone_field
from orderdesk.tenancy import MerchantOwned


class Customer(MerchantOwned):
    """Someone who buys from the merchant; orders keep a snapshot of these details."""

    # Indexed by customer_phone_oldest and customer_email_oldest, which start with it.
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
            # Finding the existing customer (the oldest) when an order arrives with a phone or
            # email. With the id last the oldest comes out of the index first, so no other index
            # that starts with the merchant looks as cheap: PostgreSQL's statistics taken before a
            # merchant had customers once made it walk all of them (22 ms at 100,000) under the
            # merchant's lock, which every order of that merchant waits for.
            models.Index(fields=["merchant", "phone", "id"], name="customer_phone_oldest"),
            models.Index(fields=["merchant", "email", "id"], name="customer_email_oldest"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        normalize_phone_field(self, "phone")
