"""API keys and the idempotency records of creating POSTs."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from orderdesk.tenancy import MerchantOwned, MerchantScopedQuerySet


class ApiKey(MerchantOwned):
    """A merchant's key for the REST API. Only a SHA-256 of the token is kept; the token is shown once."""

    class Scope(models.TextChoices):
        READ = "read", "Read"
        READ_WRITE = "read_write", "Read and write"

    name = models.CharField(max_length=100)
    scope = models.CharField(max_length=20, choices=Scope.choices, default=Scope.READ)
    # The first characters of the token ("odk_AbC1…"), so the owner can tell keys apart.
    token_prefix = models.CharField(max_length=16)
    token_sha256 = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Kept to the minute: writing on every request would cost a write per read.
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.token_prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class IdempotentRequest(MerchantOwned):
    """A creating POST claimed under an Idempotency-Key, and the answer it got, to replay."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of method, path and body: the same key with another request is refused.
    request_sha256 = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # The claim: of concurrent identical POSTs only one inserts this row.
            models.UniqueConstraint(fields=["api_key", "key"], name="one_request_per_idempotency_key")
        ]

    def __str__(self) -> str:
        return self.key


class WebhookEndpoint(MerchantOwned):
    """Where a merchant wants to hear of events: a URL, the events chosen, and a signing secret.

    The secret (`whsec_…`) is shown once and kept encrypted with CREDENTIALS_KEY, like store
    credentials: signing needs it back, so it cannot be hashed.
    """

    url = models.URLField("URL", max_length=500)
    description = models.CharField(max_length=200, blank=True)
    # Names from the webhook event table (orderdesk.notifications.webhooks).
    events = models.JSONField(default=list)
    secret_encrypted = models.TextField()
    is_active = models.BooleanField(default=True)
    # Since when every attempt failed (cleared by a success); a whole day of it switches it off.
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # Publishing an event: the merchant's active endpoints, in every order action.
            models.Index(fields=["merchant", "is_active"], name="webhook_endpoint_active"),
        ]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_name: str) -> bool:
        return event_name in self.events


class WebhookAttempt(MerchantOwned):
    """One POST of a delivery (an outbox row) to its endpoint: what the endpoint answered."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="attempts")
    notification = models.ForeignKey("notifications.Notification", on_delete=models.CASCADE, related_name="+")
    attempted_at = models.DateTimeField(default=timezone.now)
    # None when no answer came (refused address, connection error, timeout).
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    succeeded = models.BooleanField(default=False)
    # The start of what the endpoint answered, or why nothing was sent.
    answer_excerpt = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-attempted_at", "-id"]
        indexes = [
            # The delivery log of one endpoint, newest first.
            models.Index(fields=["endpoint", "-attempted_at"], name="webhook_attempt_log"),
        ]

    def __str__(self) -> str:
        return f"{self.endpoint_id} at {self.attempted_at:%Y-%m-%d %H:%M:%S}: {self.status_code}"
