from orderdesk.errors import DomainError, NotFound


class InvalidVendor(DomainError):
    """A vendor's details break a rule (no name, a name taken, a phone that is not one, …)."""


class VendorNotFound(NotFound):
    def __init__(self):
        super().__init__("That vendor does not exist.")


class InvalidHosting(DomainError):
    """Hosting refused: no product chosen, an inactive vendor, a cost that is not an amount."""
