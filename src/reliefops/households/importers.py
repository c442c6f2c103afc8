"""Reading household registration files: CSV (UTF-8) or the first sheet of an XLSX workbook,
one household per row, with an optional HXL row under the header.

Columns (case and spacing of the header do not matter):

| column | required | what |
|---|---|---|
| head_name | yes | the head's name |
| father_or_husband_name | | |
| head_sex | yes | female or male |
| document_type | | cnic, old_nic, other or none; guessed from the number when left empty |
| document_number | | a CNIC as 12345-1234567-1 or 13 digits; an old NIC as 123-45-678901 |
| phone | | 0300-1234567 or +92 300 1234567 |
| females_0_5 ... males_60_plus | at least one | members by sex and age band (the head included) |
| elderly_headed, disabled_member, landless | | yes / no |
| other_vulnerability | | text |
| origin | yes | the lowest admin area known: a P-code, or a name of the gazetteer |
| origin_village | | |
| current_site | | the code of the camp the household lives in; empty when at home |
| house_damage | yes | destroyed, damaged or none |
| elevation_band | | below_5000, 5000_to_7000, above_7000, or empty when not known |
| consent | yes | yes: the head agreed to the use of the data |
| registered_on | | YYYY-MM-DD (today when empty), from the operation's first day to today |
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal, InvalidOperation
from pathlib import PurePosixPath
from typing import Any

from reliefops.core.errors import InvalidInput, Problem
from reliefops.core.tabular import SMALL_INTEGER_MAX, TableRow, read_csv, unknown_columns
from reliefops.core.uploads import check_upload
from reliefops.households.cells import value_holds
from reliefops.households.identity import ascii_digits
from reliefops.households.models import MEMBER_NAMES
from reliefops.households.services.registration import MEMBERS_MAX, HouseholdInput

REQUIRED = ("head_name", "head_sex", "origin", "house_damage", "consent")
OPTIONAL = (
    "father_or_husband_name",
    "document_type",
    "document_number",
    "phone",
    *MEMBER_NAMES,
    "elderly_headed",
    "disabled_member",
    "landless",
    "other_vulnerability",
    "origin_village",
    "current_site",
    "elevation_band",
    "registered_on",
)
HXL_TAGS = {
    "#household+head+name": "head_name",
    "#household+father+name": "father_or_husband_name",
    "#household+head+sex": "head_sex",
    "#adm+code+origin": "origin",
    "#loc+name+origin": "origin_village",
    "#loc+code": "current_site",
    "#contact+phone": "phone",
}
_ZIP = b"PK\x03\x04"
# A problem names the line, the column and the reason, never a cell's value, whatever its column
# (a refused file's problems are kept, and shown in its job, longer than the file; with the columns
# out of order a name or a phone may be in any column).
_FORMULA = " is a spreadsheet formula"
_MISSING = "required column is missing from the header"  # core.tabular's words
_YES = {"1", "true", "yes", "y"}
_NO = {"0", "false", "no", "n"}


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def workbook_as_csv(data: bytes) -> bytes:
    """The first sheet of a workbook as CSV bytes (row n of the sheet is line n of the CSV)."""
    from python_calamine import CalamineWorkbook

    check_upload(data)
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = workbook.get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own error types for damaged or unknown files
        raise InvalidInput([Problem(None, "file", f"not a readable XLSX workbook: {exc}")]) from exc
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        # A cell with a line break would shift the line numbers of the rows below it.
        writer.writerow([_cell_text(value).replace("\r", " ").replace("\n", " ") for value in row])
    return out.getvalue().encode("utf-8")


def _guess_document_type(number: str) -> str:
    """A number without its type: digits are a CNIC (checked as one) unless they are an old NIC's 11."""
    text = number.strip()
    if not text:
        return "none"
    if any(c.isalpha() for c in text):
        return "other"
    digits = "".join(c for c in text if c.isdigit())
    return "old_nic" if len(digits) == 11 else "cnic"


class _Cells:
    """The typed cells of one row. A value that cannot be read is a problem that says what is
    wrong with it and never quotes it (unlike core.tabular's readers): with the columns out of
    order, any column may hold a name, an identity number or a phone."""

    def __init__(self, record: TableRow, problems: list[Problem]) -> None:
        self.record = record
        self.problems = problems

    def text(self, column: str) -> str:
        return self.record.get(column)

    def _refuse(self, column: str, reason: str) -> None:
        self.problems.append(
            Problem(self.record.line, column, f"{reason} ({value_holds(self.text(column), in_file=True)})")
        )

    def count(self, column: str) -> int | None:
        """A whole number (a member count): `3`, or `3.0` as a spreadsheet writes it."""
        raw = ascii_digits(self.text(column))
        if not raw:
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            self._refuse(column, "not a number")
            return None
        if not value.is_finite() or value != value.to_integral_value():
            self._refuse(column, "not a whole number")
            return None
        if abs(value) > SMALL_INTEGER_MAX:
            self._refuse(column, f"a whole number from 0 to {MEMBERS_MAX}; this one is far larger")
            return None
        return int(value)

    def boolean(self, column: str) -> bool | None:
        raw = self.text(column).lower()
        if not raw:
            return None
        if raw in _YES:
            return True
        if raw in _NO:
            return False
        self._refuse(column, "not yes or no")
        return None

    def date(self, column: str) -> dt.date | None:
        raw = self.text(column)
        if not raw:
            return None
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            self._refuse(column, "not a date written YYYY-MM-DD")
            return None


def _row(record: TableRow, problems: list[Problem]) -> HouseholdInput:
    cells = _Cells(record, problems)
    number = cells.text("document_number")
    members = {name: cells.count(name) for name in MEMBER_NAMES}
    return HouseholdInput(
        head_name=cells.text("head_name"),
        father_or_husband_name=cells.text("father_or_husband_name"),
        head_sex=cells.text("head_sex"),
        document_type=cells.text("document_type") or _guess_document_type(number),
        document_number=number,
        phone=cells.text("phone"),
        members=members,
        elderly_headed=bool(cells.boolean("elderly_headed")),
        disabled_member=bool(cells.boolean("disabled_member")),
        landless=bool(cells.boolean("landless")),
        other_vulnerability=cells.text("other_vulnerability"),
        origin=cells.text("origin"),
        origin_village=cells.text("origin_village"),
        current_site=cells.text("current_site"),
        house_damage=cells.text("house_damage"),
        elevation_band=cells.text("elevation_band"),
        consent=cells.boolean("consent"),
        registered_on=cells.date("registered_on"),
    )


def _without_cell_values(problems: list[Problem]) -> list[Problem]:
    """The reading's problems, the cell a formula's problem quotes left out of its reason (any
    column's: with the columns out of order, any may hold a name or a number)."""
    kept = []
    for problem in problems:
        _value, formula, rest = problem.reason.partition(_FORMULA)
        if formula:
            problem = Problem(problem.row, problem.field, f"the cell{formula}{rest}")
        kept.append(problem)
    return kept


def _without_header(problems: list[Problem]) -> list[Problem] | None:
    """One problem for a file whose first line names none of the required columns: its first line
    is a household's (the header left out) or another file's header. Its cells are not named: they
    may be a family's name and numbers. None for a file with a header of ours."""
    missing = {p.field for p in problems if p.reason == _MISSING}
    if missing != set(REQUIRED):
        return None
    return [
        Problem(
            1,
            "header",
            "the first line names none of the required columns "
            f"({', '.join(REQUIRED)}): a file starts with its header row; add it, or correct its names",
        )
    ]


def parse_households(
    data: bytes, filename: str = ""
) -> tuple[list[tuple[int, HouseholdInput]], list[Problem]]:
    """The rows of a registration file with their lines, and the problems of reading them."""
    if not data.strip():
        raise InvalidInput([Problem(None, "file", "the file is empty")])
    suffix = PurePosixPath(filename.lower()).suffix
    if suffix in {".xlsx", ".xlsm"} or (suffix not in {".csv", ".txt"} and data.startswith(_ZIP)):
        data = workbook_as_csv(data)
    try:
        table = read_csv(data, required=REQUIRED, optional=OPTIONAL, hxl_tags=HXL_TAGS)
    except InvalidInput as exc:
        raise InvalidInput(_without_header(exc.problems) or _without_cell_values(exc.problems)) from exc
    # A misspelt or unknown column would leave its values out unseen: the file is refused instead.
    unknown = unknown_columns(table, [*REQUIRED, *OPTIONAL])
    if unknown:
        raise InvalidInput(unknown)
    if not any(table.has(name) for name in MEMBER_NAMES):
        raise InvalidInput(
            [Problem(1, "members", f"the header needs the member columns: {', '.join(MEMBER_NAMES)}")]
        )
    problems: list[Problem] = []
    rows = [(record.line, _row(record, problems)) for record in table.rows]
    if not rows:
        raise InvalidInput([Problem(None, "file", "the file has a header but no households")])
    return rows, problems
