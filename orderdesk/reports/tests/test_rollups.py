"""The daily roll-ups follow the order actions on their next refresh, day by day, merchant by merchant."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from orderdesk.accounts.tests.factories import MerchantFactory, owner_actor
from orderdesk.orders import actions
from orderdesk.orders.tests.factories import pending_order
from orderdesk.reports.figures import build_report
from orderdesk.reports.models import DailyOrderFigures
from orderdesk.reports.period import ReportPeriod
from orderdesk.reports.rollups import recount_differences, refresh_order_figures

pytestmark = pytest.mark.django_db


def today_period(merchant) -> ReportPeriod:
    today = timezone.localdate(timezone=merchant.zone)
    return ReportPeriod(starts_on=today, ends_on=today, zone=merchant.zone)


def test_a_refresh_takes_in_the_orders_changed_since_the_last_one():
    owner = owner_actor()
    merchant = owner.merchant
    first = pending_order(owner)
    assert refresh_order_figures(merchant).full is True
    assert build_report(merchant, today_period(merchant)).orders == 1

    second = pending_order(owner)
    actions.cancel_order(first.pk, by=owner, reason="Out of stock")
    outcome = refresh_order_figures(merchant)

    report = build_report(merchant, today_period(merchant))
    assert outcome.full is False and outcome.days_rebuilt == 1
    assert report.orders == 1
    assert report.revenue == second.total
    assert {row.key: row.count for row in report.statuses if row.count} == {"pending": 1, "cancelled": 1}
    assert recount_differences(merchant) == []


def test_a_recount_names_a_day_whose_kept_figures_are_wrong():
    owner = owner_actor()
    pending_order(owner)
    refresh_order_figures(owner.merchant)
    DailyOrderFigures.objects.filter(merchant=owner.merchant).update(order_count=7)

    differences = recount_differences(owner.merchant)

    assert len(differences) == 1 and "kept (7," in differences[0]
    refresh_order_figures(owner.merchant, full=True)
    assert recount_differences(owner.merchant) == []


def test_one_merchants_orders_never_reach_anothers_report():
    ours, theirs = owner_actor(), owner_actor(MerchantFactory())
    pending_order(ours)
    pending_order(theirs)
    pending_order(theirs)
    for merchant in (ours.merchant, theirs.merchant):
        refresh_order_figures(merchant)

    assert build_report(ours.merchant, today_period(ours.merchant)).orders == 1
    assert build_report(theirs.merchant, today_period(theirs.merchant)).orders == 2
    week = today_period(ours.merchant)
    assert sum(row.count for row in build_report(ours.merchant, week).shipping_statuses) == 0


def test_a_period_starts_at_midnight_in_the_merchants_zone():
    merchant = MerchantFactory(time_zone="Asia/Manila")
    period = ReportPeriod(
        starts_on=datetime.date(2026, 11, 2), ends_on=datetime.date(2026, 11, 2), zone=merchant.zone
    )
    assert period.starts_at == datetime.datetime(2026, 11, 1, 16, tzinfo=datetime.UTC)
    assert period.ends_before == datetime.datetime(2026, 11, 2, 16, tzinfo=datetime.UTC)


def test_the_command_rebuilds_and_checks_the_rollups():
    from django.core.management import CommandError, call_command

    owner = owner_actor()
    pending_order(owner)
    call_command("reports", "rollup", "--merchant", str(owner.merchant.pk))
    call_command("reports", "check", "--merchant", str(owner.merchant.pk))
    DailyOrderFigures.objects.filter(merchant=owner.merchant).update(total_sum=1)

    with pytest.raises(CommandError, match="differ from a recount"):
        call_command("reports", "check", "--merchant", str(owner.merchant.pk))
    call_command("reports", "rollup", "--full", "--merchant", str(owner.merchant.pk))
    call_command("reports", "check", "--merchant", str(owner.merchant.pk))


def test_a_shipment_that_moves_without_its_order_reaches_the_cost_figures_on_the_next_refresh():
    from orderdesk.fulfillment.actions import ShipmentLine, create_shipment
    from orderdesk.vendors.tests.factories import VendorFactory

    owner = owner_actor()
    order = pending_order(owner)
    refresh_order_figures(owner.merchant)
    vendor = VendorFactory(merchant=owner.merchant)
    line = order.lines.first()
    create_shipment(
        order.pk,
        by=owner,
        vendor_id=vendor.pk,
        lines=[ShipmentLine(order_line_id=line.pk, quantity=line.quantity, unit_cost=Decimal("100.00"))],
    )
    order.refresh_from_db()
    assert order.status == "pending"

    refresh_order_figures(owner.merchant)

    report = build_report(owner.merchant, today_period(owner.merchant))
    [by_vendor] = report.cost_by_vendor
    assert by_vendor.label == vendor.name
    assert by_vendor.cost == Decimal("100.00") * line.quantity
    assert by_vendor.revenue == line.unit_price * line.quantity


def test_after_sales_cases_are_counted_by_type_and_mode_with_their_rate_and_the_vendors():
    from orderdesk.aftersales.models import AfterSalesCase
    from orderdesk.fulfillment.actions import create_shipment
    from orderdesk.vendors.tests.factories import VendorFactory

    owner = owner_actor()
    vendor = VendorFactory(merchant=owner.merchant)
    orders = [pending_order(owner) for _ in range(4)]
    for order in orders[:2]:
        create_shipment(order.pk, by=owner, vendor_id=vendor.pk)
    for order, kind, mode in (
        (orders[0], "product_broken", "resend"),
        (orders[0], "logistics_issue", "refund"),
        (orders[2], "product_broken", "refund"),
    ):
        AfterSalesCase.objects.create(
            merchant=owner.merchant,
            order=order,
            vendor=vendor if order == orders[0] else None,
            type=kind,
            mode=mode,
            text="Arrived cracked",
            created_by_name="Ana",
            customer_refund=Decimal("100.00") if mode == "refund" else None,
        )
    other = owner_actor(MerchantFactory())
    AfterSalesCase.objects.create(
        merchant=other.merchant,
        order=pending_order(other),
        type="other",
        mode="other",
        text="x",
        created_by_name="B",
    )
    refresh_order_figures(owner.merchant)

    report = build_report(owner.merchant, today_period(owner.merchant))

    assert {row.key: row.count for row in report.after_sales_by_type if row.count} == {
        "product_broken": 2,
        "logistics_issue": 1,
    }
    assert {row.key: row.count for row in report.after_sales_by_mode if row.count} == {
        "resend": 1,
        "refund": 2,
    }
    assert report.orders_with_after_sales == 2 and report.after_sales_rate == Decimal("50.0")
    assert report.refunded == Decimal("200.00")
    [score] = report.scorecard
    assert (score.orders, score.after_sales_orders, score.after_sales_rate) == (2, 1, Decimal("50.0"))


def test_a_vendors_new_processing_days_rejudge_its_shipments_on_the_next_refresh(monkeypatch):
    from orderdesk.vendors.models import Vendor

    from .shop_data import DAY_ONE, OrderSpec, ShipmentSpec, write_shop

    now = datetime.datetime.combine(DAY_ONE, datetime.time(12), tzinfo=datetime.UTC) + datetime.timedelta(
        days=9
    )
    monkeypatch.setattr("django.utils.timezone.now", lambda: now)
    merchant = MerchantFactory(time_zone="UTC")
    shipped_after_30_hours = ShipmentSpec(
        vendor=0, status="delivered", hours_to_ship=30, hours_to_deliver=24, had_exception=False,
        unit_cost=Decimal("5.00"), shipping_cost=None,
    )  # fmt: skip
    write_shop(
        merchant,
        [OrderSpec(0, 2, 600, "fulfilled", 1, (Decimal("10.00"),), (1, 1, 1), shipped_after_30_hours)],
        now=now,
    )
    period = ReportPeriod(starts_on=DAY_ONE, ends_on=DAY_ONE + datetime.timedelta(days=8), zone=merchant.zone)
    refresh_order_figures(merchant)
    [score] = build_report(merchant, period).scorecard
    assert (score.on_time, score.judged) == (0, 1)  # Vendor 0 has 1 processing day

    # Two refreshes later the refresh no longer looks back to the orders' writing (it looks back
    # 5 minutes past its last run): only the vendor's change is new.
    now += datetime.timedelta(minutes=10)
    refresh_order_figures(merchant)
    now += datetime.timedelta(minutes=10)
    Vendor.objects.filter(merchant=merchant, name="Vendor 0").update(processing_days=2)
    outcome = refresh_order_figures(merchant)

    [score] = build_report(merchant, period).scorecard
    assert outcome.days_rebuilt == 1
    assert (score.on_time, score.judged) == (1, 1)
    assert recount_differences(merchant) == []
