import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.orders.actions import CustomerDetails, LineInput
from orderdesk.orders.models import Order
from orderdesk.orders.queries import PAGE_SIZE

from .factories import cancelled_order, dispatched_order, fulfilled_order, pending_order

pytestmark = pytest.mark.django_db

TRACKING = reverse("orders:tracking")


def customer(name, phone="0917 555 0101"):
    return CustomerDetails(name=name, phone=phone, address="12 Mabini St, Makati")


def placed(minutes_ago):
    return timezone.now() - datetime.timedelta(minutes=minutes_ago)


def test_pending_is_shown_first_with_each_orders_reference_and_customer_details(owner_client, owner):
    order = pending_order(owner, customer=customer("Maria Santos"))
    elsewhere = dispatched_order(owner, customer=customer("Jose Rizal"))

    page = owner_client.get(TRACKING).content.decode()

    assert order.reference in page
    assert "Maria Santos" in page and "+639175550101" in page and "12 Mabini St, Makati" in page
    assert "Linen shirt" in page and "PHP 2,068.50" in page and "GCash" in page and "J&amp;T Express" in page
    assert elsewhere.reference not in page


def test_each_status_can_be_chosen_from_tabs_or_a_drop_down_showing_its_count(owner_client, owner):
    pending_order(owner)
    pending_order(owner)
    dispatched_order(owner)
    fulfilled_order(owner)

    page = owner_client.get(TRACKING, {"status": "dispatched"}).content.decode()

    assert '<option value="pending">Pending (2)</option>' in page
    assert '<option value="dispatched" selected>Dispatched (1)</option>' in page
    assert '<option value="fulfilled">Fulfilled (1)</option>' in page
    assert '<option value="cancelled">Cancelled (0)</option>' in page
    assert 'aria-current="page">Dispatched <span class="count">1</span>' in page


@pytest.mark.parametrize("make", [dispatched_order, fulfilled_order, cancelled_order])
def test_each_tab_lists_the_orders_in_that_status(owner_client, owner, make):
    order = make(owner)

    page = owner_client.get(TRACKING, {"status": order.status}).content.decode()

    assert order.reference in page


def test_another_merchants_orders_never_show(owner_client, owner):
    mine = pending_order(owner, customer=customer("Mine"))
    theirs = pending_order(owner_actor(), customer=customer("Theirs"))

    page = owner_client.get(TRACKING).content.decode()

    assert f'href="/orders/{mine.pk}/"' in page
    assert f'href="/orders/{theirs.pk}/"' not in page and "Theirs" not in page


@pytest.mark.parametrize(
    "search", ["OD-1002", "od-1002", "ana reyes", "0918 777 1234", "+639187771234", "7771234"]
)
def test_search_finds_an_order_by_reference_customer_name_or_phone(owner_client, owner, search):
    pending_order(owner, customer=customer("Maria Santos"))
    wanted = pending_order(owner, customer=customer("Ana Reyes", phone="0918 777 1234"))

    page = owner_client.get(TRACKING, {"q": search}).content.decode()

    assert wanted.reference == "OD-1002"
    assert f'href="/orders/{wanted.pk}/"' in page
    assert "Maria Santos" not in page
    assert '<option value="pending" selected>Pending (1)</option>' in page


def test_orders_can_be_sorted_oldest_first(owner_client, owner):
    older = pending_order(owner, placed_at=placed(60))
    newer = pending_order(owner, placed_at=placed(5))

    newest_first = owner_client.get(TRACKING).content.decode()
    oldest_first = owner_client.get(TRACKING, {"sort": "oldest"}).content.decode()

    assert newest_first.index(newer.reference) < newest_first.index(older.reference)
    assert oldest_first.index(older.reference) < oldest_first.index(newer.reference)


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_pages_follow_each_other_by_keyset_without_gaps_or_repeats_and_never_use_offset(
    owner_client, owner, sort
):
    same_moment = placed(30)
    orders = [pending_order(owner, placed_at=same_moment if n % 3 == 0 else placed(n)) for n in range(25)]

    seen, url, pages = [], TRACKING, 0
    params = {"sort": sort}
    while url:
        with CaptureQueriesContext(connection) as queries:
            response = owner_client.get(url, params)
        assert not any("OFFSET" in q["sql"].upper() for q in queries.captured_queries)
        page = response.context["page"]
        seen += [order.pk for order in page.orders]
        pages += 1
        url, params = (response.context["more_url"], None) if page.next_cursor else (None, None)

    assert pages == 2
    assert len(seen) == len(set(seen)) == 25
    expected = sorted(orders, key=lambda o: (o.placed_at, o.pk), reverse=sort == "newest")
    assert seen == [o.pk for o in expected]


def test_show_more_via_htmx_returns_only_the_next_rows(owner_client, owner):
    for n in range(PAGE_SIZE + 2):
        pending_order(owner, placed_at=placed(n))
    first = owner_client.get(TRACKING)

    more = owner_client.get(first.context["more_url"], headers={"HX-Request": "true"})

    body = more.content.decode()
    assert "<html" not in body and "status-tabs" not in body
    assert body.count('class="order-row') == 2
    assert "Show more orders" not in body


def test_show_more_bounds_the_placed_time_on_its_own_so_the_tabs_index_can_seek_to_the_cursor(
    owner_client, owner
):
    # Same-minute orders: the page break falls between ties, which the id breaks.
    for n in range(PAGE_SIZE + 3):
        pending_order(owner, placed_at=placed(n // 4))
    first = owner_client.get(TRACKING)

    with CaptureQueriesContext(connection) as captured:
        more = owner_client.get(first.context["more_url"], headers={"HX-Request": "true"})

    [page_query] = [q["sql"] for q in captured.captured_queries if 'FROM "orders_order"' in q["sql"]]
    where = page_query.split(" WHERE ", 1)[1]
    # Without a plain bound beside the OR, PostgreSQL walked every row before the cursor
    # (700,000 of a million deep in the Fulfilled tab) instead of seeking to it.
    assert '"orders_order"."placed_at" <=' in where.split(" OR ", 1)[0]
    shown = [o.reference for o in first.context["page"].orders] + [
        o.reference for o in more.context["page"].orders
    ]
    expected = list(
        Order.objects.filter(merchant=owner.merchant, status="pending")
        .order_by("-placed_at", "-id")
        .values_list("reference", flat=True)
    )
    assert shown == expected


def test_choosing_a_tab_via_htmx_returns_the_tracking_part_of_the_page_only(owner_client, owner):
    order = dispatched_order(owner)

    response = owner_client.get(TRACKING, {"status": "dispatched"}, headers={"HX-Request": "true"})

    body = response.content.decode()
    assert "<html" not in body
    assert body.lstrip().startswith('<div id="tracking"')
    assert order.reference in body


def test_a_pending_order_past_its_due_date_is_marked_late(owner_client, owner):
    late = pending_order(owner, processing_days=0)
    on_time = pending_order(owner, processing_days=3)
    Order.objects.filter(pk=late.pk).update(due_on=timezone.localdate() - datetime.timedelta(days=1))

    page = owner_client.get(TRACKING).content.decode()

    late_row = page[page.index(f'id="order-{late.pk}"') :][:600]
    on_time_row = page[page.index(f'id="order-{on_time.pk}"') :][:600]
    assert "badge-late" in late_row and ">Late<" in late_row
    assert "badge-late" not in on_time_row


def test_the_list_needs_the_same_few_queries_however_many_orders_it_shows(
    owner_client, owner, django_assert_max_num_queries
):
    for n in range(PAGE_SIZE + 5):
        pending_order(owner, placed_at=placed(n))

    # session, the user with their memberships, tab counts, the page of orders, their lines
    with django_assert_max_num_queries(5):
        response = owner_client.get(TRACKING)

    assert len(response.context["page"].orders) == PAGE_SIZE


def test_an_unreadable_status_sort_or_cursor_falls_back_to_the_first_page_of_pending(owner_client, owner):
    order = pending_order(owner)

    response = owner_client.get(TRACKING, {"status": "lost", "sort": "sideways", "after": "x.y"})

    assert response.status_code == 200
    assert order.reference in response.content.decode()


def test_order_tracking_needs_sign_in(client):
    response = client.get(TRACKING)

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


@pytest.mark.parametrize("search", ["WEB-7", "web-7"])
def test_a_whole_reference_finds_just_that_order_not_those_containing_it(owner_client, owner, search):
    wanted = pending_order(owner, reference="WEB-7")
    longer = pending_order(owner, reference="WEB-77")

    page = owner_client.get(TRACKING, {"q": search}).content.decode()

    assert f'href="/orders/{wanted.pk}/"' in page
    assert f'href="/orders/{longer.pk}/"' not in page


def test_part_of_a_reference_finds_every_order_containing_it(owner_client, owner):
    first = pending_order(owner, reference="WEB-71")
    second = pending_order(owner, reference="WEB-72")

    page = owner_client.get(TRACKING, {"q": "WEB-7"}).content.decode()

    assert f'href="/orders/{first.pk}/"' in page and f'href="/orders/{second.pk}/"' in page


def test_a_row_shows_what_the_customer_typed_as_text_and_the_placed_time_in_the_shops_time_zone(
    owner_client, owner
):
    # The rows are written by Python (orders/tracking_rows.py), not the template engine: every
    # value from a customer or a store must still be escaped, and times shown as the date filter would.
    placed_at = datetime.datetime(2026, 3, 4, 23, 5, tzinfo=datetime.UTC)
    order = pending_order(
        owner,
        customer=CustomerDetails(
            name='Ana <b>"Bold"</b> & Co', phone="0917 555 0101", address="<i>Unit 4</i>"
        ),
        lines=[
            LineInput(title="Shirt <script>", variant_title="M & L", quantity=2, unit_price=Decimal("10.00"))
        ],
        shipping_option="",
        placed_at=placed_at,
    )

    page = owner_client.get(TRACKING).content.decode()

    row = page[page.index(f'id="order-{order.pk}"') :]
    row = row[: row.index("</li>\n")]
    assert "Ana &lt;b&gt;&quot;Bold&quot;&lt;/b&gt; &amp; Co" in row and "<b>" not in row
    assert "&lt;i&gt;Unit 4&lt;/i&gt;" in row
    assert '<li><span>2 × Shirt &lt;script&gt; (M &amp; L)</span><span class="num">20.00</span></li>' in row
    assert "<dt>Courier</dt><dd>—</dd>" in row
    local = timezone.localtime(placed_at, owner.merchant.zone)
    assert f"<dt>Placed</dt><dd>{local:%b} {local.day}, {local:%H:%M}</dd>" in row
    assert f'href="/orders/{order.pk}/"' in row and "<script>" not in row
