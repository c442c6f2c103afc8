"""Stock operations at a site: receipts, distributions, hand-overs and losses, and what every posting
service shares (reading a request's lines). Pledges, counts and kitting have modules of their own.

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
from django.utils import timezone

from reliefops.catalog.models import Item, PackSize
from reliefops.core.errors import Conflict, NotFound, Problem
from reliefops.core.text import day_text
from reliefops.partners.models import Grant, Organisation
from reliefops.places.models import Site
from reliefops.stock import models
from reliefops.stock.models import (
    LOT_MAX,
    QUANTITY_MAX,
    REFERENCE_MAX,
    Balance,
    LocationKind,
    Movement,
    MovementKind,
    PledgeStatus,
    StockLocation,
)
from reliefops.stock.services.ledger import (
    UNRESOLVED,
    LineRequest,
    Posting,
    PostingResult,
    RequestLines,
    atomic_posting,
    hot_cursor,
    passed_over,
    plural,
    post,
    posting_day,
    refuse,
    replay_or_run,
    reported,
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
)
from reliefops.stock.services.pledges import pledge_locked, pledge_receive


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


def too_long(row: int | None, field: str, text: str, limit: int) -> list[Problem]:
    """A problem when a text is longer than its column holds."""
    if len(text) > limit:
        return [Problem(row, field, f"longer than {limit} characters; shorten it")]
    return []


def keyless_number(field: str, text: str, what: str) -> list[Problem]:
    """A problem when a document's number (a GRN, a waybill's) holds no letter or digit, so that
    it has no key to be compared by (`models.document_number_key`)."""
    if text and not models.document_number_key(text):
        return [Problem(None, field, f"'{text}' has no letter or digit; {what} needs some")]
    return []


def label(text: str, limit: int = REFERENCE_MAX) -> str:
    """A reference the ledger writes itself, cut to its column with an ellipsis when too long."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def check_items(lines: Sequence[Any]) -> None:
    """Refuse unknown items, unknown grants and bad quantities, naming each line."""
    check_items_and_find_locations(lines, [])


def _line_grant(line: Any) -> tuple[str, int | None]:
    """The field and id of the grant a line names: a count line's surplus grant, another's grant."""
    if hasattr(line, "surplus_grant_id"):
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


# --- receipts ------------------------------------------------------------------------------------


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

    A GRN is one number whatever its case, spaces and punctuation (`grn_key`: GRN/ISB/9010 is the
    paper GRN GRN-ISB-9010); it is kept as typed, without the spaces around it. A GRN already
    posted, or a pledge of this site no longer open, is refused (409) before anything else is
    checked; every other problem is refused at once, among them a GRN of no letter or digit and a
    day before the grant began. Of a pledge bound for another site nothing is told but that.
    `caller_problems`: see `refuse`.
    """
    # The site is known unless the entry point reported it could not find it.
    site_known = not passed_over(site_id, caller_problems, None, "site")
    grn = models.grn_number(grn_number)

    def build() -> PostingResult:
        if taken := grn_taken(grn):
            raise taken
        pledge = pledge_locked(pledge_id, actor, site_id)
        # Only the site a pledge is bound for learns more of it than that it is not bound for another.
        ours = pledge is not None and site_known and pledge.destination_id == site_id
        if ours and pledge is not None and pledge.status != PledgeStatus.OPEN:
            raise Conflict(f"pledge {pledge.pk} is {pledge.get_status_display().lower()}")
        problems = posting_day(received_on, "received_on")
        grant = Grant.objects.filter(pk=grant_id).first()
        if grant is not None and grant.start is not None and received_on < grant.start and not problems:
            problems.append(
                Problem(
                    None,
                    "received_on",
                    f"{day_text(received_on)} is before grant {grant.reference} began "
                    f"({day_text(grant.start)}): check the day, or the grant the goods belong to",
                )
            )
        if not grn:
            problems.append(Problem(None, "grn_number", "a goods received note number is required"))
        problems += keyless_number("grn_number", grn, "a goods received note number")
        problems += too_long(None, "grn_number", grn, REFERENCE_MAX)
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
        if ours and pledge is not None and pledge.grant_id != grant_id and grant is not None:
            # A grant that does not exist is refused as such (below); another is not the pledge's.
            problems.append(
                Problem(
                    None, "grant", f"pledge {pledge.pk} is of grant {pledge.grant}, not {grant.reference}"
                )
            )
        refuse(problems, caller_problems)
        if grant is None:
            raise NotFound(f"no grant {grant_id}")
        target = target or site_location(site_id)
        source = source or donor_location(grant)
        notes: tuple[str, ...] = ()
        if pledge is not None:
            received = sum(
                q for line, q in zip(lines, quantities, strict=True) if line.item_id == pledge.item_id
            )
            notes = pledge_receive(pledge, received)
        movement = post(
            Posting(
                kind=MovementKind.RECEIPT,
                occurred_on=received_on,
                actor=actor,
                reference=grn,
                grn_key=models.grn_key(grn),
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
        return PostingResult(movement, notes=notes)

    def run() -> PostingResult:
        with transaction.atomic():
            return build()

    try:
        return replay_or_run(
            idempotency_key,
            MovementKind.RECEIPT,
            run,
            lambda movement: PostingResult(movement, replayed=True),
            RequestLines(site_id, lines),
        )
    except IntegrityError:
        # Another receipt of this GRN committed between the check above and this one's insert.
        if taken := grn_taken(grn):
            raise taken from None
        raise


def grn_taken(grn_number: str) -> Conflict | None:
    """The refusal of a GRN a receipt already has, whatever the case of its letters, its spaces and
    its punctuation (`grn_key`), or None while it is free."""
    key = models.grn_key(grn_number)
    if not key:
        return None
    posted = (
        Movement.objects.filter(grn_key=key)
        .values_list("pk", "reference", "posted_at", "reversed_by")
        .first()
    )
    if posted is None:
        return None
    receipt_id, reference, posted_at, reversal_id = posted
    said = f"GRN {reference} was posted as receipt #{receipt_id} on {day_text(timezone.localdate(posted_at))}"
    if grn_number != reference:
        said += f" ({grn_number} is its number written another way)"
    if reversal_id is None:
        return Conflict(said)
    # A GRN stays with its receipt, reversed or not, so that the ledger never shows one number twice.
    return Conflict(
        f"{said}, reversed by #{reversal_id}; a GRN stays with its receipt: "
        f"post the correction under a new number, e.g. {reference}/2"
    )


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
                *posting_day(occurred_on, date_field),
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

    return atomic_posting(idempotency_key, kind, build, RequestLines(site_id, lines))


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


@dataclass(frozen=True)
class HeldBalance:
    """What a site holds of one item of one grant: how many, and since when (first in, first out)."""

    item_id: int
    grant_id: int
    quantity: int
    fifo_date: dt.date


def lock_site_balances(location_id: int, item_ids: Sequence[int]) -> list[HeldBalance]:
    """Lock a site's balances of these items (id order) and read them, to decide a posting by them.

    A count's adjustment and the grants of kits depend on what the site holds; on PostgreSQL a
    posting landing between the read and the write would make them wrong. (SQLite's BEGIN
    IMMEDIATE already holds the write lock.)
    """
    return [
        HeldBalance(item_id, grant_id, int(quantity), fifo_date)
        for item_id, grant_id, quantity, fifo_date in Balance.objects.select_for_update()
        .filter(location_id=location_id, item_id__in=item_ids)
        .order_by("pk")
        .values_list("item_id", "grant_id", "quantity", "fifo_date")
    ]
