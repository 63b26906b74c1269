"""Two indexes every write updated and no read needs: the order's merchant (each of the order's
indexes starts with it) and the event's order (order_timeline starts with it). Dropped
CONCURRENTLY on PostgreSQL; the foreign keys themselves stay as they are."""

import django.db.models.deletion
from django.db import migrations, models

from orderdesk.migration_operations import DropForeignKeyIndexConcurrentlyWherePossible


class Migration(migrations.Migration):
    # DROP INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("accounts", "0003_membership_vendor_merchant_auto_processing_and_more"),
        ("orders", "0012_order_tracking_tab_covering"),
    ]

    operations = [
        DropForeignKeyIndexConcurrentlyWherePossible(
            model_name="order",
            name="merchant",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.merchant",
            ),
        ),
        DropForeignKeyIndexConcurrentlyWherePossible(
            model_name="orderevent",
            name="order",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="events",
                to="orders.order",
            ),
        ),
    ]
