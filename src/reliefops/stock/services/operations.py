"""Stock operations at a site: receipts, pledges, distributions, hand-overs, losses, counts, kitting.

Each takes keyword-only typed arguments, posts one movement through the ledger engine in one
transaction, and returns a PostingResult; a repeated idempotency key returns the first result.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.models import Sum

from reliefops.catalog.models import Item, Kit, PackSize
from reliefops.core.access import stock_visible_site_ids
from reliefops.core.errors import Conflict, InvalidInput, NotFound, Problem, ServiceError
from reliefops.core.services import audit_record
from reliefops.partners.models import Grant, Organisation
from reliefops.places.models import Site
from reliefops.stock.models import (
    LOT_MAX,
    QUANTITY_MAX,
    REFERENCE_MAX,
    Balance,
    LocationKind,
    Movement,
    MovementKind,
    Pledge,
    PledgeStatus,
    StockLocation,
)
from reliefops.stock.services.ledger import (
    UNRESOLVED,
    BalanceRefused,
    LineRequest,
    Posting,
    PostingResult,
    atomic_posting,
    hot_cursor,
    not_after_today,
    overdrawn,
    passed_over,
    plural,
    post,
    refuse,
    reported,
    sees_stock,
    some,
    validate_quantity,
)
from reliefops.stock.services.locations import (
    UNATTRIBUTED_DONOR,
    UNATTRIBUTED_GRANT,
    donor_location,
    location_from_row,
    location_query,
    partner_location,
    singleton_location,
    site_location,
    unattributed_grant,
)


@dataclass(frozen=True)
class StockLine:
    """An item and quantity, optionally of a named grant (else first-in-first-out)."""

    item_id: int
    quantity: int
    grant_id: int | None = None
    lot: str = ""
    expiry: dt.date | None = None


@dataclass(frozen=True)
class ReceiptLine:
    """What arrived: `quantity` base units, or `packs` of the named pack size."""

    item_id: int
    quantity: int | None = None
    packs: int | None = None
    pack: str = ""
    lot: str = ""
    expiry: dt.date | None = None


class LossReason:
    THEFT = "theft"
    WEATHER = "weather"
    SPOILAGE = "spoilage"
    DAMAGE = "damage"
    OTHER = "other"
    ALL = (THEFT, WEATHER, SPOILAGE, DAMAGE, OTHER)


def _site(site_id: int) -> Site:
    try:
        return Site.objects.get(pk=site_id)
    except Site.DoesNotExist as exc:
        raise NotFound(f"no site {site_id}") from exc


def _grant(grant_id: int) -> Grant:
    try:
        return Grant.objects.get(pk=grant_id)
    except Grant.DoesNotExist as exc:
        raise NotFound(f"no grant {grant_id}") from exc


def too_long(row: int | None, field: str, text: str, limit: int) -> list[Problem]:
    """A problem when a text is longer than its column holds."""
    if len(text) > limit:
        return [Problem(row, field, f"longer than {limit} characters; shorten it")]
    return []


def label(text: str, limit: int = REFERENCE_MAX) -> str:
    """A reference the ledger writes itself, cut to its column with an ellipsis when too long."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def check_items(lines: Sequence[Any]) -> None:
    """Refuse unknown items, unknown grants and bad quantities, naming each line."""
    check_items_and_find_locations(lines, [])


def _line_grant(line: Any) -> tuple[str, int | None]:
    """The field and id of the grant a line names: a count line's surplus grant, another's grant."""
    if isinstance(line, CountLine):
        return "surplus_grant", line.surplus_grant_id
    return "grant", getattr(line, "grant_id", None)


def examine_lines(
    lines: Sequence[Any],
    locations: Sequence[tuple[str, int | str]],
    caller_problems: Sequence[Problem] = (),
) -> tuple[list[Problem], set[int], list[StockLocation | None]]:
    """Every line's problems (unknown item or grant, bad quantity, overlong lot), the ids of the
    lines' items that exist and are active, and these locations (by unique column): one query.

    An UNRESOLVED item or grant is passed over where the entry point reported its problem among the
    `caller_problems`; else it is unknown. The locations come in the order asked, None for one that
    does not exist (yet).
    """
    problems: list[Problem] = []
    if not lines:
        problems.append(Problem(None, "lines", "give at least one line"))
    item_ids = sorted({line.item_id for line in lines if isinstance(line.item_id, int)})
    grant_ids = sorted({g for line in lines if isinstance(g := _line_grant(line)[1], int)})
    known, known_grants, found = _lookup(item_ids, grant_ids, locations)
    for index, line in enumerate(lines, start=1):
        if line.item_id not in known and not passed_over(line.item_id, caller_problems, index, "item"):
            problems.append(Problem(index, "item", f"unknown item {line.item_id}"))
        field, grant_id = _line_grant(line)
        if (
            grant_id is not None
            and grant_id not in known_grants
            and not passed_over(grant_id, caller_problems, index, field)
        ):
            problems.append(Problem(index, field, f"unknown grant {grant_id}"))
        if isinstance(line, StockLine):
            problems += validate_quantity(line.quantity, row=index)
        problems += too_long(index, "lot", getattr(line, "lot", ""), LOT_MAX)
    return problems, known, found


def check_items_and_find_locations(
    lines: Sequence[Any],
    locations: Sequence[tuple[str, int | str]],
    *,
    problems: Sequence[Problem] = (),
    caller_problems: Sequence[Problem] = (),
) -> list[StockLocation | None]:
    """Check the lines as `check_items` does and find these locations (by unique column), in one query.

    The lines' problems are refused together with the posting's other `problems` and the
    `caller_problems` (see `refuse`). Returns the locations in the order asked, None for one that
    does not exist (yet).
    """
    own, known, found = examine_lines(lines, locations, caller_problems)
    refuse([*problems, *own, *_stock_listed_twice(lines, known)], caller_problems)
    return found


def _stock_listed_twice(lines: Sequence[Any], known: set[int]) -> list[Problem]:
    """A problem on each line of stock leaving a site that takes an item a line above it takes from
    the same stock (the same grant, or either line without one: then both draw on the oldest
    stock), as a count refuses an item counted twice: the two lines' refusals would each speak of
    part of what the posting asks. Two lines of one item and two named grants are two balances.
    """
    seen: dict[int, list[int | None]] = defaultdict(list)
    rows: list[int] = []
    for row, line in enumerate(lines, start=1):
        # A grant the entry point could not find may be any grant: such a line is not compared.
        if not isinstance(line, StockLine) or line.item_id not in known or line.grant_id == UNRESOLVED:
            continue
        grants = seen[line.item_id]
        if any(g is None or line.grant_id is None or g == line.grant_id for g in grants):
            rows.append(row)
        grants.append(line.grant_id)
    if not rows:
        return []
    names = dict(Item.objects.filter(pk__in=[lines[r - 1].item_id for r in rows]).values_list("pk", "name"))
    return [
        Problem(r, "item", f"{names[lines[r - 1].item_id]} is listed twice: give it once, with the total")
        for r in rows
    ]


_NO_LOCATION = ", NULL" * 7  # a location row has 8 columns; an item or grant row fills the rest with NULL


def _lookup(
    item_ids: list[int], grant_ids: list[int], locations: Sequence[tuple[str, int | str]]
) -> tuple[set[int], set[int], list[StockLocation | None]]:
    """Which of these active items and grants exist, and these locations, in one query.

    This runs on every posting: one round trip instead of one per kind of thing looked up.
    """
    parts: list[str] = []
    params: list[Any] = []
    # The locations come first: PostgreSQL takes a UNION's column types from left to right, and the
    # NULLs of the item and grant rows then take the location columns' types.
    for index, (column, value) in enumerate(locations):
        sql, location_params = location_query(column, value)
        parts.append(sql.replace("SELECT ", f"SELECT '{index}', ", 1))
        params += location_params
    if item_ids:
        marks = _marks(item_ids)
        where = f"is_active = %s AND id IN ({marks})"
        parts.append(f"SELECT 'i', id{_NO_LOCATION} FROM catalog_item WHERE {where}")  # noqa: S608
        params += [True, *item_ids]
    if grant_ids:
        parts.append(f"SELECT 'g', id{_NO_LOCATION} FROM partners_grant WHERE id IN ({_marks(grant_ids)})")  # noqa: S608
        params += grant_ids
    items: set[int] = set()
    grants: set[int] = set()
    found: list[StockLocation | None] = [None] * len(locations)
    if parts:
        with hot_cursor(connections[DEFAULT_DB_ALIAS]) as cursor:
            cursor.execute(" UNION ALL ".join(parts), params)
            rows = cursor.fetchall()
        for tag, pk, *rest in rows:
            if tag == "i":
                items.add(pk)
            elif tag == "g":
                grants.add(pk)
            else:
                found[int(tag)] = location_from_row((pk, *rest), connection.alias)
    return items, grants, found


def _marks(values: list[int]) -> str:
    return ", ".join(["%s"] * len(values))


def _moves(lines: Sequence[StockLine], source: Any, target: Any, reason: str = "") -> list[LineRequest]:
    return [
        LineRequest(
            item_id=line.item_id,
            quantity=line.quantity,
            from_location=source,
            to_location=target,
            grant_id=line.grant_id,
            lot=line.lot,
            expiry=line.expiry,
            reason=reason,
            row=row,
        )
        for row, line in enumerate(lines, start=1)
    ]


# --- pledges and receipts -----------------------------------------------------------------------


def pledge_create(
    *,
    actor: Any,
    grant_id: int,
    item_id: int,
    quantity: int,
    destination_site_id: int,
    expected_on: dt.date,
    reference: str = "",
    idempotency_key: str | None = None,
    caller_problems: Sequence[Problem] = (),
) -> Pledge:
    """Record stock a donor promised: it is pipeline, not stock, until it is received.

    A repeated idempotency key returns the first pledge, marked `replayed`, whatever the request
    says, as for every posting. `caller_problems`: see `refuse`.
    """
    if replayed := _pledge_replayed(idempotency_key):
        return replayed
    refuse(
        validate_quantity(quantity) + too_long(None, "reference", reference, REFERENCE_MAX), caller_problems
    )
    try:
        return _pledge_insert(
            actor=actor,
            grant_id=grant_id,
            item_id=item_id,
            quantity=quantity,
            destination_site_id=destination_site_id,
            expected_on=expected_on,
            reference=reference,
            idempotency_key=idempotency_key,
        )
    except IntegrityError:
        # Two submissions with one key raced and the other committed first.
        if replayed := _pledge_replayed(idempotency_key):
            return replayed
        raise


def _pledge_replayed(idempotency_key: str | None) -> Pledge | None:
    """The pledge first recorded under this key, marked `replayed`; None for a new key."""
    if not idempotency_key:
        return None
    existing = Pledge.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        existing.replayed = True  # type: ignore[attr-defined]
    return existing


def _pledge_insert(
    *,
    actor: Any,
    grant_id: int,
    item_id: int,
    quantity: int,
    destination_site_id: int,
    expected_on: dt.date,
    reference: str,
    idempotency_key: str | None,
) -> Pledge:
    with transaction.atomic():
        grant = _grant(grant_id)
        site_location(destination_site_id)
        check_items([StockLine(item_id=item_id, quantity=quantity)])
        pledge = Pledge.objects.create(
            grant=grant,
            item_id=item_id,
            quantity=quantity,
            destination_id=destination_site_id,
            expected_on=expected_on,
            reference=reference,
            idempotency_key=idempotency_key or None,
        )
        pledge.replayed = False  # type: ignore[attr-defined]
        audit_record(
            actor=actor,
            action="stock.pledge",
            object_type="pledge",
            object_id=pledge.pk,
            after={
                "grant": grant.reference,
                "item_id": item_id,
                "quantity": quantity,
                "expected_on": expected_on.isoformat(),
            },
        )
    return pledge


def _base_quantity(line: ReceiptLine, row: int, *, known: bool) -> tuple[int | None, list[Problem]]:
    """The line's quantity in base units; its packs are looked up only for a `known` item (and a pack
    the entry point could read)."""
    if (line.quantity is None) == (line.packs is None):
        return None, [Problem(row, "quantity", "give either a quantity in base units or a number of packs")]
    if line.quantity is not None:
        return line.quantity, validate_quantity(line.quantity, row=row)
    problems = validate_quantity(line.packs, row=row, what="packs")
    if problems or not known:
        return None, problems
    pack = PackSize.objects.filter(item_id=line.item_id, name=line.pack).first() if line.pack else None
    if pack is None:
        names = (
            ", ".join(PackSize.objects.filter(item_id=line.item_id).values_list("name", flat=True)) or "none"
        )
        if not line.pack.strip():
            return None, [
                Problem(row, "pack", f"choose the pack of the {line.packs:,} packs (known: {names})")
            ]
        return None, [Problem(row, "pack", f"unknown pack {line.pack!r} for this item (known: {names})")]
    assert line.packs is not None  # noqa: S101 - validated above
    quantity = line.packs * pack.quantity
    if quantity > QUANTITY_MAX:
        return None, [
            Problem(
                row,
                "packs",
                f"{line.packs:,} packs of {pack.quantity:,} make {quantity:,}; "
                f"a line moves at most {QUANTITY_MAX:,}",
            )
        ]
    return quantity, []


def stock_receive(
    *,
    actor: Any,
    site_id: int,
    grant_id: int,
    lines: Sequence[ReceiptLine],
    grn_number: str,
    received_on: dt.date,
    pledge_id: int | None = None,
    note: str = "",
    idempotency_key: str | None = None,
    caller_problems: Sequence[Problem] = (),
) -> PostingResult:
    """Receive goods from a donor or supplier against a grant, with a goods received note number.

    A GRN already posted, or a pledge of this site no longer open, is refused (409) before anything
    else is checked; every other problem is refused at once. Of a pledge bound for another site
    nothing is told but that. `caller_problems`: see `refuse`.
    """
    # The site is known unless the entry point reported it could not find it.
    site_known = not passed_over(site_id, caller_problems, None, "site")

    def build() -> Movement:
        if taken := grn_taken(grn_number):
            raise taken
        pledge = _pledge_locked(pledge_id, actor, site_id)
        # Only the site a pledge is bound for learns more of it than that it is not bound for another.
        ours = pledge is not None and site_known and pledge.destination_id == site_id
        if ours and pledge is not None and pledge.status != PledgeStatus.OPEN:
            raise Conflict(f"pledge {pledge.pk} is {pledge.get_status_display().lower()}")
        problems = not_after_today(received_on, "received_on")
        if not grn_number.strip():
            problems.append(Problem(None, "grn_number", "a goods received note number is required"))
        problems += too_long(None, "grn_number", grn_number, REFERENCE_MAX)
        own, known, (target, source) = examine_lines(
            lines, [("site_id", site_id), ("grant_id", grant_id)], caller_problems
        )
        problems += own
        quantities: list[int] = []
        for row, line in enumerate(lines, start=1):
            readable = line.item_id in known and not reported(caller_problems, row, "pack")
            quantity, line_problems = _base_quantity(line, row, known=readable)
            problems += line_problems
            quantities.append(quantity or 0)
        if pledge is not None and site_known and not ours:
            # Only the site a pledge is bound for receives it (nothing more of the pledge is told).
            problems.append(
                Problem(None, "pledge", f"pledge {pledge.pk} is not bound for {_site(site_id).name}")
            )
        if ours and pledge is not None:
            # A pledge is of one item: the receipt's other items are not what the donor pledged.
            problems += [
                Problem(
                    row,
                    "item",
                    f"pledge {pledge.pk} is of {plural(pledge.item.name, 2)}, not of this item: "
                    "post other items on a receipt that names no pledge",
                )
                for row, line in enumerate(lines, start=1)
                if line.item_id in known and line.item_id != pledge.item_id
            ]
        if ours and pledge is not None and pledge.grant_id != grant_id:
            # A grant that does not exist is refused as such (below); another is not the pledge's.
            named = Grant.objects.filter(pk=grant_id).values_list("reference", flat=True).first()
            if named is not None:
                problems.append(
                    Problem(None, "grant", f"pledge {pledge.pk} is of grant {pledge.grant}, not {named}")
                )
        refuse(problems, caller_problems)
        grant = _grant(grant_id)
        target = target or site_location(site_id)
        source = source or donor_location(grant)
        if pledge is not None:
            _pledge_receive(pledge, grant, lines, quantities)
        return post(
            Posting(
                kind=MovementKind.RECEIPT,
                occurred_on=received_on,
                actor=actor,
                reference=grn_number,
                site_id=site_id,
                note=note,
                idempotency_key=idempotency_key,
                lines=[
                    LineRequest(
                        item_id=line.item_id,
                        quantity=quantity,
                        from_location=source,
                        to_location=target,
                        grant_id=grant.pk,
                        lot=line.lot,
                        expiry=line.expiry,
                        row=row,
                    )
                    for row, (line, quantity) in enumerate(zip(lines, quantities, strict=True), start=1)
                ],
                pledge_id=pledge_id,
                audit_extra={"pledge_id": pledge_id},
            )
        )

    try:
        return atomic_posting(idempotency_key, MovementKind.RECEIPT, build)
    except IntegrityError:
        # Another receipt of this GRN committed between the check above and this one's insert.
        if taken := grn_taken(grn_number):
            raise taken from None
        raise


def grn_taken(grn_number: str) -> Conflict | None:
    """The refusal of a GRN already posted, or None while it is free."""
    posted = (
        Movement.objects.filter(kind=MovementKind.RECEIPT, reference=grn_number)
        .values_list("pk", "reversed_by")
        .first()
    )
    if posted is None:
        return None
    receipt_id, reversal_id = posted
    if reversal_id is None:
        return Conflict(f"GRN {grn_number} was already posted (receipt #{receipt_id})")
    # A GRN stays with its receipt, reversed or not, so that the ledger never shows one number twice.
    return Conflict(
        f"GRN {grn_number} was already posted (receipt #{receipt_id}, reversed by #{reversal_id}); "
        f"a GRN stays with its receipt: post the correction under a new number, e.g. {grn_number}/2"
    )


def _pledge_locked(pledge_id: int | None, actor: Any, site_id: int) -> Pledge | None:
    """The pledge a receipt fulfils, locked; refused at once when it is missing, and in the same
    words when it is bound for another site, whose stock the actor may not see, so that naming
    another site's pledge does not tell that it exists.

    Whether it is still open is told only to the site it is bound for (see `stock_receive`).
    """
    if pledge_id is None:
        return None
    pledge = Pledge.objects.select_for_update().select_related("grant", "item").filter(pk=pledge_id).first()
    visible = stock_visible_site_ids(actor) if actor is not None else None
    hidden = visible is not None and pledge is not None and pledge.destination_id not in visible
    if pledge is None or (hidden and pledge.destination_id != site_id):
        raise NotFound(f"no pledge {pledge_id}")
    return pledge


def _pledge_receive(
    pledge: Pledge, grant: Grant, lines: Sequence[ReceiptLine], quantities: list[int]
) -> None:
    """Count what the receipt brings of the pledge's item (its site and grant are checked already)."""
    received = sum(q for line, q in zip(lines, quantities, strict=True) if line.item_id == pledge.item_id)
    pledge.received_quantity += received
    if pledge.received_quantity >= pledge.quantity:
        pledge.status = PledgeStatus.RECEIVED
    pledge.save(update_fields=["received_quantity", "status"])


# --- stock leaving a site ------------------------------------------------------------------------


def _issue(
    *,
    kind: MovementKind,
    actor: Any,
    site_id: int,
    lines: Sequence[StockLine],
    target: tuple[str, int | str],
    make_target: Callable[[], StockLocation],
    occurred_on: dt.date,
    date_field: str,
    reference: str,
    note: str,
    idempotency_key: str | None,
    reason: str = "",
    audit_extra: dict[str, Any] | None = None,
    problems: Sequence[Problem] = (),
    caller_problems: Sequence[Problem] = (),
) -> PostingResult:
    """Post stock leaving a site for a virtual location (beneficiaries, a partner, loss).

    `target` names the location by a unique column; `make_target` makes it on first use. The
    posting's other `problems` and the `caller_problems` are refused together with its lines'.
    """

    def build() -> Movement:
        source, destination = check_items_and_find_locations(
            lines,
            [("site_id", site_id), target],
            problems=[
                *problems,
                *not_after_today(occurred_on, date_field),
                *too_long(None, "reference", reference, REFERENCE_MAX),
            ],
            caller_problems=caller_problems,
        )
        return post(
            Posting(
                kind=kind,
                occurred_on=occurred_on,
                actor=actor,
                reference=reference,
                site_id=site_id,
                note=note,
                idempotency_key=idempotency_key,
                lines=_moves(lines, source or site_location(site_id), destination or make_target(), reason),
                audit_extra=audit_extra or {},
            )
        )

    return atomic_posting(idempotency_key, kind, build)


def stock_distribute(
    *,
    actor: Any,
    site_id: int,
    lines: Sequence[StockLine],
    distributed_on: dt.date,
    reference: str = "",
    note: str = "",
    idempotency_key: str | None = None,
    caller_problems: Sequence[Problem] = (),
) -> PostingResult:
    """Report items a distribution point handed over to people: site -> beneficiaries.

    `caller_problems`: see `refuse`.
    """
    return _issue(
        kind=MovementKind.DISTRIBUTION,
        actor=actor,
        site_id=site_id,
        lines=lines,
        target=("kind", LocationKind.BENEFICIARIES.value),
        make_target=lambda: singleton_location(LocationKind.BENEFICIARIES),
        occurred_on=distributed_on,
        date_field="distributed_on",
        reference=reference,
        note=note,
        idempotency_key=idempotency_key,
        caller_problems=caller_problems,
    )


def stock_handover_to_partner(
    *,
    actor: Any,
    site_id: int,
    organisation_id: int,
    lines: Sequence[StockLine],
    handed_on: dt.date,
    reference: str = "",
    note: str = "",
    idempotency_key: str | None = None,
    caller_problems: Sequence[Problem] = (),
) -> PostingResult:
    """Hand stock to another organisation to distribute: site -> that partner.

    `caller_problems`: see `refuse`.
    """
    organisation = Organisation.objects.filter(pk=organisation_id).first()
    problems = []
    unread = passed_over(organisation_id, caller_problems, None, "organisation", "partner")
    if organisation is None and not unread:
        problems.append(Problem(None, "organisation", f"no organisation {organisation_id}"))
    if organisation is not None and (why := _not_a_partner(organisation)):
        problems.append(Problem(None, "organisation", why))
    return _issue(
        kind=MovementKind.HANDOVER,
        actor=actor,
        site_id=site_id,
        lines=lines,
        target=("organisation_id", organisation_id),
        # Made only for a posting not refused, whose organisation exists.
        make_target=lambda: partner_location(cast(Organisation, organisation)),
        occurred_on=handed_on,
        date_field="handed_on",
        reference=reference,
        note=note,
        idempotency_key=idempotency_key,
        audit_extra={"organisation": str(organisation)},
        problems=problems,
        caller_problems=caller_problems,
    )


def _not_a_partner(organisation: Organisation) -> str:
    """Why stock cannot be handed over to this organisation ("" when it can): the operation's own
    organisation (RELIEFOPS_ORGANISATION) keeps its stock in its own ledger, and the placeholder
    donor of unattributed stock is nobody to hand anything to. Either would count stock as
    distributed that nobody received."""
    own = str(getattr(settings, "OPERATING_ORGANISATION", "") or "").strip().lower()
    if own and own in {organisation.name.strip().lower(), (organisation.acronym or "").strip().lower()}:
        return (
            f"{organisation} is this operation's own organisation: move its stock with a waybill, "
            "or report a distribution"
        )
    placeholder = Grant.objects.filter(reference=UNATTRIBUTED_GRANT, donor=organisation).exists()
    if placeholder or organisation.name == UNATTRIBUTED_DONOR:
        return f"{organisation} stands for stock whose donor is unknown, not a partner: name the partner"
    return ""


def stock_report_loss(
    *,
    actor: Any,
    site_id: int,
    lines: Sequence[StockLine],
    reason: str,
    occurred_on: dt.date,
    note: str = "",
    idempotency_key: str | None = None,
    caller_problems: Sequence[Problem] = (),
) -> PostingResult:
    """Write off stock lost at a site (theft, weather, spoilage, damage): site -> loss/damage.

    A loss needs its reason and a note saying what happened. `caller_problems`: see `refuse`.
    """
    problems = []
    if reason not in LossReason.ALL:
        problems.append(Problem(None, "reason", f"must be one of {', '.join(LossReason.ALL)}"))
    if not note.strip():
        problems.append(Problem(None, "note", "say what happened"))
    return _issue(
        kind=MovementKind.LOSS,
        actor=actor,
        site_id=site_id,
        lines=lines,
        target=("kind", LocationKind.LOSS.value),
        make_target=lambda: singleton_location(LocationKind.LOSS),
        occurred_on=occurred_on,
        date_field="occurred_on",
        reference="",
        note=note,
        idempotency_key=idempotency_key,
        reason=reason,
        problems=problems,
        caller_problems=caller_problems,
    )


# --- counts --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CountLine:
    """What was counted of one item; a surplus goes to `surplus_grant_id` (else 'unattributed')."""

    item_id: int
    counted: int
    surplus_grant_id: int | None = None


def stock_count(
    *,
    actor: Any,
    site_id: int,
    counts: Sequence[CountLine],
    counted_on: dt.date,
    note: str = "",
    idempotency_key: str | None = None,
    caller_problems: Sequence[Problem] = (),
) -> PostingResult:
    """Record a physical count; the differences are posted as count adjustments.

    `caller_problems`: see `refuse`.
    """

    def build() -> Movement:
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
        problems += not_after_today(counted_on, "counted_on")
        refuse([*problems, *own, *_listed_twice(counts, known)], caller_problems)
        location = location or site_location(site_id)
        adjustment = adjustment or singleton_location(LocationKind.COUNT_ADJUSTMENT)
        _lock_site_items(location.pk, [c.item_id for c in counts])
        on_hand = dict(
            Balance.objects.filter(location=location, item_id__in=[c.item_id for c in counts])
            .values("item_id")
            .annotate(total=Sum("quantity"))
            .values_list("item_id", "total")
        )
        lines: list[LineRequest] = []
        differences: dict[int, int] = {}
        for line in counts:
            difference = line.counted - (on_hand.get(line.item_id) or 0)
            differences[line.item_id] = difference
            if difference < 0:
                lines.append(
                    LineRequest(
                        item_id=line.item_id,
                        quantity=-difference,
                        from_location=location,
                        to_location=adjustment,
                        reason="count shortage",
                    )
                )
            elif difference > 0:
                grant_id = line.surplus_grant_id or unattributed_grant().pk
                lines.append(
                    LineRequest(
                        item_id=line.item_id,
                        quantity=difference,
                        from_location=adjustment,
                        to_location=location,
                        grant_id=grant_id,
                        reason="count surplus",
                    )
                )
        return post(
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

    return atomic_posting(idempotency_key, MovementKind.COUNT, build)


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


# --- kitting -------------------------------------------------------------------------------------


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
    problems += not_after_today(day[1], day[0])
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
    """Assemble kits from components at a site; kits carry their components' grant.

    Components drawn from several grants need `grant_id`, the grant the kits are charged to.
    `caller_problems`: see `refuse`.
    """

    def build() -> Movement:
        kit = _kit(kit_item_id, quantity, caller_problems, grant_id, day=("assembled_on", assembled_on))
        location = site_location(site_id)
        assembly = singleton_location(LocationKind.ASSEMBLY)
        components = [
            LineRequest(
                item_id=c.item_id,
                quantity=c.quantity * quantity,
                from_location=location,
                to_location=assembly,
                reason="kitting",
            )
            for c in kit.components.all()
        ]
        if not components:
            raise ServiceError(f"kit {kit} has no components")
        # Find which grants first-in-first-out would take, to know what the kits are charged to.
        _lock_site_items(location.pk, [c.item_id for c in components])
        grants = _fifo_grants(location.pk, components)
        charge = grant_id
        if charge is None:
            if len(grants) > 1:
                references = ", ".join(
                    sorted(Grant.objects.filter(pk__in=grants).values_list("reference", flat=True))
                )
                raise InvalidInput(
                    [
                        Problem(
                            None,
                            "grant",
                            f"the components come from grants {references}: "
                            "name the grant the kits are charged to",
                        )
                    ]
                )
            charge = next(iter(grants)) if grants else None
        if charge is None:
            raise ServiceError(f"{location.name} holds none of the components of {kit}")
        kits = LineRequest(
            item_id=kit_item_id,
            quantity=quantity,
            from_location=assembly,
            to_location=location,
            grant_id=charge,
            reason="kitting",
        )
        return post(
            Posting(
                kind=MovementKind.KITTING,
                doing="assembling",
                occurred_on=assembled_on,
                actor=actor,
                site_id=site_id,
                reference=label(f"assemble {some(quantity, kit.item.name)}"),
                idempotency_key=idempotency_key,
                lines=[*components, kits],
            )
        )

    return atomic_posting(idempotency_key, MovementKind.KITTING, build)


def _lock_site_items(location_id: int, item_ids: Sequence[int]) -> None:
    """Lock a site's balances of these items (id order) before reading them to decide a posting.

    A count's adjustment and a kit's charged grant depend on what the site holds; on PostgreSQL a
    posting landing between the read and the write would make them wrong. (SQLite's BEGIN
    IMMEDIATE already holds the write lock.)
    """
    list(
        Balance.objects.select_for_update()
        .filter(location_id=location_id, item_id__in=item_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _fifo_grants(location_id: int, lines: Sequence[LineRequest]) -> set[int]:
    """The grants a first-in-first-out draw of these lines would take (unlocked preview)."""
    grants: set[int] = set()
    for line in lines:
        remaining = line.quantity
        for grant, held in (
            Balance.objects.filter(location_id=location_id, item_id=line.item_id, quantity__gt=0)
            .order_by("fifo_date", "grant_id")
            .values_list("grant_id", "quantity")
        ):
            if remaining <= 0:
                break
            grants.add(grant)
            remaining -= held
    return grants


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
        _lock_site_items(location.pk, [kit_item_id])
        by_grant: dict[int, int] = defaultdict(int)
        if grant_id is not None:
            by_grant[grant_id] = quantity
        else:
            remaining = quantity
            for grant, held in (
                Balance.objects.filter(location=location, item_id=kit_item_id, quantity__gt=0)
                .order_by("fifo_date", "grant_id")
                .values_list("grant_id", "quantity")
            ):
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
