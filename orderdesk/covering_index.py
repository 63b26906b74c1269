"""An index that also holds other columns where the database can, so a query reading only
those is answered from the index alone."""

from __future__ import annotations

from django.db import models


class CoveringIndex(models.Index):
    """`fields` as any index, and `covers`: further columns held in each entry as INCLUDE
    (not part of the key) where the database has it (PostgreSQL). Elsewhere (SQLite) it is the
    index of `fields` alone: appending the columns to SQLite's key instead made its planner,
    without statistics (SQLite gathers none unless told to ANALYZE), prefer walking every order
    of the merchant in this wider index to a lookup in the right one. Unlike Django's own
    `include`, no system-check warning on SQLite."""

    def __init__(self, *, fields, covers, name: str):
        super().__init__(fields=fields, name=name)
        self.covers = tuple(covers)

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.features.supports_covering_indexes:
            index = models.Index(fields=self.fields, include=self.covers, name=self.name)
        else:
            index = models.Index(fields=self.fields, name=self.name)
        return index.create_sql(model, schema_editor, using=using, **kwargs)

    def deconstruct(self):
        path, args, kwargs = super().deconstruct()
        return path, args, {**kwargs, "covers": self.covers}
