from django import forms

from .models import ApiKey


class ApiKeyForm(forms.Form):
    name = forms.CharField(label="Key name", max_length=100, help_text="Such as the tool that will use it.")
    scope = forms.ChoiceField(
        label="Access", choices=ApiKey.Scope.choices, initial=ApiKey.Scope.READ, widget=forms.RadioSelect
    )
