"""Three indexes every shipment written updated and no read needs: the shipment's merchant
(fulfillment_by_status and the others start with it), its vendor (fulfillment_by_vendor starts
with it) and a shipment line's shipment (one_entry_per_line_per_fulfillment starts with it).
Dropped CONCURRENTLY on PostgreSQL; the foreign keys themselves stay as they are."""

import django.db.models.deletion
from django.db import migrations, models

from orderdesk.migration_operations import DropForeignKeyIndexConcurrentlyWherePossible


class Migration(migrations.Migration):
    # DROP INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("accounts", "0003_membership_vendor_merchant_auto_processing_and_more"),
        ("vendors", "0001_initial"),
        ("fulfillment", "0006_recount_allocated_shipments"),
    ]

    operations = [
        DropForeignKeyIndexConcurrentlyWherePossible(
            model_name="fulfillment",
            name="merchant",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.merchant",
            ),
        ),
        DropForeignKeyIndexConcurrentlyWherePossible(
            model_name="fulfillment",
            name="vendor",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="shipments",
                to="vendors.vendor",
            ),
        ),
        DropForeignKeyIndexConcurrentlyWherePossible(
            model_name="fulfillmentline",
            name="fulfillment",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="lines",
                to="fulfillment.fulfillment",
            ),
        ),
    ]
