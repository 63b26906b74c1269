"""No migration after the first production deployment locks a large table for long or breaks
the release still serving while it runs (orderdesk/tests/migration_safety.py says what counts)."""

import pytest
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models
from django.db.migrations.loader import MigrationLoader

from orderdesk.tests.migration_safety import findings_in, findings_in_project


def test_no_migration_after_the_cut_off_locks_a_large_table_or_breaks_the_running_release():
    found = findings_in_project()
    assert found == [], "\n".join(str(finding) for finding in found)


@pytest.fixture(scope="module")
def orders_state():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    (leaf,) = [node for node in loader.graph.leaf_nodes() if node[0] == "orders"]
    return lambda: loader.project_state(leaf, at_end=True)


def reasons(state, *operations, app="orders", **attributes) -> list[str]:
    migration_class = type(
        "Migration", (migrations.Migration,), {"operations": list(operations), **attributes}
    )
    return [finding.reason for finding in findings_in(migration_class("9999_checked", app), state())]


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        (
            migrations.AddField("order", "gift_note", models.TextField(default="")),
            "a NOT NULL column without db_default: the running release's inserts fail",
        ),
        (
            migrations.AlterField("order", "reference", models.IntegerField()),
            "changes the column type (varchar(40) → integer): rewrites the table under a lock",
        ),
        (
            migrations.AlterField("order", "reference", models.CharField(max_length=20)),
            "changes the column type (varchar(40) → varchar(20)): rewrites the table under a lock",
        ),
        (
            migrations.AlterField("order", "external_id", models.CharField(max_length=100)),
            "adds NOT NULL to an existing column: scans the table under a lock",
        ),
        (
            migrations.AddIndex("order", models.Index(fields=["reference"], name="order_ref_idx")),
            "builds or drops an index under a table lock; use AddIndexConcurrently (atomic = False)",
        ),
        (
            migrations.AddField(
                "orderline", "batch", models.CharField(max_length=10, null=True, db_index=True)
            ),
            "adds an index with the column under a table lock; add it with AddIndexConcurrently",
        ),
        (
            migrations.RemoveField("orderevent", "actor_name"),
            "renames or drops what the running release still reads; ship the code first, drop later",
        ),
        (
            migrations.RunSQL("CREATE INDEX order_x ON orders_order (reference)"),
            "raw SQL that alters a large table or builds an index on it without CONCURRENTLY",
        ),
    ],
)
def test_dangerous_operations_on_a_large_table_are_named(orders_state, operation, expected):
    assert reasons(orders_state, operation) == [expected]


@pytest.mark.parametrize(
    "operation",
    [
        migrations.AddField("order", "gift_note", models.TextField(null=True)),
        migrations.AddField("order", "gift_note", models.TextField(db_default="")),
        migrations.AlterField("order", "reference", models.CharField(max_length=80)),
        migrations.AlterField("order", "reference", models.TextField()),
        migrations.AlterField(
            "order", "reference", models.CharField(max_length=40, help_text="Shown to customers")
        ),
        migrations.RunSQL("CREATE INDEX CONCURRENTLY order_x ON orders_order (reference)"),
        migrations.AddIndex("orderstatuscount", models.Index(fields=["count"], name="count_idx")),
    ],
)
def test_additive_and_catalog_only_changes_pass(orders_state, operation):
    assert reasons(orders_state, operation) == []


def test_a_concurrent_index_passes_only_outside_a_transaction(orders_state):
    build = AddIndexConcurrently("order", models.Index(fields=["reference"], name="order_ref_idx"))
    assert reasons(orders_state, build, atomic=False) == []
    assert reasons(orders_state, build) == [
        "a CONCURRENTLY index operation needs `atomic = False` on its migration"
    ]


def test_a_reviewed_migration_says_why_and_passes(orders_state):
    drop = migrations.RemoveField("orderevent", "actor_name")
    assert (
        reasons(
            orders_state, drop, safe_while_old_version_serves="the release before last stopped reading it"
        )
        == []
    )
