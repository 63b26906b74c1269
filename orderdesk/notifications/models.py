from django.db import models
from django.utils import timezone

from orderdesk.tenancy import MerchantOwned


class Notification(MerchantOwned):
    """One message in the outbox, written in the transaction of the change that causes it."""

    class Channel(models.TextChoices):
        SMS = "sms", "SMS"
        EMAIL = "email", "Email"

    class Audience(models.TextChoices):
        MERCHANT = "merchant", "Merchant"
        CUSTOMER = "customer", "Customer"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    # What caused it: the order event kind (payment_verified, dispatched, …).
    trigger = models.CharField(max_length=40)
    audience = models.CharField(max_length=10, choices=Audience.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    recipient = models.CharField(max_length=254)
    subject = models.CharField(max_length=255, blank=True)
    body = models.TextField(blank=True)
    html_body = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True)
    # One message per event and recipient, ever: a second insert fails on this key.
    idempotency_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # The delivery sweep: messages due for an attempt.
            models.Index(fields=["status", "next_attempt_at"], name="notification_due"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} to {self.recipient} ({self.trigger})"

    @property
    def trigger_label(self) -> str:
        """The order event that caused it, in words ("Payment verified")."""
        from orderdesk.orders.models import OrderEvent

        try:
            return OrderEvent.Kind(self.trigger).label
        except ValueError:
            return self.trigger


class NotificationPreference(models.Model):
    """Which order events a merchant wants told to whom, on which channel. No row: all on."""

    merchant = models.OneToOneField(
        "accounts.Merchant",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="notification_preference",
    )
    merchant_sms_on_payment = models.BooleanField("SMS me when a payment is verified", default=True)
    merchant_email_on_payment = models.BooleanField("Email me when a payment is verified", default=True)
    customer_sms_on_dispatch = models.BooleanField(
        "SMS the customer when an order is dispatched", default=True
    )
    customer_email_on_dispatch = models.BooleanField(
        "Email the customer when an order is dispatched", default=True
    )
    customer_sms_on_fulfillment = models.BooleanField(
        "SMS the customer when an order is fulfilled", default=True
    )
    customer_email_on_fulfillment = models.BooleanField(
        "Email the customer when an order is fulfilled", default=True
    )
    customer_sms_on_cancellation = models.BooleanField(
        "SMS the customer when an order is cancelled", default=True
    )
    customer_email_on_cancellation = models.BooleanField(
        "Email the customer when an order is cancelled", default=True
    )

    # Every switch, in the order forms and the admin show them.
    SWITCHES = (
        "merchant_sms_on_payment",
        "merchant_email_on_payment",
        "customer_sms_on_dispatch",
        "customer_email_on_dispatch",
        "customer_sms_on_fulfillment",
        "customer_email_on_fulfillment",
        "customer_sms_on_cancellation",
        "customer_email_on_cancellation",
    )

    def __str__(self) -> str:
        return f"Notification preferences of {self.merchant}"

    def allows(self, trigger: str, channel: str) -> bool:
        """Whether this order event is sent on this channel (events with no switch are)."""
        field = PREFERENCE_FIELDS.get((trigger, channel))
        return True if field is None else getattr(self, field)


# (order event kind, channel) → the switch that governs it.
PREFERENCE_FIELDS = {
    ("payment_verified", "sms"): "merchant_sms_on_payment",
    ("payment_verified", "email"): "merchant_email_on_payment",
    ("cod_confirmed", "sms"): "merchant_sms_on_payment",
    ("cod_confirmed", "email"): "merchant_email_on_payment",
    ("dispatched", "sms"): "customer_sms_on_dispatch",
    ("dispatched", "email"): "customer_email_on_dispatch",
    ("fulfilled", "sms"): "customer_sms_on_fulfillment",
    ("fulfilled", "email"): "customer_email_on_fulfillment",
    ("cancelled", "sms"): "customer_sms_on_cancellation",
    ("cancelled", "email"): "customer_email_on_cancellation",
}
