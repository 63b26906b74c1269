from django import forms

from .hosting_csv import MAX_FILE_BYTES


class VendorForm(forms.Form):
    """A vendor's details; the domain function checks the rules (unique name, E.164 phone, …)."""

    name = forms.CharField(max_length=200)
    contact_email = forms.CharField(max_length=254, required=False, label="Contact email")
    contact_phone = forms.CharField(
        max_length=40,
        required=False,
        label="Contact phone",
        help_text="With the country code, e.g. +63 917 555 0101.",
    )
    currency = forms.CharField(max_length=3, required=False, help_text="Three letters, e.g. PHP.")
    processing_days = forms.IntegerField(
        min_value=0,
        max_value=365,
        initial=3,
        label="Processing days",
        help_text="Days to hand a parcel to the carrier.",
    )


class HostForm(forms.Form):
    """Host the chosen variants with one vendor at these costs per unit."""

    variants = forms.TypedMultipleChoiceField(coerce=int, choices=(), label="Products")
    vendor = forms.TypedChoiceField(coerce=int, choices=(), label="Vendor")
    unit_cost = forms.CharField(
        max_length=20, label="Unit cost", help_text="Per unit, in the vendor's currency."
    )
    shipping_cost = forms.CharField(
        max_length=20, required=False, initial="0.00", label="Shipping cost", help_text="Per unit."
    )
    vendor_sku = forms.CharField(
        max_length=64, required=False, label="Vendor's SKU", help_text="Leave empty to keep each product's."
    )

    def __init__(self, *args, vendors=(), variant_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vendor"].choices = [("", "Choose a vendor")] + [(v.pk, v.name) for v in vendors]
        self.fields["variants"].choices = [(pk, pk) for pk in variant_ids]


class HostingImportForm(forms.Form):
    file = forms.FileField(
        label="Hosting file (CSV)",
        help_text=f"Columns sku, vendor, unit_cost, shipping_cost, vendor_sku; up to {MAX_FILE_BYTES // 1024} KB.",
    )


class ProcessingSettingsForm(forms.Form):
    auto_processing = forms.BooleanField(
        required=False,
        label="Auto-processing: place new orders with their vendors as soon as they are paid",
    )
    fulfil_when_delivered = forms.BooleanField(
        required=False, label="Mark an order fulfilled when every shipment of it is delivered"
    )
