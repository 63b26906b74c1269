"""Who calls the API: `Authorization: Bearer odk_…`, checked against the stored hashes on every request."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from .actions import actor_for_api_key, note_api_key_used
from .models import ApiKey
from .queries import live_api_key


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """A live key of a merchant; sets `request.actor`. A revoked key is refused at once (no cache)."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        token = token.strip()
        api_key = live_api_key(token) if token else None
        if api_key is None:
            raise exceptions.AuthenticationFailed("That API key is not valid, or it was revoked.")
        note_api_key_used(api_key)
        request._request.actor = actor_for_api_key(api_key)
        return AnonymousUser(), api_key

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class HasApiKey(permissions.BasePermission):
    """Every API endpoint needs a key; the domain functions check what the key's role may do."""

    message = "Send an API key: Authorization: Bearer <key>."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, ApiKey)


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An API key from the Account page."}
