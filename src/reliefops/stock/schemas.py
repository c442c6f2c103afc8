"""What the stock API takes and returns, and how a request's sites, items and grants are found.

Requests name items by code (or id), sites by id or code, grants by id or reference. `Refs`
resolves them through core.access for the API and the CLI alike, collecting one Problem (line,
field, reason) for every name it does not know, so a request with three typos hears of all three.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.db.models import Q, Sum
from django.utils import timezone
from ninja import Field, Schema

from reliefops.core.access import (
    AnyUser,
    access_grants,
    access_items,
    access_kits,
    access_organisations,
    access_sites,
    access_stock_site,
    id_or_code,
    require,
)
from reliefops.core.api import TEXT_CHOICE, BodyIn, Day, IdOrText, IdOrTextParam
from reliefops.core.errors import InvalidInput, NotFound, Problem
from reliefops.core.roles import Right
from reliefops.core.text import counted
from reliefops.places.models import SiteKind
from reliefops.stock.models import (
    DRIVER_MAX,
    EXCESS_REASON_MAX,
    LOT_MAX,
    QUANTITY_MAX,
    REASON_MAX,
    REFERENCE_MAX,
    REVERSAL_REASON_MAX,
    VEHICLE_MAX,
    WAYBILL_NUMBER_MAX,
    MovementKind,
    PledgeStatus,
    Transport,
    WaybillStatus,
)
from reliefops.stock.selectors import movement_lines, waybill_lines
from reliefops.stock.services.ledger import UNRESOLVED
from reliefops.stock.services.operations import LossReason
from reliefops.stock.services.pledges import pledge_cancelled_message

# --- request references -----------------------------------------------------------------------

IDEMPOTENCY_KEY_MAX = 80


def today() -> dt.date:
    return timezone.localdate()


def scoped_key(user: AnyUser | None, key: str | None, *, field: str = "Idempotency-Key") -> str | None:
    """The stored idempotency key: the caller's own key, kept apart from every other user's."""
    if key is None or not key.strip():
        return None
    key = key.strip()
    if len(key) > IDEMPOTENCY_KEY_MAX:
        raise InvalidInput([Problem(None, field, f"at most {IDEMPOTENCY_KEY_MAX} characters")])
    return f"u{user.pk if user is not None else 0}:{key}"


ITEMS_NAMED = 5  # a posting of more items says how many, not each one's quantity


def items_in_words(movement: Any) -> str:
    """`2 items: 500 BLANKET, 200 QUILT`: each item's own quantity in its base unit, never added
    to another item's (500 blankets and 200 quilts are not 700 of anything). Items are counted as the
    user gave them, not the ledger's lines: 150 quilts taken first-in-first-out from three grants'
    stock are one item, not "3 lines"."""
    by_item = list(
        movement.lines.values("item__code").annotate(quantity=Sum("quantity")).order_by("item__code")
    )
    if len(by_item) > ITEMS_NAMED:
        return counted(len(by_item), "item")
    quantities = ", ".join(f"{row['quantity']:,} {row['item__code']}" for row in by_item)
    return f"{counted(len(by_item), 'item')}: {quantities}"


def differences_in_words(movement: Any) -> str:
    """What a count found, item by item, short or over at its site: `BLANKET 11 short, JERRY-CAN 42
    over` (its lines of one item's grants together); for more than five items, how many of each."""
    here = movement.site_id
    by_item = list(
        movement.lines.values("item__code")
        .annotate(
            over=Sum("quantity", filter=Q(to_location__site_id=here)),
            short=Sum("quantity", filter=Q(from_location__site_id=here)),
        )
        .order_by("item__code")
    )
    found = [(row["item__code"], (row["over"] or 0) - (row["short"] or 0)) for row in by_item]
    found = [(code, difference) for code, difference in found if difference]
    if len(found) > ITEMS_NAMED:
        short = sum(1 for _, difference in found if difference < 0)
        return f"{counted(len(found), 'item')} differ: {short:,} short, {len(found) - short:,} over"
    return ", ".join(
        f"{code} {abs(difference):,} {'short' if difference < 0 else 'over'}" for code, difference in found
    )


def posting_message(result: Any) -> str:
    """What a posting did, in a sentence: what was posted where, or that a repeat changed nothing, or
    that there was nothing to post (a count that found what was held)."""
    movement = result.movement
    if movement is None:
        reason = str(result.message)
        return f"{reason[:1].upper()}{reason[1:]}."
    what = f"{movement.get_kind_display().lower()} #{movement.pk}"
    if movement.reference:
        what += f" ({movement.reference})"
    waybill = getattr(result, "waybill", None)
    if result.replayed:
        if waybill is not None:
            return f"Waybill {waybill.number} was already dispatched as {what}: nothing changed."
        return f"Already posted as {what}: nothing changed."
    if said := getattr(result, "said", ""):
        lines = said
    elif movement.kind == MovementKind.COUNT:
        lines = differences_in_words(movement)
    else:
        lines = items_in_words(movement)
    if waybill is not None:
        return (
            f"Waybill {waybill.number} dispatched from {waybill.from_site.name} "
            f"to {waybill.to_site.name}: {lines}."
        )
    at = f" at {movement.site.name}" if movement.site_id else ""
    notes = " ".join(getattr(result, "notes", ()))
    return f"Posted {what}{at}: {lines}." + (f" {notes}" if notes else "")


# The largest quantity a line may carry (a refused one names it), published with the schema.
AT_MOST: dict[str, Any] = {"maximum": QUANTITY_MAX}


class Refs:
    """Resolves the names in one request after checking the caller holds `right` at all.

    Each method returns the object's id, or UNRESOLVED (0) after recording a Problem; `check()` then raises
    InvalidInput with every problem. A posting instead hands `problems` to its service, which
    refuses them together with its own. A site the caller may not use raises AccessDenied at once.
    """

    def __init__(self, user: AnyUser | None, right: Right) -> None:
        require(user, right)
        self.user = user
        self.right = right
        self.problems: list[Problem] = []
        self._items: dict[int | str, int] = {}

    def _problem(self, row: int | None, field: str, reason: str) -> int:
        self.problems.append(Problem(row, field, reason))
        return UNRESOLVED

    def site(self, ref: int | str, field: str = "site", *, scoped: bool = True) -> Any:
        """A stock-holding site; `scoped` also checks the caller may use the right there."""
        if scoped:
            try:
                return access_stock_site(self.user, ref, self.right)
            except NotFound:
                self._problem(None, field, f"unknown site {ref!r}")
                return None
        found = access_sites(self.user).filter(**id_or_code(ref)).first()
        if found is None:
            self._problem(None, field, f"unknown site {ref!r}")
        return found

    def site_id(self, ref: int | str, field: str = "site", *, scoped: bool = True) -> int:
        site = self.site(ref, field, scoped=scoped)
        return site.pk if site is not None else UNRESOLVED

    def item(self, ref: int | str, row: int | None = None, field: str = "item") -> int:
        if ref not in self._items:
            found = access_items(self.user).filter(**id_or_code(ref)).values_list("pk", flat=True).first()
            if found is None:
                return self._problem(row, field, f"unknown item {ref!r}")
            self._items[ref] = found
        return self._items[ref]

    def kit(self, ref: int | str, field: str = "kit") -> int:
        lookup = {"item_id": ref} if isinstance(ref, int) else id_or_code(ref, "item__code")
        found = access_kits(self.user).filter(**lookup).values_list("item_id", flat=True).first()
        return found if found is not None else self._problem(None, field, f"{ref!r} is not a kit")

    def grant(self, ref: int | str | None, row: int | None = None, field: str = "grant") -> int | None:
        if ref is None or ref == "":
            return None
        grants = access_grants(self.user).filter(**id_or_code(ref, "reference", any_case=False))
        found = grants.values_list("pk", flat=True).first()
        return found if found is not None else self._problem(row, field, f"unknown grant {ref!r}")

    def organisation(self, ref: int | str, field: str = "organisation") -> int:
        organisations = access_organisations(self.user)
        if isinstance(ref, int):
            found = organisations.filter(pk=ref).values_list("pk", flat=True).first()
        else:
            by_name = organisations.filter(name__iexact=ref.strip()).values_list("pk", flat=True)
            by_acronym = organisations.filter(acronym__iexact=ref.strip()).values_list("pk", flat=True)
            found = by_name.first()
            if found is None:
                matches = list(by_acronym[:2])
                if len(matches) > 1:
                    return self._problem(None, field, f"{ref!r} is the acronym of several organisations")
                found = matches[0] if matches else None
        return found if found is not None else self._problem(None, field, f"unknown organisation {ref!r}")

    def check(self) -> None:
        if self.problems:
            raise InvalidInput(self.problems)


# --- inputs ---------------------------------------------------------------------------------------

SITE = "A site: its id (a number) or its code (text), e.g. `BLK-HUB`."
ITEM = "An item: its code (text), e.g. `BLANKET`, or its id (a number)."
GRANT = "A grant: its reference (text), e.g. `DFID-2005-07`, or its id (a number)."
DAY = "The day it happened in the field (YYYY-MM-DD); today when left out."


class StockLineIn(BodyIn):
    item: IdOrText = Field(description=ITEM)
    quantity: int = Field(
        description="How many, in the item's base unit (more than zero).", json_schema_extra=AT_MOST
    )
    grant: IdOrText | None = Field(
        None, description=GRANT + " Left out: the oldest stock is taken first (first in, first out)."
    )
    lot: str = Field("", max_length=LOT_MAX, description="Lot or batch number, if any.")
    expiry: Day | None = Field(None, description="Expiry date, if any.")


class ReceiptLineIn(BodyIn):
    item: IdOrText = Field(description=ITEM)
    quantity: int | None = Field(
        None,
        description="How many base units arrived; or give `packs` and `pack`.",
        json_schema_extra=AT_MOST,
    )
    packs: int | None = Field(None, description="How many packs arrived (instead of `quantity`).")
    pack: str = Field("", description="The pack size's name, e.g. `bale`, with `packs`.")
    lot: str = Field("", max_length=LOT_MAX, description="Lot or batch number, if any.")
    expiry: Day | None = Field(None, description="Expiry date, if any.")


class ReceiptIn(BodyIn):
    site: IdOrText = Field(description="Where the goods arrived. " + SITE)
    grant: IdOrText = Field(description="The grant the goods are attributed to. " + GRANT)
    grn_number: str = Field(
        max_length=REFERENCE_MAX,
        description="Goods received note number: one receipt's, whatever the case of its letters, its "
        "spaces and its punctuation (`grn isb/9010` is `GRN-ISB-9010`); spaces around it are taken off.",
    )
    received_on: Day | None = Field(None, description=DAY + " Not before the grant began.")
    pledge: int | None = Field(None, description="The pledge this receipt fulfils, if any.")
    note: str = Field("", description="Free-text note.")
    lines: list[ReceiptLineIn] = Field(description="What arrived, one line per item.")


class PledgeIn(BodyIn):
    grant: IdOrText = Field(description=GRANT)
    item: IdOrText = Field(description=ITEM)
    quantity: int = Field(description="How many base units are promised.", json_schema_extra=AT_MOST)
    destination: IdOrText = Field(description="Where they will arrive. " + SITE)
    expected_on: Day = Field(description="When they are expected to arrive; not before the grant began.")
    reference: str = Field(
        "",
        max_length=REFERENCE_MAX,
        description="The donor's or supplier's reference: one pledge of the grant (whatever its case).",
    )


class PledgeCancelIn(BodyIn):
    reason: str = Field(
        max_length=REASON_MAX, description="Why the pledge is cancelled: what the donor said will not come."
    )


class DispatchIn(BodyIn):
    from_site: IdOrText = Field(description="The sending site. " + SITE)
    to_site: IdOrText = Field(description="The receiving site. " + SITE)
    lines: list[StockLineIn] = Field(description="What the consignment carries.")
    dispatched_on: Day | None = Field(None, description="Day of dispatch; today when left out.")
    expected_on: Day | None = Field(None, description="Expected arrival; the dispatch day when left out.")
    transport: Annotated[Transport, TEXT_CHOICE] = Field(
        Transport.TRUCK, description="Truck, helicopter sortie, jeep, mule, other."
    )
    vehicle: str = Field("", max_length=VEHICLE_MAX, description="Vehicle registration or sortie number.")
    driver: str = Field("", max_length=DRIVER_MAX, description="Driver or pilot.")
    number: str | None = Field(
        None, max_length=WAYBILL_NUMBER_MAX, description="Waybill number; `WB-0000123` when left out."
    )


class DeliveryLineIn(BodyIn):
    item: IdOrText = Field(description=ITEM)
    received: int = Field(description="How many arrived in good condition.")
    damaged: int = Field(0, description="How many arrived damaged (they go to loss/damage).")
    damage_reason: str = Field(
        "", max_length=REASON_MAX, description="Why they were damaged (needed when `damaged` > 0)."
    )
    short_reason: str = Field(
        "",
        max_length=REASON_MAX,
        description="Why some are missing (needed when fewer arrived than were sent).",
    )


class DeliveryIn(BodyIn):
    delivered_on: Day | None = Field(None, description="Day of arrival; today when left out.")
    lines: list[DeliveryLineIn] = Field(description="Every item of the waybill, once.")
    excess_reason: str = Field(
        "",
        max_length=EXCESS_REASON_MAX,
        description="Why more arrived than was sent; without it an excess is refused.",
    )


class DistributionIn(BodyIn):
    site: IdOrText = Field(description="The distribution point or hub that handed the items out. " + SITE)
    lines: list[StockLineIn] = Field(description="What was handed out.")
    distributed_on: Day | None = Field(None, description=DAY)
    reference: str = Field("", max_length=REFERENCE_MAX, description="Distribution report number.")
    note: str = Field("", description="Free-text note (where, to whom).")


class HandoverIn(BodyIn):
    site: IdOrText = Field(description="The site the stock leaves. " + SITE)
    organisation: IdOrText = Field(description="The partner organisation: its id, name or acronym.")
    lines: list[StockLineIn] = Field(description="What was handed over.")
    handed_on: Day | None = Field(None, description=DAY)
    reference: str = Field("", max_length=REFERENCE_MAX, description="Hand-over note number.")
    note: str = Field("", description="Free-text note.")


class LossIn(BodyIn):
    site: IdOrText = Field(description="Where the stock was lost. " + SITE)
    reason: str = Field(
        description="One of `theft`, `weather`, `spoilage`, `damage`, `other`.",
        json_schema_extra={"enum": list(LossReason.ALL)},
    )
    lines: list[StockLineIn] = Field(description="What was lost.")
    occurred_on: Day | None = Field(None, description=DAY)
    note: str = Field(description="What happened (a loss is not written off without it).")


class CountLineIn(BodyIn):
    item: IdOrText = Field(description=ITEM)
    counted: int = Field(description="How many were counted (zero or more).", json_schema_extra=AT_MOST)
    surplus_grant: IdOrText | None = Field(
        None, description="The grant a surplus is attributed to; `UNATTRIBUTED` when left out. " + GRANT
    )


class CountIn(BodyIn):
    site: IdOrText = Field(description="The site counted. " + SITE)
    lines: list[CountLineIn] = Field(description="What was counted, one line per item.")
    counted_on: Day | None = Field(None, description=DAY)
    note: str = Field("", description="Free-text note (who counted).")


class KittingIn(BodyIn):
    site: IdOrText = Field(description="Where the kits are assembled or broken. " + SITE)
    kit: IdOrText = Field(description="The kit item: its code, e.g. `WINTER-KIT`, or its id.")
    quantity: int = Field(description="How many kits.")
    grant: IdOrText | None = Field(
        None, description="The grant the kits are charged to (needed when components of several grants mix)."
    )
    on: Day | None = Field(None, description=DAY)


class ReversalIn(BodyIn):
    reason: str = Field(max_length=REVERSAL_REASON_MAX, description="Why the movement is reversed.")
    reversed_on: Day | None = Field(None, description="Day of the correction; today when left out.")


# --- outputs --------------------------------------------------------------------------------------


class SiteRef(Schema):
    id: int = Field(description="Identifier of the site.")
    code: str = Field(description="Code of the site.")
    name: str = Field(description="Name of the site.")
    kind: SiteKind = Field(description="Warehouse, hub, distribution point, …")


class ItemRef(Schema):
    code: str = Field(description="Code of the item.")
    name: str = Field(description="Name of the item.")
    base_unit: str = Field(description="The unit quantities are counted in.")


class GrantRef(Schema):
    id: int = Field(description="Identifier of the grant.")
    reference: str = Field(description="The grant's reference, e.g. `DFID-2005-07`.")
    title: str = Field(description="Title of the grant.")
    donor: str = Field(description="Name of the donor.")

    @staticmethod
    def resolve_donor(obj: Any) -> str:
        return str(obj.donor.name)


class DocumentLineOut(Schema):
    item_code: str = Field(description="Code of the item.")
    item_name: str = Field(description="Name of the item.")
    base_unit: str = Field(description="The unit of `quantity`.")
    grant: str = Field(description="Reference of the grant the stock is attributed to.")
    quantity: int = Field(description="How many base units.")
    packs: str = Field(
        description="The quantity in the item's largest pack, e.g. `12 bales + 3`; empty if none."
    )
    weight_kg: float | None = Field(description="Total weight in kg, when the item's unit weight is known.")
    from_location: str = Field(description="Where the stock came from (a site or a virtual location).")
    to_location: str = Field(description="Where the stock went.")
    reason: str = Field(description="Why (damage, shortage, count, reversal), if recorded.")
    lot: str = Field(description="Lot or batch number, if any.")
    expiry: dt.date | None = Field(description="Expiry date, if any.")

    @staticmethod
    def resolve_grant(obj: Any) -> str:
        return str(obj.grant_reference)

    @staticmethod
    def resolve_from_location(obj: Any) -> str:
        return str(obj.from_name)

    @staticmethod
    def resolve_to_location(obj: Any) -> str:
        return str(obj.to_name)


class WaybillRef(Schema):
    id: int = Field(description="Identifier of the waybill.")
    number: str = Field(description="Waybill number.")


class MovementOut(Schema):
    id: int = Field(description="Identifier of the movement.")
    kind: MovementKind = Field(description="Receipt, dispatch, delivery, distribution, hand-over, …")
    reference: str = Field(description="GRN, waybill or report number.")
    occurred_on: dt.date = Field(description="The day it happened in the field.")
    posted_at: dt.datetime = Field(description="When it was posted.")
    posted_by: str | None = Field(description="Username of who posted it.")
    site: SiteRef | None = Field(description="The site where it happened.")
    waybill: WaybillRef | None = Field(description="The waybill, for a dispatch or delivery.")
    reverses: int | None = Field(description="For a reversal: the movement it reverses.")
    reversed_by: int | None = Field(description="The reversal that undid this movement, if any.")
    note: str = Field(description="Free-text note (for a reversal: why).")

    @staticmethod
    def resolve_posted_by(obj: Any) -> str | None:
        return obj.posted_by.get_username() if obj.posted_by_id else None

    @staticmethod
    def resolve_reverses(obj: Any) -> int | None:
        return obj.reverses_id

    @staticmethod
    def resolve_reversed_by(obj: Any) -> int | None:
        reversal = getattr(obj, "reversed_by", None)
        return reversal.pk if reversal is not None else None


class MovementListOut(MovementOut):
    n_lines: int = Field(description="How many lines the movement has.")
    item_quantity: int | None = Field(
        None,
        description="With the `item` filter, the quantity of that item on the movement's lines, in its "
        "base unit; null without it (quantities of different items are never added together).",
    )
    item_change: int | None = Field(
        None,
        description="With the `item` filter, what the movement changed of that item's stock at its site: "
        "more than zero in (a receipt, a count's surplus, a reversal of a loss), less than zero out (a "
        "dispatch, a count's shortage, a reversal of a receipt), 0 when none of it entered or left the "
        "site; null without the filter.",
    )
    total_quantity: int | None = Field(
        None,
        deprecated=True,
        description="Deprecated: the same as `item_quantity` (null without the `item` filter). It used "
        "to add the quantities of different items together, which means nothing.",
    )

    @staticmethod
    def resolve_item_quantity(obj: Any) -> int | None:
        return getattr(obj, "item_quantity", None)

    @staticmethod
    def resolve_item_change(obj: Any) -> int | None:
        return getattr(obj, "item_change", None)

    @staticmethod
    def resolve_total_quantity(obj: Any) -> int | None:
        return getattr(obj, "item_quantity", None)


class MovementDetailOut(MovementOut):
    lines: list[DocumentLineOut] = Field(description="Its lines, as posted.")

    @staticmethod
    def resolve_lines(obj: Any) -> Any:
        return movement_lines(movement_id=obj.pk)


class WaybillOut(Schema):
    id: int = Field(description="Identifier of the waybill.")
    number: str = Field(description="Waybill number.")
    from_site: SiteRef = Field(description="The sending site.")
    to_site: SiteRef = Field(description="The receiving site.")
    transport: Transport = Field(description="Truck, helicopter sortie, jeep, mule, other.")
    vehicle: str = Field(description="Vehicle registration or sortie number.")
    driver: str = Field(description="Driver or pilot.")
    dispatched_on: dt.date = Field(description="Day of dispatch.")
    expected_on: dt.date = Field(description="Expected day of arrival.")
    delivered_on: dt.date | None = Field(description="Day the receiving site confirmed it.")
    status: WaybillStatus = Field(description="In transit, delivered, or cancelled.")
    days_overdue: int = Field(description="Days past the expected arrival while still in transit; else 0.")

    @staticmethod
    def resolve_days_overdue(obj: Any) -> int:
        if obj.status != WaybillStatus.IN_TRANSIT:
            return 0
        return max((today() - obj.expected_on).days, 0)


class CarriedOut(Schema):
    item_code: str = Field(description="Code of the item.")
    item_name: str = Field(description="Name of the item.")
    quantity: int = Field(
        description="How many of the item it carries, in its base unit, its grants together."
    )


class WaybillListOut(WaybillOut):
    n_items: int = Field(description="How many different items it carries.")
    items: list[CarriedOut] = Field(
        description="What it carries, item by item (by item code): each item's own quantity, never added "
        "to another item's. Its lines by grant are in `GET /api/stock/waybills/{id}`."
    )
    item_quantity: int | None = Field(
        None,
        description="With the `item` filter, the quantity of that item it carries, in its base unit; null "
        "without it (quantities of different items are never added together).",
    )
    total_quantity: int | None = Field(
        None,
        deprecated=True,
        description="Deprecated: the same as `item_quantity` (null without the `item` filter). It used "
        "to add the quantities of different items together (500 blankets and 200 quilts made 700), "
        "which means nothing; `items` gives each item's quantity.",
    )

    @staticmethod
    def resolve_items(obj: Any) -> Any:
        return getattr(obj, "carried", [])

    @staticmethod
    def resolve_item_quantity(obj: Any) -> int | None:
        return getattr(obj, "item_quantity", None)

    @staticmethod
    def resolve_total_quantity(obj: Any) -> int | None:
        return getattr(obj, "item_quantity", None)


class MovementBrief(Schema):
    id: int = Field(description="Identifier of the movement.")
    kind: MovementKind = Field(description="Dispatch, delivery or reversal.")
    occurred_on: dt.date = Field(description="The day it happened.")


class WaybillDetailOut(WaybillOut):
    lines: list[DocumentLineOut] = Field(description="What was dispatched, by item and grant.")
    movements: list[MovementBrief] = Field(description="Its dispatch, delivery and any reversals.")

    @staticmethod
    def resolve_lines(obj: Any) -> Any:
        return waybill_lines(waybill_id=obj.pk)

    @staticmethod
    def resolve_movements(obj: Any) -> Any:
        return obj.movements.order_by("id")


class PostingOut(Schema):
    replayed: bool = Field(
        description="True when the Idempotency-Key was used before: nothing was posted now."
    )
    message: str = Field(description="What happened, in a sentence.")
    movement: MovementDetailOut = Field(description="The movement posted (or posted before, when replayed).")

    @staticmethod
    def resolve_message(obj: Any) -> str:
        return posting_message(obj)


class CountPostingOut(PostingOut):
    movement: MovementDetailOut | None = Field(  # type: ignore[assignment]
        description="The count movement posted (or posted before, when replayed); null when the count "
        "found what the site held: then nothing was posted."
    )


class DispatchOut(Schema):
    replayed: bool = Field(
        description="True when the Idempotency-Key was used before: nothing was posted now."
    )
    message: str = Field(description="What happened, in a sentence.")
    waybill: WaybillDetailOut = Field(description="The waybill.")
    movement: MovementDetailOut = Field(description="The dispatch movement: the site -> in transit.")

    @staticmethod
    def resolve_message(obj: Any) -> str:
        return posting_message(obj)


class PledgeOut(Schema):
    id: int = Field(description="Identifier of the pledge.")
    grant: str = Field(description="Reference of the grant.")
    item: ItemRef = Field(description="The item pledged.")
    quantity: int = Field(description="How many base units were promised.")
    received_quantity: int = Field(description="How many have arrived so far.")
    destination: SiteRef = Field(description="Where they will arrive.")
    expected_on: dt.date = Field(description="Expected day of arrival.")
    status: PledgeStatus = Field(description="Open, received in full, or cancelled.")
    reference: str = Field(description="The donor's or supplier's reference.")
    more_than_pledged: int = Field(
        description="How many arrived beyond the pledged quantity (0 when no more than that)."
    )
    cancel_reason: str = Field(description="For a cancelled pledge: why (what will not come); else empty.")
    cancelled_at: dt.datetime | None = Field(description="When it was cancelled, if it was.")

    @staticmethod
    def resolve_grant(obj: Any) -> str:
        return str(obj.grant.reference)


class PledgePostedOut(PledgeOut):
    replayed: bool = Field(
        description="True when the Idempotency-Key was used before: nothing was recorded now."
    )

    @staticmethod
    def resolve_replayed(obj: Any) -> bool:
        return bool(getattr(obj, "replayed", False))


class PledgeCancelledOut(PledgeOut):
    replayed: bool = Field(
        description="True when the pledge was already cancelled for this reason: nothing changed now."
    )
    message: str = Field(description="What happened, in a sentence.")

    @staticmethod
    def resolve_replayed(obj: Any) -> bool:
        return bool(getattr(obj, "replayed", False))

    @staticmethod
    def resolve_message(obj: Any) -> str:
        return pledge_cancelled_message(obj)


class OnHandOut(Schema):
    site_id: int = Field(description="Identifier of the site.")
    site_name: str = Field(description="Name of the site.")
    item_code: str = Field(description="Code of the item.")
    item_name: str = Field(description="Name of the item.")
    grant: str | None = Field(description="Reference of the grant (with `by_grant=true`), else null.")
    quantity: int = Field(description="How many base units the site holds.")

    @staticmethod
    def resolve_grant(obj: Any) -> str | None:
        return obj.grant_reference


class OnHandFilter(Schema):
    site: IdOrTextParam | None = Field(None, description="Only this site. " + SITE)
    item: str | None = Field(None, description="Only this item, by code.")
    by_grant: bool = Field(False, description="One row per grant instead of one per site and item.")


class StockCardLineOut(Schema):
    movement_id: int = Field(description="The movement that moved the stock.")
    kind: MovementKind = Field(description="Its kind.")
    reference: str = Field(description="Its reference (GRN, waybill, report number).")
    occurred_on: dt.date = Field(description="The day it happened.")
    quantity_in: int = Field(description="Units in.")
    quantity_out: int = Field(description="Units out.")
    balance: int = Field(description="The balance after this line.")
    counterpart: str = Field(description="Where the stock came from or went.")


class StockCardOut(Schema):
    site: SiteRef = Field(description="The site.")
    item: ItemRef = Field(description="The item.")
    start: dt.date = Field(description="First day of the period.")
    end: dt.date = Field(description="Last day of the period.")
    opening: int = Field(description="Balance at the start of the first day.")
    total_in: int = Field(description="Units in over the period.")
    total_out: int = Field(description="Units out over the period.")
    closing: int = Field(description="Balance at the end of the last day.")
    lines: list[StockCardLineOut] = Field(description="Every movement of the item at the site in the period.")


class CardPeriod(Schema):
    start: dt.date | None = Field(None, description="First day; the first of this month when left out.")
    end: dt.date | None = Field(None, description="Last day; today when left out.")


class OverdueOut(Schema):
    waybill: WaybillOut = Field(description="A waybill still in transit after its expected day.")
    days_overdue: int = Field(description="Days since it was expected.")


class PipelineOut(Schema):
    pledges: list[PledgeOut] = Field(description="Open pledges: promised, not yet received.")
    in_transit: list[WaybillOut] = Field(description="Waybills in transit, by expected day.")
    overdue: list[OverdueOut] = Field(description="Those of them that are overdue, with days overdue.")


class DonorReportRowOut(Schema):
    item_code: str = Field(description="Code of the item.")
    item_name: str = Field(description="Name of the item.")
    received: int = Field(description="Received from the donor or supplier, net of reversals.")
    distributed: int = Field(description="Handed over to households and people.")
    handed_to_partners: int = Field(description="Handed to partner organisations to distribute.")
    lost: int = Field(description="Lost or damaged.")
    in_transit: int = Field(description="On waybills not yet confirmed.")
    on_hand: int = Field(description="In warehouses, hubs and distribution points.")
    other: int = Field(description="Count adjustments and stock inside kits being assembled.")


class DonorReportOut(Schema):
    grant: GrantRef = Field(description="The grant.")
    rows: list[DonorReportRowOut] = Field(description="One row per item of the grant.")


class DistributedTotals(Schema):
    tents: int = Field(description="Tents (item `TENT`).")
    shelter_kits: int = Field(description="Shelter kits (item `SHELTER-KIT`).")
    winterization_kits: int = Field(description="Winterization kits (item `WINTER-KIT`).")
    blankets: int = Field(description="Blankets (item `BLANKET`).")
    quilts: int = Field(description="Quilts (item `QUILT`).")
    cgi_sheets: int = Field(description="CGI sheets (item `CGI-SHEET`).")
    tarpaulins: int = Field(description="Tarpaulins (item `TARPAULIN`).")


class DistributedOut(Schema):
    iom_distributed: DistributedTotals = Field(
        description="Items handed to households and to partners, net of reversals, "
        "under the keys of the published figures."
    )


class WaybillFilter(Schema):
    site: IdOrTextParam | None = Field(None, description="Only waybills from or to this site. " + SITE)
    item: IdOrTextParam | None = Field(
        None,
        description="Only waybills that carry this item (its id or code), each with that item's quantity "
        "in `item_quantity`.",
    )
    status: WaybillStatus | None = Field(None, description="Only waybills in this state.")
    overdue: bool = Field(False, description="Only waybills in transit past their expected day.")


class MovementFilter(Schema):
    site: IdOrTextParam | None = Field(None, description="Only movements at this site. " + SITE)
    item: IdOrTextParam | None = Field(
        None,
        description="Only movements with a line of this item (its id or code), each with that item's "
        "quantity in `item_quantity`.",
    )
    kind: MovementKind | None = Field(None, description="Only movements of this kind.")
    start: dt.date | None = Field(None, description="Only movements on or after this day.")
    end: dt.date | None = Field(None, description="Only movements on or before this day.")
