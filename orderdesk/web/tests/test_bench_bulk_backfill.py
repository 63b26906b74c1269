"""The bench's "Backfill from Shopify (bulk)" figure runs end to end on a tiny store."""

import json

import pytest
from django.core.management import call_command


@pytest.mark.django_db(transaction=True)
def test_the_bulk_backfill_figure_takes_every_order_in_then_nothing_again(tmp_path, settings):
    settings.STATIC_ROOT = tmp_path / "static"
    output = tmp_path / "bench.json"
    call_command(
        "bench",
        orders=10,
        requests=3,
        output=str(output),
        only="Backfill from Shopify (bulk)",
        ingest_orders=40,
        stdout=open(tmp_path / "out.txt", "w"),  # noqa: SIM115
    )
    figure = json.loads(output.read_text())["figures"]["Backfill from Shopify (bulk)"]
    assert (figure["new"], figure["failed"], figure["orders_recorded"]) == (40, 0, 40), figure
    assert figure["lines_recorded"] == 120
    assert (figure["again_new"], figure["again_unchanged"]) == (0, 40)
