"""The read side of stores."""

from django.db.models import QuerySet

from .models import Store


def stores_of(merchant) -> QuerySet[Store]:
    """The merchant's sales channels, by name."""
    return Store.objects.for_merchant(merchant).order_by("name")
