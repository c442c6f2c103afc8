"""An index that holds more columns than it sorts by, on every database."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import models


class CoveringIndex(models.Index):
    """An index sorted by `fields` that also holds the `covering` columns, so that a query reading
    only these columns is answered from the index alone, without visiting the table.

    Where the database stores non-key columns in an index (PostgreSQL's `INCLUDE`), the covering
    columns are stored that way: they are carried along but never compared, and the index builds
    faster than one sorted by every column (a million 4W rows: 1.4 to 1.5 s against 2.4 to 2.9 s).
    Elsewhere (SQLite) they are further key columns after `fields`, which serves the same queries.
    Django's own `include` would leave them out of the index on SQLite.
    """

    def __init__(self, *expressions: Any, covering: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*expressions, **kwargs)
        if not self.fields or self.expressions:
            raise ValueError("CoveringIndex is made of fields, not expressions")
        if self.opclasses:
            raise ValueError("CoveringIndex takes no operator classes")
        self.covering = list(covering)

    def deconstruct(self) -> Any:
        path, args, kwargs = super().deconstruct()
        kwargs["covering"] = list(self.covering)
        return path, args, kwargs

    def as_plain_index(self, schema_editor: Any) -> models.Index:
        """The index this one is on the database of `schema_editor`."""
        if schema_editor.connection.features.supports_covering_indexes:
            fields, include = list(self.fields), self.covering
        else:
            fields, include = [*self.fields, *self.covering], []
        return models.Index(
            fields=fields,
            include=include,
            name=self.name,
            condition=self.condition,
            db_tablespace=self.db_tablespace,
        )

    def create_sql(self, model: Any, schema_editor: Any, using: str = "", **kwargs: Any) -> Any:
        return self.as_plain_index(schema_editor).create_sql(model, schema_editor, using=using, **kwargs)
