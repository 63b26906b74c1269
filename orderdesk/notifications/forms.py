from dataclasses import dataclass

from django import forms

from .models import NotificationPreference


@dataclass(frozen=True)
class SwitchGroup:
    """One order event, who hears of it, and a switch per channel: what a page shows as one row."""

    event: str
    audience: str
    # (channel label, bound field) pairs.
    switches: list[tuple[str, forms.BoundField]]

    @property
    def channels_on(self) -> list[str]:
        """The labels of the channels switched on ("SMS", "Email")."""
        return [channel for channel, field in self.switches if field.value()]


class NotificationPreferenceForm(forms.ModelForm):
    """The merchant's switches: which order events notify whom, on which channel.

    Use with `instance=preferences_for(merchant)` (orderdesk.notifications.actions);
    saving creates the row the first time.
    """

    # How pages group the switches; together they hold every one of NotificationPreference.SWITCHES.
    GROUPS = (
        (
            "When a payment is verified",
            "Tell me by",
            (("SMS", "merchant_sms_on_payment"), ("Email", "merchant_email_on_payment")),
        ),
        (
            "When an order is dispatched",
            "Tell the customer by",
            (("SMS", "customer_sms_on_dispatch"), ("Email", "customer_email_on_dispatch")),
        ),
        (
            "When an order is fulfilled",
            "Tell the customer by",
            (("SMS", "customer_sms_on_fulfillment"), ("Email", "customer_email_on_fulfillment")),
        ),
        (
            "When an order is cancelled",
            "Tell the customer by",
            (("SMS", "customer_sms_on_cancellation"), ("Email", "customer_email_on_cancellation")),
        ),
    )

    class Meta:
        model = NotificationPreference
        fields = list(NotificationPreference.SWITCHES)

    def groups(self) -> list[SwitchGroup]:
        """The switches by event, in page order, each with its channel's short label."""
        return [
            SwitchGroup(event, audience, [(channel, self[name]) for channel, name in switches])
            for event, audience, switches in self.GROUPS
        ]
