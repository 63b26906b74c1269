"""Sending an email notification through Django's configured email backend."""

from __future__ import annotations

import hashlib
import smtplib
from email.utils import formataddr, parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from .errors import PermanentFailure, TemporaryFailure
from .models import Notification


def message_id(notification: Notification) -> str:
    """The same Message-ID on every attempt at one notification, so mail systems can
    recognise a repeat if a timeout ever makes us send one."""
    digest = hashlib.sha256(notification.idempotency_key.encode()).hexdigest()[:32]
    domain = urlsplit(settings.SITE_URL).hostname or "orderdesk.local"
    return f"<{digest}@{domain}>"


def send_email(notification: Notification) -> str:
    """Send the notification's email (text, and HTML when it has one); returns its Message-ID."""
    merchant = notification.merchant
    _, from_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    # Customers see the shop's name as the sender. (No Reply-To: the merchant's notification
    # address may be a private inbox; a public contact address is a setting still to come.)
    from_email = (
        formataddr((merchant.name, from_address))
        if merchant is not None and notification.audience == Notification.Audience.CUSTOMER and from_address
        else settings.DEFAULT_FROM_EMAIL
    )
    identifier = message_id(notification)
    email = EmailMultiAlternatives(
        subject=notification.subject,
        body=notification.body,
        from_email=from_email,
        to=[notification.recipient],
        headers={"Message-ID": identifier},
        connection=get_connection(timeout=settings.NOTIFICATION_SEND_TIMEOUT_SECONDS),
    )
    if notification.html_body:
        email.attach_alternative(notification.html_body, "text/html")
    try:
        email.send()
    except smtplib.SMTPRecipientsRefused as refusal:
        codes = [code for code, _ in refusal.recipients.values()]
        detail = "; ".join(f"{who}: {code} {text!r}" for who, (code, text) in refusal.recipients.items())
        if codes and all(code >= 500 for code in codes):
            raise PermanentFailure(f"The mail server refused the recipient: {detail}") from refusal
        raise TemporaryFailure(f"The mail server deferred the recipient: {detail}") from refusal
    except smtplib.SMTPResponseException as refusal:
        text = f"The mail server answered {refusal.smtp_code}: {_decoded(refusal.smtp_error)}"
        if refusal.smtp_code >= 500:
            raise PermanentFailure(text) from refusal
        raise TemporaryFailure(text) from refusal
    except OSError as failure:
        # Refused connections, timeouts, dropped sessions (SMTPException is an OSError too).
        raise TemporaryFailure(f"The mail server could not be reached: {failure!r}") from failure
    return identifier


def _decoded(value) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
