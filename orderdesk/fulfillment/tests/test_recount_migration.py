"""The migration that counts once more the shipments allocation did not count before 2026-12-07."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from orderdesk.fulfillment.counts import shipment_counts
from orderdesk.fulfillment.models import ShipmentStatusCount
from orderdesk.orders.tests.test_allocation import lines_of, pending_order, shop  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def test_the_migration_counts_the_allocated_shipments_as_they_are(shop):  # noqa: F811
    pending_order(shop.actor, lines=lines_of((shop.shirt, 1), (shop.mug, 1)))
    pending_order(shop.actor, lines=lines_of((shop.tote, 1)))
    migrate([("fulfillment", "0005_shipment_tracking_link_counts_and_attention")])
    # What a database written before the fix holds: allocated shipments never counted.
    ShipmentStatusCount.objects.all().delete()

    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert shipment_counts(shop.actor.merchant, vendor_id=shop.cebu.pk)["pending"] == 2
    assert shipment_counts(shop.actor.merchant, vendor_id=shop.davao.pk)["pending"] == 1
    assert shipment_counts(shop.actor.merchant)["pending"] == 3
