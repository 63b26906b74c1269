"""A domain refusal shown beside the form field it is about.

Every app's views use this, so it sits below them (not in web/, which stands on the apps).
"""

from enum import StrEnum

from django import forms

from orderdesk.errors import DomainError


def show_refusal(form: forms.Form, refusal: DomainError) -> None:
    """Put the refusal's message beside the field it is about (or above the form)."""
    field = refusal.field if refusal.field in form.fields else None
    form.add_error(field, refusal.message)


class UnreadableForm(StrEnum):
    """Why Django refused to read a posted form (set on the request by web's UnreadableFormMiddleware)."""

    TOO_MANY_FILES = "too many files"
    TOO_LARGE = "too much data"
    UNREADABLE = "unreadable"
