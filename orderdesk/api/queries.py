"""The read side of API keys."""

from django.db.models import QuerySet

from .actions import token_sha256
from .models import ApiKey


def api_keys_of(merchant) -> QuerySet[ApiKey]:
    """The merchant's keys, newest first, revoked ones included (the owner sees they are off)."""
    return ApiKey.objects.for_merchant(merchant).select_related("created_by")


def live_api_key(token: str) -> ApiKey | None:
    """The unrevoked key this token belongs to, with its merchant; None for any other token."""
    return (
        ApiKey.objects.select_related("merchant")
        .filter(token_sha256=token_sha256(token), revoked_at__isnull=True)
        .first()
    )
