"""What a Reports page and an export are asked for: a period, a grain, a store; or a tracking filter."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone

from orderdesk.orders.models import Order
from orderdesk.stores.models import Store

from .models import Export
from .period import GRAINS, MAX_DAYS, ReportPeriod

# A new visit shows the last 30 days, by day.
DEFAULT_DAYS = 30


class ReportForm(forms.Form):
    starts_on = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    grain = forms.ChoiceField(label="By", required=False, choices=list(GRAINS.items()))
    store = forms.TypedChoiceField(label="Store", required=False, coerce=int, empty_value=None)

    def __init__(self, data=None, *, merchant, **kwargs):
        super().__init__(data, **kwargs)
        self.merchant = merchant
        stores = Store.objects.for_merchant(merchant).order_by("name", "pk").values_list("pk", "name")
        self.fields["store"].choices = [("", "All stores"), *stores]

    def clean(self):
        data = super().clean()
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        if starts_on and ends_on:
            if ends_on < starts_on:
                self.add_error("ends_on", "The last day comes before the first.")
            elif (ends_on - starts_on).days >= MAX_DAYS:
                self.add_error("ends_on", f"A report covers at most {MAX_DAYS} days.")
        return data

    def period(self) -> ReportPeriod:
        """The period asked for; the last 30 days by day for whatever is missing or unreadable."""
        today = timezone.localdate(timezone=self.merchant.zone)
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        if self.errors:
            data = {name: value for name, value in data.items() if name not in self.errors}
        ends_on = data.get("ends_on") or today
        starts_on = data.get("starts_on") or ends_on - datetime.timedelta(days=DEFAULT_DAYS - 1)
        if ends_on < starts_on or (ends_on - starts_on).days >= MAX_DAYS:
            starts_on = ends_on - datetime.timedelta(days=DEFAULT_DAYS - 1)
        return ReportPeriod(
            starts_on=starts_on,
            ends_on=ends_on,
            zone=self.merchant.zone,
            grain=data.get("grain") or "day",
            store_id=data.get("store"),
        )


class ExportForm(forms.Form):
    """Which rows to export: a report's period and store, and/or an Order Tracking tab and search."""

    kind = forms.ChoiceField(label="What", choices=Export.Kind.choices)
    file_format = forms.ChoiceField(label="Format", choices=Export.Format.choices, initial=Export.Format.CSV)
    starts_on = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    store = forms.TypedChoiceField(label="Store", required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Every status"), *Order.Status.choices]
    )
    q = forms.CharField(label="Search orders", required=False, max_length=100)

    def __init__(self, data=None, *, merchant, **kwargs):
        super().__init__(data, **kwargs)
        self.merchant = merchant
        stores = Store.objects.for_merchant(merchant).order_by("name", "pk").values_list("pk", "name")
        self.fields["store"].choices = [("", "All stores"), *stores]

    def clean(self):
        data = super().clean()
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", "The last day comes before the first.")
        return data

    def criteria(self) -> dict:
        """The filter as plain JSON (dates as ISO text), kept on a background export."""
        data = self.cleaned_data
        return {
            "starts_on": data["starts_on"].isoformat() if data.get("starts_on") else None,
            "ends_on": data["ends_on"].isoformat() if data.get("ends_on") else None,
            "store_id": data.get("store"),
            "status": data.get("status") or None,
            "search": (data.get("q") or "").strip(),
        }
