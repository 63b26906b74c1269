"""Who performs an action: a signed-in user of a merchant, or the system on its behalf."""

from __future__ import annotations

from dataclasses import dataclass

from orderdesk.errors import DomainError

from .errors import NotAllowed
from .models import Membership, Merchant, User


class NotAMember(DomainError):
    pass


@dataclass(frozen=True)
class Actor:
    """The merchant an action is scoped to, and who did it (None for the system)."""

    merchant: Merchant
    user: User | None = None
    # Shown in the timeline when there is no user: "Shopify sync", "Payment gateway".
    label: str = ""

    @classmethod
    def for_user(cls, user: User) -> Actor:
        """The actor for a signed-in user; refused when the user belongs to no merchant."""
        merchant = merchant_of(user)
        if merchant is None:
            raise NotAMember("This account does not belong to a merchant.")
        return cls(merchant=merchant, user=user)

    @classmethod
    def system(cls, merchant: Merchant, label: str) -> Actor:
        return cls(merchant=merchant, user=None, label=label)

    @property
    def display_name(self) -> str:
        if self.user is not None:
            return str(self.user)
        return self.label or "System"


def merchant_of(user) -> Merchant | None:
    """The merchant the user works for, or None (anonymous, or no membership)."""
    if user is None or not user.is_authenticated:
        return None
    # One query for membership and merchant together, remembered on the user object.
    if not hasattr(user, "_orderdesk_merchant"):
        membership = Membership.objects.select_related("merchant").filter(user_id=user.pk).first()
        user._orderdesk_merchant = membership.merchant if membership else None
    return user._orderdesk_merchant


def ensure_owner(by: Actor, doing: str) -> None:
    """Refuse (NotAllowed) unless the actor is an owner of its merchant; `doing` ends the message."""
    role = (
        Membership.objects.filter(user=by.user, merchant=by.merchant).values_list("role", flat=True).first()
    )
    if role != Membership.Role.OWNER:
        raise NotAllowed(f"Only the shop's owner can {doing}.")
