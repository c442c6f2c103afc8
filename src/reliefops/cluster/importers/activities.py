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

import functools
import re
from dataclasses import dataclass
from typing import Any

from reliefops.cluster.hxl import Column, FieldSpec, Layout, spec
from reliefops.cluster.importers.common import CachedReader, choose_sheet, file_digest, row_digest
from reliefops.cluster.names import ActivityIndex, Area, AreaIndex, OrganisationIndex, SiteIndex, normal
from reliefops.cluster.services.reports import (
    DELETE,
    Actor,
    ParsedReport,
    ReportImportResult,
    ReportRow,
    RowProblem,
    activity_report_import,
    refuse,
)
from reliefops.cluster.sheets import Sheet, is_workbook, read_sheets
from reliefops.cluster.values import (
    QUANTITY_MAX,
    BadValue,
    DateColumn,
    DateValue,
    DayOrder,
    month_end,
    read_action,
    read_status,
    text_of,
    whole_number,
)
from reliefops.core.errors import Problem

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
ROW_ID_MAX = 64
LOCATION_MAX = 200


@dataclass
class _Draft:
    """A row read in the first pass; its dates are settled once each column's day order is known."""

    line: int
    action: str
    reporting: int
    row_id: str
    programming: int | None = None
    implementing: int | None = None
    funding: int | None = None
    recipient: int | None = None
    activity: int | None = None
    area: Area | None = None
    site: int | None = None
    location: str = ""
    status: str = ""
    start: tuple[Any, DateValue] | None = None
    end: tuple[Any, DateValue] | None = None
    quantity: int | None = None
    households: int | None = None
    female: int | None = None
    male: int | None = None
    extra: dict[str, str] | None = None


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


class ActivityFileReader:
    """Reads one 4W sheet into ReportRows; `problems` lists every value it could not read."""

    def __init__(self, *, reporting_org_id: int | None = None) -> None:
        self.organisations = OrganisationIndex.build()
        self.activities = ActivityIndex.build()
        self.areas = AreaIndex.build()
        self.sites = SiteIndex.build()
        self.reporting_default = reporting_org_id
        self.problems: list[Problem] = []
        self.notes: list[str] = []

    def read(self, sheet: Sheet, layout: Layout) -> list[ReportRow]:
        f = layout.fields
        labels = {name: column.label for name, column in f.items()}
        self.labels = {s.name: labels.get(s.name, s.tag) for s in ACTIVITY_FIELDS}
        if "programming" not in f and "organisation" in f:
            self.labels["programming"] = labels["organisation"]
        self._require_columns(layout)
        refuse(self.problems)
        drafts = self._first_pass(sheet, layout)
        return self._second_pass(drafts, layout)

    def _require_columns(self, layout: Layout) -> None:
        f = layout.fields
        where = layout.tag_row or layout.header_row

        def missing(field_name: str, what: str) -> None:
            self.problems.append(
                RowProblem(where, SPEC_BY_NAME[field_name].tag, f"the file has no column for {what}")
            )

        if "activity" not in f and "item" not in f:
            missing("activity", "the activity (#activity)")
        if not any(
            name in f
            for name in (
                "adm1_code",
                "adm2_code",
                "adm3_code",
                "adm1_name",
                "adm2_name",
                "adm3_name",
                "location",
            )
        ):
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

    def _first_pass(self, sheet: Sheet, layout: Layout) -> list[_Draft]:
        f = layout.fields
        width = 1 + max([c.index for c in f.values()] + [c.index for c in layout.kept_aside] + [0])

        def index(name: str) -> int | None:
            column = f.get(name)
            return column.index if column is not None else None

        org = CachedReader(self.organisations.resolve)
        activity_of = CachedReader(self.activities.resolve)
        item_activity = CachedReader(self.activities.by_item)
        status_of = CachedReader(read_status)
        action_of = CachedReader(read_action)
        codes = {depth: CachedReader(functools.partial(self.areas.code, depth=depth)) for depth in (1, 2, 3)}
        names_cache: dict[tuple[int, Any, int | None], Any] = {}
        self.date_columns: dict[str, DateColumn] = {
            name: DateColumn(self.labels[name]) for name in ("start", "end") if name in f
        }
        i_id, i_action, i_rep = index("row_id"), index("action"), index("reporting")
        i_prog = index("programming") if "programming" in f else index("organisation")
        i_impl, i_fund, i_recip = index("implementing"), index("funding"), index("recipient")
        i_act, i_item, i_status, i_loc = index("activity"), index("item"), index("status"), index("location")
        i_start, i_end = index("start"), index("end")
        i_qty, i_hh, i_f, i_m = (
            index("quantity"),
            index("households"),
            index("people_female"),
            index("people_male"),
        )
        code_columns = [(d, f[f"adm{d}_code"].index) for d in (3, 2, 1) if f"adm{d}_code" in f]
        name_columns = [(d, f[f"adm{d}_name"].index) for d in (1, 2, 3) if f"adm{d}_name" in f]
        kept = [(c.index, c.header or c.label) for c in layout.kept_aside]
        problem = self._problem
        drafts: list[_Draft] = []
        totals_skipped: list[int] = []
        rows_read = 0

        def organisation(cells: list[Any], i: int | None, name: str, line: int) -> int | None:
            if i is None:
                return None
            value = org(cells[i])
            if value.__class__ is BadValue:
                problem(line, name, str(value))
                return None
            return value

        for line, cells in sheet.rows[layout.first_data :]:
            if len(cells) < width:
                cells = [*cells, *([""] * (width - len(cells)))]
            if not any(c != "" and c is not None for c in cells):
                continue
            row_id = text_of(cells[i_id]) if i_id is not None else ""
            if not row_id:
                first = next((text_of(c) for c in cells if text_of(c)), "")
                if normal(first) in TOTAL_WORDS:
                    totals_skipped.append(line)
                    continue
            rows_read += 1
            action = action_of(cells[i_action]) if i_action is not None else "upsert"
            if action.__class__ is BadValue:
                problem(line, "action", str(action))
                continue
            reporting = organisation(cells, i_rep, "reporting", line)
            programming = organisation(cells, i_prog, "programming", line)
            if reporting is None:
                reporting = self.reporting_default if self.reporting_default is not None else programming
            if i_id is not None and not row_id:
                problem(line, "row_id", "the row id is empty; every row needs the partner's own id")
            elif len(row_id) > ROW_ID_MAX:
                problem(line, "row_id", f"'{row_id[:20]}…' is longer than {ROW_ID_MAX} characters")
            if reporting is None:
                if (i_prog is None or not text_of(cells[i_prog])) and (
                    i_rep is None or not text_of(cells[i_rep])
                ):
                    problem(line, "programming", "the organisation is empty")
                continue
            if action == DELETE:
                if i_id is None:
                    problem(line, "action", "a row can be withdrawn only by its row id (#meta+id)")
                drafts.append(_Draft(line, DELETE, reporting, row_id))
                continue
            if programming is None:
                programming = reporting
            implementing = organisation(cells, i_impl, "implementing", line) or programming
            funding = organisation(cells, i_fund, "funding", line)
            recipient = organisation(cells, i_recip, "recipient", line)
            if recipient is not None and recipient == implementing:
                problem(
                    line,
                    "recipient",
                    f"{self.organisations.label(recipient)} hands the items to itself; leave the column "
                    "empty when the organisation distributes them",
                )
            # what
            activity = None
            raw_activity = cells[i_act] if i_act is not None else ""
            if i_act is not None and text_of(raw_activity):
                activity = activity_of(raw_activity)
                if activity.__class__ is BadValue:
                    fallback = item_activity(cells[i_item]) if i_item is not None else None
                    if fallback is None or fallback.__class__ is BadValue:
                        problem(line, "activity", str(activity))
                    activity = fallback if fallback.__class__ is int else None
            elif i_item is not None and text_of(cells[i_item]):
                activity = item_activity(cells[i_item])
                if activity is None:
                    problem(
                        line,
                        "item",
                        f"'{text_of(cells[i_item])}' names no activity; give the activity (#activity)",
                    )
            else:
                problem(line, "activity", "the activity is empty")
            if (
                activity.__class__ is int
                and i_item is not None
                and text_of(cells[i_item])
                and self.activities.item_matches(activity, cells[i_item]) is False
            ):
                own = self.activities.by_id[activity]
                problem(
                    line,
                    "item",
                    f"'{text_of(cells[i_item])}' is not the item of {own.name.lower()} ({own.item})",
                )
            # where
            area = self._area(cells, line, codes, code_columns, name_columns, names_cache)
            site = None
            location = text_of(cells[i_loc])[:LOCATION_MAX] if i_loc is not None else ""
            if location:
                found = self.sites.find(location)
                if found is not None:
                    site = found[0]
                    if area is None:
                        area = self.areas.by_id.get(found[1])
            if area is None:
                if not any(text_of(cells[i]) for _, i in code_columns + name_columns) and not location:
                    problem(
                        line, "adm2_code", "no place: give the P-code of the tehsil, district or province"
                    )
            elif area.depth < 1:
                problem(
                    line,
                    "adm1_code",
                    f"{area.label} is the whole country; give a province, district or tehsil",
                )
                area = None
            # when, how much
            status = ""
            raw_status = cells[i_status] if i_status is not None else ""
            value = status_of(raw_status) if i_status is not None else None
            if value.__class__ is BadValue:
                problem(line, "status", str(value))
            elif value is None:
                problem(line, "status", "the status is empty; write planned, ongoing or completed")
            else:
                status = str(value)
            start = self._date(cells, i_start, "start", line)
            end = self._date(cells, i_end, "end", line)
            numbers: list[int | None] = []
            for name, i, maximum in (
                ("quantity", i_qty, QUANTITY_MAX),
                ("households", i_hh, 2_000_000_000),
                ("people_female", i_f, 2_000_000_000),
                ("people_male", i_m, 2_000_000_000),
            ):
                if i is None:
                    numbers.append(None)
                    continue
                try:
                    numbers.append(_count(cells[i], maximum))
                except BadValue as exc:
                    problem(line, name, str(exc))
                    numbers.append(None)
            if (
                numbers[0] is None
                and numbers[1] is None
                and not any(text_of(cells[i]) for i in (i_qty, i_hh) if i is not None)
            ):
                problem(
                    line,
                    "quantity" if i_qty is not None else "households",
                    "give the quantity or the households reached",
                )
            extra = {label: text_of(cells[i]) for i, label in kept if text_of(cells[i])} or None
            drafts.append(
                _Draft(
                    line,
                    "upsert",
                    reporting,
                    row_id,
                    programming,
                    implementing,
                    funding,
                    recipient,
                    activity if activity.__class__ is int else None,
                    area,
                    site,
                    location,
                    status,
                    start,
                    end,
                    numbers[0],
                    numbers[1],
                    numbers[2],
                    numbers[3],
                    extra,
                )
            )
        if totals_skipped:
            shown = ", ".join(str(n) for n in totals_skipped[:5])
            self.notes.append(f"left out {len(totals_skipped)} total row(s) (row {shown})")
        self.rows_read = rows_read
        return drafts

    def _date(self, cells: list[Any], i: int | None, name: str, line: int) -> tuple[Any, DateValue] | None:
        if i is None:
            return None
        raw = cells[i]
        value = self.date_columns[name].read(raw)
        if value is None:
            return None
        if value.__class__ is BadValue:
            self._problem(line, name, str(value))
            return None
        return raw, value  # type: ignore[return-value]

    def _area(
        self,
        cells: list[Any],
        line: int,
        codes: dict[int, CachedReader],
        code_columns: list[tuple[int, int]],
        name_columns: list[tuple[int, int]],
        names_cache: dict[tuple[int, Any, int | None], Any],
    ) -> Area | None:
        given: list[tuple[int, Area]] = []
        bad = False
        for depth, i in code_columns:
            raw = cells[i]
            if raw == "" or raw is None:
                continue
            value = codes[depth](raw)
            if value is None:
                continue
            if value.__class__ is BadValue:
                hint = ""
                name_i = next((j for d, j in name_columns if d == depth), None)
                if name_i is not None:
                    hint = self.areas.name_hint(cells[name_i], depth)
                self._problem(line, f"adm{depth}_code", str(value) + hint)
                bad = True
                continue
            given.append((depth, value))
        if bad:
            return None
        if given:
            deepest = max((area for _, area in given), key=lambda a: a.depth)
            for depth, area in given:
                if area.pcode not in deepest.ancestors:
                    self._problem(
                        line,
                        f"adm{depth}_code",
                        f"{deepest.label} does not lie in {area.label}; check the P-codes of this row",
                    )
                    return None
            return deepest
        within: Area | None = None
        for depth, i in name_columns:
            raw = cells[i]
            if not text_of(raw):
                continue
            key = (depth, raw if isinstance(raw, str) else str(raw), within.id if within else None)
            if key not in names_cache:
                try:
                    names_cache[key] = self.areas.name(raw, depth, within)
                except BadValue as exc:
                    names_cache[key] = exc
            value = names_cache[key]
            if value.__class__ is BadValue:
                self._problem(line, f"adm{depth}_name", str(value))
                return None
            within = value
        return within

    def _second_pass(self, drafts: list[_Draft], layout: Layout) -> list[ReportRow]:
        """Settle the dates in each column's day order, then fingerprint and build the rows."""
        for column in self.date_columns.values():
            if column.order == DayOrder.MONTH_FIRST:
                self.notes.append(
                    f"dates in {column.label} read with the month first (11/30/2005), as the column "
                    "writes them"
                )
        no_ids = "row_id" not in layout.fields
        if no_ids:
            self.notes.append(
                "the file has no row ids (#meta+id): rows are matched by organisations, activity, place "
                "and dates; give ids so that a later upload can correct those"
            )
        rows: list[ReportRow] = []
        start_col, end_col = self.date_columns.get("start"), self.date_columns.get("end")
        for d in drafts:
            if d.action == DELETE:
                rows.append(withdrawal(d.line, d.reporting, d.row_id))
                continue
            start = end = None
            try:
                if d.start is not None and start_col is not None:
                    start = start_col.resolve(d.start[1], d.start[0])
            except BadValue as exc:
                self._problem(d.line, "start", str(exc))
            try:
                if d.end is not None and end_col is not None:
                    end = end_col.resolve(d.end[1], d.end[0])
                    if d.end[1].month_only:
                        end = month_end(end)
            except BadValue as exc:
                self._problem(d.line, "end", str(exc))
            if start is None and end is None:
                if d.start is None and d.end is None:
                    self._problem(
                        d.line, "end" if end_col else "start", "give the end date (or the start date)"
                    )
                continue
            if start is not None and end is not None and end < start:
                self._problem(
                    d.line, "end", f"{end.isoformat()} is before the start date {start.isoformat()}"
                )
                continue
            if d.area is None or d.activity is None or not d.status:
                continue
            period = (end or start).replace(day=1)  # type: ignore[union-attr]
            values = (
                d.programming,
                d.implementing,
                d.funding,
                d.recipient,
                d.activity,
                d.area.id,
                d.site,
                d.location,
                d.status,
                start,
                end,
                d.quantity,
                d.households,
                d.female,
                d.male,
                tuple(sorted(d.extra.items())) if d.extra else None,
            )
            row_id = d.row_id
            if no_ids:
                key = (d.reporting, *values[:8], start, end)  # organisations, activity, place, dates
                row_id = "auto-" + row_digest(key)
            rows.append(
                ReportRow(
                    d.line,
                    "upsert",
                    d.reporting,
                    row_id,
                    d.programming,
                    d.implementing,
                    d.funding,
                    d.recipient,
                    d.activity,
                    d.area.id,
                    d.area.adm1,
                    d.area.adm2,
                    d.area.adm3,
                    d.site,
                    d.location,
                    d.status,
                    start,
                    end,
                    period,
                    d.quantity,
                    d.households,
                    d.female,
                    d.male,
                    d.extra,
                    row_digest(values),
                )
            )
        return rows


def withdrawal(line: int, reporting_org_id: int, row_id: str) -> ReportRow:
    """A Delete row: only the organisation and the row id matter."""
    return ReportRow(
        line, DELETE, reporting_org_id, row_id, None, None, None, None, None, None, "", "", "", None, "", "",
        None, None, None, None, None, None, None, None, "",
    )  # fmt: skip


def parse_activity_file(
    data: bytes, *, filename: str = "", reporting_org_id: int | None = None
) -> ParsedReport:
    """Read a 4W file; the rows come back with every problem found (nothing is refused yet)."""
    sheets = read_sheets(data, filename)
    sheet, layout, notes = choose_sheet(sheets, ACTIVITY_FIELDS)
    refuse(layout.problems)
    reader = ActivityFileReader(reporting_org_id=reporting_org_id)
    rows = reader.read(sheet, layout)
    kept = [_column_name(c) for c in layout.kept_aside]
    if kept:
        notes.append(f"kept aside {len(kept)} column(s) outside the 4W schema: {', '.join(kept)}")
    return ParsedReport(
        filename=filename,
        digest=file_digest(data),
        size_bytes=len(data),
        rows=rows,
        problems=reader.problems,
        notes=[*notes, *reader.notes],
        kept_aside=kept,
        sheet=sheet.name if is_workbook(data, filename) else "",
        rows_read=reader.rows_read,
        labels=reader.labels,
    )


def _column_name(column: Column) -> str:
    if column.header and column.tag is not None:
        return f"{column.header} ({column.label})"
    return column.header or column.label


def activity_report_import_file(
    *,
    actor: Actor,
    data: bytes,
    filename: str = "",
    reporting_org_id: int | None = None,
    scope_org_id: int | None = None,
    scope_label: str = "",
    preview: bool = False,
) -> ReportImportResult:
    """Read a 4W file and apply it, all or nothing; InvalidInput lists every problem of the file."""
    report = parse_activity_file(data, filename=filename, reporting_org_id=reporting_org_id)
    return activity_report_import(
        actor=actor, report=report, scope_org_id=scope_org_id, scope_label=scope_label, preview=preview
    )


def value_text(value: Any) -> str:
    """A cell as the messages quote it."""
    return re.sub(r"\s+", " ", text_of(value))
