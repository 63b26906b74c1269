"""The merchant's stores for pages of apps below stores (the Account page), without importing stores."""

from django import template

from orderdesk.stores.queries import stores_of as stores_of_merchant

register = template.Library()


@register.simple_tag
def stores_of(merchant):
    return stores_of_merchant(merchant)
