"""The one base class for refusals the domain functions raise."""


class DomainError(Exception):
    """A business rule refused an action; `message` is for the merchant to read."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        # The form field the refusal is about, so pages can show it beside that field.
        self.field = field

    def __str__(self) -> str:
        return self.message


class NotFound(DomainError):
    """The row does not exist in the actor's merchant (another merchant's rows look absent)."""
