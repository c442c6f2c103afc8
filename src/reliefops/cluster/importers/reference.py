"""Reading the cluster's activity types (a CSV: code, name, unit, item, aliases, sort_order)."""

from __future__ import annotations

from reliefops.cluster.services.activities import ActivityTypeRow, activity_types_check, activity_types_import
from reliefops.cluster.services.report_types import Actor
from reliefops.core.errors import InvalidInput, Problem
from reliefops.core.tabular import SMALL_INTEGER_MAX, Cells, ImportCounts, read_csv


def parse_activity_types_csv(data: bytes) -> list[ActivityTypeRow]:
    """code, name, unit, and optionally item (a catalogue code), aliases (`;`), sort_order."""
    table = read_csv(data, required=("code", "name", "unit"), optional=("item", "aliases", "sort_order"))
    problems: list[Problem] = []
    rows = []
    for record in table.rows:
        cells = Cells(record, problems)
        rows.append(
            ActivityTypeRow(
                code=cells.text("code"),
                name=cells.text("name"),
                unit=cells.text("unit"),
                item_code=cells.text("item").upper(),
                aliases=tuple(cells.split("aliases")),
                sort_order=cells.integer("sort_order", maximum=SMALL_INTEGER_MAX),
                line=record.line,
            )
        )
    if problems:
        raise InvalidInput(problems)
    return rows


def activity_types_import_file(*, actor: Actor, data: bytes, dry_run: bool = False) -> ImportCounts:
    """Import an activity types CSV, all or nothing."""
    rows = parse_activity_types_csv(data)
    problems = activity_types_check(rows)
    if problems:
        raise InvalidInput(problems)
    return activity_types_import(actor=actor, rows=rows, dry_run=dry_run)
