from django.db import models
from django.utils import timezone

from orderdesk.tenancy import MerchantScopedQuerySet


class Notification(models.Model):
    """One message in the outbox, written in the transaction of the change that causes it.

    It holds what its topic's composer needs (`payload`); the worker composes the text
    when it first sends it. A message queued with its text already written (an account
    email, say) is sent as it is.
    """

    class Channel(models.TextChoices):
        SMS = "sms", "SMS"
        EMAIL = "email", "Email"
        # Sent by the app that registered a sender for the channel (see topics.register_sender):
        # a signed POST to a merchant's endpoint, or a call to the merchant's own store.
        WEBHOOK = "webhook", "Webhook"
        STORE = "store", "Store"

    class Audience(models.TextChoices):
        MERCHANT = "merchant", "Merchant"
        CUSTOMER = "customer", "Customer"
        VENDOR = "vendor", "Vendor"
        ENDPOINT = "endpoint", "Endpoint"
        STORE = "store", "Store"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    # Null only for a person who belongs to no shop (an operator's password reset).
    merchant = models.ForeignKey(
        "accounts.Merchant", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # What kind of message, as its domain app registered it ("order.dispatched").
    topic = models.CharField(max_length=60)
    # What it is about, by reference: the outbox knows no domain model ("order", "42").
    about_type = models.CharField(max_length=40, blank=True)
    about_id = models.CharField(max_length=64, blank=True)
    # What the topic's composer needs to write the text (ids, the event's kind).
    payload = models.JSONField(default=dict, blank=True)
    audience = models.CharField(max_length=10, choices=Audience.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    recipient = models.CharField(max_length=254)
    subject = models.CharField(max_length=255, blank=True)
    body = models.TextField(blank=True)
    html_body = models.TextField(blank=True)
    # When the text was written: at the first attempt, or at queueing for pre-written messages.
    composed_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True)
    # One message per event and recipient, ever: a second insert is skipped on this key.
    idempotency_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # The delivery sweep: messages due for an attempt.
            models.Index(fields=["status", "next_attempt_at"], name="notification_due"),
            # A page's message list: notifications_about(merchant, "order", id).
            models.Index(fields=["about_type", "about_id", "created_at"], name="notification_about"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} to {self.recipient} ({self.topic})"

    @property
    def can_be_resent(self) -> bool:
        """Only a failed message can be resent; the others are on their way or sent."""
        return self.status == self.Status.FAILED

    @property
    def topic_label(self) -> str:
        """What caused it, in words ("Payment verified"), as its topic was registered."""
        from .topics import topic_of

        registered = topic_of(self.topic)
        return registered.label if registered else self.topic

    @property
    def page(self) -> str:
        """The path of the page that lists this message (its order's page, say), or ""."""
        from .topics import topic_of

        registered = topic_of(self.topic)
        return registered.page(self) if registered and registered.page else ""


class NotificationPreference(models.Model):
    """A merchant's choice for one kind of message: topic × channel × audience. No row: on."""

    merchant = models.ForeignKey(
        "accounts.Merchant", on_delete=models.CASCADE, related_name="notification_preferences"
    )
    topic = models.CharField(max_length=60)
    channel = models.CharField(max_length=10, choices=Notification.Channel.choices)
    audience = models.CharField(max_length=10, choices=Notification.Audience.choices)
    enabled = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "topic", "channel", "audience"], name="one_preference_per_kind"
            )
        ]

    def __str__(self) -> str:
        state = "on" if self.enabled else "off"
        return f"{self.merchant}: {self.topic} {self.channel} to {self.audience} {state}"
