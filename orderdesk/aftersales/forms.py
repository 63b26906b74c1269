"""Forms check the shape of what was sent; aftersales.actions checks the rules and says why."""

from django import forms

from orderdesk.orders.forms import PhotosField
from orderdesk.photos.actions import describe_limits

from .actions import MAX_REASON_LENGTH, MAX_TEXT_LENGTH
from .models import AfterSalesCase
from .queries import ClaimableLine

# The steps of a new case, as the guide walks them.
STEPS = {1: "Type", 2: "Mode", 3: "Products", 4: "Words and photos"}
# Which step a refusal of each field sends the merchant back to.
STEP_OF_FIELD = {"type": 1, "mode": 2, "lines": 3, "text": 4, "photos": 4}


class NewCaseForm(forms.Form):
    """The four steps in one form: the steps already passed ride along as hidden inputs."""

    step = forms.IntegerField(min_value=1, max_value=4, widget=forms.HiddenInput)
    type = forms.ChoiceField(
        label="After-sales type",
        required=False,
        choices=AfterSalesCase.Type.choices,
        widget=forms.RadioSelect,
        help_text="What went wrong with this order.",
    )
    mode = forms.ChoiceField(
        label="After-sales mode",
        required=False,
        choices=AfterSalesCase.Mode.choices,
        widget=forms.RadioSelect,
        help_text="How you want it put right.",
    )
    text = forms.CharField(
        label="What happened",
        required=False,
        help_text=f"The words that prove it, up to {MAX_TEXT_LENGTH:,} characters.",
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": MAX_TEXT_LENGTH}),
    )
    photos = PhotosField(label="Photos", required=False)

    def __init__(self, *args, claimable: list[ClaimableLine], **kwargs):
        super().__init__(*args, **kwargs)
        self.claimable = claimable
        self.fields["photos"].help_text = f"You can attach {describe_limits()} (JPEG, PNG or WebP)."
        for line in claimable:
            label = line.title + (f" ({line.variant_title})" if line.variant_title else "")
            self.fields[f"qty_{line.order_line_id}"] = forms.IntegerField(
                label=label,
                required=False,
                min_value=0,
                max_value=max(line.claimable, 0),
                widget=forms.NumberInput(attrs={"min": 0, "max": line.claimable, "inputmode": "numeric"}),
            )

    def type_label(self) -> str:
        return dict(AfterSalesCase.Type.choices).get(self["type"].value() or "", "")

    def mode_label(self) -> str:
        return dict(AfterSalesCase.Mode.choices).get(self["mode"].value() or "", "")

    def chosen_products(self) -> list[str]:
        chosen = []
        for line, field in self.quantity_fields():
            try:
                quantity = int(field.value() or 0)
            except (TypeError, ValueError):
                continue
            if quantity > 0:
                chosen.append(f"{quantity} × {line.title}")
        return chosen

    def quantity_fields(self):
        return [(line, self[f"qty_{line.order_line_id}"]) for line in self.claimable]

    def quantities(self) -> dict[int, int]:
        data = getattr(self, "cleaned_data", {})
        return {
            line.order_line_id: data.get(f"qty_{line.order_line_id}") or 0
            for line in self.claimable
            if data.get(f"qty_{line.order_line_id}")
        }

    def check_step(self, step: int) -> bool:
        """The shape of the step just filled in; adds the error beside its field."""
        if not self.is_valid():
            return False
        if step >= 1 and not self.cleaned_data["type"]:
            self.add_error("type", "Choose the after-sales type.")
        elif step >= 2 and not self.cleaned_data["mode"]:
            self.add_error("mode", "Choose the after-sales mode.")
        elif step >= 3 and not self.quantities():
            self.add_error(None, "Choose at least one product and how many.")
        return not self.errors


class AcceptForm(forms.Form):
    vendor_credit = forms.CharField(
        label="Your credit to the shop",
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    resend_cost = forms.CharField(
        label="What the resend costs the shop",
        required=False,
        help_text="0 when you send it at your own cost.",
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )


class RejectForm(forms.Form):
    reason = forms.CharField(
        label="Why you reject it",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": MAX_REASON_LENGTH}),
    )


class RefundForm(forms.Form):
    amount = forms.CharField(
        label="Refunded to the customer",
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )


class ResolveForm(forms.Form):
    tell_customer = forms.BooleanField(label="Tell the customer (SMS and email)", required=False)


class CloseForm(forms.Form):
    note = forms.CharField(
        label="Note (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": MAX_REASON_LENGTH}),
    )


class MessageForm(forms.Form):
    text = forms.CharField(
        label="Message",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": MAX_TEXT_LENGTH}),
    )
    photos = PhotosField(label="Photos", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["photos"].help_text = f"You can attach {describe_limits()}."
        self.fields["photos"].widget.attrs["id"] = "id_message_photos"


class ResendShippedForm(forms.Form):
    carrier = forms.CharField(label="Courier", required=False, max_length=100)
    delivery_reference = forms.CharField(label="Delivery reference no.", required=False, max_length=100)
    expected_on = forms.DateField(
        label="Expected delivery date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
