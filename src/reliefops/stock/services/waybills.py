"""Waybills: dispatch from a site into transit, and the receiving site's delivery confirmation."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction

from reliefops.catalog.models import Item
from reliefops.core.errors import Conflict, NotFound, Problem
from reliefops.core.text import day_text
from reliefops.stock.models import (
    DRIVER_MAX,
    EXCESS_PREFIX,
    EXCESS_REASON_MAX,
    QUANTITY_MAX,
    REASON_MAX,
    VEHICLE_MAX,
    WAYBILL_NUMBER_MAX,
    Balance,
    LocationKind,
    Movement,
    MovementKind,
    StockLocation,
    Transport,
    Waybill,
    WaybillStatus,
    waybill_key,
    waybill_number,
)
from reliefops.stock.services.ledger import (
    UNRESOLVED,
    LineRequest,
    Posting,
    PostingResult,
    RequestLines,
    post,
    posting_day,
    refuse,
    replay_or_run,
    reported,
    some,
)
from reliefops.stock.services.locations import singleton_location, site_location, unattributed_grant
from reliefops.stock.services.operations import (
    StockLine,
    check_items_and_find_locations,
    keyless_number,
    too_long,
)

# The numbers reliefops gives waybills itself: WB- and at least 7 digits, one more than the last it
# gave (earlier versions gave the waybill's id, and, should that be taken, a suffix). A number typed by
# a user may not take this form.
AUTOMATIC_NUMBER = re.compile(r"WB-\d+(?:-\d+)?", re.IGNORECASE)
# The keys of the series' numbers (`waybill_key`): a typed WB 0000123 or wb0000123 is WB-0000123.
AUTOMATIC_KEY = re.compile(r"WB(?:\d{7}|[1-9]\d{7,})")
SERIES = r"^WB-[0-9]+$"
NUMBER_ATTEMPTS = 20
NUMBERING_LOCK = 0x5742  # "WB": the advisory lock of automatic waybill numbering


def _next_automatic_number() -> str:
    """The next number of the series: one more than the last waybill given one. Numbers typed by
    users take none of the series, so it has no gaps. The last is found walking back by id, which
    stops at once: nearly every waybill has a number of the series."""
    last = Waybill.objects.filter(number__regex=SERIES).order_by("-id").values_list("number", flat=True)[:1]
    following = int(last[0][3:]) + 1 if last else 1
    return f"WB-{following:07d}"


def _give_automatic_number(waybill: Waybill) -> None:
    """Give the waybill the next number of the series. On PostgreSQL, dispatches numbered at once
    take their numbers one after another (a lock held until each commits), so that each reads the
    number the one before it gave. A number an earlier version gave out of turn is refused by the
    unique index: the next one is tried."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [NUMBERING_LOCK])
    for _ in range(NUMBER_ATTEMPTS):
        candidate = _next_automatic_number()
        while Waybill.objects.filter(number_key=waybill_key(candidate)).exists():
            candidate = f"WB-{int(candidate[3:]) + 1:07d}"
        waybill.number, waybill.number_key = candidate, waybill_key(candidate)
        try:
            with transaction.atomic():
                waybill.save(update_fields=["number", "number_key"])
        except IntegrityError:
            continue
        return
    raise Conflict("no free waybill number was found: try again")


@dataclass(frozen=True)
class DispatchResult:
    waybill: Waybill
    movement: Movement
    replayed: bool = False

    @property
    def message(self) -> str:
        if self.replayed:
            return f"waybill {self.waybill.number} was already dispatched: nothing changed"
        return f"waybill {self.waybill.number} dispatched"


def waybill_dispatch(
    *,
    actor: Any,
    from_site_id: int,
    to_site_id: int,
    lines: Sequence[StockLine],
    dispatched_on: dt.date,
    expected_on: dt.date | None = None,
    transport: str = Transport.TRUCK,
    vehicle: str = "",
    driver: str = "",
    number: str | None = None,
    idempotency_key: str | None = None,
    caller_problems: Sequence[Problem] = (),
) -> DispatchResult:
    """Send a consignment under a waybill: stock moves from the site into transit.

    A number already taken (whatever its case, spaces and punctuation: see `waybill_key`) is refused
    (409) before anything else is checked, saying whether this is the same consignment again; every
    other problem is refused at once. A typed number is kept without the spaces around it.
    `caller_problems`: see `refuse`.
    """
    if number is not None and number.strip():
        # " BLK/2005/0412 " is the paper waybill BLK/2005/0412 (a blank number is refused below).
        number = waybill_number(number)

    asked = _asked(from_site_id, to_site_id, lines, dispatched_on, expected_on, transport, vehicle, driver)

    def run() -> DispatchResult:
        with transaction.atomic():
            if number and (taken := _number_taken(number, asked)):
                raise taken
            problems = posting_day(dispatched_on, "dispatched_on")
            # Two sites the caller could not find are not one site: only found ones are compared.
            if UNRESOLVED not in (from_site_id, to_site_id) and from_site_id == to_site_id:
                problems.append(Problem(None, "to_site", "a waybill goes to another site"))
            if transport not in Transport.values:
                problems.append(Problem(None, "transport", f"must be one of {', '.join(Transport.values)}"))
            expected = expected_on or dispatched_on
            if expected < dispatched_on:
                said = f"{day_text(expected)} is before the day of dispatch ({day_text(dispatched_on)})"
                problems.append(Problem(None, "expected_on", said))
            if number is not None and not number.strip():
                problems.append(Problem(None, "number", "must not be blank"))
            if keyless := keyless_number("number", number or "", "a waybill number"):
                problems += keyless
            elif number and (
                AUTOMATIC_NUMBER.fullmatch(number.strip()) or AUTOMATIC_KEY.fullmatch(waybill_key(number))
            ):
                problems.append(
                    Problem(
                        None,
                        "number",
                        f"{number.strip()} is of the form reliefops gives waybills itself (WB-0000123): "
                        "leave the number empty to be given one, or use your own series",
                    )
                )
            problems += too_long(None, "number", number or "", WAYBILL_NUMBER_MAX)
            problems += too_long(None, "vehicle", vehicle, VEHICLE_MAX)
            problems += too_long(None, "driver", driver, DRIVER_MAX)
            source, destination = check_items_and_find_locations(
                lines,
                [("site_id", from_site_id), ("site_id", to_site_id)],
                problems=problems,
                caller_problems=caller_problems,
            )
            source = source or site_location(from_site_id)
            if destination is None:
                site_location(to_site_id)  # the receiving site must be able to hold stock
            waybill = Waybill.objects.create(
                number=number or f"tmp-{uuid.uuid4().hex[:20]}",
                number_key=waybill_key(number) if number else None,
                from_site_id=from_site_id,
                to_site_id=to_site_id,
                transport=transport,
                vehicle=vehicle,
                driver=driver,
                dispatched_on=dispatched_on,
                expected_on=expected,
            )
            if not number:
                _give_automatic_number(waybill)
            transit = StockLocation.objects.create(
                kind=LocationKind.IN_TRANSIT,
                is_physical=False,
                waybill=waybill,
                name=f"In transit {waybill.number}",
            )
            movement = post(
                Posting(
                    kind=MovementKind.DISPATCH,
                    occurred_on=dispatched_on,
                    actor=actor,
                    reference=waybill.number,
                    site_id=from_site_id,
                    waybill_id=waybill.pk,
                    idempotency_key=idempotency_key,
                    lines=[
                        LineRequest(
                            item_id=line.item_id,
                            quantity=line.quantity,
                            from_location=source,
                            to_location=transit,
                            grant_id=line.grant_id,
                            lot=line.lot,
                            expiry=line.expiry,
                            row=row,
                        )
                        for row, line in enumerate(lines, start=1)
                    ],
                    audit_extra={"waybill": waybill.number, "to_site_id": to_site_id, "transport": transport},
                )
            )
            return DispatchResult(waybill, movement)

    def replay(movement: Movement) -> DispatchResult:
        assert movement.waybill is not None  # noqa: S101 - a dispatch always has its waybill
        return DispatchResult(movement.waybill, movement, replayed=True)

    try:
        return replay_or_run(
            idempotency_key, MovementKind.DISPATCH, run, replay, RequestLines(from_site_id, lines)
        )
    except IntegrityError:
        # Another waybill of this number committed between the check above and this one's insert.
        if number and (taken := _number_taken(number, asked)):
            raise taken from None
        raise


@dataclass(frozen=True)
class _Dispatched:
    """What a dispatch says of its consignment, to tell a repeat of it from another consignment."""

    from_site_id: int
    to_site_id: int
    dispatched_on: dt.date
    expected_on: dt.date
    transport: str
    vehicle: str
    driver: str
    # (item, its quantity, the grants it was asked of or taken from, its lots and expiries)
    items: frozenset[tuple[int, int, frozenset[int] | None, frozenset[str], frozenset[dt.date | None]]]


def _asked(
    from_site_id: int,
    to_site_id: int,
    lines: Sequence[StockLine],
    dispatched_on: dt.date,
    expected_on: dt.date | None,
    transport: str,
    vehicle: str,
    driver: str,
) -> _Dispatched:
    return _Dispatched(
        from_site_id,
        to_site_id,
        dispatched_on,
        expected_on or dispatched_on,
        transport,
        vehicle.strip(),
        driver.strip(),
        frozenset(
            (
                line.item_id,
                line.quantity,
                frozenset({line.grant_id}) if line.grant_id is not None else None,
                frozenset({line.lot.strip()}),
                frozenset({line.expiry}),
            )
            for line in lines
        ),
    )


def _as_dispatched(waybill: Waybill, asked: _Dispatched) -> _Dispatched:
    """The waybill's dispatch in the terms of `asked`: a grant the request did not name is left out
    of the comparison (first-in-first-out chose it, and may have taken several)."""
    by_item: dict[int, list[tuple[int, int, str, dt.date | None]]] = defaultdict(list)
    for item_id, quantity, grant_id, lot, expiry in Movement.objects.filter(
        waybill=waybill, kind=MovementKind.DISPATCH
    ).values_list("lines__item_id", "lines__quantity", "lines__grant_id", "lines__lot", "lines__expiry"):
        if item_id is not None:
            by_item[item_id].append((quantity, grant_id, lot, expiry))
    named = {item_id for item_id, _, grants, _, _ in asked.items if grants is not None}
    return _Dispatched(
        waybill.from_site_id,
        waybill.to_site_id,
        waybill.dispatched_on,
        waybill.expected_on,
        waybill.transport,
        waybill.vehicle.strip(),
        waybill.driver.strip(),
        frozenset(
            (
                item_id,
                sum(q for q, _, _, _ in rows),
                frozenset(g for _, g, _, _ in rows) if item_id in named else None,
                frozenset(lot.strip() for _, _, lot, _ in rows),
                frozenset(e for _, _, _, e in rows),
            )
            for item_id, rows in by_item.items()
        ),
    )


def _number_taken(number: str, asked: _Dispatched) -> Conflict | None:
    """The refusal of a number a waybill already has, whatever the case of its letters, its spaces
    and its punctuation (`waybill_key`: WB 2005/0012 is the paper waybill WB2005/0012), or None
    while it is free. It names the waybill, when and where it went, and says whether this request
    is the same consignment posted again (nothing is to be done) or another one (it needs its own
    number). One indexed look-up; the waybill's lines are read only when the number is taken."""
    waybill = (
        Waybill.objects.select_related("from_site", "to_site").filter(number_key=waybill_key(number)).first()
    )
    if waybill is None:
        return None
    shown = waybill_number(waybill.number)
    said = (
        f"waybill {shown} exists already (dispatched {day_text(waybill.dispatched_on)} from "
        f"{waybill.from_site.name} to {waybill.to_site.name}"
    )
    if waybill.status == WaybillStatus.CANCELLED:
        said += ", then cancelled: its dispatch was reversed"
    if number != shown:
        said += f"; {number} is its number written another way"
    said += ")"
    if waybill.status == WaybillStatus.CANCELLED:
        return Conflict(f"{said}; a number stays with its waybill: give this consignment a number of its own")
    if _as_dispatched(waybill, asked) == asked:
        return Conflict(
            f"{said} with these same items: this consignment is dispatched already; nothing changed"
        )
    return Conflict(f"{said} with other items or details; give this consignment a number of its own")


@dataclass(frozen=True)
class DeliveryLine:
    """What the receiving site found of one item of the waybill."""

    item_id: int
    received: int
    damaged: int = 0
    damage_reason: str = ""
    short_reason: str = ""


def waybill_confirm_delivery(
    *,
    actor: Any,
    waybill_id: int,
    delivered_on: dt.date,
    lines: Sequence[DeliveryLine],
    excess_reason: str = "",
    idempotency_key: str | None = None,
    caller_problems: Sequence[Problem] = (),
) -> PostingResult:
    """Confirm what arrived: good stock into the site, damaged and short quantities to loss/damage.

    Every item of the waybill must be listed. More than was sent is refused unless a reason is
    given; the excess then enters the site as unattributed stock. A waybill no longer in transit is
    refused (409) before anything else is checked; every other problem is refused at once.
    `caller_problems`: see `refuse`.
    """

    def run() -> PostingResult:
        with transaction.atomic():
            waybill = Waybill.objects.select_for_update().filter(pk=waybill_id).first()
            if waybill is None:
                raise NotFound(f"no waybill {waybill_id}")
            if waybill.status == WaybillStatus.DELIVERED:
                delivered = waybill.delivered_on
                on = f"{delivered.day} {delivered:%b %Y}" if delivered else "an earlier day"
                raise Conflict(f"waybill {waybill.number} was already confirmed on {on}")
            if waybill.status == WaybillStatus.CANCELLED:
                raise Conflict(f"waybill {waybill.number} was cancelled")
            problems = posting_day(delivered_on, "delivered_on")
            if delivered_on < waybill.dispatched_on:
                said = (
                    f"{day_text(delivered_on)} is before waybill {waybill.number} was dispatched "
                    f"({day_text(waybill.dispatched_on)})"
                )
                problems.append(Problem(None, "delivered_on", said))
            transit = StockLocation.objects.get(waybill=waybill)
            sent: dict[int, list[tuple[int, int]]] = defaultdict(list)
            for item_id, grant_id, quantity, fifo in (
                Balance.objects.filter(location=transit, quantity__gt=0)
                .order_by("item_id", "fifo_date", "grant_id")
                .values_list("item_id", "grant_id", "quantity", "fifo_date")
            ):
                del fifo
                sent[item_id].append((grant_id, quantity))
            posting_lines = _delivery_lines(
                waybill,
                transit,
                sent,
                lines,
                excess_reason,
                problems=problems,
                caller_problems=caller_problems,
            )
            waybill.status = WaybillStatus.DELIVERED
            waybill.delivered_on = delivered_on
            waybill.save(update_fields=["status", "delivered_on"])
            movement = post(
                Posting(
                    kind=MovementKind.DELIVERY,
                    occurred_on=delivered_on,
                    actor=actor,
                    reference=waybill.number,
                    site_id=waybill.to_site_id,
                    waybill_id=waybill.pk,
                    idempotency_key=idempotency_key,
                    lines=posting_lines,
                    audit_extra={
                        "waybill": waybill.number,
                        "confirmed": [[d.item_id, d.received, d.damaged] for d in lines],
                    },
                )
            )
            return PostingResult(movement, said=_delivered_in_words(sent, lines))

    return replay_or_run(
        idempotency_key, MovementKind.DELIVERY, run, lambda m: PostingResult(m, replayed=True)
    )


ITEMS_NAMED = 5  # a delivery of more items says how many, not each one's quantities


def _delivered_in_words(sent: dict[int, list[tuple[int, int]]], lines: Sequence[DeliveryLine]) -> str:
    """What arrived of each item, and what went to loss/damage and why: "190 QUILT received, 10 short
    (lost)"; for more than five items, how many arrived in full and how many did not."""
    codes = dict(Item.objects.filter(pk__in=[d.item_id for d in lines]).values_list("pk", "code"))
    said: list[tuple[str, str, bool]] = []
    for line in lines:
        total_sent = sum(q for _, q in sent[line.item_id])
        short = max(total_sent - line.received - line.damaged, 0)
        extra = max(line.received + line.damaged - total_sent, 0)
        parts = [f"{line.received:,} {codes[line.item_id]} received"]
        if line.damaged:
            parts.append(f"{line.damaged:,} damaged (lost)")
        if short:
            parts.append(f"{short:,} short (lost)")
        if extra:
            parts.append(f"{extra:,} more than sent")
        said.append((codes[line.item_id], ", ".join(parts), bool(line.damaged or short)))
    said.sort()
    if len(said) > ITEMS_NAMED:
        lost = sum(1 for _, _, written_off in said if written_off)
        return f"{len(said)} items received" + (
            f", {lost} of them short or damaged (lost)" if lost else " in full"
        )
    return "; ".join(words for _, words, _ in said)


def _delivery_lines(
    waybill: Waybill,
    transit: StockLocation,
    sent: dict[int, list[tuple[int, int]]],
    lines: Sequence[DeliveryLine],
    excess_reason: str,
    *,
    problems: list[Problem],
    caller_problems: Sequence[Problem],
) -> list[LineRequest]:
    """The posting's lines, once every problem of the confirmation is refused at once.

    Whether a line's quantities need a reason (damaged, short, more than sent) is known once its
    item is on the waybill and its quantities are whole numbers the caller could read; an UNRESOLVED
    item the caller reported is passed over (else it is unknown).
    """
    if len(excess_reason) > EXCESS_REASON_MAX:
        problems.append(
            Problem(None, "excess_reason", f"longer than {EXCESS_REASON_MAX} characters; shorten it")
        )
    names = dict(Item.objects.filter(pk__in={*sent, *(d.item_id for d in lines)}).values_list("pk", "name"))
    # An item listed twice is refused as such: what each of its lines lacks would be told of half of it.
    listed = Counter(d.item_id for d in lines if d.item_id != UNRESOLVED)
    twice = {item_id for item_id, times in listed.items() if times > 1}
    seen: set[int] = set()
    unread = 0
    for row, line in enumerate(lines, start=1):
        counts = _counts(row, line)
        if line.item_id == UNRESOLVED:
            if reported(caller_problems, row, "item"):
                unread += 1
            else:
                problems.append(Problem(row, "item", f"unknown item {line.item_id}"))
            problems += counts
            continue
        name = names.get(line.item_id, f"item {line.item_id}")
        if line.item_id in seen:
            problems.append(Problem(row, "item", f"{name} is listed twice"))
        seen.add(line.item_id)
        if line.item_id not in sent:
            problems.append(Problem(row, "item", f"{name} is not on waybill {waybill.number}"))
        problems += counts
        for field, text in (("damage_reason", line.damage_reason), ("short_reason", line.short_reason)):
            if len(text) > REASON_MAX:
                problems.append(Problem(row, field, f"longer than {REASON_MAX} characters; shorten it"))
        # A count the caller could not read stands in for nothing the user said: it asks no reason.
        if (
            line.item_id in sent
            and line.item_id not in twice
            and not counts
            and not reported(caller_problems, row, "received", "damaged")
        ):
            problems += [
                problem
                for problem in _reasons_missing(
                    row, line, name, sum(q for _, q in sent[line.item_id]), excess_reason
                )
                # Nor is a reason the caller could not read (one too long) missing.
                if not reported(caller_problems, row, problem.field)
            ]
    # A line whose item the caller could not find may be one that seems missing; it stands for one.
    missing = [item_id for item_id in sent if item_id not in seen]
    if len(missing) > unread:
        problems += [
            Problem(None, "lines", f"{names[item_id]} of waybill {waybill.number} is not confirmed")
            for item_id in missing
        ]
    refuse(problems, caller_problems)

    site = site_location(waybill.to_site_id)
    loss = singleton_location(LocationKind.LOSS)
    out: list[LineRequest] = []
    for line in lines:
        total_sent = sum(q for _, q in sent[line.item_id])
        short = max(total_sent - line.received - line.damaged, 0)
        # Good, damaged and short quantities leave transit in that order, oldest grant first.
        good = min(line.received, total_sent)
        damaged = min(line.damaged, total_sent - good)
        portions = [(good, site, ""), (damaged, loss, line.damage_reason), (short, loss, line.short_reason)]
        grants = list(sent[line.item_id])
        for quantity, target, reason in portions:
            remaining = quantity
            while remaining > 0:
                grant_id, held = grants[0]
                part = min(held, remaining)
                out.append(
                    LineRequest(
                        item_id=line.item_id,
                        quantity=part,
                        from_location=transit,
                        to_location=target,
                        grant_id=grant_id,
                        reason=reason,
                    )
                )
                remaining -= part
                if part == held:
                    grants.pop(0)
                else:
                    grants[0] = (grant_id, held - part)
        # More than was sent: it enters as unattributed stock (damaged extras straight to loss).
        adjustment = singleton_location(LocationKind.COUNT_ADJUSTMENT)
        for extra, target, reason in (
            (line.received - good, site, f"{EXCESS_PREFIX}{excess_reason}"),
            (line.damaged - damaged, loss, line.damage_reason),
        ):
            if extra > 0:
                out.append(
                    LineRequest(
                        item_id=line.item_id,
                        quantity=extra,
                        from_location=adjustment,
                        to_location=target,
                        grant_id=unattributed_grant().pk,
                        reason=reason,
                    )
                )
    return out


def _counts(row: int, line: DeliveryLine) -> list[Problem]:
    """The problems of a line's received and damaged quantities: whole numbers from zero."""
    problems = []
    for what in ("received", "damaged"):
        value = getattr(line, what)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            problems.append(Problem(row, what, f"must be a whole number of zero or more, not {value!r}"))
        elif value > QUANTITY_MAX:
            problems.append(Problem(row, what, f"must be at most {QUANTITY_MAX:,}, not {value:,}"))
    return problems


def _reasons_missing(
    row: int, line: DeliveryLine, name: str, total_sent: int, excess_reason: str
) -> list[Problem]:
    """The reasons a line of the waybill needs and lacks: for more than was sent, damage, a shortfall."""
    problems = []
    arrived = line.received + line.damaged
    if arrived > total_sent and not excess_reason.strip():
        problems.append(
            Problem(
                row,
                "received",
                f"{some(arrived, name)} confirmed but {total_sent:,} {_were(total_sent)} sent; "
                "give a reason to accept the excess",
            )
        )
    if line.damaged and not line.damage_reason.strip():
        damaged = line.damaged
        problems.append(
            Problem(row, "damage_reason", f"say why {some(damaged, name)} {_were(damaged)} damaged")
        )
    short = max(total_sent - arrived, 0)
    if short and not line.short_reason.strip():
        are = "is" if short == 1 else "are"
        problems.append(Problem(row, "short_reason", f"say why {some(short, name)} {are} missing"))
    return problems


def _were(quantity: int) -> str:
    return "was" if quantity == 1 else "were"
