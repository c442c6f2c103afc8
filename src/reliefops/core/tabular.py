"""Reading tabular input files: CSV (with an optional HXL hashtag row) into rows that keep their line.

Importers use this module to turn a file into typed values and a list of `Problem`s; the services
then check the rules that need the database. Nothing here writes.

- `read_csv` finds the header, an optional HXL row under it, the required columns, and gives each
  data row its physical line number in the file (so a message can say "line 14").
- `Cells` reads typed values from one row and records a Problem for each value it cannot parse;
  a field that could not be parsed is listed in `Cells.bad`, so that later rules skip it instead
  of reporting the same value twice.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from reliefops.core.errors import InvalidInput, Problem
from reliefops.core.uploads import (
    ZIP_MAGIC,
    check_no_nul,
    check_upload,
    formula_problem,
    may_hold_escaped_text,
    may_hold_formulas,
    unescaped,
)


@dataclass(frozen=True)
class FeatureProblem(Problem):
    """A problem in the n-th feature (counting from 1) of a GeoJSON file rather than on a line."""

    where_word = "feature"


@dataclass
class TableRow:
    """One data row: its line (or feature number) in the file and its cells by column name."""

    line: int
    values: dict[str, str]

    def get(self, column: str) -> str:
        return self.values.get(column, "")


@dataclass
class Table:
    columns: list[str]
    rows: list[TableRow]
    hxl_tags: dict[str, str] = field(default_factory=dict)

    def has(self, column: str) -> bool:
        return column in self.columns


@dataclass(frozen=True)
class ImportCounts:
    """What an import did: rows created, updated in place, and found unchanged."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def decode_text(data: bytes) -> str:
    """The file's text; InvalidInput when it is not UTF-8 (a byte-order mark is allowed), or too big."""
    if data.startswith(ZIP_MAGIC):
        raise InvalidInput(
            [
                Problem(
                    None,
                    "file",
                    "the file is a zip archive (an XLSX workbook?), not text: save it as CSV UTF-8",
                )
            ]
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InvalidInput(
            [Problem(None, "file", "the file is UTF-16 text; save it as UTF-8 (CSV UTF-8 in Excel)")]
        )
    check_upload(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InvalidInput(
            [
                Problem(
                    line,
                    "file",
                    f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8 (CSV UTF-8)",
                )
            ]
        ) from exc
    check_no_nul(text)
    return text


def column_name(header: str) -> str:
    """A header cell as a column name: `Parent P-code ` -> `parent_p-code`, `Lat` -> `lat`."""
    return re.sub(r"\s+", "_", header.strip().lower())


def _is_hxl_row(cells: Sequence[str]) -> bool:
    filled = [c.strip() for c in cells if c.strip()]
    return bool(filled) and all(c.startswith("#") for c in filled)


def hxl_key(tag: str) -> str:
    """A hashtag with its attributes in a fixed order: `#adm2 +code` -> `#adm2+code`."""
    parts = [p.strip().lower() for p in tag.strip().split("+")]
    return "+".join([parts[0].replace(" ", ""), *sorted(p for p in parts[1:] if p)])


def unknown_columns(table: Table, known: Sequence[str]) -> list[Problem]:
    """A problem on line 1 for each column of the table that is not one of `known`, naming the
    nearest of them: a misspelt header would otherwise leave its values out unseen. A column of a
    file with an HXL row that carries a hashtag this file does not use is another dataset's column
    (HXL files carry many): it is left out."""
    problems = []
    for column in table.columns:
        if column in known or column in table.hxl_tags:
            continue
        # The nearest spelling, else a column the header starts with (`latitude`: lat, `end_date`: end).
        nearest = difflib.get_close_matches(column, known, n=1, cutoff=0.6) or sorted(
            (name for name in known if column.startswith(name)), key=len, reverse=True
        )
        if nearest:
            reason = f"not a column of this file: did you mean {nearest[0]}? Rename the column or remove it"
        else:
            reason = f"not a column of this file (its columns: {', '.join(known)}); rename it or remove it"
        problems.append(Problem(1, column, reason))
    return problems


def _delimiter(text: str) -> str:
    """A comma, unless the header line holds none and holds semicolons (Excel's "CSV" in many
    European locales) or tabs (a table copied from a spreadsheet): those then part the cells."""
    first = next((line for line in text[:20000].splitlines() if line.strip()), "")
    if "," not in first:
        for other in (";", "\t"):
            if other in first:
                return other
    return ","


def read_csv(
    data: bytes,
    *,
    required: Sequence[str],
    optional: Sequence[str] = (),
    hxl_tags: Mapping[str, str] | Callable[[list[str]], Mapping[str, str]] | None = None,
) -> Table:
    """Parse CSV bytes into rows by column name; InvalidInput when the file's shape is wrong.

    `hxl_tags` maps hashtags (`#geo+lat`, attributes in alphabetical order) to column names, or is
    a function that makes that mapping from the file's hashtags: a column whose header is not one
    of ours but whose HXL tag is mapped is read under that name.
    """
    text = decode_text(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    problems: list[Problem] = []
    records: list[tuple[int, list[str]]] = []
    line = 1
    try:
        for cells in reader:
            records.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise InvalidInput([Problem(line, "file", f"not readable as CSV: {exc}")]) from exc
    records = [(n, cells) for n, cells in records if any(c.strip() for c in cells)]
    if not records:
        raise InvalidInput([Problem(None, "file", "the file is empty; it needs a header row")])

    header_line, header = records[0]
    columns = [column_name(h) for h in header]
    body = records[1:]
    tags: dict[str, str] = {}
    if body and _is_hxl_row(body[0][1]):
        tag_cells = body[0][1]
        body = body[1:]
        known = set(required) | set(optional)
        keys = [hxl_key(tag) if tag.strip() else "" for tag in tag_cells[: len(columns)]]
        mapping = hxl_tags([k for k in keys if k]) if callable(hxl_tags) else (hxl_tags or {})
        for index, tag in enumerate(tag_cells[: len(columns)]):
            if not tag.strip():
                continue
            mapped = mapping.get(keys[index])
            if mapped and columns[index] not in known and mapped not in columns:
                columns[index] = mapped
            tags[columns[index]] = tag.strip()

    seen: set[str] = set()
    for name in columns:
        if name and name in seen:
            problems.append(Problem(header_line, name, "the column appears twice in the header"))
        seen.add(name)
    for name in required:
        if name not in columns:
            problems.append(Problem(header_line, name, "required column is missing from the header"))
    if problems:
        raise InvalidInput(problems)

    rows: list[TableRow] = []
    formulas, escaped = may_hold_formulas(text), may_hold_escaped_text(text)
    for number, cells in body:
        if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns) :]):
            problems.append(
                Problem(number, "row", f"{len(cells)} values but the header has {len(columns)} columns")
            )
            continue
        if formulas:
            for name, cell in zip(columns, cells, strict=False):
                problem = formula_problem(cell, row=number, field=name or "cell")
                if problem is not None:
                    problems.append(problem)
        if escaped:
            cells = [unescaped(cell) for cell in cells]
        values = {
            name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(columns) if name
        }
        rows.append(TableRow(line=number, values=values))
    if problems:
        raise InvalidInput(problems)
    return Table(columns=[c for c in columns if c], rows=rows, hxl_tags=tags)


_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


INTEGER_MAX = 2_147_483_647  # an integer column of PostgreSQL (SQLite's hold more)
SMALL_INTEGER_MAX = 32_767  # a small integer column of PostgreSQL


class Cells:
    """Typed reading of one row's cells; every value that does not parse becomes a Problem.

    Each reader returns None for an empty cell (or a bad value) and records bad values in
    `problems` and their column in `bad`.
    """

    def __init__(self, row: TableRow, problems: list[Problem], *, feature: bool = False) -> None:
        self.row = row
        self.problems = problems
        self.bad: set[str] = set()
        self._feature = feature

    @property
    def line(self) -> int:
        return self.row.line

    def problem(self, column: str, reason: str) -> None:
        kind = FeatureProblem if self._feature else Problem
        self.problems.append(kind(self.row.line, column, reason))
        self.bad.add(column)

    def text(self, column: str) -> str:
        return self.row.get(column)

    def split(self, column: str, separator: str = ";") -> list[str]:
        """A list cell (`a; b; c`): stripped, empty parts dropped, duplicates dropped, order kept."""
        out: list[str] = []
        for part in self.text(column).split(separator):
            value = part.strip()
            if value and value not in out:
                out.append(value)
        return out

    def decimal(self, column: str) -> Decimal | None:
        raw = self.text(column)
        if not raw:
            return None
        cleaned = raw.replace(",", "") if _THOUSANDS.match(raw) else raw
        try:
            value = Decimal(cleaned)
        except InvalidOperation:
            self.problem(column, f"not a number: {raw!r}")
            return None
        if not value.is_finite():
            self.problem(column, f"not a number: {raw!r}")
            return None
        return value

    def number(self, column: str) -> float | None:
        value = self.decimal(column)
        return None if value is None else float(value)

    def integer(self, column: str, *, maximum: int = INTEGER_MAX) -> int | None:
        """A whole number from -maximum - 1 to `maximum` (by default what an integer column of
        either database holds: 2,147,483,647)."""
        value = self.decimal(column)
        if value is None:
            return None
        if value != value.to_integral_value():
            self.problem(column, f"not a whole number: {self.text(column)!r}")
            return None
        if value > maximum:
            self.problem(column, f"{self.text(column)!r} is out of range: at most {maximum:,}")
            return None
        if value < -maximum - 1:
            self.problem(column, f"{self.text(column)!r} is out of range: at least {-maximum - 1:,}")
            return None
        return int(value)

    def date(self, column: str) -> dt.date | None:
        raw = self.text(column)
        if not raw:
            return None
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            self.problem(column, f"not a date: {raw!r}; write it as YYYY-MM-DD")
            return None

    def boolean(self, column: str) -> bool | None:
        raw = self.text(column).lower()
        if not raw:
            return None
        if raw in {"1", "true", "yes", "y"}:
            return True
        if raw in {"0", "false", "no", "n"}:
            return False
        self.problem(column, f"not yes/no: {self.text(column)!r}")
        return None
