"""Hosting from a CSV file: SKU, vendor, unit cost, shipping cost, vendor SKU.

Reading makes a preview (what each good row will do, and each bad row with its reason) and
writes nothing; importing writes the good rows through the same upsert as the Hosting page,
and a row that already says what the hosting says changes nothing, so the same file twice
changes nothing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction

from orderdesk.accounts.actors import Actor
from orderdesk.accounts.permissions import Permission, ensure_can
from orderdesk.catalog.models import Variant

from . import actions
from .errors import InvalidHosting
from .models import Hosting, Vendor

TEMPLATE_COLUMNS = ["sku", "vendor", "unit_cost", "shipping_cost", "vendor_sku"]
REQUIRED_COLUMNS = {"sku", "vendor", "unit_cost"}
TEMPLATE_EXAMPLE = [["LS-M", "Cebu Source Co.", "320.00", "45.00", "CSC-LS-M"]]
MAX_FILE_BYTES = 1024 * 1024
MAX_ROWS = 10_000


@dataclass(frozen=True)
class HostingRow:
    """A good row: which variant goes to which vendor at which costs, and what that changes."""

    line: int
    sku: str
    variant_id: int
    product: str
    vendor: Vendor
    unit_cost: Decimal
    shipping_cost: Decimal
    vendor_sku: str
    # "new", "re-host", "new costs" or "unchanged".
    change: str


@dataclass(frozen=True)
class RowError:
    line: int
    sku: str
    reason: str


@dataclass
class HostingPreview:
    rows: list[HostingRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    # A problem with the whole file (not CSV, no sku column, too big): nothing is read.
    file_error: str = ""

    @property
    def to_write(self) -> list[HostingRow]:
        return [row for row in self.rows if row.change != "unchanged"]


def template_csv() -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(TEMPLATE_COLUMNS)
    writer.writerows(TEMPLATE_EXAMPLE)
    return out.getvalue()


def read_hosting_csv(merchant, content: bytes | str) -> HostingPreview:
    """What importing this file would do, row by row; writes nothing."""
    preview = HostingPreview()
    if isinstance(content, bytes):
        if len(content) > MAX_FILE_BYTES:
            preview.file_error = f"The file is larger than {MAX_FILE_BYTES // 1024} KB."
            return preview
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            preview.file_error = "The file is not UTF-8 text. Save it as CSV (UTF-8) and try again."
            return preview
    if "\x00" in content:
        preview.file_error = "The file is not a CSV file."
        return preview
    reader = csv.DictReader(io.StringIO(content))
    columns = {(name or "").strip().lower() for name in reader.fieldnames or []}
    missing = sorted(REQUIRED_COLUMNS - columns)
    if missing:
        preview.file_error = (
            f"The file has no {', '.join(missing)} column{'s' if len(missing) > 1 else ''}. "
            f"Its first row must name the columns: {', '.join(TEMPLATE_COLUMNS)}."
        )
        return preview
    raw_rows = []
    try:
        for number, raw in enumerate(reader, start=2):
            if number - 1 > MAX_ROWS:
                preview.file_error = f"The file has more than {MAX_ROWS:,} rows; split it."
                return preview
            raw_rows.append(
                (number, {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k})
            )
    except csv.Error as broken:
        preview.file_error = f"The file is not a CSV file we can read ({broken})."
        return preview

    skus = {row.get("sku", "") for _, row in raw_rows}
    variants = {
        variant.sku: variant
        for variant in Variant.objects.for_merchant(merchant).filter(sku__in=skus).select_related("product")
    }
    vendors = {vendor.name.lower(): vendor for vendor in Vendor.objects.for_merchant(merchant)}
    hostings = {
        hosting.variant_id: hosting
        for hosting in Hosting.objects.for_merchant(merchant).filter(
            variant_id__in=[variant.pk for variant in variants.values()]
        )
    }
    seen: dict[str, int] = {}
    for number, row in raw_rows:
        sku = row.get("sku", "")
        if not any(row.values()):
            continue
        try:
            preview.rows.append(_read_row(number, row, variants, vendors, hostings, seen))
        except InvalidHosting as refusal:
            preview.errors.append(RowError(line=number, sku=sku, reason=refusal.message))
    if not preview.rows and not preview.errors:
        preview.file_error = "The file has no rows below its column names."
    return preview


def import_hosting(content: bytes | str, *, by: Actor) -> HostingPreview:
    """Write the good rows of this file (read again, so it is checked as it is now); returns the
    preview it wrote from. Raises NotAllowed."""
    ensure_can(by, Permission.MANAGE_VENDORS)
    with transaction.atomic():
        preview = read_hosting_csv(by.merchant, content)
        if preview.file_error:
            return preview
        actions.upsert_hostings(
            by.merchant,
            {
                row.variant_id: (row.vendor, row.unit_cost, row.shipping_cost, row.vendor_sku)
                for row in preview.to_write
            },
        )
    return preview


def _read_row(number, row, variants, vendors, hostings, seen) -> HostingRow:
    sku = row.get("sku", "")
    if not sku:
        raise InvalidHosting("The SKU is empty.")
    if sku in seen:
        raise InvalidHosting(f"SKU {sku} is already on line {seen[sku]}.")
    seen[sku] = number
    variant = variants.get(sku)
    if variant is None:
        raise InvalidHosting(f"No product has SKU {sku}.")
    vendor_name = row.get("vendor", "")
    if not vendor_name:
        raise InvalidHosting("The vendor is empty.")
    vendor = vendors.get(" ".join(vendor_name.split()).lower())
    if vendor is None:
        raise InvalidHosting(f"No vendor is named {vendor_name}; add it on the Vendors page first.")
    if not vendor.is_active:
        raise InvalidHosting(f"{vendor.name} is inactive.")
    unit_cost = actions.checked_cost(row.get("unit_cost", ""), "unit cost", "unit_cost")
    shipping_cost = actions.checked_cost(row.get("shipping_cost") or "0", "shipping cost", "shipping_cost")
    vendor_sku = actions.checked_vendor_sku(row.get("vendor_sku", ""))
    hosting = hostings.get(variant.pk)
    if hosting is None:
        change = "new"
    elif hosting.vendor_id != vendor.pk:
        change = "re-host"
    elif (hosting.unit_cost, hosting.shipping_cost, hosting.vendor_sku) != (
        unit_cost,
        shipping_cost,
        vendor_sku,
    ):
        change = "new costs"
    else:
        change = "unchanged"
    return HostingRow(
        line=number,
        sku=sku,
        variant_id=variant.pk,
        product=str(variant),
        vendor=vendor,
        unit_cost=unit_cost,
        shipping_cost=shipping_cost,
        vendor_sku=vendor_sku,
        change=change,
    )
