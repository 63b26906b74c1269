"""Order Tracking's tab index, again with what a search reads: reference, name and phone.

The new index is built first, then the old one (same keys, nothing more) dropped, both
CONCURRENTLY on PostgreSQL: the release still serving keeps its index scans throughout, and
neither step stops writes. SQLite has no INCLUDE: there it is the same index under a new name
(see CoveringIndex).
"""

from django.db import migrations

from orderdesk.covering_index import CoveringIndex
from orderdesk.migration_operations import (
    AddIndexConcurrentlyWherePossible,
    RemoveIndexConcurrentlyWherePossible,
)


class Migration(migrations.Migration):
    # CREATE / DROP INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("orders", "0011_order_after_sales_money"),
    ]

    operations = [
        AddIndexConcurrentlyWherePossible(
            model_name="order",
            index=CoveringIndex(
                fields=["merchant", "status", "-placed_at", "-id"],
                covers=("reference", "customer_name", "customer_phone"),
                name="order_tracking_tab_covering",
            ),
        ),
        RemoveIndexConcurrentlyWherePossible(model_name="order", name="order_tracking_tab"),
    ]
