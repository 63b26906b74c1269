from orderdesk.errors import DomainError


class NotAllowed(DomainError):
    """The user's role does not allow this (staff doing an owner's job)."""


class InvalidAccountDetails(DomainError):
    """A phone number or email address that is not one."""


class InvitationRefused(DomainError):
    """The person cannot be invited (already on the team)."""


class ShopRefused(DomainError):
    """A shop cannot be opened for this owner (the email already has an account, and a password was given)."""
