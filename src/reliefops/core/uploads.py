"""Limits on what an importer reads, checked before a file is parsed.

Every importer (reference data, households, the cluster's 4W and needs, boundaries) calls
`check_upload` on the raw bytes first, so that a hostile or broken file is refused with a clear
message, in bounded time and memory, before anything is parsed or written:

- a file larger than `RELIEFOPS_IMPORT_MAX_BYTES`;
- a text file (CSV, GeoJSON) with more lines than `RELIEFOPS_IMPORT_MAX_ROWS` (a file of millions
  of empty lines is small on disk but would become millions of rows in memory);
- a workbook (XLSX, ODS: a zip archive) that would decompress to more than
  `RELIEFOPS_IMPORT_MAX_UNZIPPED` bytes, or one of whose large parts is compressed more than
  `RELIEFOPS_IMPORT_MAX_ZIP_RATIO` times (a zip bomb), or that is damaged or truncated. The sizes the
  archive declares are checked first; then each part is decompressed in chunks with the count kept,
  so an archive that lies about its sizes is stopped at the limit too.

A cell longer than `RELIEFOPS_IMPORT_MAX_CELL` characters is refused by the CSV readers themselves
(the limit is set as the csv module's field size limit) and by `check_cells` for workbooks.
`check_cells` also refuses a text cell that a spreadsheet would run as a formula (`=HYPERLINK(…)`,
`@SUM(…)`, `+cmd|…`): such a value is never data, and once stored it would reach every export.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings

from reliefops.core.errors import InvalidInput, Problem

ZIP_MAGIC = b"PK\x03\x04"
# Parts smaller than this may be compressed any amount (a sheet of one repeated value is).
RATIO_FLOOR = 16 * 1024 * 1024
_CHUNK = 1024 * 1024


def _refuse(reason: str, row: int | None = None, field: str = "file") -> InvalidInput:
    return InvalidInput([Problem(row, field, reason)])


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):,.1f} MiB"


def check_upload(data: bytes, *, filename: str = "") -> None:
    """Refuse a file that is too big, has too many lines, or is a workbook that is a zip bomb."""
    max_bytes = settings.IMPORT_MAX_BYTES
    if len(data) > max_bytes:
        raise _refuse(f"the file is {_mib(len(data))}; files of at most {_mib(max_bytes)} are read")
    csv.field_size_limit(settings.IMPORT_MAX_CELL)
    if data.startswith(ZIP_MAGIC):
        check_workbook_archive(data)
    else:
        check_line_count(data)


def check_no_nul(text: str) -> None:
    """Refuse a text file holding a NUL character: no cell of ours holds one, PostgreSQL cannot store
    one, and in a CSV it usually means UTF-16 text that lost its byte-order mark."""
    at = text.find("\x00")
    if at >= 0:
        line = text.count("\n", 0, at) + 1
        raise _refuse(
            f"line {line} holds a NUL character (byte 0): no value may hold one. If the file is UTF-16 "
            "text, save it as CSV UTF-8",
            line,
        )


def check_upload_size(size: int | None) -> None:
    """Refuse an uploaded file by its size alone, before it is read into memory."""
    if size is not None and size > settings.IMPORT_MAX_BYTES:
        raise _refuse(
            f"the file is {_mib(size)}; files of at most {_mib(settings.IMPORT_MAX_BYTES)} are read"
        )


def check_line_count(data: bytes) -> None:
    """Refuse a text file with more lines than an import may have rows."""
    max_rows = settings.IMPORT_MAX_ROWS
    lines = data.count(b"\n")
    # (Asked first whether there is a \r at all: a quick search, where counting reads every byte.)
    if lines <= max_rows and b"\r" in data and data.count(b"\r") > max_rows:
        lines = data.count(b"\r")  # old Mac line ends
    if lines > max_rows:
        raise _refuse(
            f"the file has {lines:,} lines; an import reads at most {max_rows:,} rows "
            "(empty rows count: delete them, or split the file)"
        )


def check_workbook_archive(data: bytes) -> None:
    """Refuse a zip archive (XLSX, ODS) that is damaged, or that decompresses to too much."""
    max_total, max_ratio = settings.IMPORT_MAX_UNZIPPED, settings.IMPORT_MAX_ZIP_RATIO
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise _refuse(f"not a readable workbook: the file is damaged or truncated ({exc})") from exc
    with archive:
        members = archive.infolist()
        declared = sum(info.file_size for info in members)
        if declared > max_total:
            raise _refuse(
                f"the workbook would decompress to {_mib(declared)}; at most {_mib(max_total)} is read "
                "(is it a zip bomb?)"
            )
        for info in members:
            if info.file_size > RATIO_FLOOR and info.file_size > max_ratio * max(info.compress_size, 1):
                ratio = info.file_size // max(info.compress_size, 1)
                raise _refuse(
                    f"part {info.filename!r} of the workbook is compressed {ratio:,} times; at most "
                    f"{max_ratio:,} is accepted (is it a zip bomb?)"
                )
        # The declared sizes may lie: decompress each part with the count kept.
        total = 0
        for info in members:
            try:
                with archive.open(info) as part:
                    while chunk := part.read(_CHUNK):
                        total += len(chunk)
                        if total > max_total:
                            raise _refuse(
                                f"the workbook decompresses to more than {_mib(max_total)} "
                                "(is it a zip bomb?)"
                            )
            except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
                raise _refuse(f"not a readable workbook: part {info.filename!r} is damaged ({exc})") from exc
            except RuntimeError as exc:  # an encrypted part
                raise _refuse(f"not a readable workbook: {exc}") from exc


# A cell a spreadsheet would run as a formula: "=…", or "+", "-" or "@" before a function call or a
# DDE link ("=HYPERLINK(…)", "@SUM(…)", "+cmd|' /C calc'!A0"). Plain signed numbers do not match.
FORMULA = re.compile(r"^\s*(?:=|[+\-@]\s*[A-Za-z_][\w.]*\s*[(|!])")
_FORMULA_START = frozenset("=+-@ \t")
# A CSV text may hold such a cell when a cell starts with one of =+-@, after spaces: the character
# follows the start of the text, a line end, a delimiter (comma, semicolon, tab) or a quote, with
# only spaces between. The search looks for the character first, with a look at the character
# before it (a date's "2005-11-03" is passed over at once); a search starting at every delimiter
# took four times as long on a million-row file.
_FORMULA_CHARACTER = re.compile(r"[=+@-](?<![^\s,;\"][=+@-])")
_CELL_START = frozenset(',;\t"\n\r')

# The CSV files reliefops writes put an apostrophe before a text that starts like a formula
# ("'-NRC-77", see core.exports.neutralise), as a spreadsheet stores text typed so. Read back, the
# apostrophe is taken off, so that a download uploads again unchanged. A cell starts so when its
# apostrophe follows the start of the text, a line end, a delimiter or a quote. The search looks for
# the apostrophe and the formula character first (a search starting at every delimiter took 14 s
# on a million-row file with an apostrophe in each row; this one 0.2 s).
_ESCAPED_FORMULA = re.compile(r"'[=+\-@\t\r]")
_ESCAPED_START = frozenset("=+-@\t\r")


def may_hold_escaped_text(text: str) -> bool:
    """Whether some cell of a CSV text may start with an apostrophe before a formula character."""
    if "'" not in text:
        return False
    for found in _ESCAPED_FORMULA.finditer(text):
        at = found.start()
        if at == 0 or text[at - 1] in _CELL_START:
            return True
    return False


def unescaped(cell: str) -> str:
    """`'-NRC-77` -> `-NRC-77`: the apostrophe a reliefops CSV puts before a formula-like text."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in _ESCAPED_START else cell


def unescape_rows(rows: list[list[Any]]) -> None:
    """Take the apostrophe off every cell of `rows` that `unescaped` would (in place)."""
    for cells in rows:
        for index, cell in enumerate(cells):
            if cell.__class__ is str and cell[:1] == "'":
                cells[index] = unescaped(cell)


def formula_problem(value: str, *, row: int | None, field: str) -> Problem | None:
    """The problem of a text cell that a spreadsheet would run as a formula, if it is one."""
    if value and value[0] in _FORMULA_START and FORMULA.match(value):
        shown = value if len(value) <= 40 else value[:40] + "…"
        return Problem(
            row,
            field,
            f"{shown!r} is a spreadsheet formula; formulas are not imported (type the value itself)",
        )
    return None


# For ASCII text, a quicker first answer: the text with every character that may stand before a
# formula's first character (a delimiter, a quote, a line end, a space) made 0, and the four
# formula characters made 1. Without a 0 followed by a 1, and without a 1 at the start, no cell
# starts with a formula character; with one, the search above says whether one really does.
_BEFORE_AND_FORMULA = bytes.maketrans(b',;"\t\n\r \x0b\x0c\x1c\x1d\x1e\x1f=+@-', b"\x00" * 13 + b"\x01" * 4)


def may_hold_formulas(text: str) -> bool:
    """Whether some cell of a CSV text starts, after spaces, with =, +, - or @; only then are its
    cells looked at one by one."""
    if text.isascii():
        marked = text.encode("ascii").translate(_BEFORE_AND_FORMULA)
        if b"\x00\x01" not in marked and not marked.startswith(b"\x01"):
            return False
    for found in _FORMULA_CHARACTER.finditer(text):
        before = found.start()
        while before > 0 and text[before - 1].isspace() and text[before - 1] not in _CELL_START:
            before -= 1
        if before == 0 or text[before - 1] in _CELL_START:
            return True
    return False


def column_letter(index: int) -> str:
    """A column as a spreadsheet shows it: 0 -> "column A", 27 -> "column AB"."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return f"column {letters}"


def check_cells(
    rows: Iterable[Sequence[Any]], *, lines: Sequence[int] | None = None, headers: Sequence[Any] = ()
) -> None:
    """Refuse a sheet with a text cell longer than the limit, holding a NUL character or a formula."""
    limit = settings.IMPORT_MAX_CELL
    problems: list[Problem] = []
    for index, cells in enumerate(rows):
        for column, cell in enumerate(cells):
            if not isinstance(cell, str) or not cell:
                continue
            row = lines[index] if lines is not None else index + 1
            field = (
                str(headers[column]).strip()
                if column < len(headers) and str(headers[column] or "").strip()
                else column_letter(column)
            )
            if len(cell) > limit:
                raise _refuse(f"a cell has {len(cell):,} characters; at most {limit:,} are read", row, field)
            if "\x00" in cell:
                raise _refuse("the cell holds a NUL character (byte 0): no value may hold one", row, field)
            if cell[0] in _FORMULA_START:
                problem = formula_problem(cell, row=row, field=field)
                if problem is not None:
                    problems.append(problem)
                    if len(problems) >= 100:
                        break
    if problems:
        raise InvalidInput(problems)
