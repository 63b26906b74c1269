from allauth.account.forms import SignupForm
from django import forms

from .actions import open_shop

# The database column's size (EmailField), counted on the address as it is stored: lower-cased.
MAX_EMAIL_LENGTH = 254


class EmailAddressField(forms.CharField):
    """An address whose length is checked as it will be stored: lower-cased.

    Lower-casing can lengthen it ("İ" becomes "i" and a combining dot), so a 253-character
    address can be 255 once stored; the address rules themselves are the domain function's.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", MAX_EMAIL_LENGTH)
        super().__init__(**kwargs)

    def validate(self, value):
        super().validate(value)
        if len(value.strip().lower()) > MAX_EMAIL_LENGTH:
            raise forms.ValidationError(
                f"“{value[:40]}…” is too long: an email address has at most {MAX_EMAIL_LENGTH} characters.",
                code="too_long",
            )


class NotificationContactsForm(forms.Form):
    # Shapes only; the rules (E.164, a real address) are the domain function's.
    notification_phone = forms.CharField(
        label="Notification phone",
        required=False,
        max_length=30,
        help_text="An SMS with a link arrives here when a customer's payment is verified.",
        widget=forms.TextInput(
            attrs={"type": "tel", "autocomplete": "tel", "placeholder": "+63 917 123 4567"}
        ),
    )
    notification_email = EmailAddressField(
        label="Notification email",
        required=False,
        help_text="The order number, processing days and order details arrive here.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class InviteForm(forms.Form):
    email = EmailAddressField(
        label="Email address of the person to invite",
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    # Staff of the shop, or a person of one of its vendors (who then sees the vendor portal).
    vendor = forms.ChoiceField(label="Joins as", required=False, choices=[("", "Staff of the shop")])

    def __init__(self, *args, vendors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vendor"].choices = [("", "Staff of the shop")] + [
            (str(vendor.pk), f"A person of {vendor.name} (vendor)") for vendor in vendors
        ]
        if len(self.fields["vendor"].choices) == 1:
            # A shop without vendors invites staff only: no choice to show.
            self.fields["vendor"].widget = forms.HiddenInput()


PASSWORD_HELP = "At least 8 characters, not a common password, not only digits, not like your name or email."


class ShopSignupForm(SignupForm):
    """allauth's sign-up (email, password) plus the shop's name; saving opens the shop."""

    shop_name = forms.CharField(
        label="Shop name",
        max_length=200,
        help_text="As your customers know it; it appears on their messages and tracking page.",
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    owner_name = forms.CharField(
        label="Your name",
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    field_order = ["shop_name", "owner_name", "email", "password1"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # One line instead of Django's list of every validator.
        self.fields["password1"].help_text = PASSWORD_HELP

    def try_save(self, request):
        # The shop, its owner and the membership in one domain function, not allauth's bare user.
        membership = open_shop(
            shop_name=self.cleaned_data["shop_name"],
            owner_name=self.cleaned_data["owner_name"],
            owner_email=self.cleaned_data["email"],
            owner_password=self.cleaned_data["password1"],
        )
        return membership.user, None
