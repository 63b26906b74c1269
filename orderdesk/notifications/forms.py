from django import forms

from .models import NotificationPreference


class NotificationPreferenceForm(forms.ModelForm):
    """The merchant's switches: which order events notify whom, on which channel.

    Use with `instance=preferences_for(merchant)` (orderdesk.notifications.actions);
    saving creates the row the first time.
    """

    class Meta:
        model = NotificationPreference
        fields = [
            "merchant_sms_on_payment",
            "merchant_email_on_payment",
            "customer_sms_on_dispatch",
            "customer_email_on_dispatch",
            "customer_sms_on_fulfillment",
            "customer_email_on_fulfillment",
            "customer_sms_on_cancellation",
            "customer_email_on_cancellation",
        ]
