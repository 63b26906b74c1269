from orderdesk.errors import DomainError, NotFound


class OrderNotFound(NotFound):
    def __init__(self):
        super().__init__("That order does not exist.")


class TransitionRefused(DomainError):
    """The order's status does not allow this action (perhaps someone else just changed it)."""


class InvalidOrder(DomainError):
    """The order's details break a rule (no lines, a negative price, a bad phone number, …)."""


class DuplicateOrder(DomainError):
    """The store order was already recorded, or the reference is taken."""

    def __init__(self, message: str, *, existing_order_id: int | None = None, field=None):
        super().__init__(message, field=field)
        self.existing_order_id = existing_order_id
