from django import template

from orderdesk.money import format_money

register = template.Library()


@register.filter
def amount(value) -> str:
    """1234.5 → "1,234.50"; nothing → "—"."""
    return "—" if value is None else format_money(value)


@register.filter
def percent(value) -> str:
    return "—" if value is None else f"{value}%"


@register.filter
def days(value) -> str:
    return "—" if value is None else f"{value} d"
