"""CoveringIndex: sorted by its fields, holding its covering columns too, on either database."""

from __future__ import annotations

import pytest
from django.db import connection

from reliefops.cluster.models import PAIRING_COVERED, PAIRING_KEY, ActivityRow
from reliefops.core.indexes import CoveringIndex


def index_columns(name: str) -> tuple[list[str], list[str]]:
    """(key columns, non-key columns) of an index, as the database holds it."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT a.attname, k.n <= i.indnkeyatts FROM pg_index i "
                "JOIN unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) ON true "
                "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
                "WHERE i.indexrelid = %s::regclass ORDER BY k.n",
                [name],
            )
            found = cursor.fetchall()
        else:
            cursor.execute(f'PRAGMA index_xinfo("{name}")')
            found = [(column, bool(key)) for _, _, column, _, _, key in cursor.fetchall() if column]
    return [c for c, key in found if key], [c for c, key in found if not key]


def columns(fields: list[str]) -> list[str]:
    return [ActivityRow._meta.get_field(f).column for f in fields]


@pytest.mark.django_db
def test_the_pairing_index_holds_every_column_its_queries_read():
    keys, held = index_columns("activityrow_pairing")
    if connection.vendor == "postgresql":
        # sorted by the four columns the rule looks up, the others carried as non-key columns
        assert keys == columns(PAIRING_KEY)
        assert held == columns(PAIRING_COVERED)
    else:
        # SQLite has no non-key columns: the covering ones are further keys, after the four
        assert keys == columns(PAIRING_KEY) + columns(PAIRING_COVERED)
        assert held == []


def test_a_covering_index_survives_its_round_trip_through_a_migration():
    index = CoveringIndex(fields=["activity", "period"], covering=["households"], name="x_covering")
    path, args, kwargs = index.deconstruct()
    assert path == "reliefops.core.indexes.CoveringIndex"
    assert kwargs == {"name": "x_covering", "fields": ["activity", "period"], "covering": ["households"]}
    assert CoveringIndex(*args, **kwargs) == index
    assert index != CoveringIndex(fields=["activity", "period"], covering=["quantity"], name="x_covering")


def test_a_covering_index_is_made_of_fields():
    from django.db.models.functions import Lower

    with pytest.raises(ValueError, match="fields, not expressions"):
        CoveringIndex(Lower("row_id"), covering=["households"], name="x_covering")
    with pytest.raises(ValueError, match="no operator classes"):
        CoveringIndex(fields=["row_id"], opclasses=["varchar_pattern_ops"], covering=["households"], name="x")
