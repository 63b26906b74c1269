from django import forms


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
    notification_email = forms.CharField(
        label="Notification email",
        required=False,
        max_length=254,
        help_text="The order number, processing days and order details arrive here.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class InviteForm(forms.Form):
    email = forms.CharField(
        label="Email address of the person to invite",
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
