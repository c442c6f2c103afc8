"""Reading catalogue files (CSV, with an optional HXL row under the header).

Items: code, name, base_unit, category, weight_kg, volume_m3, packs (`bale:10;carton:20`), and
optionally description. Kits: kit_code, component_code, quantity (one line per component), and
optionally source.
"""

from __future__ import annotations

from reliefops.catalog.services import (
    Actor,
    ItemRow,
    KitRow,
    items_check,
    items_import,
    kits_check,
    kits_import,
)
from reliefops.core.errors import InvalidInput, Problem
from reliefops.core.tabular import INTEGER_MAX, Cells, ImportCounts
from reliefops.places.importers import read_reference_csv

ITEM_OPTIONAL = ("base_unit", "weight_kg", "volume_m3", "packs", "description")
ITEM_HXL = {"#item+code": "code", "#item+name": "name", "#item+unit": "base_unit", "#item+type": "category"}


def _refuse_if(problems: list[Problem]) -> None:
    if problems:
        raise InvalidInput(sorted(problems, key=lambda p: p.row if p.row is not None else 0))


def _packs(cells: Cells) -> tuple[tuple[str, int], ...]:
    packs: list[tuple[str, int]] = []
    for part in cells.split("packs"):
        name, sep, quantity = part.partition(":")
        if not sep or not name.strip():
            cells.problem("packs", f"{part!r}: write each pack as name:quantity, e.g. bale:10")
            continue
        try:
            count = int(quantity.strip())
        except ValueError:
            cells.problem("packs", f"{part!r}: the quantity is not a whole number")
            continue
        if count > INTEGER_MAX:
            cells.problem("packs", f"{part!r}: the quantity is out of range: at most {INTEGER_MAX:,}")
            continue
        packs.append((name.strip(), count))
    return tuple(packs)


def parse_items_csv(data: bytes) -> tuple[list[ItemRow], list[Problem]]:
    table = read_reference_csv(
        data, required=("code", "name", "category"), optional=ITEM_OPTIONAL, hxl_tags=ITEM_HXL
    )
    given = frozenset(c for c in ("weight_kg", "volume_m3", "packs", "description") if table.has(c))
    problems: list[Problem] = []
    rows = []
    for record in table.rows:
        cells = Cells(record, problems)
        rows.append(
            ItemRow(
                code=cells.text("code"),
                name=cells.text("name"),
                category=cells.text("category"),
                base_unit=cells.text("base_unit") or "piece",
                weight_kg=cells.decimal("weight_kg"),
                volume_m3=cells.decimal("volume_m3"),
                packs=_packs(cells),
                description=cells.text("description"),
                given=given,
                line=record.line,
                bad=frozenset(cells.bad),
            )
        )
    return rows, problems


def items_import_file(*, actor: Actor, data: bytes, dry_run: bool = False) -> ImportCounts:
    """Import an items CSV, all or nothing; InvalidInput lists every problem of the file."""
    rows, problems = parse_items_csv(data)
    _refuse_if(problems + items_check(rows))
    return items_import(actor=actor, rows=rows, dry_run=dry_run)


def parse_kits_csv(data: bytes) -> tuple[list[KitRow], list[Problem]]:
    table = read_reference_csv(
        data, required=("kit_code", "component_code", "quantity"), optional=("source",)
    )
    problems: list[Problem] = []
    rows = []
    for record in table.rows:
        cells = Cells(record, problems)
        rows.append(
            KitRow(
                kit_code=cells.text("kit_code"),
                component_code=cells.text("component_code"),
                quantity=cells.integer("quantity"),
                source=cells.text("source"),
                line=record.line,
                bad=frozenset(cells.bad),
            )
        )
    return rows, problems


def kits_import_file(*, actor: Actor, data: bytes, dry_run: bool = False) -> ImportCounts:
    """Import a kits CSV (one line per component), all or nothing; counts are per kit."""
    rows, problems = parse_kits_csv(data)
    _refuse_if(problems + kits_check(rows))
    return kits_import(actor=actor, rows=rows, dry_run=dry_run)
