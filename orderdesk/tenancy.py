"""Scoping every merchant-owned row to its merchant."""

from django.db import models


class MerchantScopedQuerySet(models.QuerySet):
    def for_merchant(self, merchant) -> "MerchantScopedQuerySet":
        """Only the rows of this merchant; every read of merchant data starts here."""
        if merchant is None:
            return self.none()
        return self.filter(merchant=merchant)


class MerchantOwned(models.Model):
    """A row that belongs to one merchant."""

    merchant = models.ForeignKey("accounts.Merchant", on_delete=models.PROTECT, related_name="+")

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        abstract = True
