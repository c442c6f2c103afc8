"""Reading 4W files — the cluster template, or any HXL-tagged CSV or workbook — into rows whose
names are resolved, with every problem of the file listed by row, column, value and reason.

The reader takes partners' files as they come: the hashtag row may sit below title and legend
rows; tags may carry spaces and odd case; a workbook may hold several sheets (the one with the
4W hashtags is read); cells may hold Excel errors; dates come in many formats; organisation
names vary in spelling and spacing; total rows are left out; columns outside the schema are
kept aside with each row. `activity_report_import_file` reads a file and applies it through the
service, all or nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from reliefops.cluster import parallel
from reliefops.cluster.hxl import Column, FieldSpec, Layout, is_unnamed, kept_keys, spec
from reliefops.cluster.importers.common import FileDigest, choose_sheet, row_digest
from reliefops.cluster.models import ActivityStatus
from reliefops.cluster.names import (
    ActivityIndex,
    Area,
    AreaIndex,
    OrganisationIndex,
    SiteIndex,
    UnknownCode,
    normal,
)
from reliefops.cluster.services.bulk import SideRows, any_current, gc_paused, key_values
from reliefops.cluster.services.report_types import (
    DELETE,
    KEPT_AS_STORED,
    Actor,
    ParsedReport,
    ReportImportResult,
    ReportRow,
    RowProblem,
    StoredState,
    refuse,
    row_fingerprint,
)
from reliefops.cluster.services.reports import activity_report_import
from reliefops.cluster.sheets import (
    FormulaWithoutValue,
    LineRows,
    ReadWhole,
    Sheet,
    SplitCsv,
    is_workbook_data,
    read_sheets,
    split_csv,
)
from reliefops.cluster.values import (
    COUNT_MAX,
    QUANTITY_MAX,
    BadValue,
    DateColumn,
    DateValue,
    DayOrder,
    before_operation,
    completed_later,
    end_before_start,
    excel_error,
    formula_without_value,
    month_end,
    read_action,
    read_day_first_unsaid,
    read_status,
    text_of,
    whole_number,
)
from reliefops.core.errors import Problem
from reliefops.core.text import counted

ACTIVITY_FIELDS: tuple[FieldSpec, ...] = (
    spec("row_id", "#meta+id", "Row ID", "id", "row id", "partner row id", "reference"),
    spec("action", "#meta+action", "Action (New / Update / Delete)", "action", "new update delete"),
    spec("reporting", "#org+reporting", "Reporting organisation"),
    spec("programming", "#org+prog", "Programming organisation"),
    spec("organisation", "#org", "Organisation", "agency"),
    spec("implementing", "#org+impl", "Implementing organisation", "implementing partner"),
    spec("funding", "#org+funder #org+donor", "Funding organisation", "donor"),
    spec("recipient", "#org+recipient", "Handed to partner (pipeline)", "handed to partner"),
    spec("activity", "#activity", "Activity"),
    spec("item", "#item", "Item"),
    spec("adm1_code", "#adm1+code", "Province P-code"),
    spec("adm1_name", "#adm1", "Province"),
    spec("adm2_code", "#adm2+code", "District P-code"),
    spec("adm2_name", "#adm2", "District"),
    spec("adm3_code", "#adm3+code", "Tehsil P-code"),
    spec("adm3_name", "#adm3", "Tehsil"),
    spec("location", "#loc", "Place or site", "place", "village", "location", "site"),
    spec("status", "#status", "Status"),
    spec("start", "#date+start", "Start date", "start"),
    spec("end", "#date+end", "End date", "end"),
    spec("quantity", "#output+num", "Quantity", "quantity"),
    spec("households", "#reached+hh", "Households", "households reached"),
    spec("people_female", "#reached+f", "Women and girls", "female"),
    spec("people_male", "#reached+m", "Men and boys", "male"),
)
SPEC_BY_NAME = {s.name: s for s in ACTIVITY_FIELDS}
TOTAL_WORDS = frozenset({"total", "totals", "grand total", "sub total", "subtotal", "sum"})
TOTAL_INITIALS = frozenset(initial for word in TOTAL_WORDS for initial in (word[0], word[0].upper()))
ROW_ID_MAX = 64
NOT_A_WITHDRAWAL = "not a withdrawal, and the file lacks the columns of its activity"  # see _end
ORGANISATION_TAG = SPEC_BY_NAME["programming"].tag  # where a file without organisations is refused
COMPLETED = ActivityStatus.COMPLETED.value
LOCATION_MAX = 200


def _count(raw: Any, maximum: int) -> int | None:
    """A whole number, fast for the plain digits most cells hold."""
    if raw.__class__ is str:
        if not raw:
            return None
        try:
            value = int(raw)
        except ValueError:
            return whole_number(raw, maximum=maximum)
        if value < 0 or value > maximum:
            return whole_number(raw, maximum=maximum)
        return value
    if raw.__class__ is int and 0 <= raw <= maximum:
        return int(raw)
    return whole_number(raw, maximum=maximum)


Problems = tuple[tuple[str, str], ...]  # (field, reason) of the values a part of a row could not read
NO_PROBLEMS: Problems = ()
PLAIN, SWAPPABLE, MONTH_FIRST_ONLY = 0, 1, 2  # how a date cell reads
# The share of a large CSV file this process reads when it splits the file with a child process,
# so that both are done at about the same time: more than half, as the child also makes its rows
# into bytes to send them back (1.9 µs a row here, against 3.9 µs to check one); less than half
# when this process also writes its own part's rows ahead (2.8 µs a row; a first upload into
# SQLite).
SHARE, OWN_AHEAD_SHARE = 0.57, 0.46


def _split_if_large(data: bytes, filename: str, share: float) -> SplitCsv | None:
    """The file in two parts, the first `share` of it and the rest, when it is a CSV file of at
    least the setting CLUSTER_PARALLEL_READ_BYTES (from RELIEFOPS_IMPORT_SPLIT_BYTES; 0: never)
    that can be split, and a second core can read one of them."""
    split_from = int(settings.CLUSTER_PARALLEL_READ_BYTES)
    if not split_from or len(data) < split_from or not parallel.available():
        return None
    return split_csv(data, filename, share)


@dataclass
class _DateFix:
    """A row whose dates may read otherwise once the column's day order is known."""

    position: int  # in the rows read
    line: int
    start: Any
    end: Any


_Checked = tuple[list[ReportRow], list[_DateFix], list[int], int, list[int]]  # see _check_rows


def _discard(*sides: SideRows | None) -> None:
    for side in sides:
        if side is not None:
            side.discard()


def _joined(first: _Checked, second: _Checked) -> _Checked:
    """The checked rows of two consecutive parts of a sheet, as if checked in one go."""
    offset = len(first[0])
    fixes = first[1] + [_DateFix(x.position + offset, x.line, x.start, x.end) for x in second[1]]
    return first[0] + second[0], fixes, first[2] + second[2], first[3] + second[3], first[4] + second[4]


class ActivityFileReader:
    """Reads one 4W sheet into ReportRows; `problems` lists every value it could not read.

    The names of a row (organisations, activity, P-codes, status) repeat from row to row, so each
    distinct combination is resolved once and remembered; the per-row work is a few dictionary
    lookups, the numbers, and the row's fingerprint. That is what lets a million rows through in
    seconds.
    """

    def __init__(self, *, reporting_org_id: int | None = None) -> None:
        self.organisations = OrganisationIndex.build()
        self.activities = ActivityIndex.build()
        self.areas = AreaIndex.build()
        self.sites = SiteIndex.build()
        self.organisation_names: dict[Any, tuple[int | None, str]] = {}  # cell -> (id, problem)
        self.reporting_default = reporting_org_id
        self.problems: list[Problem] = []
        self.notes: list[str] = []
        self.rows_read = 0
        self.sides: list[SideRows] = []
        # The distinct key values of the rows, when read by two processes (see read_split).
        self.key_values: dict[str, set[Any]] | None = None

    def read(self, sheet: Sheet, layout: Layout) -> list[ReportRow]:
        self._begin(layout)
        checked = self._check_rows(sheet, layout, layout.first_data, len(sheet.rows))
        rows = self._end(checked, layout)
        if sheet.formulas:
            rows = self._refuse_formulas_without_value(sheet, layout, rows, totals_skipped=checked[2])
        return rows

    def _refuse_formulas_without_value(
        self, sheet: Sheet, layout: Layout, rows: list[ReportRow], *, totals_skipped: list[int]
    ) -> list[ReportRow]:
        """Refuse every cell of the table holding a formula whose result the file does not hold
        (sheets.FormulaWithoutValue), and leave its row out: its value is unknown, and read as empty
        it would empty the stored one. The readers of values refuse such a cell already; this does
        for the cells read as text (a row id, a place, a column kept aside), once per file, from
        the cells the sheet lists: nothing is done a row."""
        columns = {column.index: column.label for column in layout.kept_aside}
        columns.update((column.index, column.label) for column in layout.fields.values())
        id_column = layout.fields["row_id"].index if "row_id" in layout.fields else None
        skipped = set(totals_skipped)
        withdrawn = {row.line for row in rows if row.action == DELETE}
        refused: dict[tuple[int | None, str], str] = {}
        for index, column in sheet.formulas:
            line = sheet.line(index)
            if index < layout.first_data or column not in columns or line in skipped:
                continue
            if line in withdrawn and column != id_column:  # only the id of a Delete row is read
                continue
            cell = sheet.rows[index][column]
            formula = cell.formula if isinstance(cell, FormulaWithoutValue) else ""
            refused[(line, columns[column])] = formula_without_value(formula)
        if not refused:
            return rows
        # A cell read as text may have been refused for its formula's text ("'=A3' is not a P-code").
        problems = [p for p in self.problems if refused.get((p.row, p.field), p.reason) == p.reason]
        given = {(p.row, p.field) for p in problems}
        problems += [
            RowProblem(line, name, reason)
            for (line, name), reason in refused.items()
            if (line, name) not in given
        ]
        problems.sort(key=lambda p: p.row or 0)
        self.problems[:] = problems
        lines = {line for line, _ in refused}
        return [row for row in rows if row.line not in lines]

    def read_split(
        self,
        split: SplitCsv,
        layout: Layout,
        *,
        write_ahead: bool = False,
        own_ahead: bool = False,
        forked: Callable[[], None] | None = None,
    ) -> list[ReportRow]:
        """The rows of a CSV file in two parts, the second read and checked in a child process
        while this one reads and checks the first: the same rows, problems and notes as `read`
        gives for the whole file. ReadWhole when a part is not to be read on its own.

        With `write_ahead` (an import about to insert the rows into SQLite), the child, once it has
        sent the rows of its part, writes them into a side file (bulk.SideRows), kept in
        `self.sides` if they are the rows as they are in the end. With `own_ahead` too (a first
        upload), this process writes the rows of its own part into a side file as soon as it has
        checked them, while the child still reads the larger part: the binding of those rows is
        then done while this process would otherwise wait. (Not by another child: forked with
        those rows in memory, it slowed this process down by more than it saved.) `forked` is
        called once the child is forked."""
        self._begin(layout)
        before = len(self.problems)

        def second_part() -> tuple[Any, ...]:
            sheet = split.part(1)
            out, fixes, totals_skipped, read, beyond = self._check_rows(sheet, layout, 0, len(sheet.rows))
            seen = {name: list(column.cache) for name, column in self.date_columns.items()}
            fixes_sent = [(x.position, x.line, x.start, x.end) for x in fixes]
            return (
                list(map(tuple, out)), fixes_sent, totals_skipped, read, self.problems[before:], seen, beyond,
                key_values(out),
            )  # fmt: skip

        ahead = SideRows(0, "second") if write_ahead else None
        then: Callable[[Any], None] | None = None
        if ahead is not None:
            write_second = ahead.write

            def then(sent: tuple[Any, ...]) -> None:
                write_second(sent[0])

        child = parallel.in_child(second_part, then=then)
        child.read_ahead()
        if forked is not None:
            forked()
        if ahead is not None:
            ahead.child = child
        started = time.monotonic()
        own: SideRows | None = None
        try:
            first = split.part(0)
            mine = self._check_rows(first, layout, layout.first_data, len(first.rows))
            if ahead is not None and own_ahead and mine[0] and not mine[1]:
                own = SideRows(0, "first")
                if not own.write_here(mine[0]):
                    own = None
            # The key values of this part's rows, gathered while the child still reads its own.
            own_keys = key_values(mine[0])
            # One that takes much longer than this process took is stuck, and this process reads
            # its part itself.
            theirs = child.result(timeout=60 + 2 * (time.monotonic() - started))
        except BaseException:
            _discard(ahead, own)
            child.cancel()
            raise
        if theirs is None:  # the child failed: this process reads the second part too
            _discard(ahead, own)
            second = split.part(1)
            return self._end(_joined(mine, self._check_rows(second, layout, 0, len(second.rows))), layout)
        rows, fixes_sent, totals_skipped, read, problems, seen, beyond, their_keys = theirs
        self.key_values = {column: values | their_keys[column] for column, values in own_keys.items()}
        self.problems += problems
        for name, keys in seen.items():
            self.date_columns[name].learn(keys)
        fixes = [_DateFix(*x) for x in fixes_sent]
        second_checked = (list(map(ReportRow._make, rows)), fixes, totals_skipped, read, beyond)
        if own is not None:  # its rows read no date again: they are the rows in the end
            self.sides.append(own)
        if ahead is not None:
            ahead.first, ahead.count = len(mine[0]), len(rows)
            if fixes:  # rows of the child's part may read their dates again
                ahead.discard()
            else:
                self.sides.append(ahead)
        return self._end(_joined(mine, second_checked), layout)

    def _begin(self, layout: Layout) -> None:
        f = layout.fields
        labels = {name: column.label for name, column in f.items()}
        self.labels = {s.name: labels.get(s.name, s.tag) for s in ACTIVITY_FIELDS}
        if "programming" not in f and "organisation" in f:
            self.labels["programming"] = labels["organisation"]
        self._require_columns(layout)
        # A file of withdrawals needs only the row ids, the action and whose rows they are: the
        # columns of what was done, where and when are asked for once a row is no withdrawal (_end).
        self.lacking: list[Problem] = []
        if self.problems and "row_id" in f and "action" in f:
            self.lacking = [p for p in self.problems if p.field != ORGANISATION_TAG]
            self.problems = [p for p in self.problems if p.field == ORGANISATION_TAG]
        refuse(self.problems)
        self.date_columns = {name: DateColumn(self.labels[name]) for name in ("start", "end") if name in f}
        self.first_day: dt.date = settings.OPERATION_START
        self.today = timezone.localdate()
        for column in self.date_columns.values():
            column.others = [c for c in self.date_columns.values() if c is not column]

    def _end(self, checked: _Checked, layout: Layout) -> list[ReportRow]:
        rows, fixes, totals_skipped, read, beyond = checked
        kept = [p for p in self.problems if p.reason != NOT_A_WITHDRAWAL]
        if len(kept) < len(self.problems):  # a row is no withdrawal: the file lacks its columns
            some = any(row.action == DELETE for row in rows)
            hint = (
                "; a file of withdrawals alone (Delete) needs only the row ids and the action" if some else ""
            )
            self.problems = [RowProblem(p.row, p.field, p.reason + hint) for p in self.lacking] + kept
        if totals_skipped:
            shown = ", ".join(str(n) for n in totals_skipped[:5])
            self.notes.append(f"left out {counted(len(totals_skipped), 'total row')} (row {shown})")
        if beyond:
            shown = ", ".join(str(n) for n in beyond[:5])
            self.notes.append(
                f"left out the values of {counted(len(beyond), 'row')} in cells beyond the table's last "
                f"column (row {shown}); give such a column a header or a hashtag to keep its values"
            )
        if "row_id" not in layout.fields:
            self.notes.append(
                "the file has no row ids (#meta+id): rows are matched by organisations, activity, place "
                "and dates; give ids so that a later upload can correct those"
            )
        self.rows_read = read
        self._settle_dates(rows, fixes, has_ids="row_id" in layout.fields)
        return rows

    def _require_columns(self, layout: Layout) -> None:
        f = layout.fields
        where = layout.tag_row or layout.header_row

        def missing(field_name: str, what: str) -> None:
            self.problems.append(
                RowProblem(where, SPEC_BY_NAME[field_name].tag, f"the file has no column for {what}")
            )

        if "activity" not in f and "item" not in f:
            missing("activity", "the activity (#activity)")
        places = ("adm1_code", "adm2_code", "adm3_code", "adm1_name", "adm2_name", "adm3_name", "location")
        if not any(name in f for name in places):
            missing("adm2_code", "the place: the P-code of the province, district or tehsil (#adm2+code)")
        if (
            not any(name in f for name in ("programming", "organisation", "reporting"))
            and self.reporting_default is None
        ):
            missing("programming", "the organisation (#org+prog)")
        if "status" not in f:
            missing("status", "the status (planned, ongoing or completed)")
        if "start" not in f and "end" not in f:
            missing("end", "the dates (#date+start, #date+end)")
        if "quantity" not in f and "households" not in f:
            missing("quantity", "the quantity (#output+num) or the households reached (#reached+hh)")

    def _problem(self, line: int, name: str, reason: str) -> None:
        self.problems.append(RowProblem(line, self.labels.get(name, name), reason))

    # --- the parts of a row, each resolved once per distinct combination ---------------------------

    def _organisations(self, cells: tuple[Any, ...]) -> tuple[Any, ...]:
        """(reporting, programming, implementing, funding, recipient, problems) of the org cells."""
        problems: list[tuple[str, str]] = []
        found: list[int | None] = []
        names = self.organisation_names
        for name, raw in zip(
            ("reporting", "programming", "implementing", "funding", "recipient"), cells, strict=True
        ):
            # Each name is looked up once: the five cells make many more combinations than names.
            known = names.get(raw)
            if known is None:
                try:
                    known = names[raw] = (self.organisations.resolve(raw), "")
                except BadValue as exc:
                    known = names[raw] = (None, str(exc))
            if known[1]:
                problems.append((name, known[1]))
            found.append(known[0])
        reporting, programming, implementing, funding, recipient = found
        bad = {name for name, _ in problems}
        if reporting is None and "reporting" not in bad:
            reporting = self.reporting_default if self.reporting_default is not None else programming
        if reporting is None and not bad:
            problems.append(
                (
                    "programming",
                    "the organisation is empty: name the reporting (#org+reporting) or the programming "
                    "organisation, or choose the organisation the file reports for",
                )
            )
        if programming is None:
            programming = reporting
        if implementing is None:
            implementing = programming
        if recipient is not None and recipient == implementing:
            problems.append(
                (
                    "recipient",
                    f"{self.organisations.label(recipient)} hands the items to itself; leave the column "
                    "empty when the organisation distributes them",
                )
            )
        digest_part = (programming, implementing, funding, recipient)
        return (
            reporting, programming, implementing, funding, recipient, tuple(problems), digest_part,
            repr(digest_part),
        )  # fmt: skip

    def _activity(self, cells: tuple[Any, Any]) -> tuple[int | None, Problems]:
        raw_activity, raw_item = cells
        activity: int | None = None
        if text_of(raw_activity):
            try:
                activity = self.activities.resolve(raw_activity)
            except BadValue as exc:
                activity = self.activities.by_item(raw_item) if text_of(raw_item) else None
                if activity is None:
                    return None, (("activity", str(exc)),)
        elif text_of(raw_item):
            try:
                activity = self.activities.named_by_item(raw_item)
            except BadValue as exc:
                return None, (("item", str(exc)),)
        else:
            return None, (("activity", "the activity is empty"),)
        if (
            activity is not None
            and text_of(raw_item)
            and self.activities.item_matches(activity, raw_item) is False
        ):
            own = self.activities.by_id[activity]
            reason = f"'{text_of(raw_item)}' is not the item of {own.name.lower()} ({own.item})"
            return None, (("item", reason),)
        return activity, NO_PROBLEMS

    def _area(
        self, cells: tuple[Any, ...], codes: list[int], names: list[int]
    ) -> tuple[Area | None, Problems]:
        """The admin area of the P-code cells (deepest first) and, failing those, of the name cells."""
        by_depth = dict(zip(codes, cells[: len(codes)], strict=True))
        name_cells = dict(zip(names, cells[len(codes) : len(codes) + len(names)], strict=True))
        given: list[tuple[int, Area]] = []
        problems: list[tuple[str, str]] = []
        for depth, raw in by_depth.items():
            if raw == "" or raw is None:
                continue
            try:
                area = self.areas.code(raw, depth)
            except UnknownCode as exc:
                # The row's own name of the place says more than the P-code nearest in spelling.
                hint = self.areas.name_hint(name_cells[depth], depth) if depth in name_cells else ""
                problems.append(
                    (f"adm{depth}_code", f"'{exc.text}' is not a P-code{hint}" if hint else str(exc))
                )
                continue
            except BadValue as exc:
                problems.append((f"adm{depth}_code", str(exc)))
                continue
            if area is not None and depth in name_cells:
                other = self.areas.named_otherwise(area, name_cells[depth], depth)
                if other is not None:
                    reason = (
                        f"'{text_of(name_cells[depth])}' is {other.label}, but the P-code beside it is "
                        f"{area.label}; check the row"
                    )
                    problems.append((f"adm{depth}_name", reason))
                    continue
            if area is not None:
                given.append((depth, area))
        if problems:
            return None, tuple(problems)
        if given:
            deepest = max((area for _, area in given), key=lambda a: a.depth)
            for depth, area in given:
                if area.pcode not in deepest.ancestors:
                    reason = f"{deepest.label} does not lie in {area.label}; check the P-codes of this row"
                    return None, ((f"adm{depth}_code", reason),)
            return self._whole_country(deepest)
        within: Area | None = None
        for depth in sorted(name_cells):
            raw = name_cells[depth]
            if not text_of(raw):
                continue
            try:
                within = self.areas.name(raw, depth, within)
            except BadValue as exc:
                return None, ((f"adm{depth}_name", str(exc)),)
        return self._whole_country(within) if within is not None else (None, NO_PROBLEMS)

    @staticmethod
    def _whole_country(area: Area) -> tuple[Area | None, Problems]:
        if area.depth < 1:
            return None, (
                ("adm1_code", f"{area.label} is the whole country; give a province, district or tehsil"),
            )
        return area, NO_PROBLEMS

    def _date(self, column: DateColumn, raw: Any, end: bool) -> tuple[Any, int, str, str, str]:
        """(provisional date, how it reads, problem, ISO text, repr() of that text) of a date cell,
        day first until told otherwise."""
        value = column.read(raw)
        if value is None:
            return None, PLAIN, "", "", "''"
        if value.__class__ is BadValue:
            return None, PLAIN, str(value), "", "''"
        assert isinstance(value, DateValue)  # noqa: S101 - narrowing for the type checker
        day = value.value
        if end and value.month_only:
            day = month_end(day)
        kind = MONTH_FIRST_ONLY if value.month_first_only else SWAPPABLE if value.ambiguous else PLAIN
        return day, kind, "", day.isoformat(), repr(day.isoformat())

    # --- the rows ---------------------------------------------------------------------------------

    def _check_rows(self, sheet: Sheet, layout: Layout, first_row: int, stop: int) -> _Checked:
        """The rows of sheet.rows[first_row:stop], checked: (rows, dates to settle later, lines of
        the total rows left out, rows read); every problem found goes to self.problems."""
        f = layout.fields
        width = 1 + max([c.index for c in f.values()] + [c.index for c in layout.kept_aside] + [0])
        blank = width  # every row gets one empty cell more: the column of the fields a file lacks

        def col(*names: str) -> int:
            return next((f[n].index for n in names if n in f), blank)

        i_id, i_action, i_status, i_loc = col("row_id"), col("action"), col("status"), col("location")
        i_start, i_end = col("start"), col("end")
        has_ids = "row_id" in f
        organisation_cells = itemgetter(
            col("reporting"),
            col("programming", "organisation"),
            col("implementing"),
            col("funding"),
            col("recipient"),
        )
        codes = [d for d in (3, 2, 1) if f"adm{d}_code" in f]
        names = [d for d in (1, 2, 3) if f"adm{d}_name" in f]
        area_columns = [f[f"adm{d}_code"].index for d in codes] + [f[f"adm{d}_name"].index for d in names]
        number_cells = itemgetter(
            col("quantity"), col("households"), col("people_female"), col("people_male")
        )
        has_quantity_column = "quantity" in f or "households" in f
        kept = list(zip([c.index for c in layout.kept_aside], kept_keys(layout.kept_aside), strict=True))
        # A row whose id is a total word is a total row only when these, and its action, are empty:
        # a row named "Total" that says what was done where is a partner's row like any other.
        what_cells = itemgetter(col("activity"), col("item"), *area_columns, i_loc, i_status, i_action)
        start_column = self.date_columns.get("start", DateColumn("start"))
        end_column = self.date_columns.get("end", DateColumn("end"))

        organisations: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        activities: dict[tuple[Any, Any], tuple[int | None, Problems]] = {}
        areas: dict[tuple[Any, ...], tuple[Area | None, Problems]] = {}
        sites: dict[str, tuple[int, int] | None] = {}
        misplaced: dict[tuple[int, int], str] = {}  # (site, area) -> why the site is not there
        unknown = (0, 0)  # a place not looked up yet
        statuses: dict[Any, Any] = {}
        actions: dict[Any, Any] = {}
        starts: dict[Any, tuple[Any, int, str, str, str]] = {}
        ends: dict[Any, tuple[Any, int, str, str, str]] = {}
        out: list[ReportRow] = []
        fixes: list[_DateFix] = []
        totals_skipped: list[int] = []
        beyond: list[int] = []  # lines with values in cells beyond the table's last column
        new = tuple.__new__  # ReportRow._make, without its call
        blake2b = hashlib.blake2b  # text_digest(), without its call
        labels = self.labels
        found = self.problems
        rows, lines = sheet.rows, sheet.lines
        read = 0

        whats: dict[tuple[Any, ...], tuple[Problems, str, tuple[Any, ...]]] = {}
        dates: dict[tuple[Any, Any], tuple[Problems, str, tuple[Any, Any, Any], bool, bool]] = {}
        what_cells_of = itemgetter(col("activity"), col("item"), *area_columns, i_loc, i_status)
        date_cells = itemgetter(i_start, i_end)
        n_areas = len(area_columns)
        lacking = bool(self.lacking)
        # A date before the month the operation began is refused (one in that month may be the start
        # of a month written alone: "October 2005"), and a completed row of a month still to come.
        first_day, today, this_month = self.first_day, self.today, self.today.replace(day=1)
        date_label = labels["end" if "end" in f else "start"]

        def what_where(key: tuple[Any, ...]) -> tuple[Problems, str, tuple[Any, ...]]:
            """(problems, their part of the fingerprint's text, the row's values) of what was done
            where: the activity, the place, the site and the status."""
            problems: list[tuple[str, str]] = []
            cells = key[:2]
            what = activities.get(cells)
            if what is None:
                what = activities[cells] = self._activity(cells)
            for name, reason in what[1]:
                problems.append((labels.get(name, name), reason))
            cells = key[2 : 2 + n_areas]
            where = areas.get(cells)
            if where is None:
                where = areas[cells] = self._area(cells, codes, names)
            area = where[0]
            for name, reason in where[1]:
                problems.append((labels.get(name, name), reason))
            site = None
            location = key[2 + n_areas]
            location = location.strip() if location.__class__ is str else text_of(location)
            if len(location) > LOCATION_MAX:
                problems.append(
                    (
                        labels["location"],
                        f"'{location[:20]}…' is longer than {LOCATION_MAX} characters; shorten it",
                    )
                )
                location = location[:LOCATION_MAX]
            if location:
                place = sites.get(location, unknown)
                if place is unknown:
                    place = sites[location] = self.sites.find(location)
                if place is not None:
                    site = place[0]
                    if area is None and not where[1]:
                        area = self.areas.by_id.get(place[1])
                    elif area is not None:
                        # A site of the operation lies in one area: the row's, or one within it.
                        pair = (site, area.id)
                        outside = misplaced.get(pair)
                        if outside is None:
                            outside = misplaced[pair] = self.sites.outside(place, area, self.areas)
                        if outside:
                            problems.append((labels["location"], outside))
            if area is None and not where[1]:
                problems.append(
                    (labels["adm2_code"], "no place: give the P-code of the tehsil, district or province")
                )
            raw = key[3 + n_areas]
            status = statuses.get(raw)
            if status is None:
                try:
                    status = statuses[raw] = str(read_status(raw) or "")
                except BadValue as exc:
                    status = statuses[raw] = exc
            if status.__class__ is BadValue:
                problems.append((labels["status"], str(status)))
            elif not status:
                problems.append(
                    (labels["status"], "the status is empty; write planned, ongoing or completed")
                )
            if problems or area is None:  # (no area without a problem)
                return tuple(problems), "", ()
            text = f"{what[0]!r}, {area.id!r}, {site!r}, {location!r}, {status!r}"
            return (
                NO_PROBLEMS,
                text,
                (what[0], area.id, area.adm1, area.adm2, area.adm3, site, location, status),
            )

        def when_of(key: tuple[Any, Any]) -> tuple[Problems, str, tuple[Any, Any, Any], bool, bool]:
            """(problems, their part of the fingerprint's text, (start, end, month), whether the dates
            may read otherwise once the columns' day order is known, whether the month is still to
            come) of the date cells. A date before the operation began is refused here; one that may
            read otherwise, once read as it finally does (_settle_dates)."""
            raw_start, raw_end = key
            start_value = starts.get(raw_start)
            if start_value is None:
                start_value = starts[raw_start] = self._date(start_column, raw_start, end=False)
            end_value = ends.get(raw_end)
            if end_value is None:
                end_value = ends[raw_end] = self._date(end_column, raw_end, end=True)
            start, end = start_value[0], end_value[0]
            problems: list[tuple[str, str]] = []
            if start_value[2]:
                problems.append((labels["start"], start_value[2]))
            if end_value[2]:
                problems.append((labels["end"], end_value[2]))
            if start is None and end is None and not start_value[2] and not end_value[2]:
                problems.append(
                    (labels["end" if "end" in f else "start"], "give the end date (or the start date)")
                )
            elif (
                start is not None and end is not None and end < start and not (start_value[1] or end_value[1])
            ):
                problems.append((labels["end"], end_before_start(start, end)))
            # (a date that may read otherwise is checked once read as it finally does)
            early = early_dates(None if start_value[1] else start, None if end_value[1] else end, first_day)
            problems += [(labels[name], reason) for name, reason in early]
            if problems:
                return tuple(problems), "", (start, end, None), False, False
            month = (end or start).replace(day=1)
            return (
                NO_PROBLEMS,
                f"{start_value[4]}, {end_value[4]}",
                (start, end, month),
                bool(start_value[1] or end_value[1]),
                month > this_month,
            )

        # Row after row (not by position): the rows of a part of a large file are split into cells
        # only as they are read (sheets.LineRows), and each row's cells go once checked.
        source = (
            rows.split_from(first_row, stop)
            if rows.__class__ is LineRows
            else itertools.islice(rows, first_row, stop)
        )
        for position, cells in enumerate(source, first_row):
            if len(cells) == width:
                cells.append("")  # the sheet's own row: it is read once
            elif len(cells) > width:
                if any(cells[width:]) and any(map(text_of, cells[width:])):
                    beyond.append(lines[position] if lines is not None else position + 1)
                cells = cells[:width]
                cells.append("")
            else:
                cells = [*cells, *([""] * (width - len(cells))), ""]
            if not any(cells):
                continue
            line = lines[position] if lines is not None else position + 1
            raw_id = cells[i_id]
            row_id = raw_id.strip() if raw_id.__class__ is str else text_of(raw_id)
            if not row_id:
                if normal(next((text_of(c) for c in cells if text_of(c)), "")) in TOTAL_WORDS:
                    totals_skipped.append(line)
                    continue
            elif (
                row_id[0] in TOTAL_INITIALS
                and normal(row_id) in TOTAL_WORDS
                and not any(map(text_of, what_cells(cells)))
            ):
                totals_skipped.append(line)
                continue
            read += 1
            bad = False
            raw = cells[i_action]
            action = actions.get(raw)
            if action is None:
                try:
                    action = actions[raw] = read_action(raw)
                except BadValue as exc:
                    action = actions[raw] = exc
            if action.__class__ is BadValue:
                found.append(RowProblem(line, labels["action"], str(action)))
                continue
            key = organisation_cells(cells)
            orgs = organisations.get(key)
            if orgs is None:
                orgs = organisations[key] = self._organisations(key)
            for name, reason in orgs[5]:
                found.append(RowProblem(line, labels.get(name, name), reason))
            reporting = orgs[0]
            if has_ids and not row_id:
                found.append(
                    RowProblem(
                        line, labels["row_id"], "the row id is empty; every row needs the partner's own id"
                    )
                )
                bad = True
            elif len(row_id) > ROW_ID_MAX:
                found.append(
                    RowProblem(
                        line,
                        labels["row_id"],
                        f"'{row_id[:20]}…' is longer than {ROW_ID_MAX} characters; shorten it",
                    )
                )
                bad = True
            elif row_id[:1] == "#" and excel_error(raw_id):
                found.append(
                    RowProblem(
                        line,
                        labels["row_id"],
                        f"the row id is the spreadsheet error {excel_error(raw_id)}; give the partner's id",
                    )
                )
                bad = True
            if reporting is None:
                continue
            if action == DELETE:
                if not has_ids:
                    found.append(
                        RowProblem(
                            line, labels["action"], "a row can be withdrawn only by its row id (#meta+id)"
                        )
                    )
                elif not bad:
                    out.append(withdrawal(line, reporting, row_id))
                continue
            if lacking:  # a row that is no withdrawal, in a file without the columns it needs
                found.append(RowProblem(line, labels["action"], NOT_A_WITHDRAWAL))
                continue
            bad = bad or bool(orgs[5])
            # What was done where (activity, place, site, status), then the dates: each distinct
            # combination of their cells is checked once (what_where, when_of).
            key = what_cells_of(cells)
            what = whats.get(key)
            if what is None:
                what = whats[key] = what_where(key)
            if what[0]:
                for name, reason in what[0]:
                    found.append(RowProblem(line, name, reason))
                bad = True
            raw_dates = date_cells(cells)
            when = dates.get(raw_dates)
            if when is None:
                when = dates[raw_dates] = when_of(raw_dates)
            if when[0]:
                for name, reason in when[0]:
                    found.append(RowProblem(line, name, reason))
                bad = True
            elif when[4] and what[2] and what[2][7] == COMPLETED and not when[3]:
                found.append(RowProblem(line, date_label, completed_later(when[2][1] or when[2][0], today)))
                bad = True
            quantity, households, female, male = number_cells(cells)
            # Plain digits, the common case, are read here; anything else goes to _count.
            if quantity.__class__ is str and quantity.isdecimal() and len(quantity) < 13:
                quantity = int(quantity)
            else:
                try:
                    quantity = _count(quantity, QUANTITY_MAX)
                except BadValue as exc:
                    found.append(RowProblem(line, labels["quantity"], str(exc)))
                    quantity, bad = None, True
            if households.__class__ is str and households.isdecimal() and len(households) < 10:
                households = int(households)
            else:
                try:
                    households = _count(households, COUNT_MAX)
                except BadValue as exc:
                    found.append(RowProblem(line, labels["households"], str(exc)))
                    households, bad = None, True
            if female == "":
                female = None
            elif female.__class__ is str and female.isdecimal() and len(female) < 10:
                female = int(female)
            else:
                try:
                    female = _count(female, COUNT_MAX)
                except BadValue as exc:
                    found.append(RowProblem(line, labels["people_female"], str(exc)))
                    female, bad = None, True
            if male == "":
                male = None
            elif male.__class__ is str and male.isdecimal() and len(male) < 10:
                male = int(male)
            else:
                try:
                    male = _count(male, COUNT_MAX)
                except BadValue as exc:
                    found.append(RowProblem(line, labels["people_male"], str(exc)))
                    male, bad = None, True
            if quantity is None and households is None and not bad and has_quantity_column:
                raw_q, raw_h = number_cells(cells)[:2]
                if not text_of(raw_q) and not text_of(raw_h):
                    name = "quantity" if "quantity" in f else "households"
                    found.append(
                        RowProblem(line, labels[name], "give the quantity or the households reached")
                    )
                    bad = True
            if bad:
                continue
            extra = None
            if kept:
                extra = {label: text_of(cells[i]) for i, label in kept if text_of(cells[i])} or None
            if when[3]:
                fixes.append(_DateFix(len(out), line, *raw_dates))
            # The fingerprint is row_digest() of the row's values, as finish() makes it: the text is
            # repr() of the tuple of values, written here with the parts that repeat made once.
            tail = tuple(sorted(extra.items())) if extra else None
            digest = blake2b(
                f"({orgs[7]}, {what[1]}, {when[1]}, {quantity!r}, {households!r}, {female!r}, {male!r}, "
                f"{tail!r})".encode(),
                digest_size=8,
            ).hexdigest()
            row = new(
                ReportRow,
                (line, action, reporting, row_id, *orgs[6], *what[2], *when[2], quantity, households, female,
                 male, extra, digest)
            )  # fmt: skip
            out.append(row if has_ids else finish(row, has_ids))
        return out, fixes, totals_skipped, read, beyond

    def _settle_dates(self, rows: list[ReportRow], fixes: list[_DateFix], *, has_ids: bool) -> None:
        """Read again, in each column's day order, the dates that read both ways (03/11/2005); a row
        of a file without row ids gets the id its dates make once read again."""
        columns = [
            c for c in self.date_columns.values() if c.order == DayOrder.MONTH_FIRST or c.month_first_only
        ]
        for column in self.date_columns.values():
            if column.follows_others:
                self.notes.append(
                    f"dates in {column.label} read with the month first (11/30/2005), as the file's "
                    "other date column writes them"
                )
            elif column.order == DayOrder.MONTH_FIRST:
                self.notes.append(
                    f"dates in {column.label} read with the month first (11/30/2005), as the column "
                    "writes them"
                )
        unsaid = read_day_first_unsaid(self.date_columns.values())
        if unsaid:
            self.notes.append(unsaid)
        if not fixes:
            return
        if not columns:  # every date as first read (day first): an end before its start is refused
            for fix in fixes:
                row = rows[fix.position]
                start, end = row.start_date, row.end_date
                if start is not None and end is not None and end < start:
                    self._problem(fix.line, "end", end_before_start(start, end))
                else:
                    self._refuse_implausible(fix.line, row.status, start, end)
            return
        start_column, end_column = self.date_columns.get("start"), self.date_columns.get("end")
        for fix in fixes:
            row = rows[fix.position]
            start, end = row.start_date, row.end_date
            try:
                if start_column is not None and fix.start not in ("", None):
                    value = start_column.read(fix.start)
                    start = start_column.resolve(value, fix.start) if isinstance(value, DateValue) else start
            except BadValue as exc:
                self._problem(fix.line, "start", str(exc))
                continue
            try:
                if end_column is not None and fix.end not in ("", None):
                    value = end_column.read(fix.end)
                    if isinstance(value, DateValue):
                        end = end_column.resolve(value, fix.end)
                        end = month_end(end) if value.month_only else end
            except BadValue as exc:
                self._problem(fix.line, "end", str(exc))
                continue
            if start is not None and end is not None and end < start:
                self._problem(fix.line, "end", end_before_start(start, end))
                continue
            if self._refuse_implausible(fix.line, row.status, start, end):
                continue
            if (start, end) != (row.start_date, row.end_date):
                period = (end or start).replace(day=1)  # type: ignore[union-attr]
                rows[fix.position] = finish(
                    row._replace(start_date=start, end_date=end, period=period), has_ids
                )

    def _refuse_implausible(self, line: int, status: str, start: dt.date | None, end: dt.date | None) -> bool:
        """Refuse (True) a row's date before the operation began, or a completed row of a month
        still to come: as the reader's row loop does, for dates read once their day order is known."""
        early = early_dates(start, end, self.first_day)
        for name, reason in early:
            self._problem(line, name, reason)
        refused = bool(early)
        last = end or start
        if (
            not refused
            and status == COMPLETED
            and last is not None
            and last.replace(day=1) > self.today.replace(day=1)
        ):
            self._problem(
                line, "end" if "end" in self.date_columns else "start", completed_later(last, self.today)
            )
            refused = True
        return refused


def early_dates(start: dt.date | None, end: dt.date | None, first_day: dt.date) -> list[tuple[str, str]]:
    """(field, reason) of each date before the month the operation began, which `first_day` is in
    (a date of that month may be the start of a month written alone: "October 2005")."""
    first_month = first_day.replace(day=1)
    return [
        (name, before_operation(day, first_day))
        for name, day in (("start", start), ("end", end))
        if day is not None and day < first_month
    ]


def finish(row: ReportRow, has_ids: bool) -> ReportRow:
    """The row with its fingerprint (and, in a file without ids, an id made of what it says)."""
    if not has_ids:
        orgs = (row.programming_org_id, row.implementing_org_id, row.funding_org_id, row.recipient_org_id)
        start = row.start_date.isoformat() if row.start_date else ""
        end = row.end_date.isoformat() if row.end_date else ""
        key = (
            row.reporting_org_id,
            orgs,
            row.activity_id,
            row.admin_area_id,
            row.site_id,
            row.location,
            start,
            end,
        )
        row = row._replace(row_id="auto-" + row_digest(key))
    return row._replace(digest=row_fingerprint(row))


def withdrawal(line: int, reporting_org_id: int, row_id: str) -> ReportRow:
    """A Delete row: only the organisation and the row id matter."""
    return ReportRow(
        line, DELETE, reporting_org_id, row_id, None, None, None, None, None, None, "", "", "", None, "", "",
        None, None, None, None, None, None, None, None, "",
    )  # fmt: skip


def parse_activity_file(
    data: bytes, *, filename: str = "", reporting_org_id: int | None = None, write_ahead: bool = False
) -> ParsedReport:
    """Read a 4W file; the rows come back with every problem found (nothing is refused yet).

    `write_ahead`: the rows are about to be imported (not previewed). On SQLite, the child process
    that reads the second part of a large CSV file then writes its rows into a side file for a
    faster insert (bulk.SideRows); call the report's close() once done with it."""
    with gc_paused():
        return _parse(
            data,
            filename=filename,
            reporting_org_id=reporting_org_id,
            write_ahead=write_ahead and connection.vendor == "sqlite",
        )


def _parse(
    data: bytes,
    *,
    filename: str,
    reporting_org_id: int | None,
    write_ahead: bool = False,
    whole: bool = False,
    started: float = 0.0,
    digest: FileDigest | None = None,
) -> ParsedReport:
    started = started or time.perf_counter()
    digest = digest or FileDigest(data)
    # A large CSV file is read and checked in two processes at once, when it can be split.
    # A first upload into SQLite: this process writes its own part's rows ahead too, once checked,
    # and so takes the smaller part (see ActivityFileReader.read_split).
    own_ahead = write_ahead and not whole and not any_current()
    split = None if whole else _split_if_large(data, filename, OWN_AHEAD_SHARE if own_ahead else SHARE)
    sheet, layout, notes = choose_sheet(
        [split.head] if split else read_sheets(data, filename), ACTIVITY_FIELDS
    )
    refuse(layout.problems)
    opened = time.perf_counter()
    reader = ActivityFileReader(reporting_org_id=reporting_org_id)
    try:
        if split:
            rows = reader.read_split(
                split, layout, write_ahead=write_ahead, own_ahead=own_ahead, forked=digest.start
            )
        else:
            digest.start()
            rows = reader.read(sheet, layout)
    except ReadWhole:  # read the whole file the usual way
        return _parse(
            data,
            filename=filename,
            reporting_org_id=reporting_org_id,
            whole=True,
            started=started,
            digest=digest,
        )
    try:
        return _report(data, filename, sheet, layout, notes, reader, rows, opened - started, opened, digest)
    except BaseException:
        for side in reader.sides:
            side.discard()
        raise


def _report(
    data: bytes,
    filename: str,
    sheet: Sheet,
    layout: Layout,
    notes: list[str],
    reader: ActivityFileReader,
    rows: list[ReportRow],
    opening: float,
    opened: float,
    digest: FileDigest,
) -> ParsedReport:
    timings = {
        "read the file": round(opening, 3),
        "check every row": round(time.perf_counter() - opened, 3),
    }
    keys = kept_keys(layout.kept_aside)
    # A column without a header or hashtag is named only when some row holds a value in it.
    unnamed = {key for column, key in zip(layout.kept_aside, keys, strict=True) if is_unnamed(column)}
    used: set[str] = set()
    if unnamed:
        for row in rows:
            if row.extra:
                used |= row.extra.keys() & unnamed
    kept = [
        _column_name(column, key)
        for column, key in zip(layout.kept_aside, keys, strict=True)
        if key not in unnamed or key in used
    ]
    if kept:
        notes.append(f"kept aside {counted(len(kept), 'column')} outside the 4W schema: {', '.join(kept)}")
    return ParsedReport(
        absent=absent_columns(layout, kept_aside=bool(kept)),
        filename=filename,
        digest=digest.value(),
        size_bytes=len(data),
        rows=rows,
        problems=reader.problems,
        notes=[*notes, *reader.notes],
        kept_aside=kept,
        sheet=sheet.name if is_workbook_data(data, filename) else "",
        rows_read=reader.rows_read,
        labels=reader.labels,
        timings=timings,
        reporting_default=reader.reporting_default,
        sides=reader.sides,
        key_values=reader.key_values,
    )


def absent_columns(layout: Layout, *, kept_aside: bool) -> tuple[str, ...]:
    """The values of a row that the file has no column for at all: a row it updates keeps them as
    stored (KEPT_AS_STORED). Decided once per file, from its columns."""
    f = layout.fields
    present = set(f)
    if "organisation" in f:
        present.add("programming")
    if kept_aside:
        present.add("extra")
    return tuple(name for name in KEPT_AS_STORED if name not in present)


def _column_name(column: Column, key: str) -> str:
    """A kept-aside column as the notes name it: the name its values are kept under, and its
    hashtag when it has a header too."""
    if column.header and column.tag is not None:
        return f"{key} ({column.label})"
    return key


def activity_report_import_file(
    *,
    actor: Actor,
    data: bytes,
    filename: str = "",
    reporting_org_id: int | None = None,
    scope_org_id: int | None = None,
    scope_label: str = "",
    preview: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
    before_commit: Callable[[ReportImportResult], None] | None = None,
    previewed: StoredState | None = None,
) -> ReportImportResult:
    """Read a 4W file and apply it, all or nothing; InvalidInput lists every problem of the file.
    `progress(step, done, total)`, if given, hears which of the two steps it is at;
    `before_commit(result)`, if given, is called inside the batch's transaction just before its
    commit (see activity_report_import); `previewed`, the stored rows as the file's preview saw
    them, refuses the upload when a batch changed them since (see activity_report_import)."""
    say = progress or (lambda step, done, total: None)
    # One pause of the collector for both steps: a collection between them would walk every row.
    with gc_paused():
        say("reading the file and checking every row", 0, 2)
        report = parse_activity_file(
            data, filename=filename, reporting_org_id=reporting_org_id, write_ahead=not preview
        )
        try:
            step = "comparing with the stored rows" if preview else "applying the changes, all at once"
            say(f"{step} ({counted(report.rows_read, 'row')} read)", 1, 2)
            result = activity_report_import(
                actor=actor,
                report=report,
                scope_org_id=scope_org_id,
                scope_label=scope_label,
                preview=preview,
                before_commit=before_commit,
                previewed=previewed,
            )
        finally:
            report.close()
        del report
    say("done", 2, 2)
    return result
