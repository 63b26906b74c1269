"""The write side of API keys: make one (the token shown once), revoke one, note its use."""

from __future__ import annotations

import datetime
import hashlib
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from orderdesk.accounts.actors import Actor
from orderdesk.accounts.permissions import Permission, ensure_can

from .errors import ApiKeyNotFound, ApiKeyRefused
from .models import ApiKey

TOKEN_PREFIX = "odk_"
MAX_NAME_LENGTH = 100
LAST_USED_PRECISION = datetime.timedelta(minutes=1)


@dataclass(frozen=True)
class CreatedApiKey:
    """The stored key and its token; the token exists only here, to be shown once."""

    api_key: ApiKey
    token: str


def token_sha256(token: str) -> str:
    """What is stored of a token: a 256-bit random token needs no slow hash."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_key(*, by: Actor, name: str, scope: str) -> CreatedApiKey:
    """Make an API key for the actor's merchant; raises NotAllowed (not the owner), ApiKeyRefused."""
    ensure_can(by, Permission.MANAGE_API_KEYS)
    name = (name or "").strip()
    if not name:
        raise ApiKeyRefused("Give the key a name, such as the tool that will use it.", field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise ApiKeyRefused(f"A key's name has at most {MAX_NAME_LENGTH} characters.", field="name")
    if scope not in ApiKey.Scope.values:
        raise ApiKeyRefused("Choose read, or read and write.", field="scope")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        merchant=by.merchant,
        name=name,
        scope=scope,
        token_prefix=token[:12],
        token_sha256=token_sha256(token),
        created_by=by.user,
    )
    return CreatedApiKey(api_key=api_key, token=token)


def revoke_api_key(api_key_id, *, by: Actor) -> ApiKey:
    """Revoke the key: every request with it is refused from now on. Raises NotAllowed, ApiKeyNotFound."""
    ensure_can(by, Permission.MANAGE_API_KEYS)
    with transaction.atomic():
        try:
            api_key = ApiKey.objects.for_merchant(by.merchant).select_for_update().get(pk=api_key_id)
        except (ApiKey.DoesNotExist, ValueError, TypeError) as missing:
            raise ApiKeyNotFound() from missing
        if api_key.revoked_at is None:
            api_key.revoked_at = timezone.now()
            api_key.save(update_fields=["revoked_at"])
    return api_key


def note_api_key_used(api_key: ApiKey) -> None:
    """Remember when the key was last used, writing at most once a minute per key."""
    now = timezone.now()
    if api_key.last_used_at is not None and now - api_key.last_used_at < LAST_USED_PRECISION:
        return
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    api_key.last_used_at = now


def actor_for_api_key(api_key: ApiKey) -> Actor:
    """The key acting for its merchant, in the role its scope gives."""
    return Actor.for_api_key(
        api_key.merchant,
        key_id=str(api_key.pk),
        label=api_key.name,
        read_write=api_key.scope == ApiKey.Scope.READ_WRITE,
    )
