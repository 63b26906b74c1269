"""What the list and the order page say: due dates in words, who placed a store order, limits,
and how few queries they need."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from orderdesk.accounts.models import Membership
from orderdesk.accounts.tests.factories import MembershipFactory
from orderdesk.orders import actions
from orderdesk.orders.actions import MAX_MESSAGE_LENGTH, CustomerDetails, LineInput
from orderdesk.orders.models import Order
from orderdesk.stores.models import Store

from .factories import cancelled_order, dispatched_order, fulfilled_order, pending_order

pytestmark = pytest.mark.django_db

TRACKING = reverse("orders:tracking")


def today(owner) -> datetime.date:
    return timezone.localdate(timezone=owner.merchant.zone)


def shipping_panel(page: str, order: Order) -> str:
    row = page[page.index(f'id="order-{order.pk}"') :]
    row = row[row.index('class="panel panel-shipping"') :]
    return re.sub(r"\s+", " ", row[: row.index("</dl>")])


def test_a_pending_orders_row_says_dispatch_by_the_due_date_and_its_processing_days(owner_client, owner):
    order = pending_order(owner, processing_days=3)

    panel = shipping_panel(owner_client.get(TRACKING).content.decode(), order)

    assert f"<dt>Dispatch by</dt><dd>{order.due_on:%b %-d, %Y} <small>3 processing days</small></dd>" in panel
    assert "(3 days)" not in panel


def test_a_late_orders_row_says_how_many_days_late_it_is(owner_client, owner):
    order = pending_order(owner)
    Order.objects.filter(pk=order.pk).update(due_on=today(owner) - datetime.timedelta(days=2))
    order.refresh_from_db()

    page = owner_client.get(TRACKING).content.decode()

    assert '<span class="badge badge-late">Late</span>' in page
    assert (
        f'<div class="due is-late"><dt>Dispatch by</dt><dd>{order.due_on:%b %-d, %Y} <small>2 days late</small>'
        in shipping_panel(page, order)
    )


def test_dispatched_fulfilled_and_cancelled_rows_say_what_happened_not_a_deadline(owner_client, owner):
    dispatched, fulfilled, cancelled = dispatched_order(owner), fulfilled_order(owner), cancelled_order(owner)

    for order, said in [
        (dispatched, "<dt>Dispatched</dt><dd>{:%b %-d, %Y} <small>on time</small></dd>"),
        (fulfilled, "<dt>Fulfilled</dt><dd>{:%b %-d, %Y}</dd>"),
        (cancelled, "<dt>Cancelled</dt><dd>{:%b %-d, %Y}</dd>"),
    ]:
        panel = shipping_panel(owner_client.get(TRACKING, {"status": order.status}).content.decode(), order)
        assert said.format(today(owner)) in panel, panel
        assert "Dispatch by" not in panel and "processing day" not in panel


def test_the_order_page_of_a_cancelled_order_says_when_it_was_cancelled_and_when_it_was_due(
    owner_client, owner
):
    order = cancelled_order(owner, processing_days=2)

    page = re.sub(r"\s+", " ", owner_client.get(reverse("orders:detail", args=[order.pk])).content.decode())

    assert f"<dt>Cancelled</dt><dd>{today(owner):%b %-d, %Y}</dd>" in page
    assert f"<dt>Was due</dt><dd>{order.due_on:%b %-d, %Y}</dd>" in page
    assert "<dt>Processing time</dt><dd>2 days <small>from payment</small></dd>" in page


def test_a_store_order_is_placed_by_its_customer_through_the_store(owner_client, owner):
    shop = Store.objects.create(merchant=owner.merchant, name="Luz Shopify", channel=Store.Channel.SHOPIFY)
    from_store = pending_order(owner, store_id=shop.pk, external_id="5001")
    typed_in = pending_order(owner)

    store_page = owner_client.get(reverse("orders:detail", args=[from_store.pk])).content.decode()
    typed_page = owner_client.get(reverse("orders:detail", args=[typed_in.pk])).content.decode()

    assert '<strong>Order placed</strong> <span class="muted">by Maria Santos through Luz Shopify</span>' in (
        store_page
    )
    # Entered by hand in Orderdesk: placed by whoever entered it.
    assert f'<strong>Order placed</strong> <span class="muted">by {owner.user}</span>' in typed_page


def test_the_dispatch_form_states_the_message_limit(owner_client, owner):
    page = owner_client.get(reverse("orders:dispatch", args=[pending_order(owner).pk])).content.decode()

    assert f"Up to {MAX_MESSAGE_LENGTH:,} characters" in page
    assert 'aria-describedby="id_message_helptext"' in page


def test_the_list_buttons_return_to_the_list_they_were_opened_from(owner_client, owner):
    order = dispatched_order(owner)

    page = owner_client.get(TRACKING, {"status": "dispatched", "sort": "oldest"}).content.decode()

    back = "next=%2Forders%2F%3Fstatus%3Ddispatched%26sort%3Doldest"
    assert f'href="/orders/{order.pk}/fulfill/?{back}"' in page
    assert f'href="/orders/{order.pk}/cancel/?{back}"' in page
    assert f'href="/orders/{order.pk}/"' in page


def test_the_first_page_and_show_more_need_five_and_four_queries_for_twenty_rows(
    owner_client, owner, django_assert_num_queries
):
    for _ in range(25):
        pending_order(owner)
    first = owner_client.get(TRACKING)
    more_url = re.search(r'hx-get="(/orders/\?[^"]*after=[^"]*)"', first.content.decode())[1].replace(
        "&amp;", "&"
    )

    # Session; the user with their memberships; the page of orders, their lines; the tab counts.
    with django_assert_num_queries(5):
        assert owner_client.get(TRACKING).status_code == 200
    with django_assert_num_queries(4):
        assert owner_client.get(more_url, headers={"HX-Request": "true"}).status_code == 200


def test_the_order_page_of_an_order_with_shipments_and_events_needs_nine_queries(
    owner_client, owner, django_assert_num_queries
):
    order = dispatched_order(owner)
    actions.fulfill_order(order.pk, by=owner, remarks="Received by her sister")

    # Session; the user with their memberships; the order and its store, lines, shipments,
    # their lines and tracking events, the timeline, the messages. An order that never had an
    # after-sales case says so on its row (after_sales_case_count): its cases are not asked for.
    with django_assert_num_queries(9):
        page = owner_client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert "Received by her sister" in page


def test_what_customers_typed_is_escaped_in_the_rows_written_out_once_per_page(owner_client, owner):
    pending_order(
        owner,
        customer=CustomerDetails(name="<b>Ana</b>", phone="0917 555 0101", address="<i>x</i>"),
        lines=[
            LineInput(
                title="<script>alert(1)</script>", variant_title="<M>", quantity=1, unit_price=Decimal("9")
            )
        ],
    )

    page = owner_client.get(TRACKING).content.decode()

    assert "<script>alert(1)</script>" not in page and "<b>Ana</b>" not in page
    assert "1 × &lt;script&gt;alert(1)&lt;/script&gt; (&lt;M&gt;)</span>" in page
    assert "&lt;b&gt;Ana&lt;/b&gt;" in page


def test_a_vendor_user_sees_neither_the_order_list_nor_an_order_page(client, owner):
    # A vendor's people see only their shipments, in the vendor portal (never prices or totals).
    order = pending_order(owner)
    vendor = MembershipFactory(merchant=owner.merchant, role=Membership.Role.VENDOR_USER)
    client.force_login(vendor.user)

    page = client.get(TRACKING)
    order_page = client.get(reverse("orders:detail", args=[order.pk]))

    assert page.status_code == order_page.status_code == 403
    for shown in (page.content.decode(), order_page.content.decode()):
        assert order.reference not in shown
        assert "Only the shop&#x27;s owner and staff can see orders." in shown
