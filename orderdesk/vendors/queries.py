"""The read side of vendors and hosting: tenant-scoped, for the Vendors and Hosting pages."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from orderdesk.catalog.models import Variant

from .models import Vendor

HOSTING_PAGE_SIZE = 50


def vendors_of(merchant, *, active_only: bool = False) -> QuerySet[Vendor]:
    vendors = Vendor.objects.for_merchant(merchant).order_by("name", "pk")
    return vendors.filter(is_active=True) if active_only else vendors


def vendor_of(merchant, vendor_id) -> Vendor:
    """Vendor.DoesNotExist outside the merchant."""
    try:
        return Vendor.objects.for_merchant(merchant).get(pk=int(vendor_id))
    except (ValueError, TypeError) as bad:
        raise Vendor.DoesNotExist from bad


@dataclass(frozen=True)
class HostingPage:
    variants: list[Variant]
    next_cursor: int | None


def hosting_page(
    merchant,
    *,
    unhosted_only: bool = False,
    search: str = "",
    vendor_id: int | None = None,
    after: int | None = None,
) -> HostingPage:
    """The merchant's variants with their hosting (vendor, costs), by id, a page at a time (keyset)."""
    variants = (
        Variant.objects.for_merchant(merchant)
        .select_related("product", "hosting", "hosting__vendor")
        .order_by("pk")
    )
    if unhosted_only:
        variants = variants.filter(hosting__isnull=True)
    if vendor_id:
        variants = variants.filter(hosting__vendor_id=vendor_id)
    text = (search or "").strip()
    if text:
        variants = variants.filter(Q(sku__icontains=text) | Q(product__title__icontains=text))
    if after:
        variants = variants.filter(pk__gt=after)
    rows = list(variants[: HOSTING_PAGE_SIZE + 1])
    if len(rows) > HOSTING_PAGE_SIZE:
        return HostingPage(variants=rows[:HOSTING_PAGE_SIZE], next_cursor=rows[HOSTING_PAGE_SIZE - 1].pk)
    return HostingPage(variants=rows, next_cursor=None)


def variants_by_id(merchant, variant_ids) -> list[Variant]:
    return list(
        Variant.objects.for_merchant(merchant)
        .filter(pk__in=list(variant_ids))
        .select_related("product", "hosting", "hosting__vendor")
        .order_by("product__title", "sku")
    )
