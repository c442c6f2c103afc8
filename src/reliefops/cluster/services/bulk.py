"""Set-based writes of many 4W rows at once, for SQLite and PostgreSQL.

The SQL here is assembled from this module's constant table and column names only; every value
travels as a parameter.

An upload may carry a million rows, so rows go in by one `executemany` (SQLite) or one `COPY`
(PostgreSQL) rather than one INSERT per row, and sets of row ids travel in a temporary table
(SQLite) or an array (PostgreSQL). Callers run these inside their own transaction.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
import json
import os
import re
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from contextlib import contextmanager
from operator import itemgetter
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection

from reliefops.env import VAR_DIR

# Dates go into SQLite as ISO text (what Python's own adapter does, and Django stores).
sqlite3.register_adapter(dt.date, dt.date.isoformat)

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


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a million rows are built: none of them forms a
    cycle, and the collector would otherwise walk them again and again."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# A file's row (services.report_types.ReportRow) in INSERT_COLUMNS order after batch_id and withdrawn:
# line, reporting_org_id … people_male, digest, extra.
_REPORT_ROW_COLUMNS = itemgetter(0, *range(2, 23), 24, 23)
ROWS_PER_STATEMENT = 400  # SQLite: one INSERT of many rows costs far less than many INSERTs of one
REBUILD_AT = 20_000  # a batch this large, and as large as half the table, rebuilds the indexes after
# Indexes a large batch keeps while its rows go in (see _IndexRebuild._indexes).
KEEP_INDEXES = frozenset({"activityrow_counted_in", "activityrow_replaced_in"})
# SQLite, while a large batch goes in: the page cache (negative: KiB), which also bounds what the
# sorter building an index holds in memory before it writes sorted runs and merges them, and the
# helper threads that sort those runs. A million rows: the indexes take 2.1 to 2.4 s with 8 MiB
# and one helper, against 3.0 to 3.1 s sorting every key in one run in a 256 MiB cache, and the
# commit 0.5 s against 0.75 s.
SORT_CACHE_KIB = -8192
SORT_THREADS = max(1, min((os.cpu_count() or 1) - 1, 4))


def rebuild_threshold() -> int:
    """The batch size from which a large insert rebuilds the indexes: `REBUILD_AT`, unless the
    Django setting CLUSTER_BULK_REBUILD_AT says otherwise (the tests lower it to a few rows)."""
    return int(getattr(settings, "CLUSTER_BULK_REBUILD_AT", REBUILD_AT))


def _json_extra(values: tuple[Any, ...]) -> tuple[Any, ...]:
    return values if values[-1] is None else (*values[:-1], json.dumps(values[-1]))


def vacuum_table() -> None:
    """VACUUM (ANALYZE) the 4W table (PostgreSQL; outside any transaction).

    Run after a large batch is committed. Until a vacuum has read the new rows, the gap analysis
    visits the table for every row it reads through the pairing index (a million rows: 1.1 to 1.4 s
    for every activity, against 0.4 to 0.5 s after), and the planner does not know the table's new
    size. Autovacuum would come round within a minute or two; this does it at once (0.5 to 0.7 s)."""
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {TABLE}")


def lock_for_writing() -> None:
    """Take the table for this transaction's writes: imports and reverts then follow one another
    (readers are not held up). SQLite's write transaction already does this for the database."""
    if is_postgres():
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {TABLE} IN SHARE ROW EXCLUSIVE MODE")


def reserve_ids(count: int) -> range:
    """Ids for rows about to be inserted, so that rows of one batch can point at each other.

    SQLite: the import holds the database's write lock, so the next ids are simply the next
    numbers. PostgreSQL: the values are drawn from the table's sequence.
    """
    with connection.cursor() as cursor:
        if is_postgres():
            # Imports hold lock_for_writing(): no other one draws from the sequence meanwhile.
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [TABLE])
            start = cursor.fetchone()[0]
            if count > 1:
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [TABLE, start + count - 1]
                )
            return range(start, start + count)
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {TABLE}")  # noqa: S608
        highest = cursor.fetchone()[0]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [TABLE])
        found = cursor.fetchone()
        start = max(highest, found[0] if found else 0) + 1
        return range(start, start + count)


def insert_report_rows(
    rows: Sequence[Any],
    *,
    batch_id: int,
    ids: Sequence[int],
    counted_in: dict[int, int],
    sides: Sequence[SideRows] = (),
    known: dict[str, set[Any]] | None = None,
) -> tuple[float, float]:
    """Insert a file's rows (ReportRows) as new versions of the batch, with the ids given and the
    rows they are counted in (by position); returns the seconds spent building indexes again and
    (PostgreSQL) adding the foreign keys back and checking them.

    Rows go in by COPY (PostgreSQL) or by multi-row INSERTs (SQLite). A batch as large as half the
    table (a first upload, a benchmark) goes into the table without its secondary indexes, which
    are then built again from their own definitions: building an index once is much faster than
    inserting a million scattered keys into it, and a unique index built again still refuses a
    duplicate (the whole transaction would then roll back).
    """
    if not rows:
        return 0.0, 0.0
    rebuild = _IndexRebuild(
        len(rows), first_id=ids[0], rows=rows, batch_id=batch_id, counted_in=counted_in.values(), known=known
    )
    with connection.cursor() as cursor, rebuild.around(cursor):
        if is_postgres():
            _copy_rows(cursor, rows, batch_id=batch_id, ids=ids, counted_in=counted_in)
        else:
            _insert_rows_sqlite(cursor, rows, batch_id=batch_id, ids=ids, counted_in=counted_in, sides=sides)
    return rebuild.seconds, rebuild.keys_seconds


def _copy_rows(
    cursor: Any, rows: Sequence[Any], *, batch_id: int, ids: Sequence[int], counted_in: dict[int, int]
) -> None:
    columns = [
        "batch_id", "withdrawn", "id", *(c for c in INSERT_COLUMNS if c not in {"batch_id", "withdrawn"}),
        "counted_in_id",
    ]  # fmt: skip
    values: Iterable[tuple[Any, ...]] = map(_REPORT_ROW_COLUMNS, rows)
    # In COPY's binary format, each column's type told once (read from the table itself): the
    # driver then converts each value by its column's type, not by looking at every value's own
    # (a million rows: 2.6 s instead of 4.5 to 5.5 s).
    cursor.execute(
        "SELECT attname, atttypid::int FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0",
        [TABLE],
    )
    types = dict(cursor.fetchall())
    # Through Django's wrapper of database errors: a row the table refuses raises django.db's
    # IntegrityError, as any other statement's would, and not the driver's own.
    sql = f"COPY {TABLE} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
    with connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
        copy.set_types([types[c] for c in columns])
        for position, (pk, row) in enumerate(zip(ids, values, strict=True)):
            copy.write_row((batch_id, False, pk, *row, counted_in.get(position)))


# SQLite takes a file's rows as they are: the columns below are a ReportRow's fields in order, its
# action (always "upsert" here) going into `withdrawn` as `action = 'delete'`.
_ROW_AS_COLUMNS = (
    "line", "withdrawn", "reporting_org_id", "row_id", "programming_org_id", "implementing_org_id",
    "funding_org_id", "recipient_org_id", "activity_id", "admin_area_id", "adm1", "adm2", "adm3", "site_id",
    "location", "status", "start_date", "end_date", "period", "quantity", "households", "people_female",
    "people_male", "extra", "digest",
)  # fmt: skip


def _sqlite_values(
    rows: Iterable[Any], counted_in: dict[int, int] | None = None, start: int = 0
) -> Iterator[tuple[int, list[Any]]]:
    """The values of the rows in _ROW_AS_COLUMNS order (then, with `counted_in`, the id each row
    is counted in, by its position in the file's rows, the first of `rows` being at `start`),
    flattened, ROWS_PER_STATEMENT rows at a time: (how many rows, their values)."""
    chunk: list[Any] = []
    filled = 0
    marked = counted_in.get if counted_in is not None else None
    # row[16:19] are start_date, end_date and period (see _ROW_AS_COLUMNS). They go in as ISO text
    # made once per distinct date: binding a date object makes sqlite3 call its adapter for every
    # value (three a row, 0.8 s a million rows).
    iso: dict[Any, str | None] = {None: None}
    for position, row in enumerate(rows, start):
        try:
            dates = (iso[row[16]], iso[row[17]], iso[row[18]])
        except KeyError:
            for day in row[16:19]:
                if day not in iso:
                    iso[day] = day.isoformat()
            dates = (iso[row[16]], iso[row[17]], iso[row[18]])
        chunk += row[:16]
        chunk += dates
        if row[23] is None:
            chunk += row[19:]
        else:
            chunk += (*row[19:23], json.dumps(row[23]), row[24])
        if marked is not None:
            chunk.append(marked(position))
        filled += 1
        if filled == ROWS_PER_STATEMENT:
            yield filled, chunk
            chunk, filled = [], 0
    if filled:
        yield filled, chunk


def _sqlite_insert(
    execute: Callable[..., Any],
    head: str,
    one: str,
    rows: Iterable[Any],
    counted_in: dict[int, int] | None = None,
    start: int = 0,
) -> None:
    """Multi-row INSERTs of the rows by `execute`: `head`, then `one` (the marks of one row) as
    many times as rows."""
    many = head + ", ".join([one] * ROWS_PER_STATEMENT)
    for filled, chunk in _sqlite_values(rows, counted_in, start):
        execute(many if filled == ROWS_PER_STATEMENT else head + ", ".join([one] * filled), chunk)


def _insert_rows_sqlite(
    cursor: Any,
    rows: Sequence[Any],
    *,
    batch_id: int,
    ids: Sequence[int],
    counted_in: dict[int, int],
    sides: Sequence[SideRows] = (),
) -> None:
    """Multi-row INSERTs binding each row's own fields and the row it is counted in; the ids come
    in the order reserve_ids() foresaw (the database's write lock is held), which is checked after.
    The rows a side file holds (written whole) are copied from it by one INSERT … SELECT."""
    marks = ["?"] * (len(_ROW_AS_COLUMNS) + 1)
    marks[1] = "(? = 'delete')"
    head = f"INSERT INTO {TABLE} (batch_id, {', '.join(_ROW_AS_COLUMNS)}, counted_in_id) VALUES "  # noqa: S608
    one = f"({int(batch_id)}, {', '.join(marks)})"
    # The statements carry "?" marks already: sqlite3's own execute takes them as they are, where
    # Django's wrapper would first scan each 40 KB statement for "%s" (a second a million rows).
    execute = functools.partial(sqlite3.Cursor.execute, cursor.cursor)
    done = 0  # rows in so far, in the order of the file
    # Through Django's wrapper of database errors, as the statements bypass it: a row the table
    # refuses raises django.db's IntegrityError, not the driver's own.
    with connection.wrap_database_errors:
        for side in sorted(sides, key=lambda s: s.first):
            if side.first < done:
                continue
            # The rows before the side file's first: meanwhile its child finishes writing it.
            _sqlite_insert(execute, head, one, rows[done : side.first], counted_in, done)
            done = side.first
            if side.ready(rows) and side.copy_into(cursor, batch_id=batch_id, counted_in=counted_in):
                done += side.count
        _sqlite_insert(execute, head, one, rows[done:], counted_in, done)
    cursor.execute(f"SELECT MIN(id), MAX(id), COUNT(*) FROM {TABLE} WHERE id >= %s", [ids[0]])  # noqa: S608
    if tuple(cursor.fetchone()) != (ids[0], ids[-1], len(ids)):
        raise RuntimeError("the new rows did not take the ids foreseen for them; nothing was written")


SIDE_WAIT = 60.0  # seconds to wait for a child writing a side file (then the rows go in as usual)
SIDE_FOLDER = "tmp"  # under RELIEFOPS_VAR_DIR, beside the SQLite database
SIDE_KEEP_SECONDS = 86400  # a side folder older than this was left by a process that died: removed


def side_folder() -> str:
    """A new folder for a side file, under RELIEFOPS_VAR_DIR/tmp (the disk the SQLite database is
    on by default, rather than a temporary file system in memory); folders older than a day, left
    by an import that was killed, are removed on the way."""
    root = VAR_DIR / SIDE_FOLDER
    root.mkdir(parents=True, exist_ok=True)
    limit = time.time() - SIDE_KEEP_SECONDS
    for old in root.glob("side-*"):
        with contextlib.suppress(OSError):
            if old.stat().st_mtime < limit:
                shutil.rmtree(old, ignore_errors=True)
    return tempfile.mkdtemp(prefix="side-", dir=root)


class SideRows:
    """Rows of a file written ahead into a SQLite file of their own, so that the import copies them
    into the table by one INSERT … SELECT.

    Binding a row's values one by one through Python's sqlite3 module takes about three times as
    long as SQLite copying the row from table to table, and the binding can be done off the
    import's path. A large CSV file is read in two processes (see
    importers.activities.ActivityFileReader.read_split): the child that reads the second part, once
    it has sent its rows, writes them into one side file on the second core. In a first upload, the
    importing process writes the rows of its own, smaller, part into another side file, while the
    child still reads. When the import inserts exactly the file's rows, it copies them from the
    side files. If a side file could not be written, or its rows are not what is inserted (rows
    updated, dates read again), the rows go in the usual way: the outcome is the same.
    """

    def __init__(self, first: int, name: str) -> None:
        self.first = first  # position, in the file's rows, of the first row written ahead
        self.count = 0  # how many rows
        self.schema = f"reliefops_side_{name}"  # the name the file is attached under
        self.folder = side_folder()
        self.path = os.path.join(self.folder, "rows.sqlite3")
        self.child: Any = None  # the parallel.Child writing the file
        self.written = False  # written by this process itself (write_here)
        self.attached = False
        self.usable = True

    def write(self, rows: Sequence[Any]) -> None:
        """Write the rows (in the child): a table `rows` of _ROW_AS_COLUMNS, `action` in place of
        `withdrawn`, in the rows' order."""
        columns = ["action" if name == "withdrawn" else name for name in _ROW_AS_COLUMNS]
        db = sqlite3.connect(self.path, isolation_level=None)
        try:
            # A scratch file: what makes the rows durable is the import's own commit.
            db.execute("PRAGMA journal_mode = OFF")
            db.execute("PRAGMA synchronous = OFF")
            db.execute(f"CREATE TABLE rows (pos INTEGER PRIMARY KEY, {', '.join(columns)})")
            db.execute("BEGIN")
            head = f"INSERT INTO rows ({', '.join(columns)}) VALUES "  # noqa: S608
            _sqlite_insert(db.execute, head, f"({', '.join(['?'] * len(columns))})", rows)
            db.execute("CREATE TABLE written (count INTEGER NOT NULL)")
            db.execute("INSERT INTO written (count) VALUES (?)", [len(rows)])
            db.execute("COMMIT")
        finally:
            db.close()

    def write_here(self, rows: Sequence[Any]) -> bool:
        """Write the rows in this process (see write); False, the file removed, when it could not
        be written: the rows then go in the usual way."""
        try:
            self.write(rows)
        except (sqlite3.Error, OSError):
            self.discard()
            return False
        self.written, self.count = True, len(rows)
        return True

    def ready(self, rows: Sequence[Any]) -> bool:
        """Whether the side file holds the `count` rows from position `first` of `rows`, the
        file's rows (waiting for the child, if a child writes it, to finish writing them)."""
        count, last = self.count, self.first + self.count - 1
        if not self.usable or count <= 0 or last >= len(rows):
            return False
        if self.child is None and not self.written:
            return False
        if self.child is not None and not self.child.finish(SIDE_WAIT):
            return False
        ends = (rows[self.first][0], rows[self.first][24], rows[last][0], rows[last][24])  # line, digest
        try:
            check = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            try:
                written = check.execute("SELECT count FROM written").fetchone()
                stored = check.execute("SELECT COUNT(*), MIN(pos), MAX(pos) FROM rows").fetchone()
                first = check.execute("SELECT line, digest FROM rows WHERE pos = 1").fetchone()
                final = check.execute("SELECT line, digest FROM rows WHERE pos = ?", [count]).fetchone()
            finally:
                check.close()
        except sqlite3.Error:
            return False
        return written == (count,) and stored == (count, 1, count) and (*first, *final) == ends

    def copy_into(self, cursor: Any, *, batch_id: int, counted_in: dict[int, int]) -> bool:
        """Copy the side file's rows into the table, in their order, with the ids they are counted
        in (`counted_in`: by position in the file's rows), inside the caller's transaction (the
        file stays attached until discard()). False, having written nothing, when the file cannot
        be attached."""
        try:
            cursor.execute(f"ATTACH DATABASE %s AS {self.schema}", [self.path])
        except DatabaseError:
            return False
        self.attached = True
        end = self.first + self.count
        marks = IdPairs(
            cursor,
            ((p - self.first + 1, own) for p, own in counted_in.items() if self.first <= p < end),
            name=f"side_{self.schema}",
        )
        selected = ", ".join(
            f"s.{c}" if c != "withdrawn" else "(s.action = 'delete')" for c in _ROW_AS_COLUMNS
        )
        cursor.execute(
            f"INSERT INTO {TABLE} (batch_id, {', '.join(_ROW_AS_COLUMNS)}, counted_in_id) "  # noqa: S608
            f"SELECT %s, {selected}, m.value FROM {self.schema}.rows s "
            f"LEFT JOIN {marks.table} m ON m.id = s.pos ORDER BY s.pos",
            [batch_id],
        )
        return True

    def discard(self) -> None:
        """Stop the child if it still writes, detach and remove the file (after the transaction)."""
        self.usable = False
        if self.child is not None:
            self.child.cancel()
        if self.attached:
            with contextlib.suppress(Exception), connection.cursor() as cursor:
                cursor.execute(f"DETACH DATABASE {self.schema}")
            self.attached = False
        shutil.rmtree(self.folder, ignore_errors=True)


class _IndexRebuild:
    """Drops the table's secondary indexes (and, on PostgreSQL, its foreign keys and primary key)
    for a large insert and builds them again after it.

    On PostgreSQL each foreign key of each new row is otherwise checked by a trigger, one row at a
    time; the keys are added back NOT VALID and the keys written are checked once (see
    `_add_keys_back`), which refuses the transaction as surely if a row breaks one.
    """

    def __init__(
        self,
        incoming: int,
        first_id: int = 0,
        *,
        rows: Sequence[Any] = (),
        batch_id: int | None = None,
        counted_in: Iterable[int] = (),
        known: dict[str, set[Any]] | None = None,
    ) -> None:
        self.incoming = incoming
        self.known = known  # the rows' key values, if gathered as they were read
        self.first_id = first_id  # the new rows are those from this id on
        # The new rows (ReportRows) and the rows they are counted in: their keys are checked once in.
        self.rows = rows
        self.batch_id = batch_id
        self.counted_in = counted_in
        self.seconds = 0.0
        self.keys_seconds = 0.0

    @contextmanager
    def around(self, cursor: Any) -> Iterator[None]:
        large = self.incoming >= rebuild_threshold() and self._large(cursor)
        indexes = self._indexes(cursor) if large else []
        cache = threads = None
        keys_off = large and is_postgres()  # PostgreSQL: the keys go too, and are added back
        checks_once = large and not is_postgres()
        if checks_once:
            # Building the indexes sorts a million keys: in runs of the cache's size, sorted by
            # helper threads on the other cores, then merged (see SORT_CACHE_KIB).
            cursor.execute("PRAGMA cache_size")
            cache = cursor.fetchone()[0]
            cursor.execute("PRAGMA threads")
            threads = cursor.fetchone()[0]
            cursor.execute(f"PRAGMA cache_size = {SORT_CACHE_KIB}")
            cursor.execute(f"PRAGMA threads = {SORT_THREADS}")
            # The CHECK constraints are checked once over the new rows, after the insert (below).
            cursor.execute("PRAGMA ignore_check_constraints = ON")
        try:
            foreign_keys = self._foreign_keys(cursor) if keys_off else []
            if keys_off:
                # Checks pending from earlier statements would forbid the ALTER TABLE.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            # Dropped inside the caller's transaction: if anything below fails, the rollback puts
            # every index and foreign key back as it was.
            for name, _ in foreign_keys:
                cursor.execute(f'ALTER TABLE {TABLE} DROP CONSTRAINT "{name}"')
            for name, _ in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
            primary = self._primary_key(cursor, foreign_keys) if keys_off else None
            if primary is not None:
                cursor.execute(f'ALTER TABLE {TABLE} DROP CONSTRAINT "{primary[0]}"')
            yield
            if checks_once:
                cursor.execute("PRAGMA ignore_check_constraints = OFF")
                check_constraints_from(cursor, self.first_id)
            started = time.perf_counter()
            if primary is not None:  # first: the foreign key of counted_in points at it
                cursor.execute(f'ALTER TABLE {TABLE} ADD CONSTRAINT "{primary[0]}" {primary[1]}')
            for _, sql in indexes:
                cursor.execute(sql)
            if large:
                self.seconds = time.perf_counter() - started
            if foreign_keys:
                started = time.perf_counter()
                self._add_keys_back(cursor, foreign_keys)
                self.keys_seconds = time.perf_counter() - started
            if keys_off:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        finally:
            # The pragmas are the connection's, not the transaction's.
            if checks_once:
                cursor.execute("PRAGMA ignore_check_constraints = OFF")
            if cache is not None:
                cursor.execute(f"PRAGMA cache_size = {int(cache)}")
            if threads is not None:
                cursor.execute(f"PRAGMA threads = {int(threads)}")

    def _add_keys_back(self, cursor: Any, foreign_keys: list[tuple[str, str]]) -> None:
        """Add the foreign keys back (PostgreSQL) and check the new rows' keys.

        Added back as they were, each key would be checked by a join over the whole table (a
        million rows: 11 keys, 3.9 s). They are added back NOT VALID instead, which takes the same
        locks (the tables they point at can lose no row until the commit) and enforces them on every
        later write, and the keys this insert wrote are checked here: each column's distinct values
        are looked up in the table it points at, as `ForeignKeys.check` does on SQLite. A key this
        cannot check that way is validated by PostgreSQL, over the table. Rows that were in the
        table before were checked when they were written. The keys stay marked NOT VALID in the
        catalogue until validated (see the operations guide); nothing depends on that mark."""
        for name, definition in foreign_keys:
            definition = re.sub(r"\s+NOT VALID\s*$", "", definition)
            cursor.execute(f'ALTER TABLE {TABLE} ADD CONSTRAINT "{name}" {definition} NOT VALID')
        unchecked = check_written_keys(
            cursor,
            _pg_key_columns(cursor),
            batch_id=self.batch_id,
            rows=self.rows,
            tombstones=(),
            counted_in=self.counted_in,
            known=self.known,
        )
        for name in unchecked:
            cursor.execute(f'ALTER TABLE {TABLE} VALIDATE CONSTRAINT "{name}"')

    def _large(self, cursor: Any) -> bool:
        return bool(self.incoming >= _table_rows(cursor) // 2)

    def _indexes(self, cursor: Any) -> list[tuple[str, str]]:
        if is_postgres():
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
                "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
                [TABLE, TABLE],
            )
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master "
                "WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
                [TABLE],
            )
        # The index of counted_in stays: with it gone, SQLite would look for the rows counted in
        # each new row (a pending deferred foreign key) by scanning the whole table. The index of
        # replaced_in holds only rows that were replaced, which a new row never is: building it
        # again would read the whole table to find none of the new rows.
        return [(name, sql) for name, sql in cursor.fetchall() if name not in KEEP_INDEXES]

    def _primary_key(self, cursor: Any, dropped: list[tuple[str, str]]) -> tuple[str, str] | None:
        """PostgreSQL: the table's primary key (name, definition), dropped while a large batch goes
        in and added back after it, when no foreign key points at the table but those dropped
        with it (its own key of counted_in). Its index is then built once from the ids, instead of
        taking each new id as the row goes in: a million rows went in 0.4 to 0.8 s sooner. Adding
        it back refuses an id the batch wrote twice, or one already stored, as the index would
        have refused it on the way in."""
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE confrelid = %s::regclass AND contype = 'f'", [TABLE]
        )
        if not {name for (name,) in cursor.fetchall()} <= {name for name, _ in dropped}:
            return None
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'p'",
            [TABLE],
        )
        found = cursor.fetchone()
        return (found[0], found[1]) if found else None

    def _foreign_keys(self, cursor: Any) -> list[tuple[str, str]]:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
            [TABLE],
        )
        return list(cursor.fetchall())


def _table_rows(cursor: Any) -> int:
    """How many rows (versions) the 4W table holds."""
    cursor.execute(f"SELECT COUNT(*) FROM {TABLE}")  # noqa: S608
    return int(cursor.fetchone()[0])


def check_clauses(ddl: str) -> list[tuple[str, str]]:
    """The CHECK constraints of a CREATE TABLE statement as SQLite keeps it: (name, expression),
    an unnamed one (a column's) named by its expression."""
    found: list[tuple[str, str]] = []
    quotes = {"'": "'", '"': '"', "`": "`", "[": "]"}
    at, size = 0, len(ddl)
    while at < size:
        char = ddl[at]
        if char in quotes:  # a string or a quoted name: skip to its end
            at = ddl.index(quotes[char], at + 1) + 1
            continue
        word = re.match(r"CHECK\s*\(", ddl[at:], re.IGNORECASE)
        if word is None or (at and (ddl[at - 1].isalnum() or ddl[at - 1] == "_")):
            at += 1
            continue
        start = at + word.end()
        depth, at = 1, start
        while depth:
            char = ddl[at]
            if char in quotes:
                at = ddl.index(quotes[char], at + 1) + 1
                continue
            depth += {"(": 1, ")": -1}.get(char, 0)
            at += 1
        expression = ddl[start : at - 1].strip()
        named = re.search(r'CONSTRAINT\s+("[^"]+"|\w+)\s*$', ddl[: start - len(word.group())], re.IGNORECASE)
        found.append((named.group(1).strip('"') if named else expression, expression))
    return found


def check_constraints_from(cursor: Any, first_id: int) -> None:
    """Check the table's CHECK constraints over the rows from `first_id` on, in one pass (SQLite,
    after an insert made with them ignored: a million rows check in about 0.5 s where checking them
    row by row as they go in costs about 1 s). A row breaks a constraint when its expression is
    false (not when it is NULL, as SQLite has it). Raises IntegrityError naming the constraint and
    the file line of the row."""
    cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s", [TABLE])
    clauses = check_clauses(cursor.fetchone()[0])
    if not clauses:
        return
    broken = ", ".join(f"NOT ({expression})" for _, expression in clauses)
    cursor.execute(
        f"SELECT line, {broken} FROM {TABLE} WHERE id >= %s "  # noqa: S608 - the table's own DDL
        f"AND ({' OR '.join(f'NOT ({expression})' for _, expression in clauses)}) LIMIT 1",
        [first_id],
    )
    found = cursor.fetchone()
    if found is not None:
        name = next(name for (name, _), failed in zip(clauses, found[1:], strict=True) if failed)
        raise IntegrityError(f"CHECK constraint failed: {name} (the row on line {found[0]} of the file)")


class ForeignKeys:
    """Whether a batch goes in with SQLite's foreign-key enforcement off; then `check()` checks every
    key written meanwhile, before the commit."""

    def __init__(self) -> None:
        self.off = False

    def check(
        self,
        *,
        batch_id: int,
        rows: Sequence[Any],
        tombstones: Sequence[Sequence[Any]],
        known: dict[str, set[Any]] | None = None,
    ) -> None:
        """Check the keys of what the batch wrote while enforcement was off: its new rows (a file's
        ReportRows), its withdrawn versions (tuples in INSERT_COLUMNS order), the versions it closed
        (`replaced_in` = the batch), every `counted_in` mark, and the batch's own row.

        Each column's distinct values are looked up in the table they point at: a few hundred
        look-ups where `PRAGMA foreign_key_check` over the table makes eight a row (a million rows:
        3.9 s). A key this does not know how to check is checked by the pragma, over the table.
        Raises IntegrityError naming the column and the value: the import's transaction rolls back.
        """
        if not self.off:
            return
        connection.check_constraints(table_names=["cluster_importbatch"])
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA foreign_key_list({TABLE})")
            # (name, column, table, its column): SQLite's keys have no names
            keys = [(row[3], row[3], row[2], row[4]) for row in cursor.fetchall()]
            unknown = check_written_keys(
                cursor, keys, batch_id=batch_id, rows=rows, tombstones=tombstones, known=known
            )
        if unknown:
            connection.check_constraints(table_names=[TABLE])


# The foreign key columns of a file's row (a ReportRow), by position.
ROW_KEYS = {
    "reporting_org_id": 2, "programming_org_id": 4, "implementing_org_id": 5, "funding_org_id": 6,
    "recipient_org_id": 7, "activity_id": 8, "admin_area_id": 9, "site_id": 13,
}  # fmt: skip


def key_values(rows: Sequence[Any]) -> dict[str, set[Any]]:
    """The distinct values of each foreign key column of a file's rows (see ROW_KEYS)."""
    return {column: set(map(itemgetter(at), rows)) for column, at in ROW_KEYS.items()}


def check_written_keys(
    cursor: Any,
    keys: Sequence[tuple[str, str, str, str]],
    *,
    batch_id: int | None,
    rows: Sequence[Any],
    tombstones: Sequence[Sequence[Any]],
    counted_in: Iterable[int] | None = None,
    known: dict[str, set[Any]] | None = None,
) -> list[str]:
    """Check the foreign keys (name, column, table, its column) of what a batch wrote: its new rows
    (ReportRows), its withdrawn versions (tuples in INSERT_COLUMNS order), the versions it closed
    (`replaced_in` = the batch), the `counted_in` marks (those given, or else every one in the
    table), and the batch's own id. Each column's distinct values are looked up in the table it
    points at (those of `known`, when given: the rows' own, gathered as they were read). Raises
    IntegrityError naming the column and the value; returns the names of the keys it does not know
    how to check."""
    fields = rows[0]._fields if rows else ()
    unknown: list[str] = []
    for name, column, parent, parent_column in keys:
        if column == "counted_in_id" and parent == TABLE and counted_in is not None:
            _check_exist(cursor, column, sorted(set(counted_in)), parent, parent_column)
        elif column == "counted_in_id" and parent == TABLE:
            _check_counted_in(cursor)
        elif column in ("batch_id", "replaced_in_id") and batch_id is not None:
            _check_exist(cursor, column, [batch_id], parent, parent_column)
        elif column in fields and column in INSERT_COLUMNS:
            if known is not None and column in known:
                values = set(known[column])
            else:
                values = set(map(itemgetter(fields.index(column)), rows))
            values.update(map(itemgetter(INSERT_COLUMNS.index(column)), tombstones))
            values.discard(None)
            _check_exist(cursor, column, sorted(values), parent, parent_column)
        else:
            unknown.append(name)
    return unknown


def _pg_key_columns(cursor: Any) -> list[tuple[str, str, str, str]]:
    """The table's foreign keys on PostgreSQL: (name, column, table, its column); a key of several
    columns comes with its name alone (empty strings), which the check leaves to VALIDATE."""
    cursor.execute(
        "SELECT c.conname, COALESCE(a.attname, ''), COALESCE(t.relname, ''), COALESCE(r.attname, '') "
        "FROM pg_constraint c "
        "LEFT JOIN pg_attribute a ON cardinality(c.conkey) = 1 "
        "AND a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
        "LEFT JOIN pg_class t ON cardinality(c.conkey) = 1 AND t.oid = c.confrelid "
        "LEFT JOIN pg_attribute r ON cardinality(c.conkey) = 1 "
        "AND r.attrelid = c.confrelid AND r.attnum = c.confkey[1] "
        "WHERE c.conrelid = %s::regclass AND c.contype = 'f' ORDER BY c.conname",
        [TABLE],
    )
    return list(cursor.fetchall())


def _check_exist(cursor: Any, column: str, values: list[Any], parent: str, parent_column: str) -> None:
    as_array = is_postgres()  # PostgreSQL takes the values as one array
    step = 100_000 if as_array else 500
    for start in range(0, len(values), step):
        chunk = values[start : start + step]
        # The names come from the database's own list of the table's foreign keys.
        if as_array:
            sql = f'SELECT "{parent_column}" FROM "{parent}" WHERE "{parent_column}" = ANY(%s)'  # noqa: S608
            cursor.execute(sql, [chunk])
        else:
            marks = _marks(chunk)
            sql = f'SELECT "{parent_column}" FROM "{parent}" WHERE "{parent_column}" IN ({marks})'  # noqa: S608
            cursor.execute(sql, chunk)
        missing = set(chunk) - {found for (found,) in cursor.fetchall()}
        if missing:
            raise IntegrityError(
                f"FOREIGN KEY constraint failed: {TABLE}.{column} = {min(missing)} is not in {parent}"
            )


def _check_counted_in(cursor: Any) -> None:
    """Every row marked as counted in another points at a row that exists (read through the index
    of counted_in, which a large batch keeps)."""
    cursor.execute(
        f"SELECT a.counted_in_id FROM {TABLE} a WHERE a.counted_in_id IS NOT NULL "  # noqa: S608
        f"AND NOT EXISTS (SELECT 1 FROM {TABLE} o WHERE o.id = a.counted_in_id) LIMIT 1"
    )
    found = cursor.fetchone()
    if found is not None:
        raise IntegrityError(
            f"FOREIGN KEY constraint failed: {TABLE}.counted_in_id = {found[0]} is not in {TABLE}"
        )


@contextmanager
def foreign_keys_checked_once(incoming: int | None) -> Iterator[ForeignKeys]:
    """On SQLite, a large batch (see _IndexRebuild) goes in without a look-up of every foreign key of
    every row as it is inserted (eight a row); the caller checks the keys it wrote once after the
    insert, with `ForeignKeys.check()` (a million rows: about 2 s less of CPU than the look-ups row
    by row, and 3.5 s less than `PRAGMA foreign_key_check` over the table). SQLite can switch the
    enforcement only outside a transaction, so an import inside an outer transaction (or on
    PostgreSQL, which drops and adds its keys again instead) keeps it on."""
    keys = ForeignKeys()
    if incoming and not is_postgres() and not connection.in_atomic_block and incoming >= rebuild_threshold():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {TABLE}")  # noqa: S608
            stored = cursor.fetchone()[0]
        if incoming >= stored // 2:
            keys.off = connection.disable_constraint_checking()
    try:
        yield keys
    finally:
        if keys.off:
            connection.enable_constraint_checking()


DONE = "completed"  # ActivityStatus.COMPLETED: the rows whose households are reached


def _pair_key(row: Sequence[Any]) -> tuple[Any, ...]:
    """What a file's row pairs by: activity, admin area, implementing organisation, month, and
    whether the work is done (completed) or still a target (planned, ongoing)."""
    return row[8], row[9], row[5], row[18], row[15] == DONE


def pairs_within(rows: Sequence[Any], ids: Sequence[int]) -> dict[int, int]:
    """The double-counting rule among the rows of one file: position of a programming partner's
    row -> id of the implementing partner's own row that counts it (see recount_pairs): the lowest
    id among the implementing partner's own rows of the same activity, area, month and stage (done,
    or still a target) whose programming or funding organisation is the programming partner."""
    # ReportRow fields: 2 reporting, 4 programming, 5 implementing, 6 funding, 7 recipient.
    candidates = [i for i, row in enumerate(rows) if row[7] is None and row[2] != row[5]]
    if not candidates:
        return {}
    wanted = {_pair_key(rows[i]) for i in candidates}
    # (activity, area, implementing organisation, month, programming or funding organisation) ->
    # the lowest id of an own row that names it.
    lowest: dict[tuple[Any, ...], int] = {}
    for row, pk in zip(rows, ids, strict=True):
        if row[7] is None and row[2] == row[5]:
            key = row[8], row[9], row[5], row[18], row[15] == DONE  # _pair_key(), written out: every row
            if key in wanted:
                for who in (row[4], row[6]):
                    named = (*key, who)
                    if pk < lowest.get(named, pk + 1):
                        lowest[named] = pk
    pairs: dict[int, int] = {}
    for i in candidates:
        row = rows[i]
        found = lowest.get((*_pair_key(row), row[4]))
        if found is not None:
            pairs[i] = found
    return pairs


SCAN_SHARE = 8  # SQLite: current versions at least 1/8 of the table are read by a scan of it


def current_versions(organisation_ids: Iterable[int]) -> Iterator[tuple[Any, ...]]:
    """(reporting organisation, row id, id, digest, withdrawn, period, implementing organisation)
    of the current versions of these organisations' rows: what an upload is compared with.

    Read with the cursor Django's iterator() uses (PostgreSQL: on the server), 20,000 rows at a
    time, without making a model row of each. SQLite reads them through the unique index of
    current versions, looking each row up in the table, unless told not to: when they are a large
    share of the table (a file of every partner's rows, uploaded again), it reads them in less than
    half the time by scanning the table (a million rows: 1.2 s against 2.6 s)."""
    orgs = sorted(set(organisation_ids))
    if not orgs:
        return
    marks = _marks(orgs)
    where = f"replaced_in_id IS NULL AND reporting_org_id IN ({marks})"
    columns = "reporting_org_id, row_id, id, digest, withdrawn, period, implementing_org_id"
    with connection.chunked_cursor() as cursor:
        source = TABLE
        if not is_postgres():
            cursor.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE {where}", orgs)  # noqa: S608
            wanted = cursor.fetchone()[0]
            if wanted * SCAN_SHARE >= _table_rows(cursor):
                source = f"{TABLE} NOT INDEXED"
        cursor.execute(f"SELECT {columns} FROM {source} WHERE {where}", orgs)  # noqa: S608
        days: dict[Any, dt.date] = {}  # SQLite gives the dates as ISO text
        while chunk := cursor.fetchmany(20000):
            for org, row_id, pk, digest, withdrawn, period, implementing in chunk:
                if period.__class__ is not dt.date:
                    day = days.get(period)
                    if day is None:
                        day = days[period] = dt.date.fromisoformat(period)
                    period = day
                yield org, row_id, pk, digest, bool(withdrawn), period, implementing


def any_current() -> bool:
    """Whether the table holds any current row (a first upload's rows are all added)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {TABLE} WHERE replaced_in_id IS NULL LIMIT 1")  # noqa: S608
        return cursor.fetchone() is not None


def others_current(*, organisation_ids: Iterable[int], batch_id: int) -> bool:
    """Whether current rows of these organisations exist outside the batch (then the rule must be
    applied again across batches)."""
    orgs = sorted(set(organisation_ids))
    if not orgs:
        return False
    marks = _marks(orgs)
    with connection.cursor() as cursor:
        # Through the index of batch: when the batch is the table's only one (a first upload), this
        # answers at once where the question below reads every row (a million rows: 1.6 s). Asked
        # as the lowest and highest batch, read at the two ends of the index: asked as "a row of
        # another batch exists", PostgreSQL's planner, right after a large batch went in (its
        # figures still those of the table before), read the whole table (a million rows: 0.36 s).
        cursor.execute(f"SELECT MIN(batch_id), MAX(batch_id) FROM {TABLE}")  # noqa: S608
        if tuple(cursor.fetchone()) in {(batch_id, batch_id), (None, None)}:
            return False
        cursor.execute(
            f"SELECT 1 FROM {TABLE} WHERE replaced_in_id IS NULL AND batch_id <> %s "  # noqa: S608
            f"AND (reporting_org_id IN ({marks}) OR implementing_org_id IN ({marks})) LIMIT 1",
            [batch_id, *orgs, *orgs],
        )
        return cursor.fetchone() is not None


def insert_rows(rows: Iterable[Sequence[Any]]) -> int:
    """Insert rows given as tuples in INSERT_COLUMNS order; returns how many."""
    count = 0
    with connection.cursor() as cursor:
        if is_postgres():
            columns = ", ".join(INSERT_COLUMNS)
            copying = cursor.cursor.copy(f"COPY {TABLE} ({columns}) FROM STDIN")
            with connection.wrap_database_errors, copying as copy:
                for row in rows:
                    copy.write_row(_json_extra(tuple(row)))
                    count += 1
            return count
        placeholders = ", ".join("?" for _ in INSERT_COLUMNS)
        sql = f"INSERT INTO {TABLE} ({', '.join(INSERT_COLUMNS)}) VALUES ({placeholders})"  # noqa: S608
        values = [_json_extra(tuple(row)) for row in rows]
        cursor.cursor.executemany(sql, values)
        count = len(values)
    return count


class IdPairs:
    """A temporary table (id INTEGER PRIMARY KEY, value) of SQLite's, filled with the pairs given
    (within one transaction)."""

    def __init__(self, cursor: Any, pairs: Iterable[tuple[int, Any]], name: str = "pairs") -> None:
        self.table = f"temp.cluster_tmp_{name}"
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS cluster_tmp_{name} (id INTEGER PRIMARY KEY, value)")
        cursor.execute(f"DELETE FROM {self.table}")  # noqa: S608
        cursor.cursor.executemany(f"INSERT INTO {self.table} (id, value) VALUES (?, ?)", pairs)  # noqa: S608


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


def _marks(values: Sized) -> str:
    """One parameter mark a value, for an IN (...) list."""
    return ", ".join(["%s"] * len(values))


def _lowest_own_rows(
    cursor: Any, candidates: Sequence[Sequence[Any]], *, current: str, month: str
) -> dict[tuple[Any, ...], int]:
    """(activity, area, implementing organisation, month, done, partner named) -> the lowest id of
    the implementing organisation's own current rows that name that partner as programming or
    funding organisation, for the activities, areas, months and stages of the candidates (rows that
    may be set aside: id, activity, area, implementing organisation, month, programming
    organisation, status)."""
    implementers = sorted({row[3] for row in candidates})
    keys = {(*row[1:5], row[6] == DONE) for row in candidates}
    own_sql = f"""
        SELECT a.activity_id, a.admin_area_id, a.implementing_org_id, {month}, a.status,
               a.programming_org_id, a.funding_org_id, MIN(a.id)
        FROM {TABLE} a
        WHERE {current} AND a.withdrawn = %s AND a.recipient_org_id IS NULL
          AND a.reporting_org_id = a.implementing_org_id
          AND a.implementing_org_id IN ({_marks(implementers)})
        GROUP BY a.activity_id, a.admin_area_id, a.implementing_org_id, a.period, a.status,
                 a.programming_org_id, a.funding_org_id
    """  # noqa: S608
    cursor.execute(own_sql, [False, *implementers])
    lowest: dict[tuple[Any, ...], int] = {}
    for activity, area, implementing, period, status, programming, funding, own in cursor.fetchall():
        key = (activity, area, implementing, period, status == DONE)
        if key not in keys:
            continue
        for who in (programming, funding):
            named = (*key, who)
            if who is not None and own < lowest.get(named, own + 1):
                lowest[named] = own
    return lowest


def recount_pairs(*, organisation_ids: Iterable[int]) -> dict[int, int]:
    """Apply the programming / implementing partner rule to the current rows of these organisations.

    A row that an organisation reports for an activity another organisation implements is set
    aside (`counted_in` = the other row) when the implementing organisation reports that activity
    itself — same activity type, admin area and reporting month, and the same stage: both done
    (completed), or both still targets (planned or ongoing) — naming the first organisation as
    its programming or funding partner. Returns the rows set aside: id -> id of the row that
    counts it.

    Two plain reads, matched in memory as `pairs_within` matches a file's rows: the rows that may
    be set aside, then the lowest id of the implementing partners' own rows per activity, area,
    month and partner named. (One self-join did it in SQL, but PostgreSQL's planner, which cannot
    tell how many rows an organisation reports about itself, read it the wrong way round over a
    large table: a million rows took 64 to 77 s, where these take about 2 s.) Only the rows whose mark
    changes are written.
    """
    orgs = sorted(set(organisation_ids))
    if not orgs:
        return {}
    marks = _marks(orgs)
    scope = f"(a.reporting_org_id IN ({marks}) OR a.implementing_org_id IN ({marks}))"
    # Current rows, as the gap analysis reads them (see selectors.live_rows): on SQLite the
    # condition is written so that the table is scanned rather than read through the partial
    # unique index of current versions, one table look-up a row.
    current = "a.replaced_in_id IS NULL" if is_postgres() else "COALESCE(a.replaced_in_id, 0) = 0"
    # The month as the database writes it, compared only with itself: read as text, it is not
    # made into a date object row after row.
    month = "CAST(a.period AS TEXT)"
    candidates_sql = f"""
        SELECT a.id, a.activity_id, a.admin_area_id, a.implementing_org_id, {month}, a.programming_org_id,
               a.status
        FROM {TABLE} a
        WHERE {current} AND a.withdrawn = %s AND a.recipient_org_id IS NULL
          AND a.reporting_org_id <> a.implementing_org_id AND {scope}
    """  # noqa: S608
    marked_sql = (
        f"SELECT a.id, a.counted_in_id FROM {TABLE} a "  # noqa: S608
        f"WHERE a.replaced_in_id IS NULL AND a.counted_in_id IS NOT NULL AND {scope}"
    )
    wanted: dict[int, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(candidates_sql, [False, *orgs, *orgs])
        candidates = cursor.fetchall()
        if candidates:
            lowest = _lowest_own_rows(cursor, candidates, current=current, month=month)
            for pk, activity, area, implementing, period, programming, status in candidates:
                found = lowest.get((activity, area, implementing, period, status == DONE, programming))
                if found is not None:
                    wanted[pk] = found
        cursor.execute(marked_sql, [*orgs, *orgs])
        marked = dict(cursor.fetchall())
        changes = [(wanted.get(row), row) for row in marked if wanted.get(row) != marked[row]]
        changes += [(own, row) for row, own in wanted.items() if marked.get(row) != own and row not in marked]
        if changes:
            update = f"UPDATE {TABLE} SET counted_in_id = %s WHERE id = %s"  # noqa: S608
            cursor.executemany(update, changes)
    return wanted
