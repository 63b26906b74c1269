"""The write side of vendors and hosting: one function per business action.

Vendors are kept by the owner (Permission.MANAGE_VENDORS). Hosting a variant with a vendor
makes later allocations of it go to that vendor at these costs; allocations already made
keep the costs they were made at (each allocated line's snapshot), so nothing here rewrites
what an order cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from orderdesk.accounts.actors import Actor
from orderdesk.accounts.permissions import Permission, ensure_can
from orderdesk.catalog.models import Variant
from orderdesk.customers.phones import normalize_phone

from .errors import InvalidHosting, InvalidVendor, VendorNotFound
from .models import Hosting, Vendor

CENT = Decimal("0.01")
# The money columns' limit (12 digits, 2 decimals).
MONEY_LIMIT = Decimal("10000000000")
MAX_NAME_LENGTH = 200
MAX_VENDOR_SKU_LENGTH = 64


@dataclass(frozen=True)
class VendorDetails:
    """What the owner types about a vendor."""

    name: str
    contact_email: str = ""
    contact_phone: str = ""
    currency: str = ""
    processing_days: int = 3


def add_vendor(details: VendorDetails, *, by: Actor) -> Vendor:
    """A new active vendor of the actor's merchant. Raises InvalidVendor, NotAllowed."""
    ensure_can(by, Permission.MANAGE_VENDORS)
    checked = _checked_details(details, merchant=by.merchant)
    with transaction.atomic():
        _ensure_name_free(by.merchant, checked.name)
        return Vendor.objects.create(
            merchant=by.merchant,
            name=checked.name,
            contact_email=checked.contact_email,
            contact_phone=checked.contact_phone,
            currency=checked.currency,
            processing_days=checked.processing_days,
        )


def update_vendor(vendor_id: int, details: VendorDetails, *, by: Actor) -> Vendor:
    """Change a vendor's name, contacts, currency and processing days.

    Raises VendorNotFound, InvalidVendor, NotAllowed.
    """
    ensure_can(by, Permission.MANAGE_VENDORS)
    checked = _checked_details(details, merchant=by.merchant)
    with transaction.atomic():
        vendor = _locked_vendor(vendor_id, by)
        _ensure_name_free(by.merchant, checked.name, other_than=vendor.pk)
        vendor.name = checked.name
        vendor.contact_email = checked.contact_email
        vendor.contact_phone = checked.contact_phone
        vendor.currency = checked.currency
        vendor.processing_days = checked.processing_days
        vendor.save()
    return vendor


def set_vendor_active(vendor_id: int, *, by: Actor, active: bool) -> Vendor:
    """Deactivate a vendor (its hosted products are no longer allocated to it; shipments it
    has keep going) or activate it again. Raises VendorNotFound, NotAllowed."""
    ensure_can(by, Permission.MANAGE_VENDORS)
    with transaction.atomic():
        vendor = _locked_vendor(vendor_id, by)
        if vendor.is_active != active:
            vendor.is_active = active
            vendor.save(update_fields=["is_active"])
    return vendor


@dataclass(frozen=True)
class HostingTerms:
    """With which vendor, at which costs, a variant is hosted (costs per unit)."""

    vendor_id: int
    unit_cost: Decimal | str
    shipping_cost: Decimal | str = Decimal("0")
    # None keeps each variant's vendor SKU as it is (hosting many at once).
    vendor_sku: str | None = None


def host_variants(variant_ids: Sequence[int], terms: HostingTerms, *, by: Actor) -> list[Hosting]:
    """Host these variants with one vendor at these costs; a variant hosted elsewhere is re-hosted.

    Later allocations follow the new hosting; earlier ones keep their snapshot.
    Raises InvalidHosting (no variant, unknown or inactive vendor, bad cost), NotAllowed.
    """
    ensure_can(by, Permission.MANAGE_VENDORS)
    ids = sorted({int(variant_id) for variant_id in variant_ids})
    if not ids:
        raise InvalidHosting("Choose at least one product to host.", field="variants")
    unit_cost = checked_cost(terms.unit_cost, "unit cost", "unit_cost")
    shipping_cost = checked_cost(terms.shipping_cost, "shipping cost", "shipping_cost")
    vendor_sku = None if terms.vendor_sku is None else checked_vendor_sku(terms.vendor_sku)
    with transaction.atomic():
        vendor = _active_vendor(by.merchant, terms.vendor_id)
        found = set(Variant.objects.for_merchant(by.merchant).filter(pk__in=ids).values_list("pk", flat=True))
        if found != set(ids):
            raise InvalidHosting("That product does not exist.", field="variants")
        return upsert_hostings(
            by.merchant,
            {variant_id: (vendor, unit_cost, shipping_cost, vendor_sku) for variant_id in ids},
        )


def unhost_variants(variant_ids: Sequence[int], *, by: Actor) -> int:
    """Stop hosting these variants: later orders of them stay with the merchant. Returns how many."""
    ensure_can(by, Permission.MANAGE_VENDORS)
    deleted, _ = Hosting.objects.for_merchant(by.merchant).filter(variant_id__in=list(variant_ids)).delete()
    return deleted


def checked_cost(value, what: str, field_name: str) -> Decimal:
    """An amount of money ≥ 0 with at most two decimals; InvalidHosting naming the field otherwise."""
    if isinstance(value, float):
        raise InvalidHosting(f"The {what} must be an exact amount, not a float.", field=field_name)
    text = str(value if value is not None else "").strip().replace(",", "")
    if not text:
        raise InvalidHosting(f"Enter the {what}.", field=field_name)
    try:
        amount = Decimal(text)
    except (InvalidOperation, ValueError) as refusal:
        raise InvalidHosting(f"The {what} “{value}” is not an amount.", field=field_name) from refusal
    if not amount.is_finite() or amount < 0:
        raise InvalidHosting(f"The {what} must be zero or more.", field=field_name)
    if amount != amount.quantize(CENT):
        raise InvalidHosting(f"The {what} has more than two decimal places.", field=field_name)
    if amount >= MONEY_LIMIT:
        raise InvalidHosting(f"The {what} is too large.", field=field_name)
    return amount.quantize(CENT)


# --- the pieces the actions share -------------------------------------------------


def upsert_hostings(merchant, wanted: dict[int, tuple]) -> list[Hosting]:
    """{variant id: (vendor, unit cost, shipping cost, vendor SKU or None)} written; rows that
    already say exactly this are left alone (so an import run twice changes nothing)."""
    existing = {
        hosting.variant_id: hosting
        for hosting in Hosting.objects.for_merchant(merchant)
        .select_for_update()
        .filter(variant_id__in=wanted)
    }
    now = timezone.now()
    written = []
    for variant_id, (vendor, unit_cost, shipping_cost, vendor_sku) in wanted.items():
        hosting = existing.get(variant_id)
        if hosting is None:
            hosting = Hosting(merchant=merchant, variant_id=variant_id, vendor_sku=vendor_sku or "")
        elif (
            hosting.vendor_id == vendor.pk
            and hosting.unit_cost == unit_cost
            and hosting.shipping_cost == shipping_cost
            and (vendor_sku is None or hosting.vendor_sku == vendor_sku)
        ):
            continue
        hosting.vendor = vendor
        hosting.unit_cost = unit_cost
        hosting.shipping_cost = shipping_cost
        if vendor_sku is not None:
            hosting.vendor_sku = vendor_sku
        hosting.updated_at = now
        hosting.save()
        written.append(hosting)
    return written


def _checked_details(details: VendorDetails, *, merchant) -> VendorDetails:
    name = " ".join((details.name or "").split())
    if not name:
        raise InvalidVendor("Enter the vendor's name.", field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidVendor(f"A vendor's name has at most {MAX_NAME_LENGTH} characters.", field="name")
    if "\x00" in name + (details.contact_email or "") + (details.contact_phone or ""):
        raise InvalidVendor("The vendor's details contain a NUL character.", field="name")
    email = (details.contact_email or "").strip().lower()
    if email:
        try:
            validate_email(email)
        except ValidationError as refusal:
            raise InvalidVendor(f"“{email}” is not an email address.", field="contact_email") from refusal
    phone = ""
    if (details.contact_phone or "").strip():
        try:
            phone = normalize_phone(details.contact_phone)
        except ValueError as refusal:
            raise InvalidVendor(str(refusal), field="contact_phone") from refusal
    currency = (details.currency or merchant.currency).strip().upper()
    if len(currency) != 3 or not currency.isalpha() or not currency.isascii():
        raise InvalidVendor(
            f"“{currency}” is not a three-letter currency code such as PHP.", field="currency"
        )
    days = details.processing_days
    if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= 365:
        raise InvalidVendor("Processing days must be between 0 and 365.", field="processing_days")
    return VendorDetails(
        name=name, contact_email=email, contact_phone=phone, currency=currency, processing_days=days
    )


def _ensure_name_free(merchant, name: str, *, other_than: int | None = None) -> None:
    taken = Vendor.objects.for_merchant(merchant).filter(name__iexact=name)
    if other_than is not None:
        taken = taken.exclude(pk=other_than)
    if taken.exists():
        raise InvalidVendor(f"You already have a vendor named {name}.", field="name")


def checked_vendor_sku(vendor_sku: str) -> str:
    vendor_sku = (vendor_sku or "").strip()
    if len(vendor_sku) > MAX_VENDOR_SKU_LENGTH:
        raise InvalidHosting(
            f"A vendor's SKU has at most {MAX_VENDOR_SKU_LENGTH} characters.", field="vendor_sku"
        )
    if "\x00" in vendor_sku:
        raise InvalidHosting("The vendor's SKU contains a NUL character.", field="vendor_sku")
    return vendor_sku


def _locked_vendor(vendor_id, by: Actor) -> Vendor:
    try:
        return Vendor.objects.for_merchant(by.merchant).select_for_update().get(pk=vendor_id)
    except (Vendor.DoesNotExist, ValueError, TypeError) as missing:
        raise VendorNotFound() from missing


def _active_vendor(merchant, vendor_id) -> Vendor:
    try:
        vendor = Vendor.objects.for_merchant(merchant).get(pk=vendor_id)
    except (Vendor.DoesNotExist, ValueError, TypeError) as missing:
        raise InvalidHosting("Choose one of your vendors.", field="vendor") from missing
    if not vendor.is_active:
        raise InvalidHosting(
            f"{vendor.name} is inactive; activate it before hosting products with it.", field="vendor"
        )
    return vendor
