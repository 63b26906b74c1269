"""The vendor portal: a vendor's people see and move only their vendor's shipments, with what
they need to ship and never a price; the merchant opens the same pages and acts on their behalf."""

import pytest
from django.urls import reverse

from orderdesk.fulfillment.models import Fulfillment, TrackingEvent
from orderdesk.orders.models import Order
from orderdesk.orders.tests.factories import pending_order

from .factories import VendorFactory, signed_in, vendor_person, vendor_shipment

pytestmark = pytest.mark.django_db
Status = Fulfillment.ShippingStatus


def detail_url(shipment) -> str:
    return reverse("shipments:detail", args=[shipment.pk])


def test_the_shipment_page_shows_a_vendor_what_to_ship_and_no_price_total_or_other_vendors_lines(owner):
    vendor, other_vendor = VendorFactory(merchant=owner.merchant), VendorFactory(merchant=owner.merchant)
    order = pending_order(owner)
    mine = vendor_shipment(owner, vendor, order=order, line_index=0)
    vendor_shipment(owner, other_vendor, order=order, line_index=1)
    agent = signed_in(vendor_person(vendor))

    page = agent.get(detail_url(mine)).content.decode()

    assert "Maria Santos" in page and "12 Mabini St, Makati, Metro Manila" in page
    assert order.customer_phone in page
    assert "LS-M" in page and "Linen shirt" in page and ">2</td>" in page
    # The other vendor's line, the prices, the totals: none of it.
    assert "Canvas tote" not in page and "CT-1" not in page
    for money in ("799", "350.50", "1,948", "1948", "120.00", str(order.total)):
        assert money not in page
    assert reverse("orders:detail", args=[order.pk]) not in page


def test_a_vendor_user_sees_nothing_of_another_merchant_nor_of_another_vendor_of_the_same_merchant(owner):
    from orderdesk.accounts.tests.factories import owner_actor

    vendor, other_vendor = VendorFactory(merchant=owner.merchant), VendorFactory(merchant=owner.merchant)
    mine = vendor_shipment(owner, vendor)
    same_shop_other_vendor = vendor_shipment(owner, other_vendor)
    other_owner = owner_actor()
    other_shop = vendor_shipment(other_owner, VendorFactory(merchant=other_owner.merchant))
    agent = signed_in(vendor_person(vendor))

    work_list = agent.get(reverse("shipments:list")).content.decode()

    assert detail_url(mine) in work_list
    assert detail_url(same_shop_other_vendor) not in work_list
    assert detail_url(other_shop) not in work_list
    # The list's count is theirs alone.
    assert "Pending (1)" in work_list
    for theirs in (same_shop_other_vendor, other_shop):
        assert agent.get(detail_url(theirs)).status_code == 404
        response = agent.post(reverse("shipments:accept", args=[theirs.pk]))
        assert response.status_code == 404
        theirs.refresh_from_db()
        assert theirs.status == Status.PENDING
    assert agent.get(reverse("orders:detail", args=[mine.order_id])).status_code == 403
    assert agent.get(reverse("orders:tracking")).status_code == 403


def test_a_vendors_day_accept_add_tracking_exception_delivered_and_the_order_follows(owner):
    vendor = VendorFactory(merchant=owner.merchant, name="Cebu Weavers")
    shipment = vendor_shipment(owner, vendor)
    agent = signed_in(vendor_person(vendor))

    accepted = agent.post(reverse("shipments:accept", args=[shipment.pk]), follow=True)
    assert "is accepted" in accepted.content.decode()
    shipment.refresh_from_db()
    assert shipment.status == Status.PROCESSING

    agent.post(
        reverse("shipments:in_transit", args=[shipment.pk]),
        {
            "carrier": "LBC",
            "delivery_reference": "LBC123456",
            "tracking_url": "https://lbc.example/t/LBC123456",
        },
    )
    shipment.refresh_from_db()
    assert (shipment.status, shipment.carrier, shipment.delivery_reference, shipment.tracking_url) == (
        Status.IN_TRANSIT,
        "LBC",
        "LBC123456",
        "https://lbc.example/t/LBC123456",
    )
    assert Order.objects.get(pk=shipment.order_id).status == Order.Status.DISPATCHED

    agent.post(reverse("shipments:exception", args=[shipment.pk]), {"reason": "Parcel held at customs"})
    shipment.refresh_from_db()
    assert shipment.status == Status.EXCEPTION

    agent.post(reverse("shipments:delivered", args=[shipment.pk]))
    shipment.refresh_from_db()
    assert shipment.status == Status.DELIVERED
    texts = list(TrackingEvent.objects.filter(fulfillment=shipment).values_list("status", "text"))
    assert (Status.EXCEPTION, "Parcel held at customs") in texts
    # Only the merchant's Fulfill (or its setting) makes the order Fulfilled.
    assert Order.objects.get(pk=shipment.order_id).status == Order.Status.DISPATCHED


@pytest.mark.parametrize(
    ("action", "data", "field", "message"),
    [
        (
            "in_transit",
            {"carrier": "LBC", "delivery_reference": ""},
            "delivery_reference",
            "Enter the tracking number",
        ),
        (
            "in_transit",
            {"delivery_reference": "LBC1", "tracking_url": "javascript:alert(1)"},
            "tracking_url",
            "must be a web address",
        ),
        ("exception", {"reason": "  "}, "reason", "Say what went wrong"),
        ("delivered", {}, None, "is pending, so it cannot become delivered"),
    ],
)
def test_a_refused_move_says_why_beside_the_field_keeps_what_was_typed_and_changes_nothing(
    owner, action, data, field, message
):
    vendor = VendorFactory(merchant=owner.merchant)
    shipment = vendor_shipment(owner, vendor)
    events_before = TrackingEvent.objects.count()
    agent = signed_in(vendor_person(vendor))

    response = agent.post(reverse(f"shipments:{action}", args=[shipment.pk]), data)

    page = response.content.decode()
    assert response.status_code == 422
    assert message in page
    if field:
        assert f'id="id_{field}_error"' in page
    if data.get("carrier"):
        assert f'value="{data["carrier"]}"' in page
    shipment.refresh_from_db()
    assert shipment.status == Status.PENDING
    assert TrackingEvent.objects.count() == events_before


def test_the_merchant_opens_a_vendors_shipment_and_acts_on_its_behalf_and_the_timeline_says_so(
    owner, owner_client
):
    vendor = VendorFactory(merchant=owner.merchant, name="Cebu Weavers")
    shipment = vendor_shipment(owner, vendor)

    page = owner_client.get(detail_url(shipment)).content.decode()
    assert "You act on behalf of Cebu Weavers" in page
    assert reverse("orders:detail", args=[shipment.order_id]) in page

    owner_client.post(reverse("shipments:accept", args=[shipment.pk]))

    event = TrackingEvent.objects.filter(fulfillment=shipment).latest("occurred_at", "id")
    assert event.status == Status.PROCESSING
    assert f"by {owner.display_name} on behalf of Cebu Weavers" in event.text


def test_the_work_list_pages_by_keyset_and_filters_by_status(owner):
    vendor = VendorFactory(merchant=owner.merchant)
    shipments = [vendor_shipment(owner, vendor) for _ in range(23)]
    agent = signed_in(vendor_person(vendor))

    first = agent.get(reverse("shipments:list"), {"status": "pending"})
    page = first.context["page"]
    assert [s.pk for s in page.shipments] == [s.pk for s in reversed(shipments)][:20]
    more = agent.get(reverse("shipments:list"), {"status": "pending", "after": page.next_cursor})
    assert [s.pk for s in more.context["page"].shipments] == [s.pk for s in reversed(shipments)][20:]
    assert more.context["page"].next_cursor is None
    assert agent.get(reverse("shipments:list"), {"status": "processing"}).context["page"].shipments == []


def test_the_work_list_takes_a_fixed_number_of_queries_however_many_rows(
    owner, django_assert_max_num_queries
):
    vendor = VendorFactory(merchant=owner.merchant)
    for _ in range(5):
        vendor_shipment(owner, vendor)
    agent = signed_in(vendor_person(vendor))
    agent.get(reverse("shipments:list"))  # warm the session

    # The sign-in (session, user, memberships), then the page, its lines, the counts and the
    # attention count (its two capped walks in one statement).
    with django_assert_max_num_queries(7) as few:
        agent.get(reverse("shipments:list"))
    for _ in range(15):
        vendor_shipment(owner, vendor)
    with django_assert_max_num_queries(len(few.captured_queries)):
        agent.get(reverse("shipments:list"))


def test_the_portal_pages_carry_the_security_policies_and_nothing_inline(owner, owner_client):
    from orderdesk.web.tests.test_security_headers import assert_nothing_inline, assert_policies

    vendor = VendorFactory(merchant=owner.merchant)
    shipment = vendor_shipment(owner, vendor)
    agent = signed_in(vendor_person(vendor))
    for client in (owner_client, agent):
        for path in (reverse("shipments:list"), detail_url(shipment)):
            for headers in ({}, {"HX-Request": "true"}):
                response = client.get(path, headers=headers)
                assert response.status_code == 200, path
                assert_policies(response)
                assert_nothing_inline(response)
    refused = agent.post(reverse("shipments:exception", args=[shipment.pk]), {"reason": ""})
    assert refused.status_code == 422
    assert_nothing_inline(refused)


def test_a_refused_tracking_number_is_named_as_the_field_is_labelled(owner):
    vendor = VendorFactory(merchant=owner.merchant, name="Cebu Weavers")
    shipment = vendor_shipment(owner, vendor)
    agent = signed_in(vendor_person(vendor))
    agent.post(reverse("shipments:accept", args=[shipment.pk]))

    blank = agent.post(reverse("shipments:in_transit", args=[shipment.pk]), {"carrier": "LBC"})
    too_long = agent.post(
        reverse("shipments:in_transit", args=[shipment.pk]),
        {"carrier": "LBC", "delivery_reference": "9" * 120},
    )

    assert blank.status_code == 422
    page = blank.content.decode()
    assert "Tracking number" in page and "Enter the tracking number." in page
    assert "delivery reference" not in page
    assert "A tracking number has at most 100 characters." in too_long.content.decode()
    shipment.refresh_from_db()
    assert (shipment.status, shipment.delivery_reference) == (Status.PROCESSING, "")
