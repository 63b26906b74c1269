from orderdesk.errors import DomainError, NotFound


class ShippingStatusRefused(DomainError):
    """The shipment's status does not allow this move."""


class InvalidShipment(DomainError):
    """The shipment's lines or details break a rule (more than was ordered, no lines, no reason, …)."""


class ShipmentNotFound(NotFound):
    def __init__(self):
        super().__init__("That shipment does not exist.")
