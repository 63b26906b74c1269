"""Scoping every merchant-owned row to its merchant."""

from django.db import models
from django.db.models import F, Func


def checked_only(column: str) -> Func:
    """`(column + 0)`: a condition on it that PostgreSQL checks on the row found, never an index
    it walks (see MerchantScopedQuerySet.one_of_merchant)."""
    return Func(F(column), template="(%(expressions)s + 0)")


class MerchantScopedQuerySet(models.QuerySet):
    def for_merchant(self, merchant) -> "MerchantScopedQuerySet":
        """Only the rows of this merchant; every read of merchant data starts here."""
        if merchant is None:
            return self.none()
        return self.filter(merchant=merchant)

    def one_of_merchant(self, merchant, pk) -> "MerchantScopedQuerySet":
        """The row `pk` if it is this merchant's (none otherwise), found by its primary key.

        `merchant_id + 0`: PostgreSQL took the merchant's index for a merchant it thought small
        (a new shop, or one its statistics have not caught up with) and walked every row of the
        merchant to find this one. Raises ValueError or TypeError for a pk that is not one."""
        if merchant is None:
            return self.none()
        return self.alias(merchant_checked=checked_only("merchant_id")).filter(
            merchant_checked=merchant.pk, pk=pk
        )


class MerchantOwned(models.Model):
    """A row that belongs to one merchant."""

    merchant = models.ForeignKey("accounts.Merchant", on_delete=models.PROTECT, related_name="+")

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        abstract = True
