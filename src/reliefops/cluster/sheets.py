"""Reading partners' spreadsheets as they come: CSV in any common encoding and delimiter, and
workbooks (XLSX, XLSM, XLS, ODS) through calamine, one sheet at a time.

A sheet is a name and its rows, each with the row number the partner sees in the spreadsheet
(the line of a CSV file), so that every problem can point at it. Cells are text, numbers, dates,
or `ExcelError` for cells that hold an Excel error (`#N/A`, `#VALUE!`): calamine reads those as
empty cells, so for XLSX they are read from the sheet's XML and put back. So is a formula whose
result the file does not hold (`FormulaWithoutValue`), which calamine reads as an empty cell too.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import itertools
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from operator import methodcaller
from pathlib import PurePosixPath
from typing import Any, ClassVar, overload
from xml.etree import ElementTree

from reliefops.core.errors import InvalidInput, Problem
from reliefops.core.uploads import (
    check_cells,
    check_no_nul,
    check_upload,
    may_hold_escaped_text,
    may_hold_formulas,
    unescape_rows,
)

EXCEL_ERRORS = frozenset(
    {"#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NAME?", "#NULL!", "#GETTING_DATA", "#SPILL!", "#CALC!"}
)
WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"})
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"


class RowProblem(Problem):
    """A problem on a row of a spreadsheet (or a line of a CSV file): "row 14, #adm2+code: …"."""

    where_word: ClassVar[str] = "row"


class ExcelError(str):
    """The text of an Excel error cell (`#N/A`); a value that is not one."""

    __slots__ = ()


class FormulaWithoutValue(str):
    """A formula cell whose result the file does not hold, as a program that does not compute
    formulas writes it (openpyxl, some exporters): its text is the formula (`=P3`), or `=` alone
    for a formula shared with a cell above it. Its value is unknown, and never read as empty."""

    __slots__ = ()

    @property
    def formula(self) -> str:
        """The formula as the cell's refusal shows it, '' when it is another cell's (shared)."""
        return str(self) if len(self) > 1 else ""


Cell = str | int | float | dt.date | dt.datetime | ExcelError | FormulaWithoutValue


class LineRows(Sequence[list[str]]):
    """The rows of a CSV text that holds no quote character, one a line, each split at the
    delimiter only when it is read, as csv_rows() would have split it.

    Reading a large part of a file this way, row after row, lets each row's cells go once checked:
    600,000 4W rows are read and checked in 3.1 s, against 3.7 s when every row's cells are made
    first (640 MB of small strings, built, then walked again, then freed)."""

    def __init__(self, lines: list[str], delimiter: str) -> None:
        self.lines = lines  # the text's lines, without their line ends
        self.delimiter = delimiter

    def __len__(self) -> int:
        return len(self.lines)

    @overload
    def __getitem__(self, index: int) -> list[str]: ...

    @overload
    def __getitem__(self, index: slice) -> list[list[str]]: ...

    def __getitem__(self, index: int | slice) -> list[str] | list[list[str]]:
        if isinstance(index, slice):
            return [self._split(line) for line in self.lines[index]]
        return self._split(self.lines[index])

    def __iter__(self) -> Iterator[list[str]]:
        delimiter = self.delimiter
        for line in self.lines:
            yield line.split(delimiter) if line else []

    def _split(self, line: str) -> list[str]:
        return line.split(self.delimiter) if line else []

    def split_from(self, start: int, stop: int) -> Iterator[list[str]]:
        """Rows start to stop, as iterating gives them but split without a Python call a row: an
        empty line comes as one empty cell ([""]), an empty row all the same."""
        return map(methodcaller("split", self.delimiter), itertools.islice(self.lines, start, stop))


@dataclass
class Sheet:
    """One table of a file: its rows of cells, and the row number the partner sees for each (the
    line of a CSV file); `lines` is None when row i is simply number i + 1."""

    name: str
    rows: list[list[Any]] | LineRows
    lines: Sequence[int] | None = None
    notes: list[str] = field(default_factory=list)
    # The cells (row index, column) holding a FormulaWithoutValue: a workbook's alone.
    formulas: list[tuple[int, int]] = field(default_factory=list)

    def line(self, index: int) -> int:
        return self.lines[index] if self.lines is not None else index + 1

    def numbered(self, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, list[Any]]]:
        """(row number, cells) from the start-th row."""
        end = len(self.rows) if stop is None else min(stop, len(self.rows))
        for index in range(start, end):
            yield self.line(index), self.rows[index]


def is_workbook(data: bytes, filename: str = "") -> bool:
    suffix = PurePosixPath(filename.lower()).suffix
    if suffix in WORKBOOK_SUFFIXES:
        return True
    if suffix in {".csv", ".txt", ".tsv"}:
        return False
    return data.startswith((_ZIP_MAGIC, _OLE_MAGIC))


# --- CSV -----------------------------------------------------------------------------------------


def decode_csv(data: bytes) -> tuple[str, str | None]:
    """The text of a CSV file and a note on its encoding when it was not UTF-8.

    Excel saves "CSV" in the computer's code page (Windows-1252 in most offices), so bytes that
    are not UTF-8 are read as Windows-1252; UTF-16 files (Excel's "Unicode text") are recognised
    by their byte-order mark.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "read as UTF-16 text"
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "not UTF-8: read as Windows-1252 (Excel's 'CSV' on Windows)"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "not UTF-8: read as Latin-1"


def _delimiter(text: str) -> str:
    """Comma, semicolon (Excel in many European locales) or tab, by the first lines of the file."""
    head = [line for line in text[:20000].splitlines()[:30] if line.strip()]
    if not head:
        return ","
    counts = {d: sum(line.count(d) for line in head) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


_OTHER_LINE_ENDS = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


def csv_rows(text: str, delimiter: str = ",") -> tuple[list[list[str]], list[int] | None]:
    """The rows of a CSV text exactly as `csv.reader` reads them, and the line each row starts on
    when some quoted cell runs over several lines (None when row i is line i + 1).

    Most lines of a 4W file hold no quote character. Such a line is one row whose cells are the
    line split at the delimiter, faster than the csv module reads it (a million 4W rows: 1.3 s
    instead of 2.2 s); a line that holds a quote is read by csv.reader, with the following lines
    when a quoted cell runs on.
    InvalidInput names the line of a text the csv module cannot read (a cell over the size limit).
    """
    limit = csv.field_size_limit()
    # The lines of the text with their ends (\n, \r\n or \r), as csv sees them: splitlines() does
    # that faster than reading a StringIO, when the text holds none of the other characters that
    # splitlines() also takes for line ends.
    if any(end in text for end in _OTHER_LINE_ENDS):
        source = iter(io.StringIO(text, newline=""))
    else:
        source = iter(text.splitlines(keepends=True))
    rows: list[list[str]] = []
    append = rows.append
    starts: list[int] | None = None
    line = 0  # the lines read so far
    for text_line in source:
        line += 1
        if '"' not in text_line and len(text_line) <= limit:
            body = text_line.rstrip("\r\n")  # a line holds at most one line end, at its end
            append(body.split(delimiter) if body else [])
            if starts is not None:
                starts.append(line)
            continue
        reader = csv.reader(itertools.chain((text_line,), source), delimiter=delimiter)
        try:
            row = next(reader)
        except csv.Error as exc:
            where = line + max(reader.line_num - 1, 0)
            raise InvalidInput([Problem(where, "file", f"not readable as CSV: {exc}")]) from exc
        append(row)
        if starts is not None:
            starts.append(line)
        if reader.line_num > 1:  # the quoted cell ran over the next lines, read with it
            if starts is None:
                starts = list(range(1, len(rows) + 1))
            line += reader.line_num - 1
    return rows, starts


def _column_names(rows: Sequence[Sequence[Any]]) -> Sequence[Any]:
    """What a refusal of a cell calls its column: the hashtag row's tags when one of the first rows
    is mostly hashtags (under titles and legends), else the first row's headers."""
    for cells in rows[:30]:
        filled = [str(c).strip() for c in cells if c is not None and str(c).strip()]
        if filled and 2 * sum(1 for c in filled if c.startswith("#")) > len(filled) >= 2:
            return cells
    return rows[0] if rows else ()


def read_csv_sheet(data: bytes, name: str = "") -> Sheet:
    text, note = decode_csv(data)
    check_no_nul(text)
    delimiter = _delimiter(text)
    rows, lines = csv_rows(text, delimiter)
    if may_hold_formulas(text):
        check_cells(rows, lines=lines, headers=_column_names(rows))
    if may_hold_escaped_text(text):
        unescape_rows(rows)
    return Sheet(name=name, rows=rows, lines=lines, notes=_csv_notes(note, delimiter))


def _csv_notes(encoding_note: str | None, delimiter: str) -> list[str]:
    notes = [encoding_note] if encoding_note else []
    if delimiter != ",":
        notes.append("columns separated by " + ("semicolons" if delimiter == ";" else "tabs"))
    return notes


HEAD_ROWS = 60  # the rows `split_csv` reads first, to find the table's headers and hashtags in


class ReadWhole(Exception):
    """A part of a split CSV text is not read on its own: a cell of it may be a formula (the cells
    are then checked one by one), or the csv module refuses it. Read the file whole instead."""


@dataclass
class SplitCsv:
    """A large CSV file whose rows are read in two parts, each in its own process (see
    `split_csv`). `head` holds the file's first rows, to find the table in; `part(0)` and `part(1)`
    are the two parts as sheets whose row numbers are the file's lines."""

    text: str
    cut: int  # where the second part starts in the text: right after a line end
    lines_before: int  # the lines of the first part
    delimiter: str
    head: Sheet  # its name and notes are those of each part

    def part(self, index: int) -> Sheet:
        """The rows of one part (split as they are read: LineRows); ReadWhole when the part is not
        to be read on its own."""
        text = self.text[: self.cut] if index == 0 else self.text[self.cut :]
        if may_hold_formulas(text) or may_hold_escaped_text(text):
            raise ReadWhole
        rows: list[list[Any]] | LineRows
        if any(end in text for end in _OTHER_LINE_ENDS):
            try:
                rows, _ = csv_rows(text, self.delimiter)  # one row a line: the text holds no quote
            except InvalidInput as exc:  # read whole, the problem names the file's own line
                raise ReadWhole from exc
        else:
            # The lines csv_rows() would read, each a row (the text holds no quote). A cell longer
            # than the csv module takes is refused by it: read whole, for the problem to name it.
            text_lines = text.splitlines()
            limit = csv.field_size_limit()
            if len(text) > limit and any(
                len(cell) > limit
                for line in text_lines
                if len(line) > limit
                for cell in line.split(self.delimiter)
            ):
                raise ReadWhole
            rows = LineRows(text_lines, self.delimiter)
        lines = None
        if index == 0 and len(rows) != self.lines_before:
            raise RuntimeError("the first part of the CSV text has not the lines counted in it")
        if index == 1:
            lines = range(self.lines_before + 1, self.lines_before + 1 + len(rows))
        return Sheet(self.head.name, rows, lines, notes=list(self.head.notes))


def split_csv(data: bytes, filename: str = "", share: float = 0.6) -> SplitCsv | None:
    """The CSV file in two parts, the second beginning at the first line after `share` of its text;
    None when it cannot be split that way: a workbook, an empty file, or a text holding a quote
    (a quoted cell may run over a line end, so a line would not always be a row). The checks of
    `read_sheets` on the whole file (size, lines, NUL characters) are made here."""
    if _is_workbook_upload(data, filename) or not data.strip():
        return None
    check_upload(data, filename=filename)
    text, note = decode_csv(data)
    if '"' in text:
        return None
    check_no_nul(text)
    newline = text.find("\n", int(len(text) * share))
    if newline < 0 or newline + 1 >= len(text):
        return None
    cut = newline + 1
    # The lines of the first part, as csv_rows() counts them: each \r\n, lone \r and lone \n ends one.
    lines_before = text.count("\n", 0, cut)
    if "\r" in text:  # a quick search first: most files end their lines with \n alone
        lines_before += text.count("\r", 0, cut) - text.count("\r\n", 0, cut)
    if lines_before <= HEAD_ROWS:
        return None
    delimiter = _delimiter(text)
    head_end = 0  # after the HEAD_ROWS-th \n, or the last one of the first part
    for _ in range(HEAD_ROWS):
        found = text.find("\n", head_end, cut)
        if found < 0:
            break
        head_end = found + 1
    head_rows, _ = csv_rows(text[:head_end], delimiter)
    head = Sheet(PurePosixPath(filename).name, head_rows, None, notes=_csv_notes(note, delimiter))
    return SplitCsv(text, cut, lines_before, delimiter, head)


# --- workbooks -----------------------------------------------------------------------------------

_CELL_TAG = re.compile(rb"<(?:\w+:)?c\b([^>]*)>")
_ATTR_R = re.compile(rb'\br="([A-Z]+)(\d+)"')
_ATTR_T_ERROR = re.compile(rb'\bt="e"')
_ATTR_T_TEXT = re.compile(rb'\bt="str"')
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
_SHEET_DATA = re.compile(rb"<(\w+:)?sheetData\b")
_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}


def _column_index(letters: bytes) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + (letter - 64)
    return index - 1


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> the XML part holding it, from the workbook and its relationships."""
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))  # noqa: S314 - a local upload, no entities
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))  # noqa: S314
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels.findall("rel:Relationship", _NS)}
    parts: dict[str, str] = {}
    for sheet in workbook.findall("m:sheets/m:sheet", _NS):
        target = targets.get(sheet.get(f"{{{_NS['r']}}}id"), "")
        if target:
            path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            parts[sheet.get("name", "")] = path
    return parts


def _formula_without_value(prefix: bytes) -> re.Pattern[bytes]:
    """A formula element (`<f>P3</f>`, or `<f t="shared" si="0"/>`) followed by no value, or by an
    empty one (`<v />`, as openpyxl writes it), up to the end of its cell. The search starts at the
    formula element, which a regular expression finds fast, and fails at once on the value that
    follows a formula in a file saved by a spreadsheet program (`<v>120</v>`)."""
    p = re.escape(prefix)
    return re.compile(
        rb"<" + p + rb"f\b[^>]*?(?:/>|>([^<]*)</" + p + rb"f>)\s*(?:<" + p + rb"v\s*/>|<" + p + rb"v>\s*</"
        + p + rb"v>)?\s*</" + p + rb"c>"
    )  # fmt: skip


def _unread_cells(xml: bytes) -> dict[tuple[int, int], ExcelError | FormulaWithoutValue]:
    """{(row, column) zero-based: the cell} of the cells of a sheet's XML that calamine reads as
    empty: those holding an Excel error, and formulas whose result was not saved."""
    cells: dict[tuple[int, int], ExcelError | FormulaWithoutValue] = {}
    if b't="e"' in xml:
        for match in _CELL_TAG.finditer(xml):
            attrs = match.group(1)
            if not _ATTR_T_ERROR.search(attrs):
                continue
            ref = _ATTR_R.search(attrs)
            value = _VALUE.search(xml, match.end(), match.end() + 2000)
            if ref and value:
                row, col = int(ref.group(2)) - 1, _column_index(ref.group(1))
                cells[(row, col)] = ExcelError(value.group(1).decode("utf-8", "replace"))
    data = _SHEET_DATA.search(xml)
    prefix = (data.group(1) or b"") if data else b""
    # A sheet with formulas holds a formula's end (a shared formula's first cell holds its text):
    # a quicker search than of its start, on the XML of a sheet without any.
    if b"</" + prefix + b"f>" not in xml:
        return cells
    cell_start = b"<" + prefix + b"c "
    for match in _formula_without_value(prefix).finditer(xml, data.end() if data else 0):
        start = xml.rfind(cell_start, 0, match.start())
        attrs = xml[start : match.start()] if start >= 0 else b""
        ref = _ATTR_R.search(attrs)
        # A text formula's empty result is saved as an empty value: `t="str"` with `<v></v>`.
        if ref is None or (_ATTR_T_TEXT.search(attrs) and b"<" + prefix + b"v" in match.group(0)):
            continue
        formula = html.unescape(match.group(1).decode("utf-8", "replace")).strip() if match.group(1) else ""
        row, col = int(ref.group(2)) - 1, _column_index(ref.group(1))
        cells.setdefault((row, col), FormulaWithoutValue("=" + formula))
    return cells


def xlsx_unread_cells(data: bytes) -> dict[str, dict[tuple[int, int], ExcelError | FormulaWithoutValue]]:
    """Sheet name -> {(row, column) zero-based: the cell} of the cells calamine reads as empty but
    which are not (see `_unread_cells`), for XLSX files."""
    found: dict[str, dict[tuple[int, int], ExcelError | FormulaWithoutValue]] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name, part in _sheet_parts(archive).items():
                found[name] = _unread_cells(archive.read(part))
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError):
        return {}
    return found


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        return ExcelError(text) if text in EXCEL_ERRORS else text
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time() else value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.time | dt.timedelta):
        return str(value)
    return value


def read_workbook(data: bytes) -> list[Sheet]:
    """Every sheet of a workbook, in the workbook's order."""
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises its own error types for damaged or unknown files
        raise InvalidInput(
            [Problem(None, "file", f"not a readable workbook (XLSX, XLS or ODS): {exc}")]
        ) from exc
    unread = xlsx_unread_cells(data) if data.startswith(_ZIP_MAGIC) else {}
    sheets: list[Sheet] = []
    for name in workbook.sheet_names:
        sheet = workbook.get_sheet_by_name(name)
        first_row, first_col = sheet.start or (0, 0)
        rows: list[list[Any]] = []
        for values in sheet.iter_rows():
            cells = [_cell(v) for v in values]
            rows.append([""] * first_col + cells if first_col else cells)
        sheet_unread = unread.get(name, {})
        if sheet_unread and not rows:  # a sheet of such cells alone is, to calamine, empty
            first_row = min(row for row, _ in sheet_unread)
        # Cells are checked (formulas written as text, NUL characters) before those calamine read
        # as empty are put back: a formula without its result is refused by the reader of its value.
        lines = list(range(first_row + 1, first_row + 1 + len(rows))) if first_row else None
        check_cells(rows, lines=lines, headers=_column_names(rows))
        formulas: list[tuple[int, int]] = []
        for (row, col), value in sorted(sheet_unread.items()):
            index = row - first_row
            if index < 0:
                continue  # above the rows calamine read: above the table
            if index >= len(rows):  # a last row of such cells alone, which calamine leaves out
                rows.extend([] for _ in range(index + 1 - len(rows)))
            cells = rows[index]
            if col >= len(cells):
                cells.extend([""] * (col + 1 - len(cells)))
            cells[col] = value
            if isinstance(value, FormulaWithoutValue):
                formulas.append((index, col))
        if first_row and (lines is None or len(lines) != len(rows)):
            lines = list(range(first_row + 1, first_row + 1 + len(rows)))
        sheets.append(Sheet(name=name, rows=rows, lines=lines, formulas=formulas))
    return sheets


def read_sheets(data: bytes, filename: str = "") -> list[Sheet]:
    """The tables of an uploaded file: one for CSV, one per sheet for a workbook. A text file
    named as a workbook (a CSV file renamed .xls) is read as the CSV file it is, and said so."""
    if not data.strip():
        raise InvalidInput([Problem(None, "file", "the file is empty")])
    check_upload(data, filename=filename)
    if _is_workbook_upload(data, filename):
        if not data.startswith((_ZIP_MAGIC, _OLE_MAGIC)):
            kind = _text_kind(data)
            suffix = PurePosixPath(filename.lower()).suffix or "a workbook's name"
            if kind == "markup":
                raise InvalidInput(
                    [
                        Problem(
                            None,
                            "file",
                            f"the file is named {suffix} but is a web page or XML text, not a workbook; open "
                            "it in the spreadsheet program and save it as XLSX or CSV",
                        )
                    ]
                )
            if kind == "text":
                sheet = read_csv_sheet(data, name=PurePosixPath(filename).name)
                sheet.notes.insert(0, f"the file is named {suffix} but holds text: read as a CSV file")
                return [sheet]
        return read_workbook(data)
    return [read_csv_sheet(data, name=PurePosixPath(filename).name)]


def _text_kind(data: bytes) -> str:
    """'text' when a file's first bytes read as text (a CSV file), 'markup' when as HTML or XML
    (a page or an XML spreadsheet saved as .xls), '' when they are binary."""
    head = data[:8192]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "text"  # UTF-16 text, as Excel's "Unicode text" writes it
    if any(byte < 9 or 13 < byte < 32 for byte in head):
        return ""
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith((b"<html", b"<!doctype", b"<?xml", b"<table", b"<head", b"<body")):
        return "markup"
    return "text"


def is_workbook_data(data: bytes, filename: str = "") -> bool:
    """Whether a file is read as a workbook: named or made as one, and not text under a workbook's name."""
    if not _is_workbook_upload(data, filename):
        return False
    return data.startswith((_ZIP_MAGIC, _OLE_MAGIC)) or _text_kind(data) not in {"text", "markup"}


def _is_workbook_upload(data: bytes, filename: str) -> bool:
    return is_workbook(data, filename) or data.startswith(_ZIP_MAGIC)  # a workbook named .csv is one still
