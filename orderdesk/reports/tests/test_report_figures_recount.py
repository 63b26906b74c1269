"""Every figure of the report against a brute-force recount of random shops, in Python, row by row."""

import datetime
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from orderdesk.accounts.tests.factories import MerchantFactory
from orderdesk.fulfillment.models import Fulfillment, FulfillmentLine, TrackingEvent
from orderdesk.orders.models import Order
from orderdesk.reports.figures import STUCK_IN_TRANSIT_DAYS, build_report, money
from orderdesk.reports.period import GRAINS, ReportPeriod
from orderdesk.reports.rollups import recount_differences, refresh_order_figures

from .shop_data import DAY_ONE, ZONES, OrderSpec, ShipmentSpec, orders, write_shop

NOW = datetime.datetime(2026, 4, 20, 12, tzinfo=datetime.UTC)

periods = st.tuples(
    st.integers(0, 40), st.integers(0, 40), st.sampled_from(list(GRAINS)), st.sampled_from([None, 0, 1])
)


def recount(merchant, period: ReportPeriod, now: datetime.datetime = NOW):
    """What the report should say at `now`, worked out from the rows one by one."""
    zone = merchant.zone
    today = now.astimezone(zone).date()

    def in_period(order):
        day = order.placed_at.astimezone(zone).date()
        store_ok = period.store_id is None or order.store_id == period.store_id
        return period.starts_on <= day <= period.ends_on and store_ok

    chosen = [order for order in Order.objects.filter(merchant=merchant) if in_period(order)]
    bucket = {order.pk: period.bucket_of(order.placed_at.astimezone(zone).date()) for order in chosen}
    sales = defaultdict(lambda: [0, Decimal("0")])
    for order in chosen:
        if order.status in ("pending", "dispatched", "fulfilled"):
            sales[bucket[order.pk]][0] += 1
            sales[bucket[order.pk]][1] += order.total
    statuses = Counter(order.status for order in chosen)
    late = sum(1 for order in chosen if order.status == "pending" and order.due_on and order.due_on < today)
    ids = {order.pk for order in chosen}
    by_id = {order.pk: order for order in chosen}
    shipments = [s for s in Fulfillment.objects.filter(merchant=merchant) if s.order_id in ids]
    shipping = Counter(s.status for s in shipments)
    stuck = sum(
        1
        for s in shipments
        if s.status == "exception"
        or (
            s.status == "in_transit"
            and s.shipped_at
            and s.shipped_at.astimezone(zone).date() < today - datetime.timedelta(days=STUCK_IN_TRANSIT_DAYS)
        )
    )
    to_transit, within = [], 0
    to_delivered = []
    for s in shipments:
        order = by_id[s.order_id]
        if s.shipped_at:
            to_transit.append(s.shipped_at - order.payment_verified_at)
            within += s.shipped_at.astimezone(zone).date() <= order.due_on
        if s.delivered_at:
            to_delivered.append(s.delivered_at - order.payment_verified_at)
    lines = [
        line
        for line in FulfillmentLine.objects.filter(merchant=merchant).select_related(
            "fulfillment", "order_line"
        )
        if line.fulfillment.order_id in ids and by_id[line.fulfillment.order_id].status != "cancelled"
    ]
    cost_by_vendor = defaultdict(lambda: [0, Decimal("0"), Decimal("0")])
    cost_by_bucket = defaultdict(lambda: [0, Decimal("0"), Decimal("0")])
    for line in lines:
        cost = line.quantity * ((line.unit_cost or 0) + (line.shipping_cost or 0))
        revenue = line.quantity * line.order_line.unit_price
        for table, key in (
            (cost_by_vendor, line.fulfillment.vendor_id),
            (cost_by_bucket, bucket[line.fulfillment.order_id]),
        ):
            table[key][0] += line.quantity
            table[key][1] += revenue
            table[key][2] += cost
    exceptions = set(
        TrackingEvent.objects.filter(status="exception").values_list("fulfillment_id", flat=True)
    )
    scores = defaultdict(lambda: Counter())
    for s in shipments:
        if s.vendor_id is None:
            continue
        allowed = datetime.timedelta(days=s.vendor.processing_days)
        score = scores[s.vendor_id]
        score["shipments"] += 1
        if s.shipped_at and s.shipped_at <= s.created_at + allowed:
            score["on_time"] += 1
            score["judged"] += 1
        elif s.shipped_at or (s.status in ("pending", "processing") and s.created_at < now - allowed):
            score["judged"] += 1
        score["exceptions"] += s.pk in exceptions
    orders_of_vendor = defaultdict(set)
    for s in shipments:
        if s.vendor_id:
            orders_of_vendor[s.vendor_id].add(s.order_id)
    return {
        "sales": {b: (n, money(r)) for b, (n, r) in sales.items()},
        "statuses": dict(statuses),
        "late": late,
        "stuck": stuck,
        "shipping": dict(shipping),
        "transit": (len(to_transit), sum(to_transit, datetime.timedelta()), within),
        "delivered": (len(to_delivered), sum(to_delivered, datetime.timedelta())),
        "by_vendor": {k: (u, money(r), money(c)) for k, (u, r, c) in cost_by_vendor.items()},
        "by_bucket": {k: (u, money(r), money(c)) for k, (u, r, c) in cost_by_bucket.items()},
        "scores": {
            k: (v["shipments"], v["on_time"], v["judged"], v["exceptions"], len(orders_of_vendor[k]))
            for k, v in scores.items()
        },
        "vendor_cost": {k: money(c) for k, (u, r, c) in cost_by_vendor.items() if k},
    }


def _days(total: datetime.timedelta, count: int) -> Decimal | None:
    if not count:
        return None
    return (Decimal((total / count).total_seconds()) / 86400).quantize(Decimal("0.1"))


@pytest.mark.django_db(transaction=False)
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Always tried: orders a minute either side of Manila's midnight (the day before, in UTC), shipped.
@example(
    zone="Asia/Manila",
    specs=[
        OrderSpec(
            store=0,
            day=5,
            minute=minute,
            status="dispatched",
            processing_days=1,
            line_prices=(Decimal("10.00"),),
            quantities=(1, 1, 1),
            shipment=ShipmentSpec(
                vendor=0,
                status="in_transit",
                hours_to_ship=2,
                hours_to_deliver=None,
                had_exception=False,
                unit_cost=Decimal("3.00"),
                shipping_cost=None,
            ),
        )
        for minute in (1, 1439)
    ],
    period=(5, 6, "day", None),
    asked_after_days=50,
    vendor_days_later=None,
)
@given(
    zone=st.sampled_from(ZONES),
    specs=st.lists(orders, min_size=0, max_size=12),
    period=periods,
    # When the report is asked for: from within the shop's days (shipments in transit for less than
    # 14 days, not yet overdue) to long after; and a vendor's processing days changed meanwhile.
    asked_after_days=st.integers(3, 60),
    vendor_days_later=st.one_of(st.none(), st.integers(0, 5)),
)
def test_every_figure_matches_a_recount_of_the_rows(
    zone, specs, period, asked_after_days, vendor_days_later, monkeypatch
):
    now = datetime.datetime.combine(DAY_ONE, datetime.time(12), tzinfo=datetime.UTC) + datetime.timedelta(
        days=asked_after_days, minutes=asked_after_days * 37
    )
    monkeypatch.setattr("django.utils.timezone.now", lambda: now)
    merchant = MerchantFactory(time_zone=zone)
    write_shop(merchant, specs, now=now)
    refresh_order_figures(merchant)
    if vendor_days_later is not None:
        from orderdesk.vendors.models import Vendor

        Vendor.objects.filter(merchant=merchant, name="Vendor 0").update(processing_days=vendor_days_later)
        refresh_order_figures(merchant)
    first, last, grain, store_index = period
    from orderdesk.stores.models import Store

    stores = list(Store.objects.filter(merchant=merchant).order_by("pk").values_list("pk", flat=True))
    the_period = ReportPeriod(
        starts_on=DAY_ONE + datetime.timedelta(days=min(first, last)),
        ends_on=DAY_ONE + datetime.timedelta(days=max(first, last)),
        zone=merchant.zone,
        grain=grain,
        store_id=None if store_index is None else stores[store_index],
    )

    report = build_report(merchant, the_period, today=now.astimezone(merchant.zone).date())
    expected = recount(merchant, the_period, now)

    assert {row.bucket: (row.orders, row.revenue) for row in report.sales if row.orders or row.revenue} == {
        b: v for b, v in expected["sales"].items() if v[0]
    }
    assert [row.bucket for row in report.sales] == the_period.buckets()
    assert {row.key: row.count for row in report.statuses if row.count} == expected["statuses"]
    assert report.late == expected["late"]
    assert report.stuck == expected["stuck"]
    assert {row.key: row.count for row in report.shipping_statuses if row.count} == expected["shipping"]
    shipped, to_transit, within = expected["transit"]
    delivered, to_delivered = expected["delivered"]
    total = report.fulfillment_total
    assert (total.shipped, total.within_processing_days, total.delivered) == (shipped, within, delivered)
    assert total.days_to_in_transit == _days(to_transit, shipped)
    assert total.days_to_delivered == _days(to_delivered, delivered)
    assert {
        (int(row.key) if row.key else None): (row.units, row.revenue, row.cost)
        for row in report.cost_by_vendor
    } == expected["by_vendor"]
    assert {row.key: (row.units, row.revenue, row.cost) for row in report.cost_by_period if row.units} == {
        b.isoformat(): v for b, v in expected["by_bucket"].items()
    }
    assert {
        score.vendor_id: (score.shipments, score.on_time, score.judged, score.exceptions, score.orders)
        for score in report.scorecard
    } == expected["scores"]
    assert {score.vendor_id: score.cost for score in report.scorecard} == {
        k: expected["vendor_cost"].get(k, money(0)) for k in expected["scores"]
    }
    assert recount_differences(merchant) == []
