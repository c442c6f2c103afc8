"""Reads of the stock ledger: stock on hand, stock cards, pipeline, donor reports, verification."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from reliefops.catalog.models import Item, PackSize
from reliefops.core.errors import NotFound
from reliefops.stock.held import held_since
from reliefops.stock.models import (
    Balance,
    LocationKind,
    Movement,
    MovementKind,
    MovementLine,
    Pledge,
    PledgeStatus,
    StockLocation,
    Waybill,
    WaybillStatus,
    waybill_key,
)

# The published figures' keys for the seven items IOM reported (published-figures.json).
PUBLISHED_ITEMS: dict[str, str] = {
    "TENT": "tents",
    "SHELTER-KIT": "shelter_kits",
    "WINTER-KIT": "winterization_kits",
    "BLANKET": "blankets",
    "QUILT": "quilts",
    "CGI-SHEET": "cgi_sheets",
    "TARPAULIN": "tarpaulins",
}


@dataclass(frozen=True)
class OnHand:
    site_id: int
    site_name: str
    item_id: int
    item_code: str
    item_name: str
    grant_id: int | None
    grant_reference: str | None
    quantity: int


def stock_on_hand(
    *, site_ids: set[int] | None = None, item_ids: set[int] | None = None, by_grant: bool = False
) -> list[OnHand]:
    """What every physical location holds, by site and item (and grant), from the balance table."""
    rows: QuerySet[Balance] = Balance.objects.filter(is_physical=True).exclude(quantity=0)
    if site_ids is not None:
        rows = rows.filter(location__site_id__in=site_ids)
    if item_ids is not None:
        rows = rows.filter(item_id__in=item_ids)
    keys = ["location__site_id", "location__site__name", "item_id", "item__code", "item__name"]
    if by_grant:
        keys += ["grant_id", "grant__reference"]
    result = []
    for row in (
        rows.values(*keys)
        .annotate(total=Sum("quantity"))
        .order_by("location__site__name", "item__code", *keys[5:])
    ):
        result.append(
            OnHand(
                site_id=row["location__site_id"],
                site_name=row["location__site__name"],
                item_id=row["item_id"],
                item_code=row["item__code"],
                item_name=row["item__name"],
                grant_id=row.get("grant_id"),
                grant_reference=row.get("grant__reference"),
                quantity=row["total"],
            )
        )
    return result


@dataclass(frozen=True)
class StockCardLine:
    movement_id: int
    kind: str
    reference: str
    occurred_on: dt.date
    quantity_in: int
    quantity_out: int
    balance: int
    counterpart: str


@dataclass(frozen=True)
class StockCard:
    site_id: int
    item_id: int
    start: dt.date
    end: dt.date
    opening: int
    total_in: int
    total_out: int
    closing: int
    lines: list[StockCardLine]


def stock_card(*, site_id: int, item_id: int, start: dt.date, end: dt.date) -> StockCard:
    """Opening, in, out and closing of one item at one site for a period (dates inclusive)."""
    location = StockLocation.objects.filter(site_id=site_id).first()
    if location is None:
        return StockCard(site_id, item_id, start, end, 0, 0, 0, 0, [])
    touching = MovementLine.objects.filter(item_id=item_id).filter(
        Q(from_location=location) | Q(to_location=location)
    )
    before = touching.filter(movement__occurred_on__lt=start)
    opening = (before.filter(to_location=location).aggregate(s=Sum("quantity"))["s"] or 0) - (
        before.filter(from_location=location).aggregate(s=Sum("quantity"))["s"] or 0
    )
    period = (
        touching.filter(movement__occurred_on__gte=start, movement__occurred_on__lte=end)
        .select_related("movement", "from_location", "to_location")
        .order_by("movement__occurred_on", "movement_id", "id")
    )
    balance = opening
    lines: list[StockCardLine] = []
    total_in = total_out = 0
    for line in period:
        incoming = line.to_location_id == location.pk
        balance += line.quantity if incoming else -line.quantity
        if incoming:
            total_in += line.quantity
        else:
            total_out += line.quantity
        lines.append(
            StockCardLine(
                movement_id=line.movement_id,
                kind=line.movement.kind,
                reference=line.movement.reference,
                occurred_on=line.movement.occurred_on,
                quantity_in=line.quantity if incoming else 0,
                quantity_out=0 if incoming else line.quantity,
                balance=balance,
                counterpart=(line.from_location if incoming else line.to_location).name,
            )
        )
    return StockCard(site_id, item_id, start, end, opening, total_in, total_out, balance, lines)


@dataclass(frozen=True)
class Pipeline:
    pledges: list[Pledge]
    in_transit: list[Waybill]
    overdue: list[tuple[Waybill, int]]  # (waybill, days overdue)


def pipeline(*, today: dt.date, site_ids: set[int] | None = None) -> Pipeline:
    """Pledged stock not yet received, waybills in transit, and those overdue with days overdue."""
    pledges = Pledge.objects.filter(status=PledgeStatus.OPEN).select_related("grant", "item", "destination")
    waybills = Waybill.objects.filter(status=WaybillStatus.IN_TRANSIT).select_related("from_site", "to_site")
    if site_ids is not None:
        pledges = pledges.filter(destination_id__in=site_ids)
        waybills = waybills.filter(Q(from_site_id__in=site_ids) | Q(to_site_id__in=site_ids))
    in_transit = list(waybills.order_by("expected_on", "id"))
    overdue = [(w, (today - w.expected_on).days) for w in in_transit if w.expected_on < today]
    return Pipeline(list(pledges), in_transit, overdue)


def pledges_received(*, site_ids: set[int] | None = None) -> QuerySet[Pledge]:
    """The pledges received in full or beyond what was pledged (each with `more_than_pledged`), the
    latest expected first: what left the pipeline by arriving, which a donor is told of."""
    pledges = Pledge.objects.filter(status=PledgeStatus.RECEIVED).select_related(
        "grant", "item", "destination"
    )
    if site_ids is not None:
        pledges = pledges.filter(destination_id__in=site_ids)
    return pledges.order_by("-expected_on", "-id")


def pledges_received_counts(pledges: QuerySet[Pledge]) -> tuple[int, int]:
    """How many of these pledges there are, and how many of them brought more than was pledged."""
    counts = pledges.order_by().aggregate(
        received=Count("pk"), over=Count("pk", filter=Q(received_quantity__gt=F("quantity")))
    )
    return int(counts["received"]), int(counts["over"])


def pledge_visible(*, pledge_id: int, site_ids: set[int] | None) -> Pledge:
    """A pledge bound for one of the given sites (None: any), with its grant, item and destination;
    NotFound in the same words when it is missing or bound for a site whose stock is not seen."""
    pledge = Pledge.objects.select_related("grant", "item", "destination").filter(pk=pledge_id).first()
    if pledge is None or (site_ids is not None and pledge.destination_id not in site_ids):
        raise NotFound(f"no pledge {pledge_id}")
    return pledge


def waybill_id_by_number(number: str) -> int | None:
    """The id of the waybill of this number, whatever its case, spaces and punctuation (see
    `waybill_key`), or of one kept without a key that has it as typed; None when no waybill has it."""
    found = Waybill.objects.filter(number_key=waybill_key(number)).values_list("pk", flat=True).first()
    if found is None:
        found = (
            Waybill.objects.filter(number_key__isnull=True, number=number)
            .values_list("pk", flat=True)
            .first()
        )
    return found


def in_transit_on(*, day: dt.date, site_ids: set[int] | None = None) -> list[Waybill]:
    """The waybills on the road at the end of a past day: dispatched by then, and neither delivered
    nor cancelled (their dispatch reversed) by then; the earliest expected first. For today,
    `pipeline` reads the same from the waybills' status."""
    cancelled_on = Movement.objects.filter(
        reverses__waybill=OuterRef("pk"), reverses__kind=MovementKind.DISPATCH
    ).values("occurred_on")[:1]
    waybills = (
        Waybill.objects.filter(dispatched_on__lte=day)
        .filter(Q(delivered_on__isnull=True) | Q(delivered_on__gt=day))
        .annotate(cancelled_on=Subquery(cancelled_on))
        .filter(~Q(status=WaybillStatus.CANCELLED) | Q(cancelled_on__gt=day))
        .select_related("from_site", "to_site")
    )
    if site_ids is not None:
        waybills = waybills.filter(Q(from_site_id__in=site_ids) | Q(to_site_id__in=site_ids))
    return list(waybills.order_by("expected_on", "id"))


@dataclass
class DonorReportRow:
    item_code: str
    item_name: str
    received: int = 0
    distributed: int = 0
    handed_to_partners: int = 0
    lost: int = 0
    in_transit: int = 0
    on_hand: int = 0
    other: int = 0  # count adjustments and stock inside kits being assembled


@dataclass
class DonorReport:
    grant_id: int
    rows: list[DonorReportRow] = field(default_factory=list)
    # When the balances were read. On hand and in transit are as of then; the other figures add up
    # every posting until then, whatever the grant's period (a receipt after it ended counts).
    as_of: dt.datetime = field(default_factory=lambda: timezone.now())

    @property
    def when(self) -> str:
        """When the figures apply, in one sentence for the page, its downloads and the command line."""
        local = timezone.localtime(self.as_of)
        day = f"{local.day} {local:%b %Y}"
        return (
            f"Received, distributed, handed to partners, lost and other count every posting up to today "
            f"({day}), whatever the grant's period; on hand and in transit are as of {day} {local:%H:%M}."
        )


_REPORT_COLUMNS = {
    LocationKind.DONOR: "received",
    LocationKind.BENEFICIARIES: "distributed",
    LocationKind.PARTNER: "handed_to_partners",
    LocationKind.LOSS: "lost",
    LocationKind.IN_TRANSIT: "in_transit",
    LocationKind.WAREHOUSE: "on_hand",
    LocationKind.HUB: "on_hand",
    LocationKind.DISTRIBUTION_POINT: "on_hand",
    LocationKind.COUNT_ADJUSTMENT: "other",
    LocationKind.ASSEMBLY: "other",
}
_REPORT_FIGURES = ("received", "distributed", "handed_to_partners", "lost", "in_transit", "on_hand", "other")


def donor_report(*, grant_id: int) -> DonorReport:
    """Per item of a grant: received, distributed, handed to partners, lost, in transit, on hand.

    Read from balances, so as of now (`as_of`); since the ledger sums to zero, received + other =
    the rest added up, where "other" is what counts and kitting changed: a count's surplus credited
    to the grant (or an excess accepted on a delivery, which enters as UNATTRIBUTED stock) and kits
    made add to it, shortages found and components put into kits take from it. An item whose every
    figure is 0 (a count's surplus of it, since reversed) has no row: it tells nothing of the grant.
    """
    as_of = timezone.now()
    report: dict[str, DonorReportRow] = {}
    rows = (
        Balance.objects.filter(grant_id=grant_id)
        .values("item__code", "item__name", "location__kind")
        .annotate(total=Sum("quantity"))
        .order_by("item__code")
    )
    for row in rows:
        entry = report.setdefault(row["item__code"], DonorReportRow(row["item__code"], row["item__name"]))
        column = _REPORT_COLUMNS[LocationKind(row["location__kind"])]
        value = -row["total"] if column in {"received", "other"} else row["total"]
        setattr(entry, column, getattr(entry, column) + value)
    shown = [row for row in report.values() if any(getattr(row, c) for c in _REPORT_FIGURES)]
    return DonorReport(grant_id, shown, as_of)


def distributed_totals(site_ids: set[int] | None = None) -> dict[str, int]:
    """Items handed over to households and to partners, net of reversals, by published key.

    With `site_ids`, only what those sites handed over (the figures of a user limited to their own
    sites, as the dashboard gives them); without, the whole operation's, from the balances.
    """
    from reliefops.catalog.models import Item

    totals = dict.fromkeys(PUBLISHED_ITEMS.values(), 0)
    if site_ids is not None:
        codes = dict(Item.objects.filter(code__in=PUBLISHED_ITEMS).values_list("pk", "code"))
        for handed in handed_over(site_ids=site_ids):
            if handed.item_id in codes:
                totals[PUBLISHED_ITEMS[codes[handed.item_id]]] += handed.total
        return totals
    rows = (
        Balance.objects.filter(
            location__kind__in=[LocationKind.BENEFICIARIES, LocationKind.PARTNER],
            item__code__in=PUBLISHED_ITEMS,
        )
        .values("item__code")
        .annotate(total=Sum("quantity"))
    )
    for row in rows:
        totals[PUBLISHED_ITEMS[row["item__code"]]] += row["total"]
    return totals


@dataclass(frozen=True)
class Drift:
    location_id: int
    item_id: int
    grant_id: int
    kept: int
    recomputed: int


@dataclass(frozen=True)
class VerifyResult:
    lines: int
    balances: int
    drifts: list[Drift]
    unbalanced: list[tuple[int, int, int]]  # (item, grant, sum over locations) that is not zero
    negative_physical: list[tuple[int, int, int, int]]

    @property
    def ok(self) -> bool:
        return not self.drifts and not self.unbalanced and not self.negative_physical


def verify_side_sql(column: str) -> str:
    """The lines summed by (location on one side, item, grant): one of verify's two aggregations.

    Grouped in the order of that side's index (item, location, grant, quantity), so SQLite walks the
    index and sums as it goes instead of sorting the whole ledger (it has no hash aggregate);
    PostgreSQL hashes a parallel scan of the table.
    """
    if column not in ("to_location_id", "from_location_id"):
        raise ValueError(f"lines have no side {column!r}")
    return (
        f"SELECT {column}, item_id, grant_id, SUM(quantity), COUNT(*) FROM stock_movementline "  # noqa: S608
        f"GROUP BY item_id, {column}, grant_id"
    )


def ledger_verify() -> VerifyResult:
    """Recompute every balance from the ledger lines and compare with the balance table."""
    recomputed: dict[tuple[int, int, int], int] = defaultdict(int)
    line_count = 0
    with connection.cursor() as cursor:
        for column, sign in (("to_location_id", 1), ("from_location_id", -1)):
            cursor.execute(verify_side_sql(column))
            for location_id, item_id, grant_id, total, count in cursor.fetchall():
                recomputed[(location_id, item_id, grant_id)] += sign * int(total)
                if sign == 1:
                    line_count += int(count)
        cursor.execute("SELECT location_id, item_id, grant_id, quantity, is_physical FROM stock_balance")
        kept_rows = cursor.fetchall()
    kept = {(loc, item, grant): int(q) for loc, item, grant, q, _ in kept_rows}
    drifts = [
        Drift(key[0], key[1], key[2], kept.get(key, 0), recomputed.get(key, 0))
        for key in sorted(set(kept) | set(recomputed))
        if kept.get(key, 0) != recomputed.get(key, 0)
    ]
    sums: dict[tuple[int, int], int] = defaultdict(int)
    for (_, item, grant), quantity in kept.items():
        sums[(item, grant)] += quantity
    unbalanced = [(item, grant, total) for (item, grant), total in sorted(sums.items()) if total != 0]
    negative = [
        (loc, item, grant, int(q)) for loc, item, grant, q, physical in kept_rows if physical and q < 0
    ]
    return VerifyResult(line_count, len(kept_rows), drifts, unbalanced, negative)


# --- documents and lists for the pages, the API and the CLI ---------------------------------------


@dataclass(frozen=True)
class DocumentLine:
    """One line of a waybill, goods received note or movement: what moved, of which grant, how much."""

    item_id: int
    item_code: str
    item_name: str
    base_unit: str
    grant_reference: str
    quantity: int
    packs: str  # "12 bales", "12 bales + 3", or "" when the item has no pack size
    weight_kg: float | None  # quantity x the item's unit weight, when the item has one
    from_name: str = ""
    from_kind: str = ""
    to_name: str = ""
    to_kind: str = ""
    reason: str = ""
    lot: str = ""
    expiry: dt.date | None = None


def _packs(quantity: int, pack_sizes: list[tuple[str, int]]) -> str:
    """The quantity in the item's largest pack: `12 bales + 3` (3 loose); "" when not one full pack."""
    if not pack_sizes:
        return ""
    name, size = max(pack_sizes, key=lambda p: p[1])
    packs, loose = divmod(quantity, size)
    if packs == 0:
        return ""
    text = f"{packs} {name if packs == 1 else name + 's'}"
    return f"{text} + {loose}" if loose else text


def _document_lines(lines: QuerySet[MovementLine], *, merge: bool) -> list[DocumentLine]:
    rows = list(
        lines.select_related("item", "grant", "from_location", "to_location").order_by("item__code", "id")
    )
    packs: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for item_id, name, size in PackSize.objects.filter(item_id__in={r.item_id for r in rows}).values_list(
        "item_id", "name", "quantity"
    ):
        packs[item_id].append((name, size))
    merged: dict[tuple[int, ...], MovementLine] = {}
    quantities: dict[tuple[int, ...], int] = defaultdict(int)
    for row in rows:
        key: tuple[int, ...] = (row.item_id, row.grant_id) if merge else (row.pk,)
        merged.setdefault(key, row)
        quantities[key] += row.quantity
    out = []
    for key, row in merged.items():
        quantity = quantities[key]
        weight = row.item.weight_kg
        out.append(
            DocumentLine(
                item_id=row.item_id,
                item_code=row.item.code,
                item_name=row.item.name,
                base_unit=row.item.base_unit,
                grant_reference=row.grant.reference,
                quantity=quantity,
                packs=_packs(quantity, packs[row.item_id]),
                weight_kg=float(weight * quantity) if weight is not None else None,
                from_name=row.from_location.name,
                from_kind=row.from_location.kind,
                to_name=row.to_location.name,
                to_kind=row.to_location.kind,
                reason=row.reason,
                lot=row.lot,
                expiry=row.expiry,
            )
        )
    return out


def movement_lines(*, movement_id: int) -> list[DocumentLine]:
    """The lines of one movement, as posted, with packs and weights."""
    return _document_lines(MovementLine.objects.filter(movement_id=movement_id), merge=False)


def waybill_lines(*, waybill_id: int) -> list[DocumentLine]:
    """What a waybill carries: its dispatch's lines by item and grant, with packs and weights."""
    dispatched = MovementLine.objects.filter(
        movement__waybill_id=waybill_id, movement__kind=MovementKind.DISPATCH
    )
    return _document_lines(dispatched, merge=True)


def waybill_list(
    *,
    site_ids: set[int] | None = None,
    site_id: int | None = None,
    to_site_ids: set[int] | None = None,
    number: str = "",
    status: str = "",
    overdue_on: dt.date | None = None,
    item_id: int | None = None,
) -> QuerySet[Waybill]:
    """Waybills touching the given sites (None: all), newest first.

    `to_site_ids` keeps those going to these sites; `number` those whose number contains it;
    `overdue_on` those still in transit whose expected date is before that day; `item_id` those
    that carry that item, each with `item_quantity`, how much of it alone they carry. Each carries
    `n_items` (how many different items) and `total_quantity` (its dispatch's quantities, every item
    together: kept for the API's field of that name, and shown by no page or download, as 500
    blankets and 200 quilts are not 700 of anything; `waybill_items` gives what a waybill carries
    item by item).
    """
    waybills = Waybill.objects.select_related("from_site", "to_site")
    if site_ids is not None:
        waybills = waybills.filter(Q(from_site_id__in=site_ids) | Q(to_site_id__in=site_ids))
    if site_id is not None:
        waybills = waybills.filter(Q(from_site_id=site_id) | Q(to_site_id=site_id))
    if to_site_ids is not None:
        waybills = waybills.filter(to_site_id__in=to_site_ids)
    if number and (key := waybill_key(number)):
        # Compared as numbers are (`waybill_key`): "blk 2005" finds BLK/2005/0412, and a number an
        # earlier version kept with spaces; one kept without a key (see Waybill.number_key) as typed.
        waybills = waybills.filter(
            Q(number_key__contains=key) | Q(number_key__isnull=True, number__icontains=number.strip())
        )
    elif number:
        # No letter or digit ("/"): the numbers that hold it as typed.
        waybills = waybills.filter(number__icontains=number.strip())
    if status:
        waybills = waybills.filter(status=status)
    if overdue_on is not None:
        waybills = waybills.filter(status=WaybillStatus.IN_TRANSIT, expected_on__lt=overdue_on)
    dispatch = Q(movements__kind=MovementKind.DISPATCH)
    if item_id is not None:
        # Exists, not a filter on the lines' join: the counts below still cover every item
        carries = MovementLine.objects.filter(
            movement__waybill_id=OuterRef("pk"), movement__kind=MovementKind.DISPATCH, item_id=item_id
        )
        of_item = dispatch & Q(movements__lines__item_id=item_id)
        waybills = waybills.filter(Exists(carries)).annotate(
            item_quantity=Sum("movements__lines__quantity", filter=of_item)
        )
    return waybills.annotate(
        n_items=Count("movements__lines__item", filter=dispatch, distinct=True),
        total_quantity=Sum("movements__lines__quantity", filter=dispatch),
    ).order_by("-dispatched_on", "-id")


@dataclass(frozen=True)
class Carried:
    """One item a waybill carries: its dispatch's lines of that item, every grant together."""

    item_id: int
    item_code: str
    item_name: str
    quantity: int


def waybill_items(*, waybill_ids: Iterable[int], item_id: int | None = None) -> dict[int, list[Carried]]:
    """What each waybill carries, item by item (by item code), in one grouped query: each item its
    own quantity, never added to another's. With `item_id`, that item alone."""
    lines = MovementLine.objects.filter(
        movement__waybill_id__in=list(waybill_ids), movement__kind=MovementKind.DISPATCH
    )
    if item_id is not None:
        lines = lines.filter(item_id=item_id)
    carried: dict[int, list[Carried]] = defaultdict(list)
    for waybill_id, line_item_id, code, name, quantity in (
        lines.values_list("movement__waybill_id", "item_id", "item__code", "item__name")
        .annotate(quantity=Sum("quantity"))
        .order_by("movement__waybill_id", "item__code")
    ):
        carried[waybill_id].append(Carried(line_item_id, code, name, int(quantity)))
    return carried


def carrying(waybills: Iterable[Waybill]) -> list[Waybill]:
    """The waybills, each with `carried`: what it carries, item by item (one query for them all)."""
    rows = list(waybills)
    found = waybill_items(waybill_ids=[waybill.pk for waybill in rows])
    for waybill in rows:
        cast(Any, waybill).carried = found.get(waybill.pk, [])
    return rows


class WaybillPages:
    """A waybill list to page through (a Paginator's object list): the waybills of a page come
    with what each carries (`carried`, see `carrying`), in one more query a page."""

    def __init__(self, waybills: QuerySet[Waybill]) -> None:
        self.waybills = waybills

    def count(self) -> int:
        return self.waybills.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[Waybill]:
        return carrying(self.waybills[index])


@dataclass(frozen=True)
class WaybillItem:
    """One item on one waybill: a row of the waybills' download."""

    waybill: Waybill
    item_code: str
    item_name: str
    quantity: int


def waybill_item_rows(
    waybills: QuerySet[Waybill], *, item_id: int | None = None, chunk_size: int = 500
) -> Iterator[WaybillItem]:
    """One row per waybill and item it carries (with `item_id`, that item alone), in the list's
    order and by item code: the waybills are read in chunks, each chunk's items in one query."""
    chunk: list[Waybill] = []
    for waybill in waybills.iterator(chunk_size=chunk_size):
        chunk.append(waybill)
        if len(chunk) >= chunk_size:
            yield from _item_rows(chunk, item_id)
            chunk = []
    yield from _item_rows(chunk, item_id)


def _item_rows(waybills: list[Waybill], item_id: int | None) -> Iterator[WaybillItem]:
    if not waybills:
        return
    found = waybill_items(waybill_ids=[waybill.pk for waybill in waybills], item_id=item_id)
    for waybill in waybills:
        for item in found.get(waybill.pk, []):
            yield WaybillItem(waybill, item.item_code, item.item_name, item.quantity)


def standing_delivery(waybill_id: int) -> Movement | None:
    """The delivery of a waybill that stands: its last one not reversed (one reversed, then
    confirmed again, is not what became of it)."""
    return (
        movement_list(waybill_id=waybill_id, kind=MovementKind.DELIVERY)
        .filter(reversed_by__isnull=True)
        .order_by("-id")
        .first()
    )


def movement_list(
    *,
    site_ids: set[int] | None = None,
    site_id: int | None = None,
    kind: str = "",
    reference: str = "",
    waybill_id: int | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    item_id: int | None = None,
) -> QuerySet[Movement]:
    """Posted movements at the given sites (None: all) or on their waybills, newest first.

    Each carries `n_lines` and `total_quantity` (its lines' quantities, every item together); with
    `item_id`, only the movements with a line of that item, each with `item_code`, `item_quantity`,
    the quantity of that item alone (what a list may show without adding different items together),
    and `item_change`, what it changed of that item at its site: more than zero in, less than zero
    out (a count's shortage and its reversal are -858 and +858, not 858 twice)."""
    movements = Movement.objects.select_related("site", "waybill", "posted_by", "reverses", "reversed_by")
    if site_ids is not None:
        movements = movements.filter(
            Q(site_id__in=site_ids)
            | Q(waybill__from_site_id__in=site_ids)
            | Q(waybill__to_site_id__in=site_ids)
        )
    if site_id is not None:
        movements = movements.filter(site_id=site_id)
    if kind:
        movements = movements.filter(kind=kind)
    if reference:
        found = Q(reference__icontains=reference)
        # "#2120" or "2120": the movement's own number, which a distributor is told to keep, too.
        number = re.fullmatch(r"\s*#?\s*(\d{1,18})\s*", reference)
        if number:
            found |= Q(pk=int(number[1]))
        movements = movements.filter(found)
    if waybill_id is not None:
        movements = movements.filter(waybill_id=waybill_id)
    if start is not None:
        movements = movements.filter(occurred_on__gte=start)
    if end is not None:
        movements = movements.filter(occurred_on__lte=end)
    if item_id is not None:
        # Exists, not a filter on the lines' join: the counts below still cover every line
        has_item = MovementLine.objects.filter(movement_id=OuterRef("pk"), item_id=item_id)
        movements = movements.filter(Exists(has_item)).annotate(
            item_code=Subquery(Item.objects.filter(pk=item_id).values("code")[:1]),
            item_quantity=Sum("lines__quantity", filter=Q(lines__item_id=item_id)),
            item_change=Coalesce(_item_at_site(item_id, "to_location"), 0)
            - Coalesce(_item_at_site(item_id, "from_location"), 0),
        )
    return movements.annotate(n_lines=Count("lines"), total_quantity=Sum("lines__quantity")).order_by(
        "-occurred_on", "-id"
    )


def _item_at_site(item_id: int, side: str) -> Subquery:
    """How much of the item a movement's lines moved into (`to_location`) or out of (`from_location`)
    the stock of the movement's own site."""
    lines = MovementLine.objects.filter(
        movement_id=OuterRef("pk"), item_id=item_id, **{f"{side}__site_id": OuterRef("site_id")}
    )
    return Subquery(
        lines.order_by().values("movement_id").annotate(total=Sum("quantity")).values("total")[:1]
    )


@dataclass(frozen=True)
class LedgerNames:
    """Names of the locations, items (codes) and grants (references) a report mentions by id."""

    locations: dict[int, str]
    items: dict[int, str]
    grants: dict[int, str]

    def location(self, pk: int) -> str:
        return self.locations.get(pk, f"location {pk}")

    def item(self, pk: int) -> str:
        return self.items.get(pk, f"item {pk}")

    def grant(self, pk: int) -> str:
        return self.grants.get(pk, f"grant {pk}")


def ledger_names(*, location_ids: set[int], item_ids: set[int], grant_ids: set[int]) -> LedgerNames:
    from reliefops.catalog.models import Item
    from reliefops.partners.models import Grant

    return LedgerNames(
        locations=dict(StockLocation.objects.filter(pk__in=location_ids).values_list("pk", "name")),
        items=dict(Item.objects.filter(pk__in=item_ids).values_list("pk", "code")),
        grants=dict(Grant.objects.filter(pk__in=grant_ids).values_list("pk", "reference")),
    )


# --- distributions by place and by week (the dashboard, the sitrep and the donor report) ----------

HANDED_OVER_KINDS = (LocationKind.BENEFICIARIES, LocationKind.PARTNER)


@dataclass(frozen=True)
class HandedOver:
    """What one site handed over of one item on one day: to households directly, and to partners
    (net of reversals posted that day)."""

    day: dt.date
    site_id: int
    item_id: int
    to_households: int
    to_partners: int

    @property
    def total(self) -> int:
        return self.to_households + self.to_partners


def handed_over(
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    site_ids: set[int] | None = None,
    grant_id: int | None = None,
) -> list[HandedOver]:
    """Items handed over to households and to partners, net of reversals, per day, site and item.

    One aggregation over the ledger lines into beneficiaries or partners and out of them (a
    reversal), grouped by the movement's day and the raw location and item columns: a million lines
    fold into a few thousand groups without joining the locations, which are named afterwards.
    Without a period the totals are those of `distributed_totals`.
    """
    virtual = dict(StockLocation.objects.filter(kind__in=HANDED_OVER_KINDS).values_list("pk", "kind"))
    if not virtual:
        return []
    lines = MovementLine.objects.filter(
        Q(to_location_id__in=list(virtual)) | Q(from_location_id__in=list(virtual))
    )
    if site_ids is not None:
        physical = list(StockLocation.objects.filter(site_id__in=site_ids).values_list("pk", flat=True))
        lines = lines.filter(Q(from_location_id__in=physical) | Q(to_location_id__in=physical))
    if start is not None:
        lines = lines.filter(movement__occurred_on__gte=start)
    if end is not None:
        lines = lines.filter(movement__occurred_on__lte=end)
    if grant_id is not None:
        lines = lines.filter(grant_id=grant_id)
    groups = list(
        lines.order_by()
        .values_list("movement__occurred_on", "from_location_id", "to_location_id", "item_id")
        .annotate(total=Sum("quantity"))
    )
    ends = {loc for _, from_id, to_id, _, _ in groups for loc in (from_id, to_id) if loc not in virtual}
    sites = dict(StockLocation.objects.filter(pk__in=ends, site__isnull=False).values_list("pk", "site_id"))
    sums: dict[tuple[dt.date, int, int], list[int]] = defaultdict(lambda: [0, 0])
    for day, from_id, to_id, item_id, total in groups:
        if to_id in virtual and from_id in sites:
            site_id, kind, sign = sites[from_id], virtual[to_id], 1
        elif from_id in virtual and to_id in sites:
            site_id, kind, sign = sites[to_id], virtual[from_id], -1
        else:
            continue  # between two virtual locations: no site handed it over
        column = 0 if kind == LocationKind.BENEFICIARIES else 1
        sums[(day, site_id, item_id)][column] += sign * int(total)
    return [
        HandedOver(day, site_id, item_id, households, partners)
        for (day, site_id, item_id), (households, partners) in sorted(sums.items())
        if households or partners
    ]


@dataclass(frozen=True)
class DistributedAt:
    """What one site handed over of one item: to households directly, and to partners."""

    site_id: int
    item_id: int
    to_households: int
    to_partners: int

    @property
    def total(self) -> int:
        return self.to_households + self.to_partners


def by_site(rows: list[HandedOver]) -> list[DistributedAt]:
    """Days folded together: per site and item."""
    sums: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        sums[(row.site_id, row.item_id)][0] += row.to_households
        sums[(row.site_id, row.item_id)][1] += row.to_partners
    return [
        DistributedAt(site_id, item_id, households, partners)
        for (site_id, item_id), (households, partners) in sorted(sums.items())
        if households or partners
    ]


def by_week(rows: list[HandedOver]) -> list[tuple[dt.date, int, int]]:
    """Days folded into weeks (Mondays): (week, item id, quantity)."""
    sums: dict[tuple[dt.date, int], int] = defaultdict(int)
    for row in rows:
        sums[(row.day - dt.timedelta(days=row.day.weekday()), row.item_id)] += row.total
    return [(week, item_id, total) for (week, item_id), total in sorted(sums.items()) if total]


def distributed_by_site(
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    site_ids: set[int] | None = None,
    grant_id: int | None = None,
) -> list[DistributedAt]:
    """Items handed over to households and to partners, net of reversals, per site and item."""
    return by_site(handed_over(start=start, end=end, site_ids=site_ids, grant_id=grant_id))


def distributed_by_week(
    *, start: dt.date | None = None, end: dt.date | None = None, site_ids: set[int] | None = None
) -> list[tuple[dt.date, int, int]]:
    """(Monday of the week, item id, quantity handed over net of reversals), by week and item."""
    return by_week(handed_over(start=start, end=end, site_ids=site_ids))


def on_hand_by_item(*, site_ids: set[int] | None = None, day: dt.date | None = None) -> dict[int, int]:
    """What the physical locations hold, per item id: now, from the balance table, or at the end of
    a past `day` (see on_hand_on)."""
    if day is not None:
        held: dict[int, int] = defaultdict(int)
        for (_, item_id), quantity in on_hand_on(day=day, site_ids=site_ids).items():
            held[item_id] += quantity
        return {item_id: quantity for item_id, quantity in held.items() if quantity}
    rows = Balance.objects.filter(is_physical=True)
    if site_ids is not None:
        rows = rows.filter(location__site_id__in=site_ids)
    return {
        item_id: int(total)
        for item_id, total in rows.order_by().values_list("item_id").annotate(total=Sum("quantity"))
        if total
    }


def available_from(site_id: int, item_ids: Iterable[int], day: dt.date) -> dict[int, list[tuple[int, int]]]:
    """What a site (a distribution point) can give of each item on `day` without taking the balance of any
    later day below zero (the ledger refuses a posting that would): per item, (grant id, quantity),
    the oldest stock first, as the ledger takes it.

    Per grant, it is the lowest of what the point held at the end of `day` and after each movement
    dated later, today's balance the last: stock that was there that day but handed over or sent
    on since cannot be given that day. On today's date it is what the point holds now."""
    items = sorted(set(item_ids))
    balances = list(
        Balance.objects.filter(location__site_id=site_id, location__is_physical=True, item_id__in=items)
        .order_by("fifo_date", "grant_id", "pk")
        .values_list("location_id", "item_id", "grant_id", "quantity")
    )
    lines = (
        MovementLine.objects.filter(movement__occurred_on__gt=day, item_id__in=items)
        .filter(Q(from_location__site_id=site_id) | Q(to_location__site_id=site_id))
        .order_by("movement__occurred_on", "movement_id", "pk")
        .values_list(
            "movement__occurred_on", "from_location_id", "to_location_id", "item_id", "grant_id", "quantity"
        )
    )
    later = [
        (occurred_on, (location_id, item_id, grant_id), sign * int(quantity))
        for occurred_on, from_id, to_id, item_id, grant_id, quantity in lines
        for location_id, sign in ((to_id, 1), (from_id, -1))
    ]
    now = {
        (location_id, item_id, grant_id): int(quantity)
        for location_id, item_id, grant_id, quantity in balances
    }
    available: dict[int, list[tuple[int, int]]] = {}
    for (_, item_id, grant_id), held in held_since(now, later, day).items():
        if held.lowest > 0:
            available.setdefault(item_id, []).append((grant_id, held.lowest))
    return available


def on_hand_on(*, day: dt.date | None = None, site_ids: set[int] | None = None) -> dict[tuple[int, int], int]:
    """What each physical site held of each item at the end of `day` (None: now), as
    {(site id, item id): quantity}. Today's balances, less what the ledger moved into the sites
    after that day and plus what it moved out of them: no posting is dated after today, so what a
    site held on a past day is its balance now taken back to then. Three grouped queries."""
    balances = Balance.objects.filter(is_physical=True)
    if site_ids is not None:
        balances = balances.filter(location__site_id__in=site_ids)
    held: dict[tuple[int, int], int] = defaultdict(int)
    for site_id, item_id, total in (
        balances.order_by().values_list("location__site_id", "item_id").annotate(total=Sum("quantity"))
    ):
        held[(site_id, item_id)] += int(total or 0)
    if day is not None:
        later = MovementLine.objects.filter(movement__occurred_on__gt=day)
        for side, sign in (("to_location", -1), ("from_location", 1)):
            lines = later.filter(**{f"{side}__is_physical": True})
            if site_ids is not None:
                lines = lines.filter(**{f"{side}__site_id__in": site_ids})
            for site_id, item_id, total in (
                lines.order_by().values_list(f"{side}__site_id", "item_id").annotate(total=Sum("quantity"))
            ):
                held[(site_id, item_id)] += sign * int(total)
    return {key: quantity for key, quantity in held.items() if quantity}
