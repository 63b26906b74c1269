"""The emails accounts send through the outbox: invitations (composed by the worker) and
allauth's own emails (password reset and the like, written by allauth and queued as they are)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse

from orderdesk.notifications.actions import OutgoingMessage, queue_messages
from orderdesk.notifications.errors import PermanentFailure
from orderdesk.notifications.models import Notification
from orderdesk.notifications.topics import Composed, register_topic

INVITATION = "accounts.invitation"
ACCOUNT_EMAIL = "accounts.email"


def queue_invitation(user, *, merchant, invited_by: str, vendor=None) -> list[Notification]:
    """Queue the email that invites `user` to `merchant`; the worker writes it with a fresh link."""
    return queue_messages(
        [
            OutgoingMessage(
                topic=INVITATION,
                channel=Notification.Channel.EMAIL,
                audience=Notification.Audience.MERCHANT,
                recipient=user.email,
                # Every invitation is its own message: inviting again sends the link again.
                idempotency_key=f"{INVITATION}:{user.pk}:{uuid.uuid4().hex}",
                merchant_id=merchant.pk,
                about_type="user",
                about_id=str(user.pk),
                payload={
                    "user_id": user.pk,
                    "merchant_id": merchant.pk,
                    "invited_by": invited_by,
                    # A vendor's person is told whom they ship for (the vendor portal).
                    "vendor_name": vendor.name if vendor is not None else "",
                },
            )
        ]
    )


def compose_invitation(notification: Notification) -> Composed:
    """An invitation as the worker writes it: a link to choose a password, or, for someone
    who has one already (another shop's member), word that they can act for this shop too."""
    from .actions import invitation_link
    from .models import Merchant, User

    payload = notification.payload
    try:
        user = User.objects.get(pk=payload["user_id"])
        merchant = Merchant.objects.get(pk=payload["merchant_id"])
    except (User.DoesNotExist, Merchant.DoesNotExist) as gone:
        raise PermanentFailure("The invited person or the shop no longer exists.") from gone
    context = {
        "merchant": merchant,
        "invited_by": payload.get("invited_by", ""),
        "vendor_name": payload.get("vendor_name", ""),
    }
    if user.has_usable_password():
        # They sign in as they do for their other shop; a password link would reset their password.
        template = "accounts/email/added_to_shop"
        context["link"] = f"{settings.SITE_URL}{reverse('account_login')}"
    else:
        template = "accounts/email/invitation"
        context["link"] = invitation_link(user)
    return Composed(
        subject=render_to_string(f"{template}_subject.txt", context).strip(),
        body=render_to_string(f"{template}_message.txt", context),
    )


def queue_account_email(message: EmailMessage, *, kind: str) -> list[Notification]:
    """Queue an email allauth wrote (a password reset, say), one message per recipient."""
    from .models import Membership

    html_body = next(
        (content for content, mimetype in getattr(message, "alternatives", []) if mimetype == "text/html"), ""
    )
    queued = []
    for recipient in message.to:
        merchant_id = (
            Membership.objects.filter(user__email__iexact=recipient)
            .values_list("merchant_id", flat=True)
            .first()
        )
        queued += queue_messages(
            [
                OutgoingMessage(
                    topic=ACCOUNT_EMAIL,
                    channel=Notification.Channel.EMAIL,
                    audience=Notification.Audience.MERCHANT,
                    recipient=recipient,
                    idempotency_key=f"{ACCOUNT_EMAIL}:{uuid.uuid4().hex}",
                    merchant_id=merchant_id,
                    payload={"kind": kind},
                    subject=message.subject,
                    body=message.body,
                    html_body=html_body,
                )
            ]
        )
    return queued


def register_account_messages() -> None:
    """Tell the outbox about the accounts' emails (AccountsConfig.ready)."""
    register_topic(INVITATION, label="Invitation", compose=compose_invitation)
    register_topic(ACCOUNT_EMAIL, label="Account email")
