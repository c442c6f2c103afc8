"""Households and distribution lists as files (CSV or XLSX with an HXL row).

Columns marked `personal` (names, identity numbers, phones, villages, card tokens) are written
only for users who hold the export right; the services that hand these tables out record every
export in the audit trail.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from reliefops.core.exports import Column, Table
from reliefops.households.cards import printed
from reliefops.households.models import MEMBER_FIELDS

_BAND_TAGS = {
    "females_0_5": "#affected+f+age0_5",
    "males_0_5": "#affected+m+age0_5",
    "females_6_17": "#affected+f+age6_17",
    "males_6_17": "#affected+m+age6_17",
    "females_18_59": "#affected+f+age18_59",
    "males_18_59": "#affected+m+age18_59",
    "females_60_plus": "#affected+f+age60plus",
    "males_60_plus": "#affected+m+age60plus",
}

# The registry's columns keep the names the households import reads, so that a file goes back in.
REGISTRY = Table(
    "households",
    (
        Column("household_id", "#household+id", "pk", 10),
        Column("status", "#status", "status", 10),
        Column("merged_into", "#household+id+merged", "merged_into_id", 10),
        Column("head_sex", "#household+head+sex", "head_sex", 8),
        *(Column(name, _BAND_TAGS[name], name, 8) for name, _ in MEMBER_FIELDS),
        Column("size", "#affected+hh+ind", "size", 8),
        Column("female_headed", "#indicator+female_headed", "female_headed", 8),
        Column("elderly_headed", "#indicator+elderly_headed", "elderly_headed", 8),
        Column("disabled_member", "#indicator+disabled_member", "disabled_member", 8),
        Column("landless", "#indicator+landless", "landless", 8),
        Column("origin_pcode", "#adm+code+origin", "origin_area.pcode", 12),
        Column("origin_district_pcode", "#adm2+code+origin", "origin_district.pcode", 12),
        Column("current_site", "#loc+code", "current_site.code", 12),
        Column("house_damage", "#indicator+house_damage", "house_damage", 12),
        Column("elevation_band", "#indicator+elevation_band", "elevation_band", 12),
        Column("registered_on", "#date+registered", "registered_on", 12),
        Column("head_name", "#household+head+name", "head_name", 24, personal=True),
        Column(
            "father_or_husband_name",
            "#household+name+relative",
            "father_or_husband_name",
            24,
            personal=True,
        ),
        Column("document_type", "#meta+document+type", "document_type", 10, personal=True),
        Column("document_number", "#meta+document+id", "document_display", 18, personal=True),
        Column("phone", "#contact+phone", "phone", 14, personal=True),
        Column("origin_village", "#loc+name+origin", "origin_village", 18, personal=True),
    ),
    sheet="Households",
    related=("origin_area", "origin_district", "current_site"),
)


ROUNDS = Table(
    "distribution-rounds",
    (
        Column("Code", "#activity+code", "code", 14),
        Column("Round", "#activity+name", "name", 30),
        Column("Starts", "#date+start", "starts_on", 12),
        Column("Ends", "#date+end", "ends_on", 12),
        Column("Status", "#status", "status", 10),
        Column("Households listed", "#targeted+hh", "listed", 12),
        Column("Households served", "#reached+hh", "handed", 12),
    ),
    sheet="Rounds",
)


def _due(item_id: int) -> Callable[[Any], int]:
    return lambda row: int(row.entitled.get(item_id, 0))


def _handed(item_id: int) -> Callable[[Any], int]:
    return lambda row: int(row.delivered.get(item_id, 0))


def _card(row: Any) -> str:
    return printed(row.card_token) if row.card_token else ""


def _attribute(code: str) -> str:
    """An item code as an HXL attribute: `CGI-SHEET` -> `cgi_sheet`."""
    cleaned = re.sub(r"[^a-z0-9_]+", "_", code.lower()).strip("_")
    return cleaned if cleaned[:1].isalpha() else f"item_{cleaned}"


def distribution_list_table(round_obj: Any, package: list[Any]) -> Table:
    """A round's list: each household's point, people, what it is due and has had of each item, and
    (personal) its names, village and card token."""
    item_columns: list[Column] = []
    for line in package:
        code, item_id = line.item.code, line.item_id
        item_columns += [
            Column(
                f"{code} due",
                f"#targeted+num+{_attribute(code)}",
                _due(item_id),
                10,
            ),
            Column(
                f"{code} handed over",
                f"#output+num+{_attribute(code)}",
                _handed(item_id),
                10,
            ),
        ]
    return Table(
        f"distribution-list-{round_obj.code}".lower(),
        (
            Column("Household", "#household+id", "household.pk", 10),
            Column("Point code", "#loc+code", "entitlement.point.code", 12),
            Column("Point", "#loc+name", "entitlement.point.name", 22),
            Column("People", "#affected+ind", "entitlement.members", 8),
            *item_columns,
            Column("Status", "#status", "status", 12),
            Column("Head", "#household+head+name", "household.head_name", 24, personal=True),
            Column(
                "Father or husband",
                "#household+name+relative",
                "household.father_or_husband_name",
                24,
                personal=True,
            ),
            Column("Village", "#loc+name+origin", "household.origin_village", 18, personal=True),
            Column("Card", "#meta+card", _card, 14, personal=True),
        ),
        sheet="Distribution list",
        notes=(f"Distribution list of round {round_obj.code} ({round_obj.name}).",),
    )


def reconciliation_tables(round_obj: Any) -> tuple[Table, Table]:
    """A round's reconciliation: item by item (due, handed over, moved in the ledger, owed), and
    point by point (households listed, served, partly served). Counts only, no personal data."""
    code = round_obj.code.lower()
    items = Table(
        f"round-{code}-items",
        (
            Column("Item code", "#item+code", "item_code", 14),
            Column("Item", "#item+name", "item_name", 26),
            Column("Entitled", "#targeted+num", "entitled", 10),
            Column("Handed over", "#output+num", "handed_over", 10),
            Column("Stock moved", "#output+num+ledger", "stock_moved", 10),
            Column("Shortfall", "#output+num+gap", "shortfall", 10),
        ),
        sheet="Items",
        notes=(f"Reconciliation of round {round_obj.code} ({round_obj.name}), item by item.",),
    )
    points = Table(
        f"round-{code}-points",
        (
            Column("Point", "#loc+name", "point", 24),
            Column("Households listed", "#targeted+hh", "entitled", 12),
            Column("Served", "#reached+hh", "served", 10),
            Column("Partly served", "#reached+hh+partial", "partly", 10),
        ),
        sheet="Points",
    )
    return items, points
