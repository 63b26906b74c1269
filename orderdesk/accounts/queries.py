"""The read side of accounts."""

from django.db.models import QuerySet

from .models import Membership, Merchant


def team_of(merchant: Merchant) -> QuerySet[Membership]:
    """The merchant's owners, staff and vendors' people, owners first."""
    return (
        Membership.objects.filter(merchant=merchant)
        .select_related("user", "vendor")
        .order_by("role", "user__email")  # "owner" sorts before "staff", then "vendor_user"
    )


def vendors_of(merchant: Merchant) -> QuerySet:
    """The merchant's active vendors by name: whom an invitation can name."""
    # Through the membership's foreign key: vendors stand on accounts, not the other way.
    vendors = Membership._meta.get_field("vendor").related_model.objects
    return vendors.for_merchant(merchant).filter(is_active=True).order_by("name", "pk")


def memberships_of(user) -> list[Membership]:
    """The user's memberships with their merchants, in one query, by shop name (the menu's order)."""
    memberships = list(
        Membership.objects.filter(user_id=user.pk)
        .select_related("merchant", "vendor")
        .order_by("merchant__name", "pk")
    )
    for membership in memberships:
        membership.user = user
    return memberships
