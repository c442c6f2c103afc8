"""The posting engine: every stock service ends here.

A posting takes lines (item, quantity, from, to, grant or first-in-first-out), locks the balance
rows it touches in primary-key order, refuses an overdraw of a physical location with a message
that names the place, item and grant, writes the movement and its lines, moves the balances with
F() expressions and records an audit event — all in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from reliefops.catalog.models import Item
from reliefops.core.errors import Conflict, InvalidInput, Problem, ServiceError
from reliefops.core.services import audit_record
from reliefops.partners.models import Grant
from reliefops.stock.models import Movement, MovementKind, StockLocation

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
    audit_extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PostingResult:
    movement: Movement
    replayed: bool = False

    @property
    def message(self) -> str:
        if self.replayed:
            return f"already posted as movement #{self.movement.pk}: nothing changed"
        return f"posted movement #{self.movement.pk}"


def validate_quantity(quantity: object, *, row: int | None = None, what: str = "quantity") -> list[Problem]:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        return [Problem(row, what, f"must be a whole number, not {quantity!r}")]
    if quantity <= 0:
        return [Problem(row, what, f"must be more than zero, not {quantity}")]
    return []


def replay_or_run(
    key: str | None, kind: MovementKind, run: Callable[[], T], replay: Callable[[Movement], T]
) -> T:
    """Run a posting once per idempotency key: a repeated key returns the first result."""
    if key:
        existing = Movement.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return replay(_same_kind(existing, kind, key))
    try:
        return _retry_deadlock(run)
    except (IntegrityError, ServiceError):
        # Two submissions with one key raced and the other committed first: this one then failed on
        # the key's unique constraint, or on the state the first one left (a waybill already confirmed).
        if key:
            existing = Movement.objects.filter(idempotency_key=key).first()
            if existing is not None:
                return replay(_same_kind(existing, kind, key))
        raise


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
        raise Conflict(f"idempotency key {key!r} was used for a {existing.get_kind_display().lower()}")
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

    with connection.cursor() as cursor:
        candidates = _candidate_grants(cursor, posting.lines)
        balances = _lock_balances(cursor, posting.lines, candidates, posting.occurred_on)
        resolved = _resolve_grants(posting.lines, balances)
        deltas: dict[tuple[int, int, int], int] = defaultdict(int)
        for line, grant_id, quantity in resolved:
            deltas[(line.from_location.pk, line.item_id, grant_id)] -= quantity
            deltas[(line.to_location.pk, line.item_id, grant_id)] += quantity
        _refuse_overdraw(deltas, balances, posting)
        movement = _insert_movement(cursor, posting)
        if resolved:
            ops = connection.ops
            values: list[Any] = []
            for line, grant_id, quantity in resolved:
                values += [
                    movement.pk,
                    line.item_id,
                    grant_id,
                    quantity,
                    line.from_location.pk,
                    line.to_location.pk,
                    line.lot,
                    ops.adapt_datefield_value(line.expiry),
                    line.reason,
                ]
            sql = f"INSERT INTO stock_movementline ({_LINE_COLUMNS}) VALUES {_placeholders(len(resolved), 9)}"  # noqa: S608
            cursor.execute(sql, values)
        _move_balances(cursor, deltas, balances, posting.occurred_on)
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


def _move_balances(
    cursor: Any,
    deltas: dict[tuple[int, int, int], int],
    balances: dict[tuple[int, int, int], _Row],
    on: dt.date,
) -> None:
    """One UPDATE for every balance the posting moves (rows already locked, in id order)."""
    moves = sorted((balances[key].pk, delta, balances[key]) for key, delta in deltas.items() if delta)
    if not moves:
        return
    quantity_cases: list[Any] = []
    renewed: list[int] = []
    for pk, delta, balance in moves:
        quantity_cases += [pk, delta]
        if delta > 0 and balance.quantity <= 0 and balance.is_physical:
            # Stock arriving at an empty balance is the newest: first-in-first-out takes it last.
            renewed.append(pk)
    ids = [pk for pk, _, _ in moves]
    quantity = "CASE id " + " ".join(["WHEN %s THEN %s"] * len(moves)) + " END"
    fifo = "fifo_date"
    params: list[Any] = [*quantity_cases]
    if renewed:
        fifo = "CASE WHEN id IN (" + ", ".join(["%s"] * len(renewed)) + ") THEN %s ELSE fifo_date END"
        params += [*renewed, connection.ops.adapt_datefield_value(on)]
    marks = ", ".join(["%s"] * len(ids))
    sql = (
        f"UPDATE stock_balance SET quantity = quantity + {quantity}, fifo_date = {fifo} "  # noqa: S608
        f"WHERE id IN ({marks})"
    )
    cursor.execute(sql, [*params, *ids])


def _insert_movement(cursor: Any, posting: Posting) -> Movement:
    actor_id = posting.actor.pk if getattr(posting.actor, "pk", None) else None
    movement = Movement(
        kind=posting.kind,
        reference=posting.reference,
        occurred_on=posting.occurred_on,
        posted_at=timezone.now(),
        posted_by_id=actor_id,
        site_id=posting.site_id,
        waybill_id=posting.waybill_id,
        reverses_id=posting.reverses_id,
        note=posting.note,
        idempotency_key=posting.idempotency_key or None,
    )
    ops = connection.ops
    columns = "kind, reference, occurred_on, posted_at, posted_by_id, site_id, waybill_id, reverses_id, note"
    sql = f"INSERT INTO stock_movement ({columns}, idempotency_key) VALUES {_placeholders(1, 10)}"  # noqa: S608
    params = [
        movement.kind,
        movement.reference,
        ops.adapt_datefield_value(movement.occurred_on),
        ops.adapt_datetimefield_value(movement.posted_at),
        actor_id,
        movement.site_id,
        movement.waybill_id,
        movement.reverses_id,
        movement.note,
        movement.idempotency_key,
    ]
    if connection.features.can_return_columns_from_insert:
        cursor.execute(sql + " RETURNING id", params)
        movement.pk = cursor.fetchone()[0]
    else:
        cursor.execute(sql, params)
        movement.pk = cursor.lastrowid
    movement._state.adding = False
    movement._state.db = connection.alias
    return movement


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
    cursor: Any, lines: Sequence[LineRequest], candidates: dict[int, set[int]], occurred_on: dt.date
) -> dict[tuple[int, int, int], _Row]:
    """Create any missing balance rows, then lock every row the posting may touch, in id order."""
    wanted: dict[tuple[int, int, int], bool] = {}
    for index, line in enumerate(lines):
        for grant_id in candidates[index]:
            wanted[(line.from_location.pk, line.item_id, grant_id)] = line.from_location.is_physical
            wanted[(line.to_location.pk, line.item_id, grant_id)] = line.to_location.is_physical
    if not wanted:
        return {}
    found = _select_balances(cursor, list(wanted))
    missing = [key for key in wanted if key not in found]
    if missing:
        ops = connection.ops
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
        found.update(_select_balances(cursor, missing))
    return found


def _select_balances(cursor: Any, keys: list[tuple[int, int, int]]) -> dict[tuple[int, int, int], _Row]:
    clause, params = _key_clause(keys, "location_id, item_id, grant_id")
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
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
    lines: Sequence[LineRequest], balances: dict[tuple[int, int, int], _Row]
) -> list[tuple[LineRequest, int, int]]:
    """Split lines without a grant over the source's grants, oldest stock first."""
    resolved: list[tuple[LineRequest, int, int]] = []
    taken: dict[tuple[int, int, int], int] = defaultdict(int)
    for line in lines:
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
            raise ServiceError(
                f"{line.from_location.name} has {on_hand} {plural(item.name, on_hand)}; "
                f"this asks for {line.quantity}"
            )
    return resolved


def _refuse_overdraw(
    deltas: dict[tuple[int, int, int], int], balances: dict[tuple[int, int, int], _Row], posting: Posting
) -> None:
    for key, delta in deltas.items():
        balance = balances[key]
        if balance.is_physical and balance.quantity + delta < 0:
            item = Item.objects.only("name").get(pk=key[1])
            grant = Grant.objects.only("reference").get(pk=key[2])
            location = StockLocation.objects.only("name").get(pk=key[0])
            raise ServiceError(
                f"{location.name} has {balance.quantity} {plural(item.name, balance.quantity)} "
                f"(grant {grant.reference}); {posting.kind.label.lower()} asks for {-delta}"
            )


def plural(name: str, quantity: int) -> str:
    """An item's name for a quantity: "40 blankets, winter", "1 tent", "5 CGI sheets (corrugated ...)".

    The head noun before a comma or bracket takes the plural; acronyms keep their case.
    """
    cut = min((i for i in (name.find(","), name.find(" (")) if i >= 0), default=len(name))
    head, tail = name[:cut], name[cut:]
    words = head.split()
    if not words:
        return name
    words = [w if w.isupper() and len(w) > 1 else w.lower() for w in words]
    last = words[-1]
    if quantity != 1 and not last.endswith("s"):
        words[-1] = last + ("es" if last.endswith(("x", "ch", "sh")) else "s")
    return " ".join(words) + tail


def atomic_posting(key: str | None, kind: MovementKind, build: Callable[[], Movement]) -> PostingResult:
    """Run `build` in one transaction under an idempotency key; a repeat returns the first result."""

    def run() -> PostingResult:
        with transaction.atomic():
            return PostingResult(build())

    return replay_or_run(key, kind, run, lambda movement: PostingResult(movement, replayed=True))
