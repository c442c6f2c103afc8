"""Tables handed out as files: CSV or XLSX, a header row and an HXL hashtag row, then the rows.

Every export of the system goes through here, so that every file answers alike:

- the first row carries the column headers, the second the HXL hashtags (`#adm2+code`,
  `#org+name`, `#item+name`, `#output+num`), so that HXL tools and our own importers read it;
- rows are written as they are read: a CSV is streamed in chunks and an XLSX is written by
  xlsxwriter in constant-memory mode to a temporary file, so a million rows never sit in memory
  as Python objects at once;
- a text cell that a spreadsheet would take for a formula (it starts with `=`, `+`, `-`, `@`, a tab
  or a carriage return) is neutralised: a leading apostrophe in CSV, a plain string cell in XLSX.
  Numbers stay numbers.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import partial
from typing import IO, Any

from django.http import FileResponse, HttpResponseBase, StreamingHttpResponse
from django.utils import timezone

FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# A cell starting with one of these is a formula (or becomes one) in Excel, LibreOffice or Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_FIRST = frozenset(FORMULA_STARTS)
CSV_CHUNK_ROWS = 500
XLSX_MAX_ROWS = 1_048_576


def neutralise(text: str) -> str:
    """`=HYPERLINK(...)` -> `'=HYPERLINK(...)`: a spreadsheet shows it as text instead of running it."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _read_path(parts: tuple[str, ...], row: Any) -> Any:
    current = row
    for part in parts:
        if current is None:
            return None
        current = current.get(part) if type(current) is dict else getattr(current, part)
    return current() if callable(current) else current


@dataclass(frozen=True)
class Column:
    """One column of an export: its header, its HXL hashtag, and how to read it from a row.

    `value` is an attribute path (`site.admin_area.pcode`, `item_code`, a dict key) or a function of
    the row. `personal` marks households' personal data, left out unless the user may export it.
    """

    header: str
    tag: str
    value: str | Callable[[Any], Any]
    width: int = 14
    personal: bool = False
    _reader: Callable[[Any], Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # The path is split once here, not once per cell: a million-row export reads it 8 million times.
        reader = self.value if callable(self.value) else partial(_read_path, tuple(self.value.split(".")))
        object.__setattr__(self, "_reader", reader)

    def read(self, row: Any) -> Any:
        return self._reader(row)


@dataclass(frozen=True)
class Table:
    """The columns of an exported table and the name of its file (without extension)."""

    name: str
    columns: tuple[Column, ...]
    sheet: str = "Data"
    notes: tuple[str, ...] = field(default=())
    # Relations the columns read, joined in the export's query (no query per row).
    related: tuple[str, ...] = field(default=())

    @property
    def personal(self) -> bool:
        return any(c.personal for c in self.columns)

    def without_personal(self) -> Table:
        return replace(self, columns=tuple(c for c in self.columns if not c.personal))

    def named(self, name: str) -> Table:
        return replace(self, name=name)


def cell(value: Any) -> Any:
    """A value as a file cell: numbers and dates as they are, choices by their value, None empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | Decimal | dt.date):
        if isinstance(value, dt.datetime):
            local = timezone.localtime(value) if timezone.is_aware(value) else value
            return local.replace(tzinfo=None, microsecond=0)
        return value
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)


def _csv_value(value: Any) -> Any:
    kind = type(value)
    if kind is str:
        return "'" + value if value[:1] in _FORMULA_FIRST else value
    if kind is int or kind is float:
        return value
    if value is None:
        return ""
    value = cell(value)
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def csv_chunks(table: Table, rows: Iterable[Any], *, hxl: bool = True) -> Iterator[bytes]:
    """The table as UTF-8 CSV in chunks of rows; the hashtag row under the header unless `hxl` is off."""
    buffer = io.StringIO()
    # Rows end in CRLF (RFC 4180), so that a carriage return inside a cell is quoted, not a row break.
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(c.header) for c in table.columns])
    if hxl:
        writer.writerow([c.tag for c in table.columns])
    pending = 0
    for row in rows:
        writer.writerow([_csv_value(c.read(row)) for c in table.columns])
        pending += 1
        if pending >= CSV_CHUNK_ROWS:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue().encode("utf-8")


def csv_bytes(table: Table, rows: Iterable[Any], *, hxl: bool = True) -> bytes:
    """The whole CSV at once, for small tables and tests."""
    return b"".join(csv_chunks(table, rows, hxl=hxl))


def xlsx_write(table: Table, rows: Iterable[Any], out: IO[bytes] | io.BytesIO) -> int:
    """Write the table as an XLSX workbook to `out` (headers, hashtags, rows, a notes sheet) and
    return the number of rows. Rows go straight to disk (xlsxwriter's constant-memory mode)."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        out,
        {
            "constant_memory": True,
            "tmpdir": tempfile.gettempdir(),
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "default_date_format": "yyyy-mm-dd",
        },
    )
    header = workbook.add_format({"bold": True, "bg_color": "#E6F0F5", "border": 1, "text_wrap": True})
    tag = workbook.add_format({"italic": True, "font_color": "#4B5868", "bg_color": "#F4F6F8"})
    date = workbook.add_format({"num_format": "yyyy-mm-dd"})
    stamp = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    sheet = workbook.add_worksheet(table.sheet[:31])
    for index, column in enumerate(table.columns):
        sheet.set_column(index, index, column.width)
    for index, column in enumerate(table.columns):
        sheet.write_string(0, index, column.header, header)
    for index, column in enumerate(table.columns):
        sheet.write_string(1, index, column.tag, tag)
    sheet.freeze_panes(2, 0)
    number = 2
    for row in rows:
        if number >= XLSX_MAX_ROWS:
            break
        for index, column in enumerate(table.columns):
            value = column.read(row)
            kind = type(value)
            if kind is str:
                if value:
                    sheet.write_string(number, index, value)
                continue
            if kind is int or kind is float:
                sheet.write_number(number, index, value)
                continue
            value = cell(value)
            if value == "":
                continue
            if isinstance(value, str):
                sheet.write_string(number, index, value)
            elif isinstance(value, dt.datetime):
                sheet.write_datetime(number, index, value, stamp)
            elif isinstance(value, dt.date):
                sheet.write_datetime(number, index, dt.datetime.combine(value, dt.time()), date)
            else:
                sheet.write_number(number, index, float(value) if isinstance(value, Decimal) else value)
        number += 1
    notes = [*table.notes]
    if number >= XLSX_MAX_ROWS:
        notes.append(f"The sheet holds the first {XLSX_MAX_ROWS - 2:,} rows, as many as XLSX can; use CSV.")
    if notes:
        about = workbook.add_worksheet("About")
        about.set_column(0, 0, 110)
        for line, note in enumerate(notes):
            about.write_string(line, 0, note)
    sheet.activate()
    workbook.close()
    return number - 2


def xlsx_bytes(table: Table, rows: Iterable[Any]) -> bytes:
    """The whole workbook at once, for small tables and tests."""
    out = io.BytesIO()
    xlsx_write(table, rows, out)
    return out.getvalue()


# A download's name holds letters, digits, '-' and '_' only: a table's name may carry a code typed by
# a user (a round's `WR/2006`), which is no path and no part of the header around it.
_NOT_IN_NAME = re.compile(r"[^A-Za-z0-9_-]+")


def filename(table: Table, fmt: str) -> str:
    """`cluster-gaps-district.csv`; anything but letters, digits, '-' and '_' becomes one '-'."""
    return f"{_NOT_IN_NAME.sub('-', table.name).strip('-') or 'download'}.{fmt}"


def export_response(table: Table, rows: Iterable[Any], fmt: str) -> HttpResponseBase:
    """A download of the table: CSV streamed as it is read, XLSX from a temporary file."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    response: HttpResponseBase
    if fmt == "csv":
        response = StreamingHttpResponse(csv_chunks(table, rows), content_type=CONTENT_TYPES["csv"])
    else:
        out = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes (and so removes) it
        xlsx_write(table, rows, out)
        out.seek(0)
        response = FileResponse(out, content_type=CONTENT_TYPES["xlsx"])
    response["Content-Disposition"] = f'attachment; filename="{filename(table, fmt)}"'
    response["Cache-Control"] = "no-store"
    return response


def iterate(rows: Any, table: Table | None = None, chunk_size: int = 2_000) -> Iterable[Any]:
    """A queryset read in chunks (no result cache), with the table's relations joined; any other
    iterable as it is."""
    if isinstance(rows, Sequence) or not callable(getattr(rows, "iterator", None)):
        return rows
    if table is not None and table.related:
        rows = rows.select_related(*table.related)
    return rows.iterator(chunk_size=chunk_size)
