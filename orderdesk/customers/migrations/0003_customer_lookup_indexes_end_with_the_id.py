"""The phone and email lookup indexes end with the customer's id, so the oldest customer of a
phone or email comes out first and PostgreSQL never prefers another index starting with the
merchant (with statistics taken before a merchant had customers, it walked all of them).

Each new index is built first, then the old one (the same keys but the id) dropped, both
CONCURRENTLY on PostgreSQL: the release still serving keeps its lookups, and neither step stops
writes."""

from django.db import migrations, models

from orderdesk.migration_operations import (
    AddIndexConcurrentlyWherePossible,
    RemoveIndexConcurrentlyWherePossible,
)


class Migration(migrations.Migration):
    # CREATE / DROP INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("customers", "0002_drop_merchant_index_repeated_by_composites"),
    ]

    operations = [
        AddIndexConcurrentlyWherePossible(
            model_name="customer",
            index=models.Index(fields=["merchant", "phone", "id"], name="customer_phone_oldest"),
        ),
        AddIndexConcurrentlyWherePossible(
            model_name="customer",
            index=models.Index(fields=["merchant", "email", "id"], name="customer_email_oldest"),
        ),
        RemoveIndexConcurrentlyWherePossible(model_name="customer", name="customer_by_phone"),
        RemoveIndexConcurrentlyWherePossible(model_name="customer", name="customer_by_email"),
    ]
