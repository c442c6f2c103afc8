"""HXL hashtags: finding the hashtag row of a sheet and which column holds which field.

A hashtag row is a row whose filled cells all start with `#` (`#org+impl`, `#adm2+code`). It may
sit under a header row and below title and legend rows; it may carry spaces and odd case
(`#Org +Impl`). A column matches a field when it has the field's hashtag and at least the field's
attributes (`#org+impl+name` is the implementing organisation); when several fields match, the
one naming the most attributes wins (`#reached+ind+f` is women and girls, not people). Columns
that match no field are kept aside, never refused.

Files without a hashtag row are read by their header text when the headers are the template's
own ("Implementing organisation", "District P-code").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reliefops.cluster.sheets import RowProblem
from reliefops.core.errors import Problem
from reliefops.core.uploads import column_letter

HEADER_SEARCH_ROWS = 30


@dataclass(frozen=True)
class Tag:
    """A hashtag and its attributes: `#org +Impl` -> Tag("#org", {"impl"})."""

    hashtag: str
    attributes: frozenset[str]

    @classmethod
    def parse(cls, text: str) -> Tag | None:
        cleaned = re.sub(r"\s+", "", str(text)).lower()
        if not cleaned.startswith("#") or len(cleaned) < 2:
            return None
        parts = cleaned.split("+")
        if not re.fullmatch(r"#[a-z][a-z0-9_]*", parts[0]):
            return None
        return cls(parts[0], frozenset(p for p in parts[1:] if p))

    def __str__(self) -> str:
        return "+".join([self.hashtag, *sorted(self.attributes)])


def tag_label(text: str) -> str:
    """What messages call a hashtag column: its hashtag in the normal form (lower case, no spaces),
    with the file's own spelling beside it when that differs (`#org+prog (written #ORG +prog)`)."""
    written = str(text).strip()
    parts = re.sub(r"\s+", "", written).lower().split("+")
    normal = "+".join(part for part in parts if part)
    return normal if normal == written else f"{normal} (written {written})"


@dataclass(frozen=True)
class FieldSpec:
    """A field of our schema, the hashtags that name it (the first is the one we write), and its
    header in the template, with other header texts that name it."""

    name: str
    tags: tuple[Tag, ...]
    header: str
    also: tuple[str, ...] = ()

    @property
    def tag(self) -> str:
        return str(self.tags[0])

    def specificity(self, tag: Tag) -> int:
        """How many attributes of the column the field names; -1 when it does not match."""
        scores = [
            len(own.attributes)
            for own in self.tags
            if own.hashtag == tag.hashtag and own.attributes <= tag.attributes
        ]
        return max(scores, default=-1)


def spec(name: str, tags: str, header: str, *also: str) -> FieldSpec:
    """`spec("funding", "#org+funder #org+donor", "Funding organisation")`."""
    parsed = tuple(Tag.parse(text) for text in tags.split())
    assert all(parsed), tags  # noqa: S101 - a constant of the caller
    return FieldSpec(name, parsed, header, also)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Column:
    index: int
    label: str  # what the messages call the column: its hashtag (see tag_label), or its header
    header: str
    tag: Tag | None
    written: str = ""  # its hashtag as the file writes it (what a column kept aside is kept under)


@dataclass
class Layout:
    """Where a sheet's table is: the hashtag (or header) row, the first data row, and the columns."""

    header_row: int | None  # row number (as the partner sees it) of the human header
    tag_row: int | None  # row number of the hashtag row; None when read by header text
    first_data: int  # index into the sheet's rows of the first data row
    fields: dict[str, Column]  # field name -> column
    kept_aside: list[Column]
    problems: list[Problem]
    score: int  # how many fields were recognised


def is_tag_row(cells: Sequence[Any]) -> bool:
    """Whether a row may be the hashtag row: its filled cells are hashtags, but for a few a partner
    wrote plain (`remarks` beside `#reached+hh`): at least two hashtags, and more than half."""
    filled = [str(c).strip() for c in cells if c is not None and str(c).strip()]
    tags = sum(1 for c in filled if c.startswith("#") and Tag.parse(c) is not None)
    return tags == len(filled) > 0 or (tags >= 2 and 2 * tags > len(filled))


def _normal_header(text: Any) -> str:
    return re.sub(r"[^a-z0-9]+", " ", str(text).lower()).strip()


def _assign(
    columns: list[Column], specs: Sequence[FieldSpec], by_tag: bool, tag_row: int | None
) -> tuple[dict[str, Column], list[Column], list[Problem]]:
    fields: dict[str, Column] = {}
    kept: list[Column] = []
    problems: list[Problem] = []
    headers = {_normal_header(text): s for s in specs for text in (s.header, *s.also)}
    for column in columns:
        chosen: FieldSpec | None = None
        if by_tag and column.tag is not None:
            scored = [(s.specificity(column.tag), s) for s in specs]
            best = max((score for score, _ in scored), default=-1)
            if best >= 0:
                chosen = next(s for score, s in scored if score == best)
        elif not by_tag:
            chosen = headers.get(_normal_header(column.header))
        if chosen is None:
            kept.append(column)
            continue
        if chosen.name in fields:
            first = fields[chosen.name]
            problems.append(
                RowProblem(
                    tag_row,
                    column.label,
                    f"two columns stand for {chosen.header.lower()} ({chosen.tag}): "
                    f"{column_letter(first.index)} and {column_letter(column.index)}; keep one",
                )
            )
            continue
        fields[chosen.name] = column
    return fields, kept, problems


def is_unnamed(column: Column) -> bool:
    """Whether the column has neither a hashtag nor a header (it is called by its letter)."""
    return column.tag is None and not column.header


def kept_keys(kept: Sequence[Column]) -> list[str]:
    """The name each kept-aside column's values are stored under: its header, else its hashtag or
    letter; a name an earlier column has already is told apart by the letter ("Remarks (column Q)")."""
    seen: set[str] = set()
    keys = []
    for column in kept:
        key = column.header or column.written or column.label
        if key in seen:
            key = f"{key} ({column_letter(column.index)})"
        seen.add(key)
        keys.append(key)
    return keys


def find_layout(rows: Sequence[tuple[int, list[Any]]], specs: Sequence[FieldSpec]) -> Layout | None:
    """The sheet's table: by its hashtag row if it has one in its first rows, else by the template's
    header texts; None when neither is found."""
    head = rows[:HEADER_SEARCH_ROWS]
    # Of the rows that look like hashtags (a title such as `#PakistanEarthquake` does too), the one
    # that names the most fields; by the headers when none names any and the headers do.
    candidates = [layout for position in range(len(head)) if (layout := _tag_layout(head, position, specs))]
    tagged = max(candidates, key=lambda layout: layout.score, default=None)
    if tagged is not None and tagged.score > 0:
        return tagged
    return _header_layout(head, specs) or tagged


def _tag_layout(
    head: Sequence[tuple[int, list[Any]]], position: int, specs: Sequence[FieldSpec]
) -> Layout | None:
    """The table under the row at `position`, if that row may be the hashtag row."""
    number, cells = head[position]
    if is_tag_row(cells):
        header_cells: list[Any] = []
        header_number: int | None = None
        for back in range(position - 1, -1, -1):
            if any(str(c).strip() for c in head[back][1]):
                header_number, header_cells = head[back]
                break
        columns = []
        # The table ends at its last column with a hashtag or a header: a workbook's rows come padded
        # to the sheet's widest, and a value beyond that column is left out, as in a CSV file.
        width = _labelled_width(cells, header_cells)
        for index, cell in enumerate(cells[:width]):
            text = str(cell).strip() if cell is not None else ""
            header = str(header_cells[index]).strip() if index < len(header_cells) else ""
            tag = Tag.parse(text) if text.startswith("#") else None
            if tag is None and text and not header:
                header = text  # a plain word in the hashtag row names its column
            # A column without a hashtag or a header is kept aside by its letter: a value there is
            # still the partner's (the note of an import names it only when some row holds one).
            label = tag_label(text) if tag is not None else header or column_letter(index)
            written = text if tag is not None else ""
            columns.append(Column(index=index, label=label, header=header, tag=tag, written=written))
        fields, kept, problems = _assign(columns, specs, True, number)
        return Layout(header_number, number, position + 1, fields, kept, problems, len(fields))
    return None


def _labelled_width(*rows: Sequence[Any]) -> int:
    """How many columns the rows label: up to the last cell holding text in any of them."""
    width = 0
    for cells in rows:
        for index in range(len(cells) - 1, width - 1, -1):
            if cells[index] is not None and str(cells[index]).strip():
                width = index + 1
                break
    return width


def _header_layout(head: Sequence[tuple[int, list[Any]]], specs: Sequence[FieldSpec]) -> Layout | None:
    """The table under the row that holds the most of the template's own headers (three at least)."""
    best: Layout | None = None
    for position, (number, cells) in enumerate(head):
        texts = [str(c).strip() if c is not None else "" for c in cells[: _labelled_width(cells, ())]]
        columns = [
            Column(index=i, label=t or column_letter(i), header=t, tag=None) for i, t in enumerate(texts)
        ]
        fields, kept, problems = _assign(columns, specs, False, number)
        if len(fields) >= 3 and (best is None or len(fields) > best.score):
            best = Layout(number, None, position + 1, fields, kept, problems, len(fields))
    return best
