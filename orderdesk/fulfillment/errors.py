from orderdesk.errors import DomainError


class ShippingStatusRefused(DomainError):
    """The shipment's status does not allow this move."""
