from orderdesk.errors import DomainError


class PhotoRefused(DomainError):
    """An uploaded file is not an acceptable photo; nothing was stored."""
