from django import forms

from .models import ApiKey


class ApiKeyForm(forms.Form):
    name = forms.CharField(label="Key name", max_length=100, help_text="Such as the tool that will use it.")
    scope = forms.ChoiceField(
        label="Access", choices=ApiKey.Scope.choices, initial=ApiKey.Scope.READ, widget=forms.RadioSelect
    )


def _event_choices():
    from orderdesk.notifications.webhooks import webhook_event_types

    return [
        (event_type.name, f"{event_type.name} — {event_type.label}") for event_type in webhook_event_types()
    ]


class WebhookEndpointForm(forms.Form):
    url = forms.CharField(
        label="Endpoint URL",
        max_length=500,
        help_text="Where to POST the events, such as https://example.com/hooks.",
    )
    description = forms.CharField(label="Description", max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label="Events to send", choices=_event_choices, widget=forms.CheckboxSelectMultiple
    )
