"""Physical counts: what was counted at a site against what it held at the end of the count's day.

A count dated in the past is compared with what the site held at the end of that day, not today: the
postings dated after it (a receipt the next morning) are not what the count found. The shortage it
finds is taken from the grants the site held then, oldest first, and only as far as every later
balance stays at zero or more: a stock card never goes below zero because a count was posted late.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q

from reliefops.catalog.models import Item
from reliefops.core.errors import Problem
from reliefops.core.text import day_text
from reliefops.partners.models import Grant
from reliefops.stock.held import Held, held_since
from reliefops.stock.models import (
    QUANTITY_MAX,
    LocationKind,
    Movement,
    MovementKind,
    MovementLine,
    StockLocation,
)
from reliefops.stock.services.ledger import (
    BalanceRefused,
    LineRequest,
    NothingPosted,
    Posting,
    PostingResult,
    plural,
    post,
    posting_day,
    refuse,
    replay_or_run,
    sees_stock,
    some,
)
from reliefops.stock.services.locations import singleton_location, site_location, unattributed_grant
from reliefops.stock.services.operations import examine_lines, lock_site_balances

NOTHING_TO_POST = "the count matches the stock held: nothing to post"


@dataclass(frozen=True)
class CountLine:
    """What was counted of one item; a surplus goes to `surplus_grant_id` (else 'unattributed')."""

    item_id: int
    counted: int
    surplus_grant_id: int | None = None


@dataclass
class _Held(Held):
    """What a site held of one item of one grant (see `Held`), and how old that stock is: a shortage
    is taken from the oldest first."""

    fifo_date: dt.date | None = None


def stock_count(
    *,
    actor: Any,
    site_id: int,
    counts: Sequence[CountLine],
    counted_on: dt.date,
    note: str = "",
    idempotency_key: str | None = None,
    caller_problems: Sequence[Problem] = (),
) -> PostingResult | NothingPosted:
    """Record a physical count: the differences from what the site held at the end of the count's
    day are posted as count adjustments, and a count that found what was held posts nothing.

    A shortage is taken from the oldest grants first, among those whose later balances it leaves at
    zero or more; one that would take a later balance below zero is refused, naming that day. A
    surplus goes to the line's grant, else to UNATTRIBUTED. `caller_problems`: see `refuse`.
    """

    def run() -> PostingResult | NothingPosted:
        with transaction.atomic():
            return _count(
                actor=actor,
                site_id=site_id,
                counts=counts,
                counted_on=counted_on,
                note=note,
                idempotency_key=idempotency_key,
                caller_problems=caller_problems,
            )

    def replay(movement: Movement) -> PostingResult | NothingPosted:
        return PostingResult(movement, replayed=True)

    return replay_or_run(idempotency_key, MovementKind.COUNT, run, replay)


def _count(
    *,
    actor: Any,
    site_id: int,
    counts: Sequence[CountLine],
    counted_on: dt.date,
    note: str,
    idempotency_key: str | None,
    caller_problems: Sequence[Problem],
) -> PostingResult | NothingPosted:
    problems = [
        Problem(row, "counted", f"must be a whole number of zero or more, not {line.counted!r}")
        for row, line in enumerate(counts, start=1)
        if isinstance(line.counted, bool) or not isinstance(line.counted, int) or line.counted < 0
    ]
    problems += [
        Problem(row, "counted", f"must be at most {QUANTITY_MAX:,}, not {line.counted:,}")
        for row, line in enumerate(counts, start=1)
        if isinstance(line.counted, int) and line.counted > QUANTITY_MAX
    ]
    own, known, (location, adjustment) = examine_lines(
        counts, [("site_id", site_id), ("kind", LocationKind.COUNT_ADJUSTMENT.value)], caller_problems
    )
    problems += posting_day(counted_on, "counted_on")
    refuse([*problems, *own, *_listed_twice(counts, known)], caller_problems)
    location = location or site_location(site_id)
    adjustment = adjustment or singleton_location(LocationKind.COUNT_ADJUSTMENT)
    by_grant, by_item = _held_since(location, [c.item_id for c in counts], counted_on)
    lines: list[LineRequest] = []
    differences: dict[int, int] = {}
    for row, line in enumerate(counts, start=1):
        held = by_item.get(line.item_id)
        difference = line.counted - (held.at_end if held else 0)
        differences[line.item_id] = difference
        if difference > 0:
            lines.append(
                LineRequest(
                    item_id=line.item_id,
                    quantity=difference,
                    from_location=adjustment,
                    to_location=location,
                    grant_id=line.surplus_grant_id or unattributed_grant().pk,
                    reason="count surplus",
                )
            )
        elif difference < 0:
            assert held is not None  # noqa: S101 - a shortage is of stock held
            grants = {grant_id: h for (item_id, grant_id), h in by_grant.items() if item_id == line.item_id}
            taken = _shortage_by_grant(-difference, grants)
            if taken is None:
                item = Item.objects.only("name").get(pk=line.item_id).name
                raise _later_below_zero(location, item, held, grants, line, row, counted_on, actor)
            lines += [
                LineRequest(
                    item_id=line.item_id,
                    quantity=quantity,
                    from_location=location,
                    to_location=adjustment,
                    grant_id=grant_id,
                    reason="count shortage",
                    row=row,
                )
                for grant_id, quantity in taken
            ]
    if not lines:
        return NothingPosted(NOTHING_TO_POST)
    movement = post(
        Posting(
            kind=MovementKind.COUNT,
            occurred_on=counted_on,
            actor=actor,
            site_id=site_id,
            note=note,
            idempotency_key=idempotency_key,
            lines=lines,
            audit_extra={
                "counted": {str(c.item_id): c.counted for c in counts},
                "differences": {str(k): v for k, v in differences.items()},
            },
        )
    )
    return PostingResult(movement)


def _held_since(
    location: StockLocation, item_ids: Sequence[int], day: dt.date
) -> tuple[dict[tuple[int, int], _Held], dict[int, Held]]:
    """What the location held at the end of `day`, and the least it held on any day since, of each
    (item, grant) and of each item (its grants together), its balances locked.

    Today's balances less what was posted after `day`: one query for the balances and one for the
    lines of the site's movements dated after `day` (none for a count of today).
    """
    balances = lock_site_balances(location.pk, item_ids)
    assert location.site_id is not None  # noqa: S101 - a count is of a site's stock
    later: list[tuple[dt.date, tuple[int, int], int]] = [
        (occurred_on, (item_id, grant_id), -quantity if from_id == location.pk else quantity)
        for occurred_on, item_id, grant_id, from_id, quantity in MovementLine.objects.filter(
            Q(from_location_id=location.pk) | Q(to_location_id=location.pk),
            movement__site_id=location.site_id,
            movement__occurred_on__gt=day,
            item_id__in=item_ids,
        )
        .order_by("movement__occurred_on", "movement_id", "pk")
        .values_list("movement__occurred_on", "item_id", "grant_id", "from_location_id", "quantity")
    ]
    of_grant = held_since({(b.item_id, b.grant_id): b.quantity for b in balances}, later, day)
    by_grant = {}
    for b in balances:
        held = of_grant[(b.item_id, b.grant_id)]
        by_grant[(b.item_id, b.grant_id)] = _Held(held.at_end, held.lowest, held.lowest_on, b.fifo_date)
    totals: dict[int, int] = defaultdict(int)
    for b in balances:
        totals[b.item_id] += b.quantity
    by_item = held_since(totals, [(on, item_id, change) for on, (item_id, _), change in later], day)
    return by_grant, by_item


def _shortage_by_grant(shortage: int, grants: dict[int, _Held]) -> list[tuple[int, int]] | None:
    """The grants a shortage is taken from, and how many of each: the oldest stock first, each
    grant only as far as it never held less since the count's day (so that no later balance goes
    below zero). None when they cannot give it so."""
    taken: list[tuple[int, int]] = []
    remaining = shortage
    for grant_id, held in sorted(grants.items(), key=lambda gh: (gh[1].fifo_date or dt.date.min, gh[0])):
        part = min(max(held.lowest, 0), remaining)
        if part > 0:
            taken.append((grant_id, part))
            remaining -= part
        if remaining == 0:
            return taken
    return None


def _later_below_zero(
    location: StockLocation,
    item: str,
    held: Held,
    grants: dict[int, _Held],
    line: CountLine,
    row: int,
    counted_on: dt.date,
    actor: Any,
) -> BalanceRefused:
    """The refusal of a shortage that would take the site's stock below zero on a later day: what it
    held that day, and what the count takes."""
    shortage = held.at_end - line.counted
    dated = f"this count, dated {day_text(counted_on)}"
    grant_id: int | None = None
    if held.lowest < shortage:
        lowest, lowest_on, takes, of_grant = held.lowest, held.lowest_on, shortage, ""
    else:
        # Enough stock on every day, but not of the grants the site held on the count's day: the
        # first grant (oldest first) that a shortage taken from that day's stock takes below zero.
        grant_id, takes, grant = _first_grant_below_zero(shortage, grants)
        reference = Grant.objects.only("reference").get(pk=grant_id).reference
        lowest, lowest_on, of_grant = grant.lowest, grant.lowest_on, f" (grant {reference})"
    if not sees_stock(actor):
        message = (
            f"not enough {plural(item, 2)}{of_grant} at {location.name} on {day_text(lowest_on)} for {dated}"
        )
    else:
        message = (
            f"{location.name} held {some(lowest, item)}{of_grant} on {day_text(lowest_on)}; {dated}, "
            f"takes {takes:,} of the shortage it found ({line.counted:,} counted of {held.at_end:,} held "
            "that day): post the count on the day it was made, or correct the postings dated after it first"
        )
    return BalanceRefused(
        message, item_id=line.item_id, grant_id=grant_id, asked=takes, row=row, field="counted"
    )


def _first_grant_below_zero(shortage: int, grants: dict[int, _Held]) -> tuple[int, int, _Held]:
    """The first grant (oldest stock first) that a shortage taken from the stock held on the count's
    day would take below zero on a later day: its id, what it would take, and what it held."""
    remaining = shortage
    ordered = sorted(grants.items(), key=lambda gh: (gh[1].fifo_date or dt.date.min, gh[0]))
    for grant_id, grant in ordered:
        takes = min(max(grant.at_end, 0), remaining)
        remaining -= takes
        if takes > grant.lowest:
            return grant_id, takes, grant
    raise AssertionError("a shortage the grants could give was refused")  # pragma: no cover


def _listed_twice(counts: Sequence[CountLine], known: set[int]) -> list[Problem]:
    """A problem on each line that counts an item again: two figures for one item leave neither true.

    Only `known` items (active ones) count: another is refused as unknown on each of its lines.
    """
    seen: set[int] = set()
    rows: list[int] = []
    for row, line in enumerate(counts, start=1):
        if line.item_id not in known:
            continue
        if line.item_id in seen:
            rows.append(row)
        seen.add(line.item_id)
    if not rows:
        return []
    names = dict(Item.objects.filter(pk__in=[counts[r - 1].item_id for r in rows]).values_list("pk", "name"))
    return [Problem(r, "item", f"{names[counts[r - 1].item_id]} is listed twice") for r in rows]
