"""The posting engine: every stock service ends here.

A posting takes lines (item, quantity, from, to, grant or first-in-first-out), locks the balance
rows it touches in primary-key order, refuses an overdraw of a physical location with a message
that names the place, item and grant, writes the movement and its lines, moves the balances with
F() expressions and records an audit event — all in one transaction.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, IntegrityError, OperationalError, connections, transaction
from django.utils import timezone

from reliefops.catalog.models import Item
from reliefops.cluster.values import EARLIEST
from reliefops.core.access import has_right
from reliefops.core.errors import Conflict, InvalidInput, Problem, ServiceError
from reliefops.core.roles import Right
from reliefops.core.services import audit_record
from reliefops.core.text import day_text
from reliefops.partners.models import Grant
from reliefops.stock.held import held_since
from reliefops.stock.models import QUANTITY_MAX, Movement, MovementKind, StockLocation

T = TypeVar("T")
_LINE_COLUMNS = (
    "movement_id, item_id, grant_id, quantity, from_location_id, to_location_id, lot, expiry, reason"
)


@dataclass(frozen=True)
class LineRequest:
    """One line to post. `grant_id=None` takes the source's stock first-in-first-out by grant."""

    item_id: int
    quantity: int
    from_location: StockLocation
    to_location: StockLocation
    grant_id: int | None = None
    lot: str = ""
    expiry: dt.date | None = None
    reason: str = ""
    # The line of the request it comes from (1, 2, ...), so that a refusal names it; None when the
    # posting's lines are not the request's (a count's differences, a kit's components).
    row: int | None = None


@dataclass
class Posting:
    """A movement to write: its header fields and its lines."""

    kind: MovementKind
    occurred_on: dt.date
    lines: Sequence[LineRequest]
    actor: Any = None
    reference: str = ""
    site_id: int | None = None
    waybill_id: int | None = None
    reverses_id: int | None = None
    note: str = ""
    idempotency_key: str | None = None
    pledge_id: int | None = None
    grn_key: str | None = None  # a receipt's GRN as compared (see models.grn_key)
    audit_extra: dict[str, Any] = field(default_factory=dict)
    # What the posting does, as a refusal says it ("this dispatch asks for 80", "breaking asks for
    # 2"); when empty, "this" and the movement's kind.
    doing: str = ""


@dataclass(frozen=True)
class PostingResult:
    movement: Movement
    replayed: bool = False
    # What the lines did, when the posting says more than each item's quantity ("190 QUILT received,
    # 10 short (lost)"); empty: the entry points name each item's quantity.
    said: str = ""
    # Sentences the posting adds after what it did ("Pledge 3: 100 more than pledged.").
    notes: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        if self.replayed:
            return f"already posted as movement #{self.movement.pk}: nothing changed"
        return f"posted movement #{self.movement.pk}"


@dataclass(frozen=True)
class NothingPosted:
    """A request that had nothing to post (a count that found the stock held): nothing was written."""

    reason: str
    movement: None = None
    replayed: bool = False

    @property
    def message(self) -> str:
        return self.reason


def validate_quantity(quantity: object, *, row: int | None = None, what: str = "quantity") -> list[Problem]:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        return [Problem(row, what, f"must be a whole number, not {quantity!r}")]
    if quantity <= 0:
        return [Problem(row, what, f"must be more than zero, not {quantity}")]
    if quantity > QUANTITY_MAX:
        return [Problem(row, what, f"must be at most {QUANTITY_MAX:,}, not {quantity:,}")]
    return []


def not_after_today(day: dt.date, field: str) -> list[Problem]:
    """A problem when a posting is dated after today in the operation's time zone: the ledger
    records what happened, on the day it happened."""
    today = timezone.localdate()
    if isinstance(day, dt.date) and day > today:
        return [Problem(None, field, f"{day_text(day)} is after today ({day_text(today)})")]
    return []


# No posting is dated before this day: the floor of every day the system takes (reports, 4W rows).
EARLIEST_DAY = EARLIEST


def posting_day(day: dt.date, field: str) -> list[Problem]:
    """A problem when a posting's day is after today, or before any day the system takes (a year
    typed wrong: 1999 for 2005 would put stock on a stock card years before it came)."""
    if isinstance(day, dt.date) and day < EARLIEST_DAY:
        return [Problem(None, field, f"{day_text(day)} is before {day_text(EARLIEST_DAY)}; check the year")]
    return not_after_today(day, field)


def an(noun: str) -> str:
    """The noun with its indefinite article: "a hub", "an office", "a distribution point"."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


# The id an entry point gives a name it could not find (an item, grant, site, partner or kit): its
# problem is among the `caller_problems`, and the services check nothing more of it. An UNRESOLVED id
# whose problem the caller did not report is refused as unknown, as any other id that does not exist.
UNRESOLVED = 0


def reported(caller_problems: Sequence[Problem], row: int | None, *fields: str) -> bool:
    """Whether the entry point reported a problem of this row (None: of the request) in one of these
    fields, and so gave the service a stand-in there that it must check no further."""
    return any(p.row == row and p.field in fields for p in caller_problems)


def passed_over(value: object, caller_problems: Sequence[Problem], row: int | None, *fields: str) -> bool:
    """Whether `value` is an UNRESOLVED id whose problem the entry point reported (see `refuse`)."""
    return value == UNRESOLVED and reported(caller_problems, row, *fields)


def refuse(problems: Sequence[Problem], caller_problems: Sequence[Problem] = ()) -> None:
    """Refuse a posting with every problem of its request at once; nothing is written.

    Every posting service takes `caller_problems`: what the entry point found wrong while reading the
    request (a name it does not know, a number it could not read), refused here together with the
    service's own `problems`. In their place the entry point gives the service a value that raises
    nothing more: UNRESOLVED for a name, which the services pass over (only where a caller problem
    names that line and field: see `passed_over`), for a number one that breaks no rule and for a
    text an empty one. The problems of the request itself come first, then each line's in order.
    """
    every = [*caller_problems, *problems]
    if every:
        raise InvalidInput(sorted(every, key=lambda p: (p.row is not None, p.row or 0)))


def replay_or_run(
    key: str | None,
    kind: MovementKind,
    run: Callable[[], T],
    replay: Callable[[Movement], T],
    asked: RequestLines | None = None,
) -> T:
    """Run a posting once per idempotency key: a repeated key returns the first result. With
    `asked` (the request's site and lines), a key sent again with another site or other lines is
    refused, not answered as the first posting: the second would otherwise be lost unseen."""
    first = _posted_with(key, kind, asked)
    if first is not None:
        return replay(first)
    try:
        return _retry_deadlock(run)
    except (IntegrityError, ServiceError):
        # Two submissions with one key raced and the other committed first: this one then failed on
        # the key's unique constraint, or on the state the first one left (a waybill already confirmed).
        first = _posted_with(key, kind, asked)
        if first is not None:
            return replay(first)
        raise


def _posted_with(key: str | None, kind: MovementKind, asked: RequestLines | None) -> Movement | None:
    """The movement posted with this key, if one was (refused when it is of another kind, or, with
    `asked`, of another site, other items or other quantities)."""
    if not key:
        return None
    existing = Movement.objects.filter(idempotency_key=key).first()
    if existing is None:
        return None
    _same_kind(existing, kind, key)
    if asked is not None and asked.differs_from(existing):
        raise Conflict(
            f"this idempotency key was used for {existing.get_kind_display().lower()} #{existing.pk}, "
            "of another site or other items or quantities; send a new key for each posting"
        )
    return existing


@dataclass(frozen=True)
class RequestLines:
    """What a posting request asks for, to tell a repeat from another request under the same key:
    its site, and its lines as the request gives them (each with `item_id` and `quantity`, None
    when given in packs: not compared). Read only when a key comes again."""

    site_id: int | None
    lines: Sequence[Any]

    def differs_from(self, movement: Movement) -> bool:
        """Whether the request, as far as it can be read, asks for another site, other items or
        other quantities than the movement holds. A site or an item that names nothing now
        (`UNRESOLVED`) is not compared: a retry whose names no longer resolve is still a repeat."""
        if self.site_id not in (None, UNRESOLVED) and movement.site_id != self.site_id:
            return True
        if any(line.item_id == UNRESOLVED for line in self.lines):
            return False
        asked: dict[int, int | None] = {}
        for line in self.lines:
            before = asked.get(line.item_id, 0)
            asked[line.item_id] = None if line.quantity is None or before is None else before + line.quantity
        stored: dict[int, int] = defaultdict(int)
        for item_id, quantity in movement.lines.values_list("item_id", "quantity"):
            stored[item_id] += quantity
        if set(asked) != set(stored):
            return True
        return any(quantity is not None and stored[item] != quantity for item, quantity in asked.items())


def _retry_deadlock(run: Callable[[], T], attempts: int = 3) -> T:
    """PostgreSQL aborts one of two transactions that wait on each other; run that one again."""
    for attempt in range(attempts):
        try:
            return run()
        except OperationalError as exc:
            if "deadlock" not in str(exc).lower() or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _same_kind(existing: Movement, kind: MovementKind, key: str) -> Movement:
    if existing.kind != kind:
        # The stored key carries the caller's scope (`u3:…`, a handover's prefix): not the caller's
        # words, so it is not quoted back; the caller knows the key it sent.
        raise Conflict(
            f"this idempotency key was used for {an(existing.get_kind_display().lower())}; "
            "send a new key for each posting"
        )
    return existing


def post(posting: Posting) -> Movement:
    """Write one movement with its lines and balances. Call inside transaction.atomic.

    The hot path of the whole system: it speaks SQL directly, a handful of statements a posting.
    """
    problems: list[Problem] = []
    for index, line in enumerate(posting.lines, start=1):
        problems += validate_quantity(line.quantity, row=index)
        if line.from_location.pk == line.to_location.pk:
            problems.append(Problem(index, "to", "a line must move stock to another location"))
        if line.grant_id is None and not line.from_location.is_physical:
            problems.append(Problem(index, "grant", f"name the grant taken from {line.from_location.name}"))
    if problems:
        raise InvalidInput(problems)

    db = connections[DEFAULT_DB_ALIAS]
    with hot_cursor(db) as cursor:
        candidates = _candidate_grants(cursor, posting.lines)
        balances = _lock_balances(cursor, db, posting.lines, candidates, posting.occurred_on)
        resolved = _resolve_grants(posting, balances)
        deltas: dict[tuple[int, int, int], int] = defaultdict(int)
        for line, grant_id, quantity in resolved:
            deltas[(line.from_location.pk, line.item_id, grant_id)] -= quantity
            deltas[(line.to_location.pk, line.item_id, grant_id)] += quantity
        _refuse_overdraw(deltas, balances, posting, resolved)
        _refuse_earlier_overdraw(cursor, db, deltas, balances, posting, resolved)
        movement = _new_movement(posting, db)
        line_values = _line_values(db, resolved)
        moves = _balance_moves(db, deltas, balances, posting.occurred_on)
        if db.vendor == "postgresql":
            _write_in_one_statement(cursor, db, movement, line_values, moves)
        else:
            _insert_movement(cursor, db, movement)
            if line_values:
                params = [value for row in line_values for value in (movement.pk, *row)]
                rows = _placeholders(len(line_values), 9)
                cursor.execute(f"INSERT INTO stock_movementline ({_LINE_COLUMNS}) VALUES {rows}", params)  # noqa: S608
            if moves is not None:
                cursor.execute(f"UPDATE stock_balance SET {moves[0]}", moves[1])  # noqa: S608
    audit_record(
        actor=posting.actor,
        action=f"stock.{posting.kind}",
        object_type="movement",
        object_id=movement.pk,
        after={
            "reference": posting.reference,
            "occurred_on": posting.occurred_on.isoformat(),
            "lines": [
                [line.item_id, grant_id, quantity, line.from_location.pk, line.to_location.pk]
                for line, grant_id, quantity in resolved
            ],
            **posting.audit_extra,
        },
    )
    return movement


def hot_cursor(db: Any) -> Any:
    """A cursor for the statements every posting sends, wrapped as Django wraps its own.

    On PostgreSQL it binds parameters on the server and prepares each statement once per connection,
    so the server does not parse and plan the same few statements on every posting (Django's own
    cursors bind on the client and prepare nothing). A deployment behind a transaction-pooling
    proxy sets DISABLE_SERVER_SIDE_CURSORS, as Django asks for it, and then nothing is prepared.
    While queries are logged (DEBUG, or a test capturing them) Django's own cursor is used too, so
    that the log shows every statement with its values.
    """
    if db.vendor != "postgresql" or db.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS") or db.queries_logged:
        return db.cursor()
    db.ensure_connection()
    raw = db.connection
    if raw.prepare_threshold is None:
        # Django switches psycopg's preparing off (None), which also ignores an explicit prepare=True.
        # A threshold no statement reaches keeps every other statement unprepared, as Django wants.
        raw.prepare_threshold = _NEVER
    with db.wrap_database_errors:
        return db._prepare_cursor(_prepared_cursor_class()(raw))


_NEVER = 2**62


@functools.cache
def _prepared_cursor_class() -> Any:
    """psycopg's server-binding cursor that prepares every statement it runs.

    Made on first use: a SQLite installation never imports psycopg.
    """
    import psycopg

    class PreparedCursor(psycopg.Cursor[Any]):
        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            kwargs["prepare"] = True
            return super().execute(query, params, **kwargs)

    return PreparedCursor


def _line_values(db: Any, resolved: list[tuple[LineRequest, int, int]]) -> list[list[Any]]:
    """Each line's columns after movement_id, ready for the database."""
    adapt_date = db.ops.adapt_datefield_value
    return [
        [
            line.item_id,
            grant_id,
            quantity,
            line.from_location.pk,
            line.to_location.pk,
            line.lot,
            adapt_date(line.expiry) if line.expiry is not None else None,
            line.reason,
        ]
        for line, grant_id, quantity in resolved
    ]


def _balance_moves(
    db: Any,
    deltas: dict[tuple[int, int, int], int],
    balances: dict[tuple[int, int, int], _Row],
    on: dt.date,
) -> tuple[str, list[Any]] | None:
    """The SET and WHERE of one UPDATE for every balance the posting moves (rows locked, in id order)."""
    moves = sorted((balances[key].pk, delta, balances[key]) for key, delta in deltas.items() if delta)
    if not moves:
        return None
    quantity_cases: list[Any] = []
    renewed: list[int] = []
    for pk, delta, balance in moves:
        quantity_cases += [pk, delta]
        if delta > 0 and balance.quantity <= 0 and balance.is_physical:
            # Stock arriving at an empty balance is the newest: first-in-first-out takes it last.
            renewed.append(pk)
    ids = [pk for pk, _, _ in moves]
    quantity = "CASE id " + " ".join(["WHEN %s THEN %s"] * len(moves)) + " END"
    params: list[Any] = [*quantity_cases]
    sql = f"quantity = quantity + {quantity}"
    if renewed:
        marks = ", ".join(["%s"] * len(renewed))
        sql += f", fifo_date = CASE WHEN id IN ({marks}) THEN %s ELSE fifo_date END"
        params += [*renewed, db.ops.adapt_datefield_value(on)]
    sql += " WHERE id IN (" + ", ".join(["%s"] * len(ids)) + ")"
    return sql, [*params, *ids]


_MOVEMENT_COLUMNS = (
    "kind, reference, occurred_on, posted_at, posted_by_id, site_id, waybill_id, reverses_id, note, "
    "idempotency_key, pledge_id, grn_key"
)


def _new_movement(posting: Posting, db: Any) -> Movement:
    """The movement to insert, built positionally (the cheap way); its pk comes from the INSERT."""
    actor_id = posting.actor.pk if getattr(posting.actor, "pk", None) else None
    values: list[Any] = [
        None,
        posting.kind,
        posting.reference,
        posting.occurred_on,
        timezone.now(),
        actor_id,
        posting.site_id,
        posting.waybill_id,
        posting.reverses_id,
        posting.note,
        posting.idempotency_key or None,
        posting.pledge_id,
        posting.grn_key,
    ]
    movement = Movement(*values)
    movement._state.db = db.alias
    return movement


def _movement_values(db: Any, movement: Movement) -> list[Any]:
    ops = db.ops
    return [
        str(movement.kind),
        movement.reference,
        ops.adapt_datefield_value(movement.occurred_on),
        ops.adapt_datetimefield_value(movement.posted_at),
        movement.posted_by_id,
        movement.site_id,
        movement.waybill_id,
        movement.reverses_id,
        movement.note,
        movement.idempotency_key,
        movement.pledge_id,
        movement.grn_key,
    ]


def _insert_movement(cursor: Any, db: Any, movement: Movement) -> None:
    sql = f"INSERT INTO stock_movement ({_MOVEMENT_COLUMNS}) VALUES {_placeholders(1, 12)}"  # noqa: S608
    params = _movement_values(db, movement)
    if db.features.can_return_columns_from_insert:
        cursor.execute(sql + " RETURNING id", params)
        movement.pk = cursor.fetchone()[0]
    else:
        cursor.execute(sql, params)
        movement.pk = cursor.lastrowid
    movement._state.adding = False


def _write_in_one_statement(
    cursor: Any,
    db: Any,
    movement: Movement,
    line_values: list[list[Any]],
    moves: tuple[str, list[Any]] | None,
) -> None:
    """PostgreSQL: the movement, its lines and the balances in one statement (one round trip).

    Data-modifying CTEs run together in one statement; the lines take the movement's new id from the
    first, and the balance rows were locked (in id order) by the statement before.
    """
    params = _movement_values(db, movement)
    header = _placeholders(1, 12)
    parts = [f"m AS (INSERT INTO stock_movement ({_MOVEMENT_COLUMNS}) VALUES {header} RETURNING id)"]  # noqa: S608
    if line_values:
        row = "(%s::integer, " + "%s::bigint, " * 5 + "%s::varchar, %s::date, %s::varchar)"
        parts.append(
            f"l AS (INSERT INTO stock_movementline ({_LINE_COLUMNS}) "  # noqa: S608
            "SELECT m.id, v.item_id, v.grant_id, v.quantity, v.from_id, v.to_id, v.lot, v.expiry, v.reason "
            f"FROM m, (VALUES {', '.join([row] * len(line_values))}) "
            "AS v (n, item_id, grant_id, quantity, from_id, to_id, lot, expiry, reason) ORDER BY v.n)"
        )
        for n, values in enumerate(line_values):
            params += [n, *values]
    if moves is not None:
        parts.append(f"b AS (UPDATE stock_balance SET {moves[0]})")  # noqa: S608
        params += moves[1]
    cursor.execute(f"WITH {', '.join(parts)} SELECT id FROM m", params)  # noqa: S608
    movement.pk = cursor.fetchone()[0]
    movement._state.adding = False


def _placeholders(rows: int, width: int) -> str:
    """`(%s, %s), (%s, %s)` for a multi-row VALUES: only placeholders, never values."""
    one = "(" + ", ".join(["%s"] * width) + ")"
    return ", ".join([one] * rows)


def _key_clause(keys: Sequence[tuple[int, ...]], columns: str) -> tuple[str, list[int]]:
    """`(a = %s AND b = %s) OR ...` for a list of key tuples."""
    names = columns.split(",")
    one = "(" + " AND ".join(f"{name.strip()} = %s" for name in names) + ")"
    params: list[int] = []
    for key in keys:
        params += key
    return " OR ".join([one] * len(keys)), params


def _candidate_grants(cursor: Any, lines: Sequence[LineRequest]) -> dict[int, set[int]]:
    """For each line, the grants it may take: the named one, or those the source holds now."""
    fifo_keys = sorted({(line.from_location.pk, line.item_id) for line in lines if line.grant_id is None})
    held: dict[tuple[int, int], set[int]] = defaultdict(set)
    if fifo_keys:
        clause, params = _key_clause(fifo_keys, "location_id, item_id")
        cursor.execute(
            f"SELECT location_id, item_id, grant_id FROM stock_balance WHERE quantity > 0 AND ({clause})",  # noqa: S608
            params,
        )
        for location_id, item_id, grant_id in cursor.fetchall():
            held[(location_id, item_id)].add(grant_id)
    return {
        index: ({line.grant_id} if line.grant_id is not None else held[(line.from_location.pk, line.item_id)])
        for index, line in enumerate(lines)
    }


@dataclass
class _Row:
    pk: int
    quantity: int
    is_physical: bool
    fifo_date: dt.date


def _lock_balances(
    cursor: Any,
    db: Any,
    lines: Sequence[LineRequest],
    candidates: dict[int, set[int]],
    occurred_on: dt.date,
) -> dict[tuple[int, int, int], _Row]:
    """Create any missing balance rows, then lock every row the posting may touch, in id order."""
    wanted: dict[tuple[int, int, int], bool] = {}
    for index, line in enumerate(lines):
        for grant_id in candidates[index]:
            wanted[(line.from_location.pk, line.item_id, grant_id)] = line.from_location.is_physical
            wanted[(line.to_location.pk, line.item_id, grant_id)] = line.to_location.is_physical
    if not wanted:
        return {}
    found = _select_balances(cursor, db, list(wanted))
    missing = [key for key in wanted if key not in found]
    if missing:
        ops = db.ops
        values: list[Any] = []
        for location_id, item_id, grant_id in missing:
            values += [
                location_id,
                item_id,
                grant_id,
                0,
                wanted[(location_id, item_id, grant_id)],
                ops.adapt_datefield_value(occurred_on),
            ]
        columns = "location_id, item_id, grant_id, quantity, is_physical, fifo_date"
        rows = _placeholders(len(missing), 6)
        conflict = "ON CONFLICT (location_id, item_id, grant_id) DO NOTHING"
        sql = f"INSERT INTO stock_balance ({columns}) VALUES {rows} {conflict}"  # noqa: S608
        cursor.execute(sql, values)
        # Rows made now (or just now by another writer) have the highest ids: locking them after the
        # others keeps the id order.
        found.update(_select_balances(cursor, db, missing))
    return found


def _select_balances(
    cursor: Any, db: Any, keys: list[tuple[int, int, int]]
) -> dict[tuple[int, int, int], _Row]:
    clause, params = _key_clause(keys, "location_id, item_id, grant_id")
    lock = " FOR UPDATE" if db.features.has_select_for_update else ""
    cursor.execute(
        "SELECT id, location_id, item_id, grant_id, quantity, is_physical, fifo_date FROM stock_balance "  # noqa: S608
        f"WHERE {clause} ORDER BY id{lock}",
        params,
    )
    rows: dict[tuple[int, int, int], _Row] = {}
    for pk, location_id, item_id, grant_id, quantity, is_physical, fifo_date in cursor.fetchall():
        if isinstance(fifo_date, str):
            fifo_date = dt.date.fromisoformat(fifo_date)
        rows[(location_id, item_id, grant_id)] = _Row(pk, int(quantity), bool(is_physical), fifo_date)
    return rows


def _resolve_grants(
    posting: Posting, balances: dict[tuple[int, int, int], _Row]
) -> list[tuple[LineRequest, int, int]]:
    """Split lines without a grant over the source's grants, oldest stock first."""
    resolved: list[tuple[LineRequest, int, int]] = []
    taken: dict[tuple[int, int, int], int] = defaultdict(int)
    for line in posting.lines:
        if line.grant_id is not None:
            resolved.append((line, line.grant_id, line.quantity))
            taken[(line.from_location.pk, line.item_id, line.grant_id)] += line.quantity
            continue
        sources = sorted(
            (
                (key, b)
                for key, b in balances.items()
                if key[0] == line.from_location.pk and key[1] == line.item_id
            ),
            key=lambda kb: (kb[1].fifo_date, kb[0][2]),
        )
        remaining = line.quantity
        for key, balance in sources:
            available = balance.quantity - taken[key]
            if available <= 0:
                continue
            part = min(available, remaining)
            resolved.append((line, key[2], part))
            taken[key] += part
            remaining -= part
            if remaining == 0:
                break
        if remaining:
            on_hand = sum(b.quantity for _, b in sources)
            item = Item.objects.only("name").get(pk=line.item_id)
            raise BalanceRefused(
                overdrawn(
                    line.from_location.name,
                    on_hand,
                    item.name,
                    doing(posting),
                    line.quantity,
                    told=sees_stock(posting.actor),
                ),
                item_id=line.item_id,
                asked=line.quantity,
                row=line.row,
            )
    return resolved


def _refuse_overdraw(
    deltas: dict[tuple[int, int, int], int],
    balances: dict[tuple[int, int, int], _Row],
    posting: Posting,
    resolved: list[tuple[LineRequest, int, int]],
) -> None:
    # A physical location's refusal first: it names the site the user posts at.
    for key, delta in sorted(deltas.items(), key=lambda kd: not balances[kd[0]].is_physical):
        balance = balances[key]
        after = balance.quantity + delta
        if balance.is_physical and after < 0:
            place, item, grant = _balance_names(key)
            told = sees_stock(posting.actor)
            raise BalanceRefused(
                overdrawn(place, balance.quantity, item, doing(posting), -delta, grant=grant, told=told),
                item_id=key[1],
                grant_id=key[2],
                asked=-delta,
                row=_row_of(key, resolved),
            )
        if abs(after) > QUANTITY_MAX:
            place, item, grant = _balance_names(key)
            raise BalanceRefused(
                f"{place} would hold {some(after, item)} (grant {grant}) "
                f"after {doing(posting)}; a balance holds at most {QUANTITY_MAX:,}",
                item_id=key[1],
                grant_id=key[2],
                row=_row_of(key, resolved),
            )


def _row_of(key: tuple[int, int, int], resolved: list[tuple[LineRequest, int, int]]) -> int | None:
    """The request's line that moves this balance (location, item, grant), if the lines name one."""
    location_id, item_id, grant_id = key
    for line, line_grant, _ in resolved:
        touches = location_id in (line.from_location.pk, line.to_location.pk)
        if touches and line.item_id == item_id and line_grant == grant_id and line.row is not None:
            return line.row
    return None


def _refuse_earlier_overdraw(
    cursor: Any,
    db: Any,
    deltas: dict[tuple[int, int, int], int],
    balances: dict[tuple[int, int, int], _Row],
    posting: Posting,
    resolved: list[tuple[LineRequest, int, int]],
) -> None:
    """Refuse a posting dated before movements already posted when it would take a physical balance
    below zero on a day between: a stock card never shows a negative balance, whatever the order in
    which its movements were posted.

    One query reads the lines, dated after the posting's day, of the balances it takes from, through
    the index of movements by site and day: only the movements of those sites after that day.
    Every movement that touches a physical location is posted at that location's site.
    """
    taken = {key: -delta for key, delta in deltas.items() if delta < 0 and balances[key].is_physical}
    if not taken:
        return
    sites: dict[int, int] = {
        line.from_location.pk: line.from_location.site_id
        for line, _, _ in resolved
        if line.from_location.site_id is not None
    }
    site_ids = sorted({sites[key[0]] for key in taken if key[0] in sites})
    if not site_ids:
        return
    keys = sorted(taken)
    params = [value for location, item, grant in keys for value in (item, grant, location, location)]
    # Each key matches a line leaving the location or arriving at it.
    clause = " OR ".join(
        "(l.item_id = %s AND l.grant_id = %s AND (l.from_location_id = %s OR l.to_location_id = %s))"
        for _ in keys
    )
    marks = ", ".join(["%s"] * len(site_ids))
    cursor.execute(
        "SELECT m.occurred_on, l.item_id, l.grant_id, l.from_location_id, l.to_location_id, l.quantity "  # noqa: S608
        "FROM stock_movement m JOIN stock_movementline l ON l.movement_id = m.id "
        f"WHERE m.site_id IN ({marks}) AND m.occurred_on > %s AND ({clause}) "
        "ORDER BY m.occurred_on, m.id, l.id",
        [*site_ids, db.ops.adapt_datefield_value(posting.occurred_on), *params],
    )
    later: list[tuple[dt.date, tuple[int, int, int], int]] = []
    for occurred_on, item_id, grant_id, from_id, to_id, quantity in cursor.fetchall():
        if isinstance(occurred_on, str):
            occurred_on = dt.date.fromisoformat(occurred_on)
        for location_id, sign in ((to_id, 1), (from_id, -1)):
            later.append((occurred_on, (location_id, item_id, grant_id), sign * int(quantity)))
    # The balances taken from that later lines touch, in the order of those lines.
    touched = {key: balances[key].quantity for _, key, _ in later if key in taken}
    for key, held in held_since(touched, later, posting.occurred_on).items():
        lowest, lowest_on = held.lowest, held.lowest_on
        if lowest >= taken[key]:
            continue
        place, item, grant = _balance_names(key)
        dated = f"{doing(posting)}, dated {day_text(posting.occurred_on)}"
        if sees_stock(posting.actor):
            message = (
                f"{place} held {some(lowest, item)} (grant {grant}) on {day_text(lowest_on)}; "
                f"{dated}, asks for {taken[key]:,}"
            )
        else:
            message = (
                f"not enough {plural(item, 2)} (grant {grant}) at {place} on {day_text(lowest_on)} "
                f"for {dated}"
            )
        raise BalanceRefused(
            message,
            item_id=key[1],
            grant_id=key[2],
            asked=taken[key],
            row=_row_of(key, resolved),
        )


# How a refusal speaks of a posting whose kind's label does not read in a sentence ("this hand-over
# asks for 1,001", not "this hand-over to partner"); the others are "this " and the label.
_DOING = {
    MovementKind.DELIVERY: "this delivery",
    MovementKind.HANDOVER: "this hand-over",
    MovementKind.LOSS: "this loss",
    MovementKind.COUNT: "this count",
}


def doing(posting: Posting) -> str:
    """What the posting does, as its refusals say it: "this dispatch", "breaking"."""
    return posting.doing or _DOING.get(posting.kind, f"this {posting.kind.label.lower()}")


class BalanceRefused(InvalidInput):
    """A posting that would take a balance below zero, or beyond QUANTITY_MAX: a problem of the
    quantity of the line that asks for it (of the request, when no line can be named), so that the
    web, the API and the command line all name that line. It also keeps the item, the grant when
    one balance is meant, and the quantity asked. A rule of the ledger, not a value misread: 400."""

    status = 400

    def __init__(
        self,
        message: str,
        *,
        item_id: int,
        grant_id: int | None = None,
        asked: int | None = None,
        row: int | None = None,
        field: str = "quantity",
    ) -> None:
        super().__init__([Problem(row, field, message)], summary=message)
        # The refusal in a sentence, as before it was a problem of a line: what a caller shows alone.
        self.message = message
        self.item_id = item_id
        self.grant_id = grant_id
        self.asked = asked
        self.row = row


def sees_stock(actor: Any) -> bool:
    """Whether a refusal may tell the actor how much a site holds: not to one who may not view stock
    (a distributor), who would learn stock levels by asking for too much. A posting without an actor
    (the scenario, a migration) is told."""
    return actor is None or has_right(actor, Right.VIEW_STOCK)


def overdrawn(
    place: str,
    held: int,
    item: str,
    asker: str,
    asked: int,
    *,
    grant: str | None = None,
    told: bool = True,
) -> str:
    """The refusal of an overdraw: "Balakot hub has 50 steel buckets (grant ECHO-2005-01); this dispatch
    asks for 80", or without "(grant …)" when the posting takes the oldest stock of every grant.
    `asker` is what the posting does (see `doing`). Not `told` (see `sees_stock`), it says no quantity:
    "not enough quilts at Balakot hub for this distribution"."""
    of_grant = f" (grant {grant})" if grant is not None else ""
    if not told:
        return f"not enough {plural(item, 2)}{of_grant} at {place} for {asker}"
    return f"{place} has {some(held, item)}{of_grant}; {asker} asks for {asked:,}"


def _balance_names(key: tuple[int, int, int]) -> tuple[str, str, str]:
    """The names a refusal gives a balance (location, item, grant): its place, item and grant."""
    location_id, item_id, grant_id = key
    return (
        StockLocation.objects.only("name").get(pk=location_id).name,
        Item.objects.only("name").get(pk=item_id).name,
        Grant.objects.only("reference").get(pk=grant_id).reference,
    )


def some(quantity: int, name: str) -> str:
    """A quantity of an item as a refusal or a reference writes it: "1 blanket", "1,200 blankets"."""
    return f"{quantity:,} {plural(name, quantity)}"


def plural(name: str, quantity: int) -> str:
    """An item's name for a quantity: "40 blankets, winter", "1 tent", "5 CGI sheets (corrugated ...)".

    The head noun before a comma, a bracket or a preposition takes the plural ("10 winterization kits
    for families …"); acronyms keep their case.
    """
    marks = (",", " (", " for ", " of ", " with ", " without ", " per ")
    cut = min((i for i in (name.find(mark) for mark in marks) if i >= 0), default=len(name))
    head, tail = name[:cut], name[cut:]
    words = head.split()
    if not words:
        return name
    words = [w if w.isupper() and len(w) > 1 else w.lower() for w in words]
    last = words[-1]
    if quantity != 1 and not last.endswith("s"):
        words[-1] = last + ("es" if last.endswith(("x", "ch", "sh")) else "s")
    return " ".join(words) + tail


def atomic_posting(
    key: str | None, kind: MovementKind, build: Callable[[], Movement], asked: RequestLines | None = None
) -> PostingResult:
    """Run `build` in one transaction under an idempotency key; a repeat returns the first result
    (`asked`: see replay_or_run)."""

    def run() -> PostingResult:
        with transaction.atomic():
            return PostingResult(build())

    return replay_or_run(key, kind, run, lambda movement: PostingResult(movement, replayed=True), asked)
