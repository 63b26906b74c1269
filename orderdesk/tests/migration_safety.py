"""Which migration operations would lock a large table for long, or break the version still
serving while the new one migrates (README "Migrations while the old version serves").

A migration on a large table must be safe to run with the previous release's web processes
and workers still writing: additive (a new column is nullable or has a database default),
indexes built CONCURRENTLY (`AddIndexConcurrently` in a migration with `atomic = False`),
no column type change, no NOT NULL added to an existing column, nothing renamed or dropped
that the old code still reads. A migration that was reviewed and is safe anyway (a table
known to be small, a column the previous release no longer reads) says why in a class
attribute `safe_while_old_version_serves = "…"`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import connection, migrations, models
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState

# Tables that grow with a merchant's orders: (app label, model name in lower case).
LARGE_TABLES = {
    ("orders", "order"),
    ("orders", "orderline"),
    ("orders", "orderevent"),
    ("fulfillment", "fulfillment"),
    ("fulfillment", "fulfillmentline"),
    ("fulfillment", "trackingevent"),
    ("notifications", "notification"),
    ("photos", "photo"),
    ("customers", "customer"),
}
# Migrations up to these numbers ran before there was a production deployment to keep serving;
# every later one in these apps is checked.
CHECKED_AFTER = {"orders": 6, "fulfillment": 3, "notifications": 5, "photos": 1, "customers": 1}

# Operations that rename or drop what the old release still reads and writes.
BREAKS_THE_OLD_VERSION = (
    migrations.RemoveField,
    migrations.RenameField,
    migrations.RenameModel,
    migrations.DeleteModel,
    migrations.AlterModelTable,
)
_VARCHAR = re.compile(r"^varchar\((\d+)\)$")


@dataclass(frozen=True)
class Finding:
    migration: str
    operation: str
    reason: str

    def __str__(self) -> str:
        return f"{self.migration}: {self.operation}: {self.reason}"


def checked_migrations(loader: MigrationLoader | None = None) -> list[tuple[str, str]]:
    loader = loader or MigrationLoader(None, ignore_no_migrations=True)
    return sorted(
        (app, name)
        for app, name in loader.disk_migrations
        if app in CHECKED_AFTER and int(name.split("_", 1)[0]) > CHECKED_AFTER[app]
    )


def findings_in_project() -> list[Finding]:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    found = []
    for key in checked_migrations(loader):
        migration = loader.disk_migrations[key]
        state = loader.project_state(key, at_end=False)
        found += findings_in(migration, state)
    return found


def findings_in(migration: migrations.Migration, state: ProjectState) -> list[Finding]:
    """What in this migration (applied on `state`) locks a large table or breaks the old release."""
    if getattr(migration, "safe_while_old_version_serves", ""):
        return []
    label = f"{migration.app_label}.{migration.name}"
    found = []
    for operation in migration.operations:
        model = (
            getattr(operation, "model_name", None)
            or getattr(operation, "name", None)
            or getattr(operation, "old_name", "")
        )
        key = (migration.app_label, model.lower())
        before = state.clone()
        operation.state_forwards(migration.app_label, state)
        if isinstance(operation, migrations.RunSQL):
            reason = _raw_sql_danger(operation)
        elif key in LARGE_TABLES:
            reason = _danger(operation, migration, before, state, key)
        else:
            reason = None
        if reason:
            found.append(Finding(label, operation.describe(), reason))
    return found


def _danger(operation, migration, before: ProjectState, after: ProjectState, key) -> str | None:
    if isinstance(operation, BREAKS_THE_OLD_VERSION):
        return "renames or drops what the running release still reads; ship the code first, drop later"
    if isinstance(operation, (AddIndexConcurrently, RemoveIndexConcurrently)):
        if migration.atomic:
            return "a CONCURRENTLY index operation needs `atomic = False` on its migration"
        return None
    if isinstance(operation, (migrations.AddIndex, migrations.RemoveIndex)):
        return "builds or drops an index under a table lock; use AddIndexConcurrently (atomic = False)"
    if isinstance(operation, migrations.AddConstraint):
        return "a constraint is checked (or its index built) under a table lock; add it NOT VALID, validate later"
    if isinstance(operation, migrations.AlterUniqueTogether | migrations.AlterIndexTogether):
        return "builds an index under a table lock"
    if isinstance(operation, migrations.AddField):
        field = operation.field
        if not field.null and field.db_default is models.NOT_PROVIDED and not field.many_to_many:
            return "a NOT NULL column without db_default: the running release's inserts fail"
        if field.unique or (field.db_index and not field.many_to_many):
            return "adds an index with the column under a table lock; add it with AddIndexConcurrently"
        return None
    if isinstance(operation, migrations.AlterField):
        old = before.apps.get_model(*key)._meta.get_field(operation.name)
        new = after.apps.get_model(*key)._meta.get_field(operation.name)
        old_type, new_type = old.db_type(connection), new.db_type(connection)
        if old_type != new_type and not _widens(old_type, new_type):
            return f"changes the column type ({old_type} → {new_type}): rewrites the table under a lock"
        if old.null and not new.null:
            return "adds NOT NULL to an existing column: scans the table under a lock"
        if (new.unique and not old.unique) or (new.db_index and not old.db_index):
            return "adds an index under a table lock; use AddIndexConcurrently"
        return None
    return None


def _raw_sql_danger(operation: migrations.RunSQL) -> str | None:
    sql = str(operation.sql)
    if not any(f"{app}_{model}" in sql.lower() for app, model in LARGE_TABLES):
        return None
    if re.search(r"\bALTER\s+TABLE\b|\bCREATE\s+(UNIQUE\s+)?INDEX\s+(?!CONCURRENTLY)", sql, re.I):
        return "raw SQL that alters a large table or builds an index on it without CONCURRENTLY"
    return None


def _widens(old_type: str | None, new_type: str | None) -> bool:
    """varchar(n) → varchar(m ≥ n) or text: PostgreSQL changes only the catalog, no rewrite."""
    old = _VARCHAR.match(old_type or "")
    if not old:
        return False
    if new_type == "text":
        return True
    new = _VARCHAR.match(new_type or "")
    return bool(new) and int(new.group(1)) >= int(old.group(1))
