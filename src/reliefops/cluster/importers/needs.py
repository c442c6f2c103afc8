"""Reading needs baseline files (tagged like 4W files: `#adm2+code`, `#inneed+hh`, …)."""

from __future__ import annotations

from typing import Any

from reliefops.cluster.hxl import FieldSpec, spec
from reliefops.cluster.importers.common import choose_sheet
from reliefops.cluster.models import ElevationBand
from reliefops.cluster.names import Area, AreaIndex
from reliefops.cluster.services.needs import NEEDS_VALUES, NeedsImportResult, NeedsRow, needs_import
from reliefops.cluster.services.report_types import Actor, RowProblem, refuse
from reliefops.cluster.sheets import read_sheets
from reliefops.cluster.values import (
    BadValue,
    read_yes_no,
    text_of,
    whole_number,
)
from reliefops.core.errors import Problem

NEEDS_FIELDS: tuple[FieldSpec, ...] = (
    spec("adm1_code", "#adm1+code", "Province P-code"),
    spec("adm1_name", "#adm1", "Province"),
    spec("adm2_code", "#adm2+code", "District P-code"),
    spec("adm2_name", "#adm2", "District"),
    spec("adm3_code", "#adm3+code", "Tehsil P-code"),
    spec("adm3_name", "#adm3", "Tehsil"),
    spec("population", "#population", "Population"),
    spec("households", "#population+hh", "Households"),
    spec("houses_destroyed", "#impact+destroyed", "Houses destroyed"),
    spec("houses_damaged", "#impact+damaged", "Houses damaged"),
    spec("households_in_need", "#inneed+hh", "Households in need of shelter"),
    spec("elevation_band", "#geo+elevation", "Elevation band"),
    spec("illustrative", "#meta+illustrative", "Illustrative"),
    spec("source", "#meta+source", "Source"),
)
NEEDS_NUMBERS = ("population", "households", "houses_destroyed", "houses_damaged", "households_in_need")


def read_elevation_band(raw: Any) -> str:
    """`below 5,000 ft`, `5,000-7,000 ft`, `above 7,000 ft` (or low, middle, high); '' when empty."""
    text = text_of(raw).lower().replace(",", "")
    if not text:
        return ""
    if text in {band.value for band in ElevationBand}:
        return text
    if "below" in text or text.startswith("<") or "low" in text:
        return ElevationBand.LOW.value
    if "above" in text or text.startswith(">") or "high" in text:
        return ElevationBand.HIGH.value
    if "mid" in text or ("5000" in text and "7000" in text):
        return ElevationBand.MIDDLE.value
    raise BadValue(
        f"'{text_of(raw)}' is not an elevation band; write one of: below 5,000 ft, 5,000-7,000 ft, "
        "above 7,000 ft (or low, middle, high), or leave the cell empty"
    )


def parse_needs_file(data: bytes, *, filename: str = "") -> tuple[list[NeedsRow], list[Problem], list[str]]:
    """Needs baselines from a file tagged like a 4W file (`#adm2+code`, `#inneed+hh`, …)."""
    sheets = read_sheets(data, filename)
    sheet, layout, notes = choose_sheet(sheets, NEEDS_FIELDS)
    refuse(layout.problems)
    f = layout.fields
    labels = {s.name: (f[s.name].label if s.name in f else s.tag) for s in NEEDS_FIELDS}
    problems: list[Problem] = []
    if not any(name in f for name in ("adm1_code", "adm2_code", "adm3_code")):
        problems.append(RowProblem(layout.tag_row, "#adm2+code", "the file has no column of P-codes"))
    refuse(problems)
    areas = AreaIndex.build()
    width = 1 + max(c.index for c in f.values())
    given = frozenset(name for name in NEEDS_VALUES if name in f)
    rows: list[NeedsRow] = []
    for line, cells in sheet.numbered(layout.first_data):
        cells = [*cells, *([""] * (width - len(cells)))]
        if not any(text_of(c) for c in cells):
            continue
        area: Area | None = None
        for depth in (3, 2, 1):
            column = f.get(f"adm{depth}_code")
            if column is None or not text_of(cells[column.index]):
                continue
            try:
                area = areas.code(cells[column.index], depth)
            except BadValue as exc:
                name_column = f.get(f"adm{depth}_name")
                hint = areas.name_hint(cells[name_column.index], depth) if name_column else ""
                problems.append(RowProblem(line, labels[f"adm{depth}_code"], str(exc) + hint))
            break
        if area is None and not any(p.row == line for p in problems):
            problems.append(RowProblem(line, labels["adm2_code"], "the P-code is empty"))
        values: dict[str, Any] = {}  # read even when the place is not: every problem of the row is told
        for name in NEEDS_NUMBERS:
            if name in f:
                try:
                    values[name] = whole_number(cells[f[name].index])
                except BadValue as exc:
                    problems.append(RowProblem(line, labels[name], str(exc)))
        if "elevation_band" in f:
            try:
                values["elevation_band"] = read_elevation_band(cells[f["elevation_band"].index])
            except BadValue as exc:
                problems.append(RowProblem(line, labels["elevation_band"], str(exc)))
        if "illustrative" in f:
            try:
                values["illustrative"] = bool(read_yes_no(cells[f["illustrative"].index]))
            except BadValue as exc:
                problems.append(RowProblem(line, labels["illustrative"], f"{exc}: write yes or no"))
        if "source" in f:
            values["source"] = text_of(cells[f["source"].index])[:300]
        if area is None:
            continue
        rows.append(
            NeedsRow(
                line=line,
                admin_area_id=area.id,
                pcode=area.pcode,
                adm1=area.adm1,
                adm2=area.adm2,
                adm3=area.adm3,
                given=given,
                **values,
            )
        )
    return rows, problems, notes


def needs_import_file(
    *, actor: Actor, data: bytes, filename: str = "", preview: bool = False
) -> NeedsImportResult:
    """Read a needs baseline file and store it, all or nothing."""
    rows, problems, notes = parse_needs_file(data, filename=filename)
    result = needs_import(actor=actor, rows=rows, problems=problems, preview=preview)
    result.notes = notes
    return result
