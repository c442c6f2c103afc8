"""Kitting: components into kits at a site, and kits back into components.

Every unit belongs to a grant, so that each donor's report adds up: a kit is made of the components
of one grant, and carries that grant; broken up, its components go back to it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from reliefops.catalog.models import Kit
from reliefops.core.errors import NotFound, Problem, ServiceError
from reliefops.partners.models import Grant
from reliefops.stock.models import QUANTITY_MAX, LocationKind, Movement, MovementKind, StockLocation
from reliefops.stock.services.ledger import (
    BalanceRefused,
    LineRequest,
    Posting,
    PostingResult,
    atomic_posting,
    overdrawn,
    passed_over,
    plural,
    post,
    posting_day,
    refuse,
    sees_stock,
    some,
    validate_quantity,
)
from reliefops.stock.services.locations import singleton_location, site_location
from reliefops.stock.services.operations import HeldBalance, label, lock_site_balances


def _kit(
    kit_item_id: int,
    quantity: int,
    caller_problems: Sequence[Problem],
    grant_id: int | None = None,
    *,
    day: tuple[str, dt.date],
) -> Kit:
    """The kit, once the request is refused with every problem of its quantity (a number of kits that
    would move a component beyond QUANTITY_MAX among them), of the grant named, if one is, and the
    `caller_problems`."""
    # An UNRESOLVED kit is found nowhere: refused with the caller's problem, else as no kit.
    kit = (
        Kit.objects.filter(item_id=kit_item_id)
        .select_related("item")
        .prefetch_related("components__item")
        .first()
    )
    problems = validate_quantity(quantity)
    if kit is not None and not problems:
        problems = [
            Problem(
                None,
                "quantity",
                f"{quantity:,} kits hold {c.quantity * quantity:,} "
                f"{plural(c.item.name, 2)}; a line moves at most {QUANTITY_MAX:,}",
            )
            for c in kit.components.all()
            if c.quantity * quantity > QUANTITY_MAX
        ]
    if (
        grant_id is not None
        and not passed_over(grant_id, caller_problems, None, "grant")
        and not Grant.objects.filter(pk=grant_id).exists()
    ):
        problems.append(Problem(None, "grant", f"unknown grant {grant_id}"))
    problems += posting_day(day[1], day[0])
    refuse(problems, caller_problems)
    if kit is None:
        raise NotFound(f"item {kit_item_id} is not a kit")
    return kit


def kits_assemble(
    *,
    actor: Any,
    site_id: int,
    kit_item_id: int,
    quantity: int,
    assembled_on: dt.date,
    grant_id: int | None = None,
    idempotency_key: str | None = None,
    caller_problems: Sequence[Problem] = (),
) -> PostingResult:
    """Assemble kits from components at a site: each kit of one grant's components, and of that grant.

    With `grant_id`, the kits are that grant's and are made of its components only; the components
    it lacks are refused, by name. Without, the kits are made grant by grant, of the grant whose
    components came first (first in, first out), as many whole kits as each grant's components make.
    `caller_problems`: see `refuse`.
    """

    def build() -> Movement:
        kit = _kit(kit_item_id, quantity, caller_problems, grant_id, day=("assembled_on", assembled_on))
        location = site_location(site_id)
        assembly = singleton_location(LocationKind.ASSEMBLY)
        needs = {c.item_id: c.quantity for c in kit.components.all()}
        if not needs:
            raise ServiceError(f"kit {kit} has no components")
        held = lock_site_balances(location.pk, list(needs))
        if grant_id is not None:
            _refuse_what_the_grant_lacks(kit, quantity, grant_id, held, location, actor)
            kits_of = {grant_id: quantity}
        else:
            kits_of = _kits_by_grant(kit, quantity, held, location, actor)
        lines = [
            LineRequest(
                item_id=c.item_id,
                quantity=c.quantity * count,
                from_location=location,
                to_location=assembly,
                grant_id=grant,
                reason="kitting",
            )
            for grant, count in kits_of.items()
            for c in kit.components.all()
        ]
        lines += [
            LineRequest(
                item_id=kit_item_id,
                quantity=count,
                from_location=assembly,
                to_location=location,
                grant_id=grant,
                reason="kitting",
            )
            for grant, count in kits_of.items()
        ]
        return post(
            Posting(
                kind=MovementKind.KITTING,
                doing="assembling",
                occurred_on=assembled_on,
                actor=actor,
                site_id=site_id,
                reference=label(f"assemble {some(quantity, kit.item.name)}"),
                idempotency_key=idempotency_key,
                lines=lines,
            )
        )

    return atomic_posting(idempotency_key, MovementKind.KITTING, build)


def _held_of(held: Sequence[HeldBalance], grant_id: int, item_id: int) -> int:
    return sum(b.quantity for b in held if b.grant_id == grant_id and b.item_id == item_id)


def _refuse_what_the_grant_lacks(
    kit: Kit, quantity: int, grant_id: int, held: Sequence[HeldBalance], location: StockLocation, actor: Any
) -> None:
    """Refuse kits charged to a grant whose components at the site are too few, naming each one it
    lacks: another grant's components would make kits the donor never paid for."""
    lacking = [
        (c.item_id, c.item.name, _held_of(held, grant_id, c.item_id), c.quantity * quantity)
        for c in kit.components.all()
        if _held_of(held, grant_id, c.item_id) < c.quantity * quantity
    ]
    if not lacking:
        return
    grant = Grant.objects.only("reference").get(pk=grant_id).reference
    # Item names may hold commas ("Bucket, steel"): the components are told apart by semicolons.
    if sees_stock(actor):
        each = "; ".join(f"{plural(name, need)}: {have:,} of {need:,}" for _, name, have, need in lacking)
        message = (
            f"{location.name} has too few components of grant {grant} for assembling "
            f"{some(quantity, kit.item.name)} charged to it: {each} (kits of a grant are made of its own "
            "components)"
        )
    else:
        names = "; ".join(plural(name, 2) for _, name, _, _ in lacking)
        message = f"not enough components of grant {grant} at {location.name} for assembling: {names}"
    first = lacking[0]
    raise BalanceRefused(message, item_id=first[0], grant_id=grant_id, asked=first[3])


def _kits_by_grant(
    kit: Kit, quantity: int, held: Sequence[HeldBalance], location: StockLocation, actor: Any
) -> dict[int, int]:
    """How many kits of each grant: the whole kits each grant's components make, the grant whose
    components came first (its oldest stock of them) first, until there are enough; refused, with
    what each grant's components make, when there are not."""
    components = list(kit.components.all())
    arrived: dict[int, dt.date] = {}
    for b in held:
        if b.quantity > 0:
            arrived[b.grant_id] = min(arrived.get(b.grant_id, b.fifo_date), b.fifo_date)
    makes: dict[int, int] = {
        grant: min(_held_of(held, grant, c.item_id) // c.quantity for c in components)
        for grant in sorted(arrived, key=lambda g: (arrived[g], g))
    }
    kits_of: dict[int, int] = {}
    remaining = quantity
    for grant, whole in makes.items():
        if whole > 0 and remaining > 0:
            kits_of[grant] = min(whole, remaining)
            remaining -= kits_of[grant]
    if remaining == 0:
        return kits_of
    kit_name = kit.item.name
    if not sees_stock(actor):
        message = f"not enough components of one grant at {location.name} for assembling"
    else:
        references = dict(Grant.objects.filter(pk__in=makes).values_list("pk", "reference"))
        each = []
        for grant, whole in makes.items():
            short = min(components, key=lambda c: _held_of(held, grant, c.item_id) // c.quantity)
            each.append(
                f"{references[grant]}'s make {whole:,} (too few {plural(short.item.name, 2)} for more)"
            )
        total = quantity - remaining
        message = (
            f"{location.name} has the components of {some(total, kit_name)}, not {quantity:,}: a kit is made "
            "of one grant's components" + (f"; {'; '.join(each)}" if each else "")
        )
    raise BalanceRefused(message, item_id=kit.item_id, asked=quantity)


def kits_break(
    *,
    actor: Any,
    site_id: int,
    kit_item_id: int,
    quantity: int,
    broken_on: dt.date,
    grant_id: int | None = None,
    idempotency_key: str | None = None,
    caller_problems: Sequence[Problem] = (),
) -> PostingResult:
    """Break kits back into their components; the components carry the kits' grant.

    `caller_problems`: see `refuse`.
    """

    def build() -> Movement:
        kit = _kit(kit_item_id, quantity, caller_problems, grant_id, day=("broken_on", broken_on))
        location = site_location(site_id)
        assembly = singleton_location(LocationKind.ASSEMBLY)
        kits = LineRequest(
            item_id=kit_item_id,
            quantity=quantity,
            from_location=location,
            to_location=assembly,
            grant_id=grant_id,
            reason="kit broken",
        )
        held_kits = lock_site_balances(location.pk, [kit_item_id])
        by_grant: dict[int, int] = defaultdict(int)
        if grant_id is not None:
            by_grant[grant_id] = quantity
        else:
            remaining = quantity
            for balance in sorted(held_kits, key=lambda b: (b.fifo_date, b.grant_id)):
                if balance.quantity <= 0:
                    continue
                grant, held = balance.grant_id, balance.quantity
                part = min(held, remaining)
                by_grant[grant] += part
                remaining -= part
                if remaining == 0:
                    break
            if remaining:
                held = quantity - remaining
                raise BalanceRefused(
                    overdrawn(
                        location.name, held, kit.item.name, "breaking", quantity, told=sees_stock(actor)
                    ),
                    item_id=kit_item_id,
                    asked=quantity,
                )
        lines = [
            LineRequest(
                item_id=kit_item_id,
                quantity=count,
                from_location=location,
                to_location=assembly,
                grant_id=grant,
                reason="kit broken",
            )
            for grant, count in by_grant.items()
        ] or [kits]
        for grant, count in by_grant.items():
            lines += [
                LineRequest(
                    item_id=c.item_id,
                    quantity=c.quantity * count,
                    from_location=assembly,
                    to_location=location,
                    grant_id=grant,
                    reason="kit broken",
                )
                for c in kit.components.all()
            ]
        return post(
            Posting(
                kind=MovementKind.KITTING,
                doing="breaking",
                occurred_on=broken_on,
                actor=actor,
                site_id=site_id,
                reference=label(f"break {some(quantity, kit.item.name)}"),
                idempotency_key=idempotency_key,
                lines=lines,
            )
        )

    return atomic_posting(idempotency_key, MovementKind.KITTING, build)
