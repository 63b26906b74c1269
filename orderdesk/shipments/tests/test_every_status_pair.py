"""Every pair of shipping statuses through the portal's actions (pending, which has no button,
through the domain door): allowed exactly when SHIPPING_TRANSITIONS says so, else refused
with the shipment unchanged."""

import itertools

import pytest
from django.urls import reverse

from orderdesk.fulfillment.models import SHIPPING_TRANSITIONS, Fulfillment, TrackingEvent
from orderdesk.orders.actions import move_order_shipment

from .factories import VendorFactory, actor_of, signed_in, vendor_person, vendor_shipment

pytestmark = pytest.mark.django_db
Status = Fulfillment.ShippingStatus

# How to reach each status from a new (pending) shipment.
ROUTE = {
    Status.PENDING: [],
    Status.PROCESSING: [Status.PROCESSING],
    Status.IN_TRANSIT: [Status.IN_TRANSIT],
    Status.EXCEPTION: [Status.EXCEPTION],
    Status.DELIVERED: [Status.IN_TRANSIT, Status.DELIVERED],
}
ACTION = {
    Status.PROCESSING: ("accept", {}),
    Status.IN_TRANSIT: ("in_transit", {"carrier": "LBC", "delivery_reference": "LBC-9"}),
    Status.EXCEPTION: ("exception", {"reason": "Box crushed"}),
    Status.DELIVERED: ("delivered", {}),
}


def _reach(shipment, status, by):
    for step in ROUTE[status]:
        move_order_shipment(
            shipment.pk,
            by=by,
            to=step,
            delivery_reference="LBC-1" if step == Status.IN_TRANSIT else "",
            reason="Held" if step == Status.EXCEPTION else "",
        )


@pytest.mark.parametrize(("start", "to"), list(itertools.product(Status.values, Status.values)))
def test_each_move_of_the_portal_is_allowed_exactly_when_the_table_says(owner, start, to):
    vendor = VendorFactory(merchant=owner.merchant)
    shipment = vendor_shipment(owner, vendor)
    person = vendor_person(vendor)
    _reach(shipment, start, actor_of(person))
    events_before = TrackingEvent.objects.filter(fulfillment=shipment).count()
    allowed = to in SHIPPING_TRANSITIONS[start]

    if to == Status.PENDING:
        from orderdesk.fulfillment.errors import ShippingStatusRefused

        if allowed:
            move_order_shipment(shipment.pk, by=actor_of(person), to=to)
        else:
            with pytest.raises(ShippingStatusRefused):
                move_order_shipment(shipment.pk, by=actor_of(person), to=to)
    else:
        name, data = ACTION[to]
        response = signed_in(person).post(reverse(f"shipments:{name}", args=[shipment.pk]), data)
        assert response.status_code == (302 if allowed else 422)

    shipment.refresh_from_db()
    assert shipment.status == (to if allowed else start)
    events_after = TrackingEvent.objects.filter(fulfillment=shipment).count()
    assert events_after == events_before + (1 if allowed else 0)
