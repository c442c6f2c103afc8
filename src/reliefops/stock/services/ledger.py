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

from django.db import IntegrityError, transaction
from django.db.models import F, Q

from reliefops.catalog.models import Item
from reliefops.core.errors import Conflict, InvalidInput, Problem, ServiceError
from reliefops.core.services import audit_record
from reliefops.partners.models import Grant
from reliefops.stock.models import Balance, Movement, MovementKind, MovementLine, StockLocation

T = TypeVar("T")


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
        return run()
    except IntegrityError:
        # Two submissions with one key raced; the other one committed first.
        if key:
            existing = Movement.objects.filter(idempotency_key=key).first()
            if existing is not None:
                return replay(_same_kind(existing, kind, key))
        raise


def _same_kind(existing: Movement, kind: MovementKind, key: str) -> Movement:
    if existing.kind != kind:
        raise Conflict(f"idempotency key {key!r} was used for a {existing.get_kind_display().lower()}")
    return existing


def post(posting: Posting) -> Movement:
    """Write one movement with its lines and balances. Call inside transaction.atomic."""
    problems: list[Problem] = []
    for index, line in enumerate(posting.lines, start=1):
        problems += validate_quantity(line.quantity, row=index)
        if line.from_location.pk == line.to_location.pk:
            problems.append(Problem(index, "to", "a line must move stock to another location"))
        if line.grant_id is None and not line.from_location.is_physical:
            problems.append(Problem(index, "grant", f"name the grant taken from {line.from_location.name}"))
    if problems:
        raise InvalidInput(problems)

    candidates = _candidate_grants(posting.lines)
    balances = _lock_balances(posting.lines, candidates, posting.occurred_on)
    resolved = _resolve_grants(posting.lines, balances)
    deltas: dict[tuple[int, int, int], int] = defaultdict(int)
    for line, grant_id, quantity in resolved:
        deltas[(line.from_location.pk, line.item_id, grant_id)] -= quantity
        deltas[(line.to_location.pk, line.item_id, grant_id)] += quantity
    _refuse_overdraw(deltas, balances, posting)

    movement = Movement.objects.create(
        kind=posting.kind,
        reference=posting.reference,
        occurred_on=posting.occurred_on,
        posted_by=posting.actor if getattr(posting.actor, "pk", None) else None,
        site_id=posting.site_id,
        waybill_id=posting.waybill_id,
        reverses_id=posting.reverses_id,
        note=posting.note,
        idempotency_key=posting.idempotency_key or None,
    )
    MovementLine.objects.bulk_create(
        [
            MovementLine(
                movement=movement,
                item_id=line.item_id,
                grant_id=grant_id,
                quantity=quantity,
                from_location_id=line.from_location.pk,
                to_location_id=line.to_location.pk,
                lot=line.lot,
                expiry=line.expiry,
                reason=line.reason,
            )
            for line, grant_id, quantity in resolved
        ]
    )
    for key, delta in sorted(deltas.items(), key=lambda kv: balances[kv[0]].pk):
        if delta == 0:
            continue
        balance = balances[key]
        changes: dict[str, Any] = {"quantity": F("quantity") + delta}
        if delta > 0 and balance.quantity <= 0 and balance.is_physical:
            changes["fifo_date"] = posting.occurred_on
        Balance.objects.filter(pk=balance.pk).update(**changes)
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


def _candidate_grants(lines: Sequence[LineRequest]) -> dict[int, set[int]]:
    """For each line, the grants it may take: the named one, or those the source holds now."""
    fifo_keys = {(line.from_location.pk, line.item_id) for line in lines if line.grant_id is None}
    held: dict[tuple[int, int], set[int]] = defaultdict(set)
    if fifo_keys:
        query = Q()
        for location_id, item_id in fifo_keys:
            query |= Q(location_id=location_id, item_id=item_id)
        for location_id, item_id, grant_id in Balance.objects.filter(query, quantity__gt=0).values_list(
            "location_id", "item_id", "grant_id"
        ):
            held[(location_id, item_id)].add(grant_id)
    return {
        index: ({line.grant_id} if line.grant_id is not None else held[(line.from_location.pk, line.item_id)])
        for index, line in enumerate(lines)
    }


def _lock_balances(
    lines: Sequence[LineRequest], candidates: dict[int, set[int]], occurred_on: dt.date
) -> dict[tuple[int, int, int], Balance]:
    """Create any missing balance rows, then lock every row the posting may touch, in id order."""
    wanted: dict[tuple[int, int, int], bool] = {}
    for index, line in enumerate(lines):
        for grant_id in candidates[index]:
            wanted[(line.from_location.pk, line.item_id, grant_id)] = line.from_location.is_physical
            wanted[(line.to_location.pk, line.item_id, grant_id)] = line.to_location.is_physical
    if not wanted:
        return {}
    query = Q()
    for location_id, item_id, grant_id in wanted:
        query |= Q(location_id=location_id, item_id=item_id, grant_id=grant_id)
    existing = set(Balance.objects.filter(query).values_list("location_id", "item_id", "grant_id"))
    missing = [key for key in wanted if key not in existing]
    if missing:
        Balance.objects.bulk_create(
            [
                Balance(
                    location_id=loc,
                    item_id=item,
                    grant_id=grant,
                    quantity=0,
                    is_physical=wanted[(loc, item, grant)],
                    fifo_date=occurred_on,
                )
                for loc, item, grant in missing
            ],
            ignore_conflicts=True,
        )
    rows = Balance.objects.select_for_update().filter(query).order_by("pk")
    return {(b.location_id, b.item_id, b.grant_id): b for b in rows}


def _resolve_grants(
    lines: Sequence[LineRequest], balances: dict[tuple[int, int, int], Balance]
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
                b
                for (loc, item, _), b in balances.items()
                if loc == line.from_location.pk and item == line.item_id
            ),
            key=lambda b: (b.fifo_date, b.grant_id),
        )
        remaining = line.quantity
        for balance in sources:
            key = (balance.location_id, balance.item_id, balance.grant_id)
            available = balance.quantity - taken[key]
            if available <= 0:
                continue
            part = min(available, remaining)
            resolved.append((line, balance.grant_id, part))
            taken[key] += part
            remaining -= part
            if remaining == 0:
                break
        if remaining:
            on_hand = sum(b.quantity for b in sources)
            item = Item.objects.only("name").get(pk=line.item_id)
            raise ServiceError(
                f"{line.from_location.name} has {on_hand} {plural(item.name, on_hand)}; "
                f"this asks for {line.quantity}"
            )
    return resolved


def _refuse_overdraw(
    deltas: dict[tuple[int, int, int], int], balances: dict[tuple[int, int, int], Balance], posting: Posting
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
    lowered = name.lower()
    if quantity == 1 or lowered.endswith("s"):
        return lowered
    return lowered + "s"


def atomic_posting(key: str | None, kind: MovementKind, build: Callable[[], Movement]) -> PostingResult:
    """Run `build` in one transaction under an idempotency key; a repeat returns the first result."""

    def run() -> PostingResult:
        with transaction.atomic():
            return PostingResult(build())

    return replay_or_run(key, kind, run, lambda movement: PostingResult(movement, replayed=True))
