"""The customer's merchant index, which customer_by_phone and customer_by_email (both start with
the merchant) repeat: one index fewer for each new customer. Dropped CONCURRENTLY on
PostgreSQL; the foreign key stays as it is."""

import django.db.models.deletion
from django.db import migrations, models

from orderdesk.migration_operations import DropForeignKeyIndexConcurrentlyWherePossible


class Migration(migrations.Migration):
    # DROP INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("accounts", "0003_membership_vendor_merchant_auto_processing_and_more"),
        ("customers", "0001_initial"),
    ]

    operations = [
        DropForeignKeyIndexConcurrentlyWherePossible(
            model_name="customer",
            name="merchant",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.merchant",
            ),
        ),
    ]
