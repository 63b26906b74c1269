"""The write side of accounts: opening a shop, where notifications go, and who joins the shop."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from orderdesk.customers.phones import normalize_phone

from .actors import Actor
from .errors import InvalidAccountDetails, InvitationRefused, ShopRefused
from .messages import queue_invitation
from .models import Membership, Merchant, User
from .permissions import Permission, ensure_can


def update_notification_contacts(*, by: Actor, phone: str, email: str) -> Merchant:
    """Set the phone (E.164) and email that hear of each paid order; owners only.

    Either may be blank (no SMS, no email). Raises NotAllowed, InvalidAccountDetails.
    """
    ensure_can(by, Permission.MANAGE_NOTIFICATION_CONTACTS)
    phone = (phone or "").strip()
    if phone:
        try:
            phone = normalize_phone(phone)
        except ValueError as refusal:
            raise InvalidAccountDetails(str(refusal), field="notification_phone") from refusal
    email = _checked_email(email, field="notification_email")
    with transaction.atomic():
        merchant = Merchant.objects.select_for_update().get(pk=by.merchant.pk)
        merchant.notification_phone = phone
        merchant.notification_email = email
        merchant.save(update_fields=["notification_phone", "notification_email"])
    return merchant


def update_processing_settings(*, by: Actor, auto_processing: bool, fulfil_when_delivered: bool) -> Merchant:
    """Turn auto-processing (allocate to vendors as orders enter Order Tracking) and fulfilling
    when every shipment is delivered on or off; owners only. Raises NotAllowed."""
    ensure_can(by, Permission.MANAGE_VENDORS)
    with transaction.atomic():
        merchant = Merchant.objects.select_for_update().get(pk=by.merchant.pk)
        merchant.auto_processing = bool(auto_processing)
        merchant.fulfil_when_delivered = bool(fulfil_when_delivered)
        merchant.save(update_fields=["auto_processing", "fulfil_when_delivered"])
    return merchant


def invite_staff_member(email: str, *, by: Actor, vendor_id: int | None = None) -> User:
    """Add a person to the actor's shop and email them; owners only.

    Without `vendor_id` they join as staff; with it, as a vendor user of that vendor of the
    shop (they see and ship only what is allocated to it, in the vendor portal). Someone new
    gets a link to choose a password; someone who already has an account (with another
    shop, say) is told they can now act for this shop too. Inviting someone who has not
    accepted yet sends the link again (for the role and vendor of this invitation). Raises
    NotAllowed, InvalidAccountDetails (no such vendor, an inactive one), InvitationRefused
    (already on the team). The email is queued in the outbox, written by the worker and
    retried while the mail server is down.
    """
    ensure_can(by, Permission.INVITE_PEOPLE)
    email = _checked_email(email, field="email")
    if not email:
        raise InvalidAccountDetails("Enter the email address of the person to invite.", field="email")
    vendor = _vendor_to_join(by, vendor_id)
    role = Membership.Role.VENDOR_USER if vendor is not None else Membership.Role.STAFF
    with transaction.atomic():
        user = User.objects.select_for_update().filter(email__iexact=email).first()
        if user is None:
            user = User(email=email)
            user.set_unusable_password()
            user.save()
        membership, joined = Membership.objects.get_or_create(
            user=user, merchant=by.merchant, defaults={"role": role, "vendor": vendor}
        )
        if not joined and user.has_usable_password():
            raise InvitationRefused(f"{email} is already on your team.", field="email")
        if not joined and (membership.role, membership.vendor_id) != (role, vendor_id):
            # Not accepted yet: this invitation replaces the one before.
            if membership.role == Membership.Role.OWNER:
                raise InvitationRefused(f"{email} is already on your team.", field="email")
            membership.role, membership.vendor = role, vendor
            membership.save(update_fields=["role", "vendor"])
        queue_invitation(user, merchant=by.merchant, invited_by=by.display_name, vendor=vendor)
    return user


def _vendor_to_join(by: Actor, vendor_id: int | None):
    """The shop's active vendor an invitation names, or None (staff)."""
    if vendor_id in (None, ""):
        return None
    # Through the membership's foreign key: vendors stand on accounts, not the other way.
    vendors = Membership._meta.get_field("vendor").related_model.objects.for_merchant(by.merchant)
    try:
        vendor = vendors.get(pk=vendor_id)
    except (ObjectDoesNotExist, ValueError, TypeError) as missing:
        raise InvalidAccountDetails("That vendor does not exist.", field="vendor") from missing
    if not vendor.is_active:
        raise InvalidAccountDetails(
            f"{vendor.name} is not active; make it active before inviting its people.", field="vendor"
        )
    return vendor


def invitation_link(user: User) -> str:
    """The absolute link where an invited person chooses a password; it works once."""
    path = reverse(
        "accounts:accept_invitation",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return f"{settings.SITE_URL}{path}"


def open_shop(
    *, shop_name: str, owner_email: str, owner_password: str | None = None, owner_name: str = ""
) -> Membership:
    """Create a shop (a Merchant) and its owner's membership; returns the membership.

    A new email becomes a user with `owner_password`, or, without one, a user who chooses
    a password by `invitation_link`. An email that already has an account becomes the owner
    of one more shop, its password unchanged; giving a password for it is refused (opening a
    shop never sets another person's password). Paid-order emails go to the owner's address
    until they change it. Raises InvalidAccountDetails, ShopRefused.
    """
    shop_name = " ".join((shop_name or "").split())
    if not shop_name:
        raise InvalidAccountDetails("Enter the shop's name.", field="shop_name")
    if len(shop_name) > Merchant._meta.get_field("name").max_length:
        raise InvalidAccountDetails("A shop's name has at most 200 characters.", field="shop_name")
    email = _checked_email(owner_email, field="email")
    if not email:
        raise InvalidAccountDetails("Enter the owner's email address.", field="email")
    first_name, _, last_name = " ".join((owner_name or "").split()).partition(" ")
    with transaction.atomic():
        owner = User.objects.select_for_update().filter(email__iexact=email).first()
        if owner is not None and owner_password is not None:
            raise ShopRefused(f"{email} already has an Orderdesk account; sign in with it.", field="email")
        if owner is None:
            owner = User(email=email, first_name=first_name[:150], last_name=last_name[:150])
            if owner_password is None:
                owner.set_unusable_password()
            else:
                try:
                    validate_password(owner_password, owner)
                except ValidationError as refusal:
                    raise InvalidAccountDetails(" ".join(refusal.messages), field="password1") from refusal
                owner.set_password(owner_password)
            owner.save()
        merchant = Merchant.objects.create(
            name=shop_name, short_name=sms_sender_name(shop_name), notification_email=email
        )
        return Membership.objects.create(user=owner, merchant=merchant, role=Membership.Role.OWNER)


def sms_sender_name(shop_name: str) -> str:
    """The shop's SMS sender name: its leading words, letters and digits only, at most 11 characters."""
    name = ""
    for word in re.findall(r"[^\W_]+", shop_name):
        candidate = f"{name} {word}".strip()
        if len(candidate) > 11:
            break
        name = candidate
    return name or "".join(re.findall(r"[^\W_]+", shop_name))[:11] or "Orderdesk"


def _checked_email(email: str, *, field: str) -> str:
    email = (email or "").strip().lower()
    if email:
        try:
            validate_email(email)
        except ValidationError as refusal:
            raise InvalidAccountDetails(f"“{email}” is not an email address.", field=field) from refusal
    return email
