from orderdesk.errors import DomainError, NotFound


class StoreNotFound(NotFound):
    def __init__(self):
        super().__init__("That store does not exist.")


class InvalidStoreDetails(DomainError):
    """A connection's details break a rule (no token, a bad domain, a name in use)."""


class ConnectionRefused(DomainError):
    """The store refused our credentials (401/403), or they cannot be read."""


class StoreUnreachable(DomainError):
    """The store's API did not answer usefully (timeout, 5xx, a malformed reply)."""


class RequestRefused(StoreUnreachable):
    """The store answered a request with a 4xx other than 401/403/429: asking again will not help."""


class MalformedStoreOrder(DomainError):
    """One order from the store lacks what Orderdesk needs; the rest of the batch goes on."""


class SyncRefused(DomainError):
    """The store cannot sync now (paused, removed, a CSV store)."""


class TrackingRefused(DomainError):
    """The store would not take a shipment's tracking (no such order, nothing left to fulfill)."""


class NothingToDismiss(DomainError):
    """The order has no flagged store change (any more)."""
