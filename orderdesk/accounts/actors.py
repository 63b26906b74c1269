"""Who performs an action: for which party, in which role, and who (a user, an API key, the system).

An `Actor` is built once (per request, per job) and passed to every domain function;
`permissions.ensure_can(actor, …)` then reads its role without asking the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from orderdesk.errors import DomainError

from .models import Membership, Merchant, User
from .permissions import Permission, Role, can, ensure_can


class NotAMember(DomainError):
    """The user has no membership for the shop asked for (or none at all)."""


class PartyKind(StrEnum):
    MERCHANT = "merchant"
    # A vendor working for a merchant: sees and ships only what is allocated to it.
    VENDOR = "vendor"


@dataclass(frozen=True)
class Party:
    """Whom an actor acts for. Every party works within one merchant, whose data it is scoped to."""

    merchant: Merchant
    kind: PartyKind = PartyKind.MERCHANT
    # The vendor a vendor party is (None for the merchant itself).
    vendor_id: int | None = None

    @property
    def name(self) -> str:
        return self.merchant.name


class ActorKind(StrEnum):
    USER = "user"
    API_KEY = "api_key"
    SYSTEM = "system"


@dataclass(frozen=True)
class ApiKeyRef:
    """Which API key acted; the API issue brings the key model, this only names the key."""

    key_id: str
    label: str


@dataclass(frozen=True)
class Actor:
    """The party an action is for, the actor's role in it, and who acted."""

    party: Party
    role: Role
    user: User | None = None
    api_key: ApiKeyRef | None = None
    # Shown in the timeline when the system acts: "Shopify sync", "Payment gateway".
    label: str = ""

    @property
    def merchant(self) -> Merchant:
        """The tenant every query and change of this actor is scoped to."""
        return self.party.merchant

    @property
    def kind(self) -> ActorKind:
        if self.user is not None:
            return ActorKind.USER
        if self.api_key is not None:
            return ActorKind.API_KEY
        return ActorKind.SYSTEM

    @classmethod
    def for_membership(cls, membership: Membership) -> Actor:
        """The membership's user acting for its party in its role (no query when the merchant is loaded)."""
        if membership.vendor_id is not None:
            party = Party(membership.merchant, PartyKind.VENDOR, vendor_id=membership.vendor_id)
        else:
            party = Party(membership.merchant)
        return cls(party=party, role=Role(membership.role), user=membership.user)

    @classmethod
    def for_user(cls, user: User, *, merchant: Merchant | None = None) -> Actor:
        """The user acting through their membership of `merchant`, or their only membership.

        Raises NotAMember without one, and when the user has several and `merchant` is not given.
        """
        memberships = Membership.objects.filter(user_id=user.pk).select_related("merchant")
        if merchant is not None:
            memberships = memberships.filter(merchant=merchant)
        found = list(memberships[:2])
        if not found:
            raise NotAMember("This account does not belong to a merchant.")
        if len(found) > 1:
            raise NotAMember("This account works for several shops; choose which one it acts for.")
        found[0].user = user
        return cls.for_membership(found[0])

    @classmethod
    def for_api_key(cls, merchant: Merchant, *, key_id: str, label: str, read_write: bool) -> Actor:
        """An API key of the merchant's, read-only or read-write."""
        role = Role.READ_WRITE_KEY if read_write else Role.READ_ONLY_KEY
        return cls(party=Party(merchant), role=role, api_key=ApiKeyRef(key_id=key_id, label=label))

    @classmethod
    def system(cls, merchant: Merchant, label: str) -> Actor:
        """Orderdesk itself acting for the merchant (store sync, an operator's command)."""
        return cls(party=Party(merchant), role=Role.SYSTEM, label=label)

    def can(self, permission: Permission | str) -> bool:
        """Whether this actor's role may do this (the permission table; no query)."""
        return can(self, Permission(permission))

    def ensure_can(self, permission: Permission | str) -> None:
        """Refuse (NotAllowed) unless this actor's role may do this; lets a lower app check
        an actor it is handed without importing accounts."""
        ensure_can(self, Permission(permission))

    @property
    def display_name(self) -> str:
        if self.user is not None:
            return str(self.user)
        if self.api_key is not None:
            return f"API key “{self.api_key.label}”"
        return self.label or "System"
