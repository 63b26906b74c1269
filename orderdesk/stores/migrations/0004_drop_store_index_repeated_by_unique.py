"""The order link's store index, which store_order_link_unique (store, external id) repeats:
one index fewer for each order a store sends. Dropped CONCURRENTLY on PostgreSQL; the
foreign key stays as it is."""

import django.db.models.deletion
from django.db import migrations, models

from orderdesk.migration_operations import DropForeignKeyIndexConcurrentlyWherePossible


class Migration(migrations.Migration):
    # DROP INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("stores", "0003_syncrun_expected_count"),
    ]

    operations = [
        DropForeignKeyIndexConcurrentlyWherePossible(
            model_name="storeorderlink",
            name="store",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="order_links",
                to="stores.store",
            ),
        ),
    ]
