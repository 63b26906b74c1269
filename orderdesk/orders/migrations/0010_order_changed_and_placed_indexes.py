from django.db import migrations, models

from orderdesk.migration_operations import AddIndexConcurrentlyWherePossible


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("orders", "0009_orderevent_store_change_dismissed"),
    ]

    operations = [
        AddIndexConcurrentlyWherePossible(
            model_name="order",
            index=models.Index(fields=["merchant", "updated_at"], name="order_changed"),
        ),
        AddIndexConcurrentlyWherePossible(
            model_name="order",
            index=models.Index(fields=["merchant", "placed_at"], name="order_placed"),
        ),
    ]
