"""How forms look on every page, and how a domain refusal lands beside its field."""

from django import forms
from django.forms.renderers import DjangoTemplates

from orderdesk.errors import DomainError


class OrderdeskFormRenderer(DjangoTemplates):
    field_template_name = "web/forms/field.html"


def show_refusal(form: forms.Form, refusal: DomainError) -> None:
    """Put the refusal's message beside the field it is about (or above the form)."""
    field = refusal.field if refusal.field in form.fields else None
    form.add_error(field, refusal.message)
