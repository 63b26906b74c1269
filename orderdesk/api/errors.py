from orderdesk.errors import DomainError, NotFound


class ApiKeyRefused(DomainError):
    """The key cannot be made as asked (no name, an unknown scope)."""


class ApiKeyNotFound(NotFound):
    def __init__(self):
        super().__init__("That API key does not exist.")


class IdempotencyKeyReused(DomainError):
    """An Idempotency-Key already used for a different request."""
