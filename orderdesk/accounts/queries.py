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


def role_of(user) -> str | None:
    """The user's role in their merchant ("owner", "staff"), or None without one."""
    try:
        return user.membership.role
    except Membership.DoesNotExist:
        return None
