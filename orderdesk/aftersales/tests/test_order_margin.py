"""After-sales money on the order: the figures its row keeps (orders.after_sales_money), equal
to what costs_and_refunds counts from the cases, and the margin the order page and Order
Tracking show from them, to those who may see cost figures only."""

import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.aftersales import actions
from orderdesk.aftersales.actions import CaseLineInput
from orderdesk.aftersales.errors import CaseStatusRefused, InvalidCase
from orderdesk.aftersales.models import AfterSalesCase
from orderdesk.aftersales.queries import CaseMoney, costs_and_refunds
from orderdesk.api.tests.factories import api_key, client_with
from orderdesk.fulfillment.actions import add_tracking_event
from orderdesk.orders.after_sales_money import record_after_sales_money
from orderdesk.orders.models import Order
from orderdesk.vendors.tests.factories import VendorFactory

from .factories import SHIPPING_COST, UNIT_COST, shipped_order

pytestmark = pytest.mark.django_db

Mode = AfterSalesCase.Mode
# 2 × Linen shirt at 799.00 + 1 × Canvas tote at 350.50 + 120.00 shipping; the vendor charges
# 2 × (300.00 + 50.00) for the shirts.
TOTAL = Decimal("2068.50")
VENDOR_COST = 2 * (UNIT_COST + SHIPPING_COST)


def open_shirt_case(shipped, mode, quantity=1):
    (case,) = actions.open_cases(
        shipped.order.pk,
        by=shipped.owner,
        type="product_broken",
        mode=mode,
        lines=[CaseLineInput(shipped.shirt.pk, quantity)],
        text="Torn at the seam",
    )
    return case


def kept(order: Order) -> tuple:
    order.refresh_from_db()
    return (
        order.after_sales_case_count,
        order.resend_cost_total,
        order.refunded_total,
        order.vendor_credit_total,
    )


def counted(order: Order) -> tuple:
    money = costs_and_refunds([order.pk]).get(order.pk, CaseMoney())
    return (money.cases, money.resend_costs, money.customer_refunds, money.vendor_credits)


def page(client, actor, order) -> str:
    client.force_login(actor.user)
    return client.get(reverse("orders:detail", args=[order.pk])).content.decode()


def test_a_resends_cost_counts_against_the_margin(client):
    shipped = shipped_order()
    case = open_shirt_case(shipped, Mode.RESEND)

    actions.accept_case(case.pk, by=shipped.vendor_user, resend_cost="80.00")

    assert kept(shipped.order) == (1, Decimal("80.00"), Decimal("0"), Decimal("0"))
    shown = page(client, shipped.owner, shipped.order)
    assert '<dt>Resends (after-sales)</dt><dd class="num">−80.00</dd>' in shown
    assert f"PHP {TOTAL - VENDOR_COST - Decimal('80.00'):,}" in shown


def test_a_refund_to_the_customer_lowers_the_margin(client):
    shipped = shipped_order()
    case = open_shirt_case(shipped, Mode.REFUND)
    actions.accept_case(case.pk, by=shipped.vendor_user, vendor_credit="0")

    actions.record_refund(case.pk, by=shipped.owner, amount="500.00")

    assert kept(shipped.order) == (1, Decimal("0"), Decimal("500.00"), Decimal("0"))
    shown = page(client, shipped.owner, shipped.order)
    assert '<dt>Refunds to the customer</dt><dd class="num">−500.00</dd>' in shown
    assert f"PHP {TOTAL - VENDOR_COST - Decimal('500.00'):,}" in shown


def test_the_vendors_credit_raises_the_margin(client):
    shipped = shipped_order()
    case = open_shirt_case(shipped, Mode.REFUND)

    actions.accept_case(case.pk, by=shipped.vendor_user, vendor_credit="350.00")
    actions.record_refund(case.pk, by=shipped.owner, amount="799.00")

    assert kept(shipped.order) == (1, Decimal("0"), Decimal("799.00"), Decimal("350.00"))
    shown = page(client, shipped.owner, shipped.order)
    assert '<dt>Vendors\' credits</dt><dd class="num">+350.00</dd>' in shown
    margin = TOTAL - VENDOR_COST - Decimal("799.00") + Decimal("350.00")
    assert f'<div class="order-margin"><dt>Margin</dt><dd class="num">PHP {margin:,}</dd></div>' in shown
    # The vendors' section says what after-sales took off beside its cost and margin.
    assert f"<span>After-sales cost PHP {Decimal('799.00') - Decimal('350.00'):,}</span>" in shown


def test_a_rejected_or_closed_case_moves_no_money():
    shipped = shipped_order()
    rejected = open_shirt_case(shipped, Mode.REFUND)
    actions.reject_case(rejected.pk, by=shipped.vendor_user, reason="Photos show no damage")
    closed = open_shirt_case(shipped, Mode.RESEND)
    actions.close_case(closed.pk, by=shipped.owner, note="Customer found it")

    assert kept(shipped.order) == (2, Decimal("0"), Decimal("0"), Decimal("0")) == counted(shipped.order)

    # Closing an accepted case keeps what was agreed: the credit was paid.
    credited = open_shirt_case(shipped, Mode.REFUND)
    actions.accept_case(credited.pk, by=shipped.vendor_user, vendor_credit="100.00")
    actions.close_case(credited.pk, by=shipped.owner)
    assert kept(shipped.order) == (3, Decimal("0"), Decimal("0"), Decimal("100.00")) == counted(shipped.order)


def test_a_refused_step_leaves_the_kept_figures_as_they_were():
    shipped = shipped_order()
    case = open_shirt_case(shipped, Mode.REFUND)
    actions.accept_case(case.pk, by=shipped.vendor_user)
    before = kept(shipped.order)

    with pytest.raises(InvalidCase):
        actions.record_refund(case.pk, by=shipped.owner, amount=str(TOTAL + 1))
    with pytest.raises(CaseStatusRefused):
        actions.accept_case(case.pk, by=shipped.vendor_user, vendor_credit="1.00")

    assert kept(shipped.order) == before


def test_the_refund_bound_reads_the_kept_refunds():
    shipped = shipped_order()
    first, second = open_shirt_case(shipped, Mode.REFUND), open_shirt_case(shipped, Mode.REFUND)
    for case in (first, second):
        actions.accept_case(case.pk, by=shipped.vendor_user)
    actions.record_refund(first.pk, by=shipped.owner, amount="2000.00")

    with pytest.raises(InvalidCase, match=r"At most PHP 68\.50 can be refunded"):
        actions.record_refund(second.pk, by=shipped.owner, amount="68.51")


def test_the_kept_figures_only_grow():
    shipped = shipped_order()
    with transaction.atomic(), pytest.raises(ValueError, match="only grow"):
        record_after_sales_money(shipped.order, vendor_credit=Decimal("-1"))
    assert kept(shipped.order) == (0, Decimal("0"), Decimal("0"), Decimal("0"))


def test_order_tracking_rows_show_the_margin_after_after_sales(client):
    shipped = shipped_order()
    case = open_shirt_case(shipped, Mode.REFUND)
    actions.accept_case(case.pk, by=shipped.vendor_user, vendor_credit="100.00")
    actions.record_refund(case.pk, by=shipped.owner, amount="300.00")
    client.force_login(shipped.owner.user)

    rows = client.get(reverse("orders:tracking"), {"status": shipped.order.status}).content.decode()

    margin = TOTAL - VENDOR_COST - Decimal("300.00") + Decimal("100.00")
    assert f"Cost {VENDOR_COST:,} · Refunds −300.00 · Credits +100.00 · Margin" in rows
    assert f'<strong class="num">PHP {margin:,}</strong>' in rows


def test_no_vendor_user_or_customer_sees_the_after_sales_money_nor_a_key_the_orders_margin(client):
    shipped = shipped_order()
    case = open_shirt_case(shipped, Mode.REFUND)
    actions.accept_case(case.pk, by=shipped.vendor_user, vendor_credit="123.45")
    actions.record_refund(case.pk, by=shipped.owner, amount="678.90")

    client.force_login(shipped.vendor_user.user)
    answer = client.get(reverse("orders:detail", args=[shipped.order.pk]))
    assert answer.status_code in (302, 403, 404)
    assert "678.90" not in answer.content.decode()
    client.logout()
    shipped.order.refresh_from_db()
    customer_page = client.get(f"/t/{shipped.order.customer_page_token}/").content.decode()
    assert customer_page and "678.90" not in customer_page and "123.45" not in customer_page
    # A key reads each case's own figures at /api/v1/after-sales-cases; the order's margin
    # figures are not part of the order it reads.
    key_client = client_with(api_key(shipped.owner.merchant).token)
    over_the_api = key_client.get(f"/api/v1/orders/{shipped.order.pk}").json()
    assert not {"refunded_total", "vendor_credit_total", "resend_cost_total", "margin"} & set(over_the_api)


def test_a_staff_member_sees_the_breakdown_as_the_owner_does(client):
    from orderdesk.accounts.actors import Actor
    from orderdesk.accounts.models import Membership
    from orderdesk.accounts.tests.factories import MembershipFactory

    shipped = shipped_order()
    case = open_shirt_case(shipped, Mode.RESEND)
    actions.accept_case(case.pk, by=shipped.vendor_user, resend_cost="80.00")
    staff = Actor.for_user(
        MembershipFactory(merchant=shipped.owner.merchant, role=Membership.Role.STAFF).user
    )

    assert "Resends (after-sales)" in page(client, staff, shipped.order)


def test_the_migration_counts_the_figures_of_cases_opened_before_they_were_kept():
    shipped = shipped_order()
    case = open_shirt_case(shipped, Mode.REFUND)
    actions.accept_case(case.pk, by=shipped.vendor_user, vendor_credit="10.00")
    actions.record_refund(case.pk, by=shipped.owner, amount="20.00")
    Order.objects.filter(pk=shipped.order.pk).update(
        after_sales_case_count=0, refunded_total=0, vendor_credit_total=0, resend_cost_total=0
    )
    backfill = importlib.import_module(
        "orderdesk.aftersales.migrations.0002_order_after_sales_money_backfill"
    )

    backfill.count_kept_figures(apps, None)

    assert (
        kept(shipped.order) == (1, Decimal("0"), Decimal("20.00"), Decimal("10.00")) == counted(shipped.order)
    )


steps = st.lists(
    st.one_of(
        st.tuples(st.just("open"), st.sampled_from(list(Mode.values)), st.integers(1, 2), st.integers(0, 1)),
        st.tuples(st.just("accept"), st.integers(0, 5), st.integers(0, 400)),
        st.tuples(st.sampled_from(["reject", "close", "resolve"]), st.integers(0, 5), st.just(0)),
        st.tuples(st.just("refund"), st.integers(0, 5), st.integers(1, 2500)),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps)
def test_the_kept_figures_always_equal_the_recount_from_the_cases(steps):
    owner = owner_actor()
    shipped = shipped_order(owner, vendor=VendorFactory(merchant=owner.merchant))
    opened: list[AfterSalesCase] = []
    for step in steps:
        try:
            if step[0] == "open":
                _, mode, shirts, totes = step
                lines = [CaseLineInput(shipped.shirt.pk, shirts), CaseLineInput(shipped.tote.pk, totes)]
                opened += actions.open_cases(
                    shipped.order.pk, by=owner, type="other", mode=mode, lines=lines, text="Broken"
                )
            elif opened:
                case = opened[step[1] % len(opened)]
                handler = shipped.vendor_user if case.vendor_id else owner
                if step[0] == "accept":
                    credit = (
                        Decimal(step[2]) if case.vendor_id and case.mode in actions.REFUND_MODES else None
                    )
                    cost = Decimal(step[2]) if case.mode == Mode.RESEND else None
                    actions.accept_case(case.pk, by=handler, vendor_credit=credit, resend_cost=cost)
                elif step[0] == "reject":
                    actions.reject_case(case.pk, by=handler, reason="No")
                elif step[0] == "close":
                    actions.close_case(case.pk, by=owner)
                elif step[0] == "resolve":
                    actions.resolve_case(case.pk, by=owner)
                else:
                    actions.record_refund(case.pk, by=owner, amount=Decimal(step[2]))
        except (InvalidCase, CaseStatusRefused):
            pass
        assert kept(shipped.order) == counted(shipped.order)


def test_the_order_page_with_vendor_shipments_tracking_and_a_case_needs_ten_queries(
    client, django_assert_num_queries
):
    shipped = shipped_order()
    shipment = shipped.order.fulfillments.get(vendor=shipped.vendor)
    add_tracking_event(shipment.pk, by=shipped.owner, place="Manila hub", text="Arrived at the hub")
    case = open_shirt_case(shipped, Mode.REFUND)
    actions.accept_case(case.pk, by=shipped.vendor_user, vendor_credit="100.00")
    client.force_login(shipped.owner.user)
    url = reverse("orders:detail", args=[shipped.order.pk])

    # Session; the user with their memberships; the order with its store, its lines, shipments, their lines and
    # tracking events, the timeline, the messages; the cases (asked for because the row counts one).
    with django_assert_num_queries(10):
        shown = client.get(url).content.decode()

    assert f"Case #{case.pk}" in shown and "Arrived at the hub" in shown
    assert "<dt>Vendors' credits</dt>" in shown
