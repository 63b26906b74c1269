"""Forms check the shape of what was sent; the shipment actions check the rules."""

from django import forms

from orderdesk.fulfillment.actions import (
    MAX_CARRIER_LENGTH,
    MAX_REFERENCE_LENGTH,
    MAX_TEXT_LENGTH,
    MAX_TRACKING_URL_LENGTH,
)
from orderdesk.fulfillment.queries import SHIPPING_TABS


class ShipmentListForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[(status, status.label) for status in SHIPPING_TABS])
    after = forms.CharField(required=False, max_length=60)

    def choice(self) -> dict:
        """What to show; anything unreadable falls back to the first page of Pending."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {"status": data.get("status") or SHIPPING_TABS[0], "after": data.get("after") or None}


class AcceptForm(forms.Form):
    """Accept: Pending → Processing. Nothing to fill in."""


class DeliveredForm(forms.Form):
    """Delivered. Nothing to fill in."""


class InTransitForm(forms.Form):
    carrier = forms.CharField(
        label="Carrier", required=False, max_length=MAX_CARRIER_LENGTH, help_text="Who carries the parcel."
    )
    delivery_reference = forms.CharField(
        label="Tracking number", required=False, max_length=MAX_REFERENCE_LENGTH + 50
    )
    tracking_url = forms.CharField(
        label="Tracking link",
        required=False,
        max_length=MAX_TRACKING_URL_LENGTH + 50,
        help_text="The carrier's page for this parcel, if there is one (the customer sees it).",
        # A text input (the page's input style), typed with the phone's URL keyboard.
        widget=forms.TextInput(attrs={"placeholder": "https://", "inputmode": "url", "autocomplete": "url"}),
    )


class ExceptionForm(forms.Form):
    reason = forms.CharField(
        label="What went wrong",
        required=False,
        max_length=MAX_TEXT_LENGTH + 50,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CarrierFeedForm(forms.Form):
    secret = forms.CharField(
        label="AfterShip webhook secret",
        required=False,
        max_length=250,
        help_text="From AfterShip → Settings → Webhooks. Stored encrypted; never shown again.",
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )
