"""The write side of the catalog."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction

from orderdesk.accounts.models import Merchant

from .models import Product, Variant


@dataclass(frozen=True)
class SoldItem:
    """An item a store sold, as it names it."""

    sku: str
    title: str
    variant_title: str
    unit_price: Decimal


def variants_for_skus(merchant: Merchant, items: list[SoldItem]) -> dict[str, int]:
    """The merchant's variant id for each item's SKU, creating a product and variant for a new SKU.

    Items without a SKU are left out (they stay unmatched lines). Call inside a transaction.
    """
    wanted = {item.sku: item for item in items if item.sku}
    if not wanted:
        return {}
    found = dict(Variant.objects.for_merchant(merchant).filter(sku__in=wanted).values_list("sku", "pk"))
    for sku, item in wanted.items():
        if sku in found:
            continue
        try:
            # A savepoint: another import may create the same SKU at the same moment.
            with transaction.atomic():
                product = Product.objects.create(merchant=merchant, title=item.title[:255])
                variant = Variant.objects.create(
                    merchant=merchant,
                    product=product,
                    sku=sku,
                    title=item.variant_title[:255],
                    price=item.unit_price,
                )
            found[sku] = variant.pk
        except IntegrityError:
            found[sku] = Variant.objects.for_merchant(merchant).get(sku=sku).pk
    return found
