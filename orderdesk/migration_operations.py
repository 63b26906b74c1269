"""Migration operations that are safe while the previous release still serves, on both databases.

PostgreSQL builds the index CONCURRENTLY (no lock that stops writes); SQLite, the embedded
single-process default, has no such thing and no one else writing, so it builds it plainly.
"""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db.migrations.operations import AddIndex, AlterField, RemoveIndex


class AddIndexConcurrentlyWherePossible(AddIndexConcurrently):
    """AddIndexConcurrently on PostgreSQL, a plain AddIndex elsewhere (use in an `atomic = False` migration)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class RemoveIndexConcurrentlyWherePossible(RemoveIndexConcurrently):
    """RemoveIndexConcurrently on PostgreSQL, a plain RemoveIndex elsewhere (use in an `atomic = False` migration)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return RemoveIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return RemoveIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class DropForeignKeyIndexConcurrentlyWherePossible(AlterField):
    """A foreign key's own index dropped (the field becomes `db_index=False`) when an index
    that starts with its column already serves it. AlterField would drop the constraint and add
    it back, which checks every row under a lock that stops writes; this drops only the index:
    CONCURRENTLY on PostgreSQL (use in an `atomic = False` migration), plainly on SQLite."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        column = model._meta.get_field(self.name).column
        names = schema_editor._constraint_names(model, [column], index=True, unique=False, primary_key=False)
        concurrently = " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""
        for name in names:
            schema_editor.execute(f"DROP INDEX{concurrently} IF EXISTS {schema_editor.quote_name(name)}")

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        field = model._meta.get_field(self.name)
        options = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
        schema_editor.execute(schema_editor._create_index_sql(model, fields=[field], **options))
