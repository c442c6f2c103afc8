"""What the cluster's file readers share: choosing the sheet that holds the table, fingerprints,
and readers that remember the texts they have read."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import Any

from reliefops.cluster.hxl import HEADER_SEARCH_ROWS, FieldSpec, Layout, find_layout, is_tag_row
from reliefops.cluster.services.report_types import RowProblem
from reliefops.cluster.sheets import Sheet
from reliefops.cluster.values import (
    BadValue,
)
from reliefops.core.errors import InvalidInput


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FileDigest:
    """file_digest() of a file, made by a thread while the file is read: hashlib lets go of the
    interpreter lock while it hashes a large buffer (128 MB: 0.3 s, then off the reading's path).
    The thread starts at start(): after a reader has forked its child, so that no thread of this
    process runs while it forks."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._value = ""
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._make, name="file-digest", daemon=True)
            self._thread.start()

    def _make(self) -> None:
        self._value = file_digest(self._data)

    def value(self) -> str:
        """The digest (made here when the thread was not started, or failed)."""
        if self._thread is not None:
            self._thread.join()
        return self._value or file_digest(self._data)


def row_digest(values: tuple[Any, ...]) -> str:
    """A short fingerprint of a row's values: equal values, equal fingerprint."""
    return text_digest(repr(values))


def text_digest(text: str) -> str:
    """row_digest() of the values whose repr() is `text`."""
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def choose_sheet(sheets: list[Sheet], specs: tuple[FieldSpec, ...]) -> tuple[Sheet, Layout, list[str]]:
    """The sheet whose table is the 4W (the most fields recognised); InvalidInput when none is."""
    found = [
        (sheet, layout)
        for sheet in sheets
        if (layout := find_layout(list(sheet.numbered(0, HEADER_SEARCH_ROWS)), specs)) is not None
    ]
    if not found:
        tags = ", ".join(s.tag for s in specs[:6])
        where = "the file" if len(sheets) == 1 else f"any of its {len(sheets)} sheets"
        lower = _tag_row_below(sheets)
        if lower is not None:
            sheet, line = lower
            named = f" of the sheet '{sheet.name}'" if len(sheets) > 1 else ""
            reason = (
                f"the hashtag row is on row {line}{named}, but the reader looks for it in the first "
                f"{HEADER_SEARCH_ROWS} rows only; delete the rows above the table's headers"
            )
        else:
            reason = (
                f"no HXL hashtag row ({tags} …) in the first {HEADER_SEARCH_ROWS} rows of {where}, and no "
                "header of the cluster template; add the hashtag row under the headers, or download the "
                "template"
            )
        raise InvalidInput([RowProblem(None, "file", reason)])
    sheet, layout = max(found, key=lambda pair: (pair[1].score, pair[1].tag_row is not None))
    notes = list(sheet.notes)
    if len(sheets) > 1:
        others = ", ".join(f"'{s.name}'" for s in sheets if s is not sheet)
        notes.insert(0, f"read the sheet '{sheet.name}'; left the other sheets alone ({others})")
        # A workbook of a sheet a month: the other months' tables are not read, and must not pass
        # for read in a note that lists them among sheets of instructions and lists.
        unread = [other.name for other, table in found if other is not sheet and _has_rows(other, table)]
        if len(unread) == 1:
            notes.insert(
                1,
                f"the sheet '{unread[0]}' holds a table with hashtags too, and was not read: one sheet is "
                "read per upload; upload it as a file of its own, or copy its rows under the table of "
                f"'{sheet.name}'",
            )
        elif unread:
            names = ", ".join(f"'{name}'" for name in unread)
            notes.insert(
                1,
                f"the sheets {names} hold tables with hashtags too, and were not read: one sheet is read "
                "per upload; upload each as a file of its own, or copy their rows under the table of "
                f"'{sheet.name}'",
            )
    if layout.tag_row is not None and layout.tag_row > 2:
        notes.append(
            f"the table starts under the hashtags on row {layout.tag_row}; rows above it were left out"
        )
    if layout.tag_row is None:
        notes.append("no hashtag row: the columns were recognised by the template's headers")
    return sheet, layout, notes


def _has_rows(sheet: Sheet, layout: Layout, search: int = 200) -> bool:
    """Whether a sheet's table holds a filled row under its headers (in its first rows)."""
    for _, cells in sheet.numbered(layout.first_data, layout.first_data + search):
        if any(cell is not None and str(cell).strip() for cell in cells):
            return True
    return False


def _tag_row_below(sheets: list[Sheet], search: int = 1000) -> tuple[Sheet, int] | None:
    """The first hashtag row found below the rows searched (in a sheet's first `search` rows)."""
    for sheet in sheets:
        for line, cells in sheet.numbered(HEADER_SEARCH_ROWS, search):
            if is_tag_row(cells) and sum(1 for c in cells if str(c).strip().startswith("#")) >= 3:
                return sheet, line
    return None


class CachedReader:
    """A reader of one kind of value with a memory of the texts it has read (and refused)."""

    __slots__ = ("cache", "read")

    def __init__(self, read: Callable[[Any], Any]) -> None:
        self.read = read
        self.cache: dict[Any, Any] = {}

    def __call__(self, raw: Any) -> Any:
        key = raw if isinstance(raw, str) else (type(raw).__name__, raw)
        try:
            found = self.cache[key]
        except KeyError:
            try:
                found = self.read(raw)
            except BadValue as exc:
                found = exc
            self.cache[key] = found
        return found
