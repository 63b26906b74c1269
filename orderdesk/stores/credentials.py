"""Store credentials and webhook secrets, encrypted at rest with CREDENTIALS_KEY.

The Fernet key is derived from CREDENTIALS_KEY (any length of text), so operators
set one secret string; rotating it means re-entering each store's credentials.
"""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from .errors import ConnectionRefused


def _fernet() -> Fernet:
    digest = hashlib.sha256(f"orderdesk-store-credentials:{settings.CREDENTIALS_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_text(secret: str) -> str:
    """The secret as a Fernet token (text), for storing."""
    return _fernet().encrypt(secret.encode()).decode()


def decrypt_text(token: str) -> str:
    """The secret a token holds; refused when CREDENTIALS_KEY changed since it was stored."""
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as unreadable:
        raise ConnectionRefused(
            "This store's saved credentials cannot be read (CREDENTIALS_KEY changed?); enter them again."
        ) from unreadable


def encrypt_credentials(credentials: dict[str, str]) -> str:
    return encrypt_text(json.dumps(credentials, sort_keys=True))


def decrypt_credentials(token: str) -> dict[str, str]:
    text = decrypt_text(token)
    return json.loads(text) if text else {}


def hint_of(secret: str) -> str:
    """All a page ever shows of a secret: its last four characters."""
    return f"…{secret[-4:]}" if len(secret) >= 8 else "…"
