"""Who may do what: one table of roles × permissions, read by `ensure_can`.

Every domain function that changes something checks the actor it is given here,
and views check the same table through `access.permission_required`. The actor
carries its role, so a check reads this table and asks the database nothing.
"""

from __future__ import annotations

from typing import Protocol

from django.db import models

from .errors import NotAllowed


class Role(models.TextChoices):
    """What the actor is to its party: a person's membership, an API key's kind, or the system."""

    OWNER = "owner", "Owner"
    STAFF = "staff", "Staff"
    VENDOR_USER = "vendor_user", "Vendor user"
    READ_ONLY_KEY = "read_only_key", "Read-only API key"
    READ_WRITE_KEY = "read_write_key", "Read-write API key"
    # Store sync, the payment gateway, an operator's command: acting for the merchant.
    SYSTEM = "system", "System"


class Permission(models.TextChoices):
    """One thing an actor may be allowed to do; the label ends "Only the shop's owner can …"."""

    VIEW_ORDERS = "view_orders", "see orders"
    RECORD_ORDERS = "record_orders", "record orders"
    VERIFY_PAYMENTS = "verify_payments", "verify payments"
    DISPATCH_ORDERS = "dispatch_orders", "dispatch orders"
    FULFILL_ORDERS = "fulfill_orders", "mark orders fulfilled"
    CANCEL_ORDERS = "cancel_orders", "cancel orders"
    UPDATE_SHIPMENTS = "update_shipments", "update shipments and their tracking"
    VIEW_SHIPMENTS = "view_shipments", "see shipments"
    PLACE_WITH_VENDORS = "place_with_vendors", "place orders with vendors"
    RESEND_NOTIFICATIONS = "resend_notifications", "resend messages"
    VIEW_ACCOUNT = "view_account", "open the shop's Account page"
    MANAGE_NOTIFICATION_CONTACTS = "manage_notification_contacts", "change where notifications go"
    CHOOSE_NOTIFICATIONS = "choose_notifications", "choose which notifications are sent"
    INVITE_PEOPLE = "invite_people", "invite people"
    MANAGE_STORES = "manage_stores", "manage stores"
    MANAGE_VENDORS = "manage_vendors", "manage vendors"
    MANAGE_API_KEYS = "manage_api_keys", "manage API keys"
    MANAGE_WEBHOOKS = "manage_webhooks", "manage webhook endpoints"
    VIEW_REPORTS = "view_reports", "see sales and cost reports"
    # After-sales: a vendor user sees and answers only its vendor's cases (aftersales.queries),
    # never the order's prices nor the refund to the customer.
    VIEW_AFTER_SALES = "view_after_sales", "see after-sales cases"
    MANAGE_AFTER_SALES = "manage_after_sales", "open, resolve and close after-sales cases and record refunds"
    ANSWER_AFTER_SALES = "answer_after_sales", "accept or reject after-sales cases"


_AFTER_SALES_WORK = {
    Permission.VIEW_AFTER_SALES,
    Permission.MANAGE_AFTER_SALES,
    Permission.ANSWER_AFTER_SALES,
}

_ORDER_WORK = {
    *_AFTER_SALES_WORK,
    Permission.VIEW_ORDERS,
    Permission.RECORD_ORDERS,
    Permission.VERIFY_PAYMENTS,
    Permission.DISPATCH_ORDERS,
    Permission.FULFILL_ORDERS,
    Permission.CANCEL_ORDERS,
    Permission.UPDATE_SHIPMENTS,
    Permission.VIEW_SHIPMENTS,
    Permission.PLACE_WITH_VENDORS,
}

# Owners run the shop: settings, people, stores, vendors and keys. Staff do the daily order
# work and review the reports with the owner. A vendor user sees and ships only the shipments
# allocated to its vendor (the vendor portal): never the merchant's orders, prices, totals or
# margin. Keys and the system work on orders but never change who may do what, and never read
# the shop's sales and cost figures.
ALLOWED: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.STAFF: frozenset(
        _ORDER_WORK | {Permission.RESEND_NOTIFICATIONS, Permission.VIEW_ACCOUNT, Permission.VIEW_REPORTS}
    ),
    Role.VENDOR_USER: frozenset(
        {
            Permission.VIEW_SHIPMENTS,
            Permission.UPDATE_SHIPMENTS,
            Permission.VIEW_AFTER_SALES,
            Permission.ANSWER_AFTER_SALES,
        }
    ),
    Role.READ_ONLY_KEY: frozenset(
        {Permission.VIEW_ORDERS, Permission.VIEW_SHIPMENTS, Permission.VIEW_AFTER_SALES}
    ),
    # A read-write key (made by the owner) also keeps the vendors and hosting, as the owner does.
    Role.READ_WRITE_KEY: frozenset(_ORDER_WORK | {Permission.MANAGE_VENDORS}),
    Role.SYSTEM: frozenset(_ORDER_WORK | {Permission.RESEND_NOTIFICATIONS}),
}

_PEOPLE = (Role.OWNER, Role.STAFF, Role.VENDOR_USER)
_WHO = {
    (Role.OWNER,): "the shop's owner",
    (Role.OWNER, Role.STAFF): "the shop's owner and staff",
    (Role.OWNER, Role.STAFF, Role.VENDOR_USER): "the shop's people",
}
_AS_SUBJECT = {
    Role.READ_ONLY_KEY: "A read-only API key",
    Role.READ_WRITE_KEY: "A read-write API key",
    Role.SYSTEM: "The system",
    Role.VENDOR_USER: "A vendor user",
    Role.STAFF: "Staff",
    Role.OWNER: "The owner",
}


class HasRole(Protocol):
    role: str


def can(actor: HasRole, permission: Permission) -> bool:
    """Whether the actor's role may do this; reads the table only."""
    return permission in ALLOWED[Role(actor.role)]


def ensure_can(actor: HasRole, permission: Permission) -> None:
    """Refuse (NotAllowed, with a message the person can read) unless the actor's role may do this."""
    if not can(actor, permission):
        raise NotAllowed(refusal_message(Role(actor.role), permission))


def refusal_message(role: Role, permission: Permission) -> str:
    """ "Only the shop's owner can invite people." for a person; "A read-only API key cannot …" otherwise."""
    allowed_people = tuple(person for person in _PEOPLE if permission in ALLOWED[person])
    if role in _PEOPLE and allowed_people in _WHO:
        return f"Only {_WHO[allowed_people]} can {permission.label}."
    return f"{_AS_SUBJECT[role]} cannot {permission.label}."
