"""The bench's figure of what auto-allocation adds to placing a paid order (3 lines, 2 vendors)."""

import json

import pytest
from django.core.management import call_command
from django.db import connection

from orderdesk.notifications.models import Notification


@pytest.mark.django_db(transaction=True)
def test_the_bench_times_auto_allocation_against_the_same_order_unhosted(tmp_path, settings):
    settings.STATIC_ROOT = tmp_path / "static"
    output = tmp_path / "bench.json"

    call_command(
        "bench",
        orders=20,
        requests=4,
        output=str(output),
        only="Auto-allocation (2 vendors)",
        stdout=open(tmp_path / "out.txt", "w"),  # noqa: SIM115
    )

    figure = json.loads(output.read_text())["figures"]["Auto-allocation (2 vendors)"]
    assert figure["requests"] == 4 and figure["without_hosting"]["requests"] == 4
    # The shipments, their lines, tracking events, the shipment counts and the digests: one WITH
    # on PostgreSQL, five statements on SQLite (the hosting lookup both pay; the shipments'
    # events share the order's one read of the webhook endpoints; the timeline event joins the
    # order's own INSERT).
    assert figure["extra_sql"] == (1 if connection.vendor == "postgresql" else 5)
    assert set(figure["extra_cpu_ms"]) == {"p50", "p95", "p99"}
    assert figure["cpu_ms"]["p50"] > 0 and figure["cpu_ms_without_hosting"]["p50"] > 0
    assert Notification.objects.filter(topic="vendor.allocated", status="sent").count() == 2 * 5
    assert "extra p50" in (tmp_path / "out.txt").read_text()
