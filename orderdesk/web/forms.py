"""How forms look on every page."""

from django.forms.renderers import DjangoTemplates


class OrderdeskFormRenderer(DjangoTemplates):
    field_template_name = "web/forms/field.html"
