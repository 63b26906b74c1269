"""What a vendor's shipment moves send: the customer hears of In transit (carrier, tracking
number, link) and Delivered; the merchant hears of an exception. The customer's page lists
each shipment with its status and tracking."""

import pytest
from django.urls import reverse

from orderdesk.fulfillment.models import Fulfillment
from orderdesk.notifications.actions import update_notification_preferences
from orderdesk.notifications.models import Notification
from orderdesk.notifications.sms.segments import count_segments
from orderdesk.orders.actions import move_order_shipment
from orderdesk.orders.tests.factories import pending_order
from orderdesk.orders.tests.messages import composed, messages_of

from .factories import VendorFactory, actor_of, vendor_person, vendor_shipment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("notification_settings")]
Status = Fulfillment.ShippingStatus


def two_vendor_order(owner):
    order = pending_order(owner)
    mine = vendor_shipment(
        owner, VendorFactory(merchant=owner.merchant, name="Cebu Weavers"), order=order, line_index=0
    )
    theirs = vendor_shipment(owner, VendorFactory(merchant=owner.merchant), order=order, line_index=1)
    return order, mine, theirs


def shipment_messages(order, status, channel=None):
    found = messages_of(order).filter(topic=f"shipment.{status}")
    if channel:
        found = found.filter(channel=channel)
    return [composed(notification) for notification in found]


def test_a_vendors_parcel_in_transit_tells_the_customer_the_carrier_tracking_number_and_link(owner):
    order, mine, _ = two_vendor_order(owner)
    agent = actor_of(vendor_person(mine.vendor))

    move_order_shipment(
        mine.pk,
        by=agent,
        to=Status.IN_TRANSIT,
        carrier="LBC",
        delivery_reference="LBC123",
        tracking_url="https://lbc.example/t/LBC123",
    )

    [sms] = shipment_messages(order, Status.IN_TRANSIT, Notification.Channel.SMS)
    [email] = shipment_messages(order, Status.IN_TRANSIT, Notification.Channel.EMAIL)
    assert sms.audience == email.audience == Notification.Audience.CUSTOMER
    assert sms.recipient == order.customer_phone and email.recipient == order.customer_email
    assert "with LBC, tracking no. LBC123" in sms.body and "/t/" in sms.body
    assert count_segments(sms.body) <= 2
    assert "Tracking number: LBC123" in email.body and "https://lbc.example/t/LBC123" in email.body
    assert "2 × Linen shirt" in email.body and "Canvas tote" not in email.body


def test_a_delivered_parcel_tells_the_customer_and_an_exception_tells_the_merchant(owner):
    order, mine, _ = two_vendor_order(owner)
    agent = actor_of(vendor_person(mine.vendor))
    move_order_shipment(mine.pk, by=agent, to=Status.EXCEPTION, reason="Wrong size in stock")

    [merchant_email] = shipment_messages(order, Status.EXCEPTION, Notification.Channel.EMAIL)
    assert merchant_email.audience == Notification.Audience.MERCHANT
    assert merchant_email.recipient == owner.merchant.notification_email
    assert "Wrong size in stock" in merchant_email.body and "Cebu Weavers" in merchant_email.subject
    assert shipment_messages(order, Status.EXCEPTION, Notification.Channel.SMS)[0].recipient == (
        owner.merchant.notification_phone
    )

    move_order_shipment(mine.pk, by=agent, to=Status.IN_TRANSIT, delivery_reference="LBC9")
    move_order_shipment(mine.pk, by=agent, to=Status.DELIVERED)

    [delivered] = shipment_messages(order, Status.DELIVERED, Notification.Channel.SMS)
    assert "was delivered" in delivered.body and delivered.recipient == order.customer_phone


def test_when_the_move_dispatches_the_whole_order_the_orders_own_message_says_it_once(owner):
    order = pending_order(owner)
    shipment = vendor_shipment(owner, VendorFactory(merchant=owner.merchant), order=order)

    move_order_shipment(shipment.pk, by=owner, to=Status.IN_TRANSIT, carrier="LBC", delivery_reference="LBC5")

    topics = set(messages_of(order).values_list("topic", flat=True))
    assert "order.dispatched" in topics and "shipment.in_transit" not in topics


def test_the_merchant_can_switch_shipment_messages_off(owner):
    update_notification_preferences(by=owner, customer_sms_on_shipment_in_transit=False)
    order, mine, _ = two_vendor_order(owner)

    move_order_shipment(mine.pk, by=owner, to=Status.IN_TRANSIT, delivery_reference="LBC7")

    assert [n.channel for n in shipment_messages(order, Status.IN_TRANSIT)] == [Notification.Channel.EMAIL]


def test_the_customers_page_lists_each_shipment_with_its_status_and_tracking(client, owner):
    order, mine, theirs = two_vendor_order(owner)
    move_order_shipment(
        mine.pk,
        by=owner,
        to=Status.IN_TRANSIT,
        carrier="LBC",
        delivery_reference="LBC123",
        tracking_url="https://lbc.example/t/LBC123",
    )
    order.refresh_from_db()

    page = client.get(reverse("customer_page:order", args=[order.customer_page_token])).content.decode()

    assert page.count('<h2 id="shipment-') == 2
    assert "LBC123" in page and 'href="https://lbc.example/t/LBC123"' in page
    assert "In transit" in page and "Pending" in page
    assert "In this parcel: 2 × Linen shirt" in page and "In this parcel: 1 × Canvas tote" in page
    # Nothing of the vendors or their costs reaches the customer.
    assert mine.vendor.name not in page and theirs.vendor.name not in page
