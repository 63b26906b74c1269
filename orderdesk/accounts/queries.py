"""The read side of accounts."""

from django.db.models import QuerySet

from .models import Membership, Merchant


def team_of(merchant: Merchant) -> QuerySet[Membership]:
    """The merchant's owners and staff, owners first."""
    return (
        Membership.objects.filter(merchant=merchant)
        .select_related("user")
        .order_by("role", "user__email")  # "owner" sorts before "staff"
    )


def memberships_of(user) -> list[Membership]:
    """The user's memberships with their merchants, in one query, by shop name (the menu's order)."""
    memberships = list(
        Membership.objects.filter(user_id=user.pk).select_related("merchant").order_by("merchant__name", "pk")
    )
    for membership in memberships:
        membership.user = user
    return memberships
