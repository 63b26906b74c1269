from django import forms

from .models import NotificationPreference


class NotificationPreferenceForm(forms.ModelForm):
    """The merchant's switches: which order events notify whom, on which channel.

    Use with `instance=preferences_for(merchant)` (orderdesk.notifications.actions);
    saving creates the row the first time.
    """

    class Meta:
        model = NotificationPreference
        fields = list(NotificationPreference.SWITCHES)
