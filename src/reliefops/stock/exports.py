"""The stock pages' tables as files (CSV or XLSX with an HXL row): stock on hand, stock card,
pipeline, waybills, movements, donor reports. The pages pass these to `web.exports`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone

from reliefops.core.exports import Column, Table
from reliefops.partners.services import currency_exponent

_ITEM = (
    Column("Item code", "#item+code", "item_code", 14),
    Column("Item", "#item+name", "item_name", 28),
)


def _site_code(row: Any) -> str:
    site = getattr(row, "site", None)
    return site.code if site is not None else ""


def _posted_by(movement: Any) -> str:
    return movement.posted_by.get_username() if movement.posted_by else ""


ON_HAND = Table(
    "stock-on-hand",
    (
        Column("Site", "#loc+name", "site_name", 24),
        *_ITEM,
        Column("Quantity", "#output+num+onhand", "quantity", 12),
    ),
    sheet="Stock on hand",
)
ON_HAND_BY_GRANT = Table(
    "stock-on-hand-by-grant",
    (
        Column("Site", "#loc+name", "site_name", 24),
        *_ITEM,
        Column("Grant", "#activity+code+grant", "grant_reference", 18),
        Column("Quantity", "#output+num+onhand", "quantity", 12),
    ),
    sheet="Stock on hand",
)


def stock_card_table(*, site: Any, item: Any, card: Any) -> Table:
    """A stock card's rows (see `stock_card_rows`), its period and totals in the notes sheet."""
    return Table(
        f"stock-card-{site.code}-{item.code}-{card.start:%Y%m%d}-{card.end:%Y%m%d}".lower(),
        (
            Column("Date", "#date", "occurred_on", 12),
            Column("Movement", "#meta+id", "movement_id", 10),
            Column("Kind", "#meta+type", "kind", 12),
            Column("Reference", "#meta+ref", "reference", 16),
            Column("From / to", "#loc+name+counterpart", "counterpart", 26),
            Column("In", "#output+num+in", "quantity_in", 10),
            Column("Out", "#output+num+out", "quantity_out", 10),
            Column("Balance", "#output+num+balance", "balance", 10),
        ),
        sheet="Stock card",
        notes=(
            f"Stock card of {item.code} {item.name} at {site.name} ({site.code}), "
            f"{card.start:%Y-%m-%d} to {card.end:%Y-%m-%d}.",
            f"Opening balance {card.opening}; in {card.total_in}; out {card.total_out}; "
            f"closing balance {card.closing}.",
        ),
    )


def stock_card_rows(card: Any) -> list[Any]:
    """A stock card as a file's rows: the opening balance, each movement, the closing balance, as a
    paper stock card begins with the balance brought forward. The first and last rows leave In and
    Out empty, so that adding up either column gives the period's movements; a period without a
    movement still gives its balance."""
    ends = {"movement_id": None, "reference": "", "quantity_in": None, "quantity_out": None}
    return [
        {
            **ends,
            "occurred_on": card.start,
            "kind": "opening",
            "counterpart": "Opening balance",
            "balance": card.opening,
        },
        *card.lines,
        {
            **ends,
            "occurred_on": card.end,
            "kind": "closing",
            "counterpart": "Closing balance",
            "balance": card.closing,
        },
    ]


# The waybills, one row per waybill and item it carries (the list filtered by item: that item's
# rows alone), each with that item's quantity: a waybill's items are never added into one figure,
# and a spreadsheet adds up one item's quantities by filtering or pivoting on its code.
WAYBILL_ITEMS = Table(
    "waybills",
    (
        Column("Waybill", "#meta+id", "waybill.number", 16),
        Column("From code", "#loc+code+from", "waybill.from_site.code", 12),
        Column("From", "#loc+name+from", "waybill.from_site.name", 22),
        Column("To code", "#loc+code+to", "waybill.to_site.code", 12),
        Column("To", "#loc+name+to", "waybill.to_site.name", 22),
        Column("Transport", "#meta+transport", "waybill.transport", 10),
        Column("Vehicle", "#meta+vehicle", "waybill.vehicle", 12),
        Column("Dispatched", "#date+dispatched", "waybill.dispatched_on", 12),
        Column("Expected", "#date+expected", "waybill.expected_on", 12),
        Column("Delivered", "#date+delivered", "waybill.delivered_on", 12),
        Column("Status", "#status", "waybill.status", 12),
        Column("Items on waybill", "#item+count", "waybill.n_items", 10),
        *_ITEM,
        Column("Quantity", "#output+num", "quantity", 10),
    ),
    sheet="Waybills",
    notes=(
        "One row per waybill and item it carries, with that item's quantity in its base unit (every "
        "grant together): the quantities of different items are never added into one figure. "
        "Items on waybill says how many rows a waybill has when no item is chosen.",
    ),
)

IN_TRANSIT = Table(
    "waybills-in-transit",
    (
        Column("Waybill", "#meta+id", lambda r: r[0].number, 16),
        Column("From", "#loc+name+from", lambda r: r[0].from_site.name, 22),
        Column("To", "#loc+name+to", lambda r: r[0].to_site.name, 22),
        Column("Transport", "#meta+transport", lambda r: r[0].transport, 10),
        Column("Vehicle", "#meta+vehicle", lambda r: r[0].vehicle, 12),
        Column("Dispatched", "#date+dispatched", lambda r: r[0].dispatched_on, 12),
        Column("Expected", "#date+expected", lambda r: r[0].expected_on, 12),
        Column("Days overdue", "#meta+overdue", lambda r: r[1], 10),
    ),
    sheet="In transit",
)

PLEDGES = Table(
    "pledges-open",
    (
        Column("Grant", "#activity+code+grant", "grant.reference", 18),
        Column("Item code", "#item+code", "item.code", 14),
        Column("Item", "#item+name", "item.name", 26),
        Column("Pledged", "#output+num+pledged", "quantity", 10),
        Column("Received", "#output+num+received", "received_quantity", 10),
        Column("Destination code", "#loc+code", "destination.code", 12),
        Column("Destination", "#loc+name", "destination.name", 22),
        Column("Expected", "#date+expected", "expected_on", 12),
        Column("Reference", "#meta+ref", "reference", 16),
    ),
    sheet="Pledges",
)

# The pledges received in full or more: what arrived of each, and how much beyond the pledge.
PLEDGES_RECEIVED = Table(
    "pledges-received",
    (
        *PLEDGES.columns[:5],
        Column("More than pledged", "#output+num+over", "more_than_pledged", 10),
        *PLEDGES.columns[5:],
    ),
    sheet="Pledges received",
)

_MOVEMENT = (
    Column("Movement", "#meta+id", "pk", 10),
    Column("Kind", "#meta+type", "kind", 12),
    Column("Date", "#date", "occurred_on", 12),
    Column("Reference", "#meta+ref", "reference", 16),
    Column("Site code", "#loc+code", _site_code, 12),
    Column("Site", "#loc+name", lambda m: m.site.name if m.site else "", 22),
    Column("Waybill", "#meta+waybill", lambda m: m.waybill.number if m.waybill else "", 16),
    Column("Reverses", "#meta+id+reversed", "reverses_id", 10),
    Column("Lines", "#meta+count", "n_lines", 8),
)
_POSTED = (
    Column("Posted by", "#contact+name+staff", _posted_by, 14),
    Column("Posted at", "#date+posted", "posted_at", 18),
    Column("Note", "#description", "note", 30),
)

# The movements with no quantity: a movement's lines of different items are not added together.
MOVEMENTS = Table("movements", (*_MOVEMENT, *_POSTED), sheet="Movements")

# The movements of one item (the list filtered by item), with that item's quantity in each, and what
# it changed at the movement's site: a count's shortage -858, its reversal +858.
MOVEMENTS_OF_ITEM = Table(
    "movements",
    (
        *_MOVEMENT,
        Column("Item code", "#item+code", "item_code", 14),
        Column("Quantity", "#output+num", "item_quantity", 10),
        Column("In (+) or out (-) at site", "#output+num+net", "item_change", 12),
        *_POSTED,
    ),
    sheet="Movements",
)


def _grant_amount(grant: Any) -> Decimal:
    """The grant's amount in major units (`1250000.50`), as the grants import reads it back."""
    return Decimal(grant.amount_minor).scaleb(-currency_exponent(grant.currency))


def donor_report_table(grant: Any, report: Any) -> Table:
    """The donor report's file: one row per item, each with the day its figures were read (a CSV
    has no About sheet to say it), and the About sheet of an XLSX saying what they count and the
    minute the stock was read."""
    # A day (YYYY-MM-DD), as every date column of the files, so a spreadsheet reads it as a date.
    as_of = timezone.localdate(report.as_of)
    return Table(
        f"donor-report-{grant.reference}".lower().replace("/", "-"),
        (
            *_ITEM,
            Column("Received", "#output+num+received", "received", 11),
            Column("Distributed", "#output+num+distributed", "distributed", 11),
            Column("Handed to partners", "#output+num+pipeline", "handed_to_partners", 11),
            Column("Lost", "#output+num+lost", "lost", 9),
            Column("In transit", "#output+num+transit", "in_transit", 10),
            Column("On hand", "#output+num+onhand", "on_hand", 10),
            Column("Other", "#output+num+other", "other", 9),
            Column("As of", "#date+reported", lambda _row: as_of, 16),
        ),
        sheet="Donor report",
        notes=(
            f"Donor report of grant {grant.reference} ({grant.donor.name}).",
            report.when,
            "Received + other = distributed + handed to partners + lost + in transit + on hand, "
            "item by item: the ledger keeps every unit of the grant somewhere. Other is what counts "
            "and kitting changed: count surpluses (and an excess accepted on a delivery, which enters "
            "as UNATTRIBUTED stock) and kits made add to it; count shortages and components used in "
            "kits take from it.",
        ),
    )


GRANTS = Table(
    "grants",
    (
        Column("Grant", "#activity+code+grant", "reference", 18),
        Column("Donor", "#org+name+funder", "donor.name", 28),
        Column("Title", "#activity+name", "title", 30),
        Column("Start", "#date+start", "start", 12),
        Column("End", "#date+end", "end", 12),
        Column("Amount", "#value", _grant_amount, 16),
        Column("Currency", "#currency", "currency", 9),
    ),
    sheet="Grants",
    related=("donor",),
)
