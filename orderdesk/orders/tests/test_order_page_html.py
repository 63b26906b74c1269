"""The order page's body written by order_page.py is the HTML the template engine wrote
(`orders/detail_reference.html`, the page's template before), whitespace between tags and
CSRF tokens aside, for orders of every kind and for the owner and a staff member."""

import datetime
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orderdesk.accounts.actors import Actor
from orderdesk.accounts.models import Membership
from orderdesk.accounts.tests.factories import MembershipFactory, owner_actor
from orderdesk.aftersales import actions as after_sales
from orderdesk.aftersales.actions import CaseLineInput
from orderdesk.aftersales.models import AfterSalesCase
from orderdesk.aftersales.tests.factories import shipped_order
from orderdesk.fulfillment.actions import ShipmentLine
from orderdesk.fulfillment.models import Fulfillment
from orderdesk.orders import actions, views
from orderdesk.orders.actions import CustomerDetails, LineInput
from orderdesk.photos.tests.images import jpeg_upload

from .factories import awaiting_order, cancelled_order, fulfilled_order, pending_order

pytestmark = pytest.mark.django_db

# Markup in every value a customer or a member types.
_HOSTILE = CustomerDetails(
    name='<b>O\'Neil & "Sons"</b>',
    phone="0917 555 0199",
    email="o.neil&co@example.com",
    address="<script>alert(1)</script>\nUnit 3 & 4, Cebu",
)


def _normalized(html: str) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
    html = re.sub(r'"X-CSRFToken": "[^"]*"', "", html)
    html = re.sub(r"\s+", " ", html)
    return re.sub(r">\s+<", "><", html).strip()


def _both_pages(client: Client, order_id: int, monkeypatch) -> tuple[str, str]:
    url = reverse("orders:detail", args=[order_id])
    written = client.get(url)
    assert written.status_code == 200
    render = views.render

    def render_reference(request, template, context, **options):
        return render(request, "orders/detail_reference.html", context, **options)

    with monkeypatch.context() as patched:
        patched.setattr(views, "render", render_reference)
        templated = client.get(url)
    assert templated.status_code == 200
    return _normalized(written.content.decode()), _normalized(templated.content.decode())


def _staff_of(owner: Actor) -> Actor:
    return Actor.for_user(MembershipFactory(merchant=owner.merchant, role=Membership.Role.STAFF).user)


def _orders_of_every_kind(owner: Actor) -> list[int]:
    zone = owner.merchant.zone
    in_two_days = timezone.localdate(timezone=zone) + datetime.timedelta(days=2)
    made = [
        awaiting_order(owner, customer=_HOSTILE, note='Ring twice <br> & "wait"').pk,
        pending_order(owner, processing_days=1).pk,
        pending_order(
            owner,
            discount=Decimal("50.00"),
            lines=[
                LineInput(
                    title="Tee <XL>", variant_title="Red & Blue", sku="", quantity=1, unit_price=Decimal("10")
                )
            ],
        ).pk,
        fulfilled_order(owner).pk,
        cancelled_order(owner).pk,
    ]
    # Late: due yesterday, still pending.
    late = pending_order(owner, processing_days=1)
    late.__class__.objects.filter(pk=late.pk).update(
        due_on=timezone.localdate(timezone=zone) - datetime.timedelta(days=3)
    )
    made.append(late.pk)
    # Partly dispatched: two of the merchant's shipments, one still on the shelf.
    partly = pending_order(owner)
    shirt, tote = partly.lines.order_by("pk")
    actions.ship_order_lines(
        partly.pk,
        by=owner,
        lines=[ShipmentLine(shirt.pk, 2)],
        status=Fulfillment.ShippingStatus.IN_TRANSIT,
        delivery_reference="JT-<PART>",
        expected_on=in_two_days,
    )
    actions.ship_order_lines(partly.pk, by=owner, lines=[ShipmentLine(tote.pk, 1)])
    made.append(partly.pk)
    # Dispatched with a photo and a message over two lines.
    dispatched = pending_order(owner)
    actions.dispatch_order(
        dispatched.pk,
        by=owner,
        delivery_reference="JT777",
        expected_on=in_two_days,
        photos=[jpeg_upload("box <1>.jpg")],
        message="Handle with care\n& <keep> dry",
    )
    made.append(dispatched.pk)
    # A vendor's shipment beside the merchant's, then an after-sales resend and a refund case.
    shipped = shipped_order(owner)
    after_sales.open_cases(
        shipped.order.pk,
        by=owner,
        type=AfterSalesCase.Type.PRODUCT_BROKEN,
        mode=AfterSalesCase.Mode.RESEND,
        lines=[CaseLineInput(shipped.shirt.pk, 1)],
        text="The shirt arrived torn <badly>.",
    )
    made.append(shipped.order.pk)
    with_vendor_only = shipped_order(owner, vendor_in_transit=False)
    made.append(with_vendor_only.order.pk)
    return made


def test_the_written_body_is_the_templates_html_for_every_kind_of_order_and_member(monkeypatch):
    owner = owner_actor()
    orders = _orders_of_every_kind(owner)
    for member in (owner, _staff_of(owner)):
        client = Client()
        client.force_login(member.user)
        for order_id in orders:
            written, templated = _both_pages(client, order_id, monkeypatch)
            assert written[written.index("<main") :] == templated[templated.index("<main") :], order_id
            assert written == templated, order_id


def test_what_a_customer_typed_is_escaped_once(owner_client, owner):
    order = awaiting_order(owner, customer=_HOSTILE, note='Ring twice <br> & "wait"')

    page = owner_client.get(reverse("orders:detail", args=[order.pk])).content.decode()

    assert "&lt;b&gt;O&#x27;Neil &amp; &quot;Sons&quot;&lt;/b&gt;" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>Unit 3 &amp; 4, Cebu" in page
    assert "Ring twice &lt;br&gt; &amp; &quot;wait&quot;" in page
    assert "<script>alert(1)" not in page and "&amp;lt;" not in page
