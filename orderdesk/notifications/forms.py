from dataclasses import dataclass

from django import forms

from .preferences import CHANNEL_VERBS, Preferences, switch_groups, switches


@dataclass(frozen=True)
class SwitchRow:
    """One topic, who hears of it, and a switch per channel: what a page shows as one row."""

    event: str
    audience: str
    # (channel label, bound field) pairs.
    switches: list[tuple[str, forms.BoundField]]

    @property
    def channels_on(self) -> list[str]:
        """The labels of the channels switched on ("SMS", "Email")."""
        return [channel for channel, field in self.switches if field.value()]


class NotificationPreferenceForm(forms.Form):
    """The merchant's switches, as the domain apps registered them (preferences.register_switches).

    Use with `preferences=preferences_for(merchant)` to show the current choices;
    `cleaned_data` maps each switch name to on or off.
    """

    def __init__(self, data=None, *, preferences: Preferences | None = None, **kwargs):
        super().__init__(data, **kwargs)
        for name, switch in switches().items():
            self.fields[name] = forms.BooleanField(
                label=switch.label,
                required=False,
                initial=preferences.is_on(name) if preferences is not None else True,
            )

    def groups(self) -> list[SwitchRow]:
        """The switches by topic, in page order, each with its channel's short label."""
        return [
            SwitchRow(
                group.when,
                group.audience_label,
                [(CHANNEL_VERBS[s.channel], self[s.name]) for s in group.switches],
            )
            for group in switch_groups()
        ]
