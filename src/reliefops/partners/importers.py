"""Reading organisation and grant files (CSV, with an optional HXL row under the header).

Organisations: name, type, and optionally acronym and aliases (separated by `;`).
Grants: donor (name, acronym or alias), reference, title, start, end (YYYY-MM-DD), currency,
amount in major units (`1250000.50`), stored as integer minor units.
"""

from __future__ import annotations

from reliefops.core.errors import InvalidInput, Problem
from reliefops.core.tabular import Cells, ImportCounts
from reliefops.partners.services import (
    Actor,
    GrantRow,
    OrganisationRow,
    grants_check,
    grants_import,
    organisations_check,
    organisations_import,
)
from reliefops.places.importers import read_reference_csv

ORGANISATION_HXL = {"#org+name": "name", "#org+acronym": "acronym", "#org+type": "type"}
# With the hashtags of the Donor reports download (stock/exports.py GRANTS), so that it uploads again
# unchanged (its Grant column is the reference, its Donor the donor's name); attributes sorted.
GRANT_HXL = {
    "#org+donor+name": "donor",
    "#org+donor": "donor",
    "#org+funder+name": "donor",
    "#activity+code+grant": "reference",
    "#activity+name": "title",
    "#date+start": "start",
    "#date+end": "end",
    "#value": "amount",
    "#currency": "currency",
}


def _refuse_if(problems: list[Problem]) -> None:
    if problems:
        raise InvalidInput(sorted(problems, key=lambda p: p.row if p.row is not None else 0))


def parse_organisations_csv(data: bytes) -> tuple[list[OrganisationRow], list[Problem]]:
    table = read_reference_csv(
        data, required=("name", "type"), optional=("acronym", "aliases"), hxl_tags=ORGANISATION_HXL
    )
    given = frozenset(c for c in ("acronym", "aliases") if table.has(c))
    problems: list[Problem] = []
    rows = []
    for record in table.rows:
        cells = Cells(record, problems)
        rows.append(
            OrganisationRow(
                name=cells.text("name"),
                type=cells.text("type"),
                acronym=cells.text("acronym"),
                aliases=tuple(cells.split("aliases")),
                given=given,
                line=record.line,
            )
        )
    return rows, problems


def organisations_import_file(*, actor: Actor, data: bytes, dry_run: bool = False) -> ImportCounts:
    """Import an organisations CSV, all or nothing; InvalidInput lists every problem of the file."""
    rows, problems = parse_organisations_csv(data)
    _refuse_if(problems + organisations_check(rows))
    return organisations_import(actor=actor, rows=rows, dry_run=dry_run)


def parse_grants_csv(data: bytes) -> tuple[list[GrantRow], list[Problem]]:
    table = read_reference_csv(
        data,
        required=("donor", "reference", "currency", "amount"),
        optional=("title", "start", "end"),
        hxl_tags=GRANT_HXL,
    )
    given = frozenset(name for name in ("title", "start", "end") if name in table.columns)
    problems: list[Problem] = []
    rows = []
    for record in table.rows:
        cells = Cells(record, problems)
        rows.append(
            GrantRow(
                donor=cells.text("donor"),
                reference=cells.text("reference"),
                title=cells.text("title"),
                start=cells.date("start"),
                end=cells.date("end"),
                currency=cells.text("currency"),
                amount=cells.decimal("amount"),
                line=record.line,
                bad=frozenset(cells.bad),
                given=given,
            )
        )
    return rows, problems


def grants_import_file(*, actor: Actor, data: bytes, dry_run: bool = False) -> ImportCounts:
    """Import a grants CSV, all or nothing; InvalidInput lists every problem of the file."""
    rows, problems = parse_grants_csv(data)
    _refuse_if(problems + grants_check(rows))
    return grants_import(actor=actor, rows=rows, dry_run=dry_run)
