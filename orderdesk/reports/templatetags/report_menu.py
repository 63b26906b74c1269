from django import template

from orderdesk.accounts.permissions import Permission, can

register = template.Library()


@register.filter
def may_see_reports(actor) -> bool:
    """Whether the menu offers Reports to this actor (the permission table's answer)."""
    return actor is not None and can(actor, Permission.VIEW_REPORTS)
