"""What a webhook's `data` holds: the thing the event is about, as the API shows it.

An app that registers webhook events about a new kind of thing adds its renderer here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orderdesk.fulfillment.models import Fulfillment
from orderdesk.orders.models import Order

from .serializers import OrderShipmentSerializer, WebhookOrderSerializer


def _order(about_id: str, subject: Any) -> dict:
    order = subject if isinstance(subject, Order) else Order.objects.get(pk=about_id)
    return WebhookOrderSerializer(order).data


def _shipment(about_id: str, subject: Any) -> dict:
    shipment = subject if isinstance(subject, Fulfillment) else Fulfillment.objects.get(pk=about_id)
    return OrderShipmentSerializer(shipment).data


_RENDERERS: dict[str, Callable[[str, Any], dict]] = {"order": _order, "shipment": _shipment}


def render_event_data(about_type: str, about_id: str, subject: Any = None) -> dict:
    """The event's `data`; an event about a thing with no renderer carries its id alone."""
    render = _RENDERERS.get(about_type)
    if render is None:
        return {"object": about_type, "id": about_id}
    return {"object": about_type, **render(about_id, subject)}
