"""Trigram indexes for Order Tracking's search on PostgreSQL.

Searching part of a name, reference or phone ("garcia", "1002", "5550101") is a LIKE
'%text%', which no b-tree serves; at a million orders a scan takes most of a second.
These GIN indexes (with the merchant, through btree_gin) serve exactly the expressions
Django writes for icontains / contains. SQLite has no such index and keeps scanning.
"""

from django.db import migrations

INDEXES = {
    "order_name_trgm": 'UPPER("customer_name"::text) gin_trgm_ops',
    "order_reference_trgm": 'UPPER("reference"::text) gin_trgm_ops',
    "order_phone_trgm": '"customer_phone" gin_trgm_ops',
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    for name, expression in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "orders_order" USING gin ("merchant_id", {expression})'
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("orders", "0003_order_status_counts")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
