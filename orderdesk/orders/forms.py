"""Forms check the shape of what was sent; the domain functions in actions.py check the rules.

So required-ness, dates in the past, photo limits and the order's status are left to
them, and their messages (DomainError) are what the merchant reads.
"""

import datetime

from django import forms
from django.conf import settings

from orderdesk.photos.actions import describe_limits, format_bytes

from .actions import MAX_MESSAGE_LENGTH, MAX_REASON_LENGTH, MAX_REFERENCE_LENGTH
from .models import Order
from .queries import TRACKING_TABS

PHOTO_TYPES = "image/jpeg,image/png,image/webp"


class TrackingFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="Status",
        required=False,
        # Awaiting payment is no tab, but its orders are one link away (to verify their payment).
        choices=[(status, status.label) for status in [*TRACKING_TABS, Order.Status.AWAITING_PAYMENT]],
    )
    q = forms.CharField(label="Search orders", required=False, max_length=100)
    sort = forms.ChoiceField(
        label="Sort", required=False, choices=[("newest", "Newest first"), ("oldest", "Oldest first")]
    )
    after = forms.CharField(required=False, max_length=60)

    def choice(self) -> dict:
        """What to show; anything unreadable falls back to the first page of Pending, newest first."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "status": data.get("status") or TRACKING_TABS[0],
            "search": (data.get("q") or "").strip(),
            "sort": data.get("sort") or "newest",
            "after": data.get("after") or None,
        }


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several files from one input; what they may be is prepare_photos' call."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget",
            MultiplePhotoInput(
                attrs={
                    "accept": PHOTO_TYPES,
                    # Read by app.js to refuse too many or too large files before they are sent.
                    "data-max-files": settings.PHOTO_MAX_FILES,
                    "data-max-bytes": settings.PHOTO_MAX_BYTES,
                    "data-limits-text": describe_limits(),
                    "data-max-size-text": format_bytes(settings.PHOTO_MAX_BYTES),
                    # Chosen files survive an htmx re-render of the form after a refusal.
                    "hx-preserve": "true",
                }
            ),
        )
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        return [upload for upload in files if upload]


class DispatchForm(forms.Form):
    delivery_reference = forms.CharField(
        label="Delivery reference no.",
        required=False,
        help_text="The number the courier gave you for this parcel.",
        # The browser stops typing at the limit; dispatch_order says so if it is passed anyway.
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "maxlength": MAX_REFERENCE_LENGTH}
        ),
    )
    expected_on = forms.DateField(
        label="Expected delivery date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    photos = PhotosField(label="Photos of the parcel", required=False)
    message = forms.CharField(
        label="Message to the customer (optional)",
        required=False,
        help_text=f"Up to {MAX_MESSAGE_LENGTH:,} characters.",
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": MAX_MESSAGE_LENGTH}),
    )

    def __init__(self, *args, today: datetime.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["expected_on"].widget.attrs["min"] = today.isoformat()
        self.fields["photos"].help_text = f"You can attach {describe_limits()} (JPEG, PNG or WebP)."


class FulfillForm(forms.Form):
    remarks = forms.CharField(
        label="Remarks (optional)",
        required=False,
        widget=forms.Textarea(
            attrs={
                "rows": 3,
                "maxlength": MAX_MESSAGE_LENGTH,
                "placeholder": "e.g. Received by the customer's sister",
            }
        ),
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Reason for cancelling",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": MAX_REASON_LENGTH}),
    )


class VerifyPaymentForm(forms.Form):
    """Nothing to fill in: the merchant confirms the payment (or cash on delivery) arrived."""
