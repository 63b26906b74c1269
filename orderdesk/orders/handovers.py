"""Who is told, inside the order's transaction, that a shipment went to the carrier with a
tracking number: apps above orders (stores pushes the tracking to the shop the order came
from) register a listener in their AppConfig.ready, and orders calls it without importing them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from orderdesk.fulfillment.models import ON_ITS_WAY

if TYPE_CHECKING:
    from orderdesk.accounts.actors import Actor
    from orderdesk.fulfillment.models import Fulfillment

    from .models import Order

HandoverListener = Callable[["Order", "Fulfillment", "Actor"], None]

_listeners: list[HandoverListener] = []


def listen_for_handovers(listener: HandoverListener) -> None:
    """Call `listener(order, shipment, by)` whenever a shipment of an order is on its way with a
    delivery reference (registering the same listener twice keeps one)."""
    if listener not in _listeners:
        _listeners.append(listener)


def announce_handover(order: Order, shipment: Fulfillment, *, by: Actor) -> None:
    """Tell the listeners, when this change left the shipment on its way with a reference.
    Called on every shipment change of an order; listeners must be idempotent per reference."""
    if shipment.status in ON_ITS_WAY and shipment.delivery_reference:
        for listener in _listeners:
            listener(order, shipment, by)
