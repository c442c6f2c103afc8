"""Random messy 4W files — columns missing or in any order, title rows above the table, bad and
odd cells among good ones, other delimiters and encodings, CSV or workbook — are either imported
or refused with a list of problems, each naming its row, column and reason. Never anything else:
no other error, and nothing written when the file is refused. An imported file uploaded again
changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from reliefops.cluster.models import ActivityRow, ImportBatch
from reliefops.core.errors import Conflict, InvalidInput
from tests.cluster.conftest import COLUMNS, DEFAULTS, four_w_csv, four_w_xlsx, table

ODD = [
    "", " ", "#N/A", "#VALUE!", "PK9999", "pk504 ", "Batagram", "-1", "1,200", "1.5", "12.0",
    "99999999999999999", "xyz", "Delete", "update", "2005-02-30", "30/11/2005", "11/30/2005",
    "03/11/2005", "1/12/2005", "Nov 2005", "=1+1", "@SUM(A1)", "x" * 70, "Total", "é", "\u00a0NRC",
    "Islamic Relief", "UK Aid", "Alai", "tents", "on going", "planned", "IOM", " R-1 ", 12, 1.5, -3,
    True, dt.date(2005, 11, 30), dt.datetime(2005, 11, 30, 10, 0, tzinfo=dt.UTC).replace(tzinfo=None), 38686,
]  # fmt: skip
GOOD = {
    "id": [f"R-{n}" for n in range(8)],
    "prog": ["NRC", "IRW", "Oxfam GB", "norwegian refugee  council"],
    "impl": ["", "", "NRC", "IRW"],
    "funder": ["", "DFID"],
    "recipient": ["", "", "", "IOM"],
    "activity": ["Tents distributed", "Blankets distributed", "CGI"],
    "status": ["completed", "ongoing", "planned"],
    "start": ["2005-11-01", "1/11/2005", ""],
    "end": ["2005-11-20", "2005-12-31", "15/01/2006"],
    "qty": ["100", "2500", "0"],
    "hh": ["100", "", "40"],
}
PLACES = [("PK504", ""), ("PK504", "PK50401"), ("PK522", "PK52201"), ("PK107", "")]  # district, tehsil

a_cell = st.sampled_from(ODD)


@st.composite
def a_messy_file(draw: st.DrawFn) -> tuple[bytes, str, int]:
    """(content, file name, lines or rows the partner sees in it)."""
    if draw(st.booleans()):  # the columns a 4W needs, and some of the others
        needed = [c for c in COLUMNS if c[2] in {"id", "prog", "activity", "adm2", "status", "end", "qty"}]
        others = draw(st.lists(st.sampled_from([c for c in COLUMNS if c not in needed]), unique=True))
        keep = needed + others
    else:  # any columns
        keep = draw(st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=len(COLUMNS), unique=True))
    columns = [c for c in COLUMNS if c in keep] if draw(st.booleans()) else draw(st.permutations(keep))
    odd = draw(st.sampled_from([0, 0, 1, 2]))  # odd cells a row at most
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        values = {key: draw(st.sampled_from(GOOD.get(key, [DEFAULTS[key]]))) for _, _, key in COLUMNS}
        values["adm2"], values["adm3"] = draw(st.sampled_from(PLACES))
        for key in draw(st.lists(st.sampled_from([k for _, _, k in columns]), max_size=odd)):
            values[key] = draw(a_cell)
        rows.append(values)
    above = [["Shelter cluster 4W, November 2005"]] if draw(st.booleans()) else []
    if draw(st.integers(0, 3)) == 0:
        cells = [[*above[0]], *table(rows, columns)] if above else table(rows, columns)
        return four_w_xlsx({"Read me": [["Fill in the 4W sheet"]], "4W": cells}), "4w.xlsx", len(cells)
    data = four_w_csv(
        rows,
        columns=columns,
        above=above,
        tags=draw(st.booleans()) or len(columns) < 3,
        delimiter=draw(st.sampled_from([",", ",", ";", "\t"])),
        encoding=draw(st.sampled_from(["utf-8", "utf-8", "cp1252"])),
    )
    return data, "4w.csv", data.count(b"\n")


def stored() -> tuple[int, int, list[tuple]]:
    rows = ActivityRow.objects.order_by("id").values_list("reporting_org", "row_id", "digest", "replaced_in")
    return ActivityRow.objects.count(), ImportBatch.objects.count(), list(rows)


def outcome(upload: Callable[..., Any], data: bytes, filename: str) -> tuple[str, Any]:
    """("imported", the result), ("refused", the problems) or ("conflict", the message)."""
    try:
        return "imported", upload(data=data, filename=filename)
    except InvalidInput as refused:
        return "refused", refused.problems
    except Conflict as conflict:
        return "conflict", str(conflict)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.lists(a_messy_file(), min_size=1, max_size=3))
def test_messy_files_are_imported_or_refused_with_their_problems(upload, cluster, files):
    for data, filename, lines in files:
        before = stored()
        kind, what = outcome(upload, data, filename)
        if kind == "imported":
            event("imported, rows written" if what.changed else "imported, nothing to change")
            assert not upload(data=data, filename=filename).changed  # the same file again
            continue
        event(kind)
        assert stored() == before  # nothing written
        if kind == "refused":
            assert what
            for problem in what:
                assert problem.field.strip()
                assert problem.reason.strip()
                assert problem.row is None or 1 <= problem.row <= lines
