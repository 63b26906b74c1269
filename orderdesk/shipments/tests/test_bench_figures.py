"""The bench times the vendor work list and the shipping-status tabs on its filled merchant."""

import json

import pytest
from django.core.management import call_command
from django.db import connection

from orderdesk.fulfillment.counts import shipment_counts
from orderdesk.fulfillment.models import Fulfillment
from orderdesk.web.benchmark.shipments import VENDOR_EMAIL


@pytest.mark.django_db(transaction=True)
def test_a_tiny_bench_run_times_the_vendor_work_list_and_the_shipping_status_tabs(tmp_path, settings):
    settings.STATIC_ROOT = tmp_path / "static"
    output = tmp_path / "bench.json"

    call_command(
        "bench",
        orders=60,
        requests=5,
        output=str(output),
        only="Vendor work list,Shipping-status tabs",
        skip_writes=True,
        stdout=open(tmp_path / "out.txt", "w"),  # noqa: SIM115
    )

    figures = json.loads(output.read_text())["figures"]
    assert set(figures) == {"Vendor work list", "Shipping-status tabs"}
    for figure in figures.values():
        assert figure["requests"] == 5, figure
        assert figure["p50_ms"] <= figure["p95_ms"] <= figure["p99_ms"]
    shipments = Fulfillment.objects.filter(merchant__name="Bench Merchant")
    vendor_shipments = shipments.filter(vendor__memberships__user__email=VENDOR_EMAIL)
    assert 0 < vendor_shipments.count() < shipments.count()
    merchant = shipments.first().merchant
    assert sum(shipment_counts(merchant).values()) == shipments.count()
    if connection.vendor == "postgresql":
        # Vacuumed after the bench's mass hand-over, as autovacuum would be (the tabs' index-only scans).
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables WHERE relname = %s",
                [Fulfillment._meta.db_table],
            )
            assert cursor.fetchone() == (True,)
