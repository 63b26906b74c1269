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
