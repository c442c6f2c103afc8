"""Set-based writes of many 4W rows at once, for SQLite and PostgreSQL.

The SQL here is assembled from this module's constant table and column names only; every value
travels as a parameter.

An upload may carry a million rows, so rows go in by one `executemany` (SQLite) or one `COPY`
(PostgreSQL) rather than one INSERT per row, and sets of row ids travel in a temporary table
(SQLite) or an array (PostgreSQL). Callers run these inside their own transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection

TABLE = "cluster_activityrow"
INSERT_COLUMNS = (
    "batch_id",
    "line",
    "reporting_org_id",
    "row_id",
    "programming_org_id",
    "implementing_org_id",
    "funding_org_id",
    "recipient_org_id",
    "activity_id",
    "admin_area_id",
    "adm1",
    "adm2",
    "adm3",
    "site_id",
    "location",
    "status",
    "start_date",
    "end_date",
    "period",
    "quantity",
    "households",
    "people_female",
    "people_male",
    "withdrawn",
    "digest",
    "extra",
)
_DATE_COLUMNS = tuple(INSERT_COLUMNS.index(c) for c in ("start_date", "end_date", "period"))
_EXTRA = INSERT_COLUMNS.index("extra")


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def insert_rows(rows: Iterable[Sequence[Any]]) -> int:
    """Insert rows given as tuples in INSERT_COLUMNS order; returns how many."""
    count = 0
    with connection.cursor() as cursor:
        if is_postgres():
            columns = ", ".join(INSERT_COLUMNS)
            with cursor.cursor.copy(f"COPY {TABLE} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    if row[_EXTRA] is not None:
                        row = (*row[:_EXTRA], json.dumps(row[_EXTRA]), *row[_EXTRA + 1 :])
                    copy.write_row(row)
                    count += 1
            return count
        placeholders = ", ".join("?" for _ in INSERT_COLUMNS)
        sql = f"INSERT INTO {TABLE} ({', '.join(INSERT_COLUMNS)}) VALUES ({placeholders})"  # noqa: S608
        raw = cursor.cursor  # the sqlite3 cursor: parameters go in as `?`, dates as ISO text

        def adapted() -> Iterable[Sequence[Any]]:
            nonlocal count
            for row in rows:
                values = list(row)
                for index in _DATE_COLUMNS:
                    value = values[index]
                    if value is not None:
                        values[index] = value.isoformat()
                if values[_EXTRA] is not None:
                    values[_EXTRA] = json.dumps(values[_EXTRA])
                count += 1
                yield values

        raw.executemany(sql, adapted())
    return count


class IdSet:
    """A set of row ids usable in SQL as `IN (<IdSet.sql>)` within one transaction."""

    def __init__(self, cursor: Any, ids: Iterable[int], name: str = "ids") -> None:
        self.cursor = cursor
        self.name = f"cluster_tmp_{name}"
        self.ids = list(ids)
        if is_postgres():
            self.sql = "SELECT unnest(%s::bigint[])"
            self.params: list[Any] = [self.ids]
        else:
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {self.name} (id INTEGER PRIMARY KEY)")
            cursor.execute(f"DELETE FROM {self.name}")  # noqa: S608
            insert = f"INSERT INTO {self.name} (id) VALUES (?)"  # noqa: S608
            cursor.cursor.executemany(insert, ((i,) for i in self.ids))
            self.sql = f"SELECT id FROM temp.{self.name}"  # noqa: S608
            self.params = []

    def __len__(self) -> int:
        return len(self.ids)


def close_versions(*, ids: Sequence[int], batch_id: int) -> int:
    """Mark the current versions with these ids as replaced in the batch."""
    if not ids:
        return 0
    with connection.cursor() as cursor:
        chosen = IdSet(cursor, ids, "close")
        cursor.execute(
            f"UPDATE {TABLE} SET replaced_in_id = %s WHERE replaced_in_id IS NULL AND id IN ({chosen.sql})",  # noqa: S608
            [batch_id, *chosen.params],
        )
        return int(cursor.rowcount)


def reopen_versions(*, batch_id: int) -> int:
    """Make current again the versions the batch had closed."""
    with connection.cursor() as cursor:
        sql = f"UPDATE {TABLE} SET replaced_in_id = NULL WHERE replaced_in_id = %s"  # noqa: S608
        cursor.execute(sql, [batch_id])
        return int(cursor.rowcount)


def delete_batch_versions(*, batch_id: int) -> int:
    """Delete the versions a batch added (and any set-aside mark that points at them)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET counted_in_id = NULL WHERE counted_in_id IN "  # noqa: S608
            f"(SELECT id FROM {TABLE} WHERE batch_id = %s)",
            [batch_id],
        )
        cursor.execute(f"DELETE FROM {TABLE} WHERE batch_id = %s", [batch_id])  # noqa: S608
        return int(cursor.rowcount)


def recount_pairs(*, organisation_ids: Iterable[int]) -> int:
    """Apply the programming / implementing partner rule to the current rows of these organisations.

    A row that an organisation reports for an activity another organisation implements is set
    aside (`counted_in` = the other row) when the implementing organisation reports that activity
    itself — same activity type, admin area and reporting month — naming the first organisation
    as its programming or funding partner. Returns how many rows are set aside.
    """
    orgs = sorted(set(organisation_ids))
    if not orgs:
        return 0
    marks = ", ".join(["%s"] * len(orgs))
    scope = f"(reporting_org_id IN ({marks}) OR implementing_org_id IN ({marks}))"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET counted_in_id = NULL "  # noqa: S608
            f"WHERE replaced_in_id IS NULL AND counted_in_id IS NOT NULL AND {scope}",
            [*orgs, *orgs],
        )
        pair = f"""
            UPDATE {TABLE} SET counted_in_id = (
                SELECT MIN(own.id) FROM {TABLE} own
                WHERE own.replaced_in_id IS NULL
                  AND own.activity_id = {TABLE}.activity_id
                  AND own.admin_area_id = {TABLE}.admin_area_id
                  AND own.period = {TABLE}.period
                  AND own.reporting_org_id = {TABLE}.implementing_org_id
                  AND own.implementing_org_id = {TABLE}.implementing_org_id
                  AND own.withdrawn = %s
                  AND own.recipient_org_id IS NULL
                  AND (own.programming_org_id = {TABLE}.programming_org_id
                       OR own.funding_org_id = {TABLE}.programming_org_id)
            )
            WHERE replaced_in_id IS NULL AND withdrawn = %s AND recipient_org_id IS NULL
              AND reporting_org_id <> implementing_org_id AND {scope}
        """  # noqa: S608
        cursor.execute(pair, [False, False, *orgs, *orgs])
        cursor.execute(
            f"SELECT COUNT(*) FROM {TABLE} WHERE replaced_in_id IS NULL AND counted_in_id IS NOT NULL "  # noqa: S608
            f"AND {scope}",
            [*orgs, *orgs],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def as_date(value: Any) -> dt.date | None:
    """A date from the database: SQLite gives text through raw cursors."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
