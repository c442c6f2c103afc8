"""Files the cluster hands out: the 4W template (XLSX with an HXL row and lists of valid values,
or CSV), partners' rows in the template's own layout (so that a partner can correct them and
upload them again), the gap table, the 4W matrix and the totals as CSV, HXL or XLSX, and the
pages' tables of rows, batches and needs (written through core.exports)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from reliefops.cluster.models import ActivityRow, ActivityStatus, ActivityType
from reliefops.cluster.selectors import ActivityTotal, GapReport, Matrix, rows_with_names
from reliefops.cluster.values import EARLIEST, LATEST
from reliefops.core.exports import Column, Table, csv_bytes, xlsx_bytes
from reliefops.partners.models import Organisation
from reliefops.places.models import AdminArea, AdminLevel

FORMATS = ("csv", "hxl", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "hxl": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
TEMPLATE_ROWS = 5000  # rows of the template sheet that carry the lists of valid values


@dataclass(frozen=True)
class ExportColumn:
    header: str
    tag: str
    width: int = 14


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    content_type: str
    filename: str


def write_table(
    columns: Sequence[ExportColumn],
    rows: Iterable[Sequence[Any]],
    *,
    fmt: str,
    name: str,
    sheet: str = "Data",
    notes: Sequence[str] = (),
) -> ExportFile:
    """A table as CSV or HXL (headers and hashtags: every CSV carries its hashtag row) or XLSX
    (headers, hashtags, notes sheet), through core.exports (formula-like text neutralised)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    table = as_table(columns, name=name, sheet=sheet, notes=notes)
    if fmt == "xlsx":
        return ExportFile(xlsx_bytes(table, rows), CONTENT_TYPES[fmt], f"{name}.xlsx")
    suffix = "-hxl.csv" if fmt == "hxl" else ".csv"
    return ExportFile(csv_bytes(table, rows), CONTENT_TYPES[fmt], f"{name}{suffix}")


def as_table(
    columns: Sequence[ExportColumn], *, name: str, sheet: str = "Data", notes: Sequence[str] = ()
) -> Table:
    """The shared export table of positional rows (a list of values per row, in column order)."""
    return Table(
        name,
        tuple(Column(c.header, c.tag, itemgetter(index), c.width) for index, c in enumerate(columns)),
        sheet=sheet,
        notes=tuple(notes),
    )


# --- the gap table, the matrix, the totals ------------------------------------------------------------

GAP_COLUMNS = (
    ExportColumn("Parent P-code", "#adm+code+parent", 12),
    ExportColumn("Parent", "#adm+name+parent", 16),
    ExportColumn("P-code", "#adm+code", 12),
    ExportColumn("Area", "#adm+name", 18),
    ExportColumn("Rows for the whole area", "#meta+whole_area", 10),
    ExportColumn("Activity code", "#activity+code", 12),
    ExportColumn("Activity", "#activity+name", 26),
    ExportColumn("Unit", "#output+unit", 10),
    ExportColumn("Households in need", "#inneed+hh", 12),
    ExportColumn("Need illustrative", "#meta+illustrative", 10),
    ExportColumn("Households targeted", "#targeted+hh", 12),
    ExportColumn("Households reached", "#reached+hh", 12),
    ExportColumn("Coverage (%)", "#reached+hh+pct", 10),
    ExportColumn("Gap (households)", "#inneed+hh+gap", 12),
    ExportColumn("Quantity targeted", "#targeted+num", 12),
    ExportColumn("Quantity reached", "#output+num", 12),
    ExportColumn("Quantity handed to partners", "#output+num+pipeline", 12),
    ExportColumn("Partners", "#org+impl+num", 9),
    ExportColumn("Rows", "#meta+count", 8),
)


def gap_export(report: GapReport, fmt: str) -> ExportFile:
    def values() -> Iterable[list[Any]]:
        for r in report.rows:
            coverage = round(r.coverage * 100, 1) if r.coverage is not None else None
            yield [
                r.parent_pcode, r.parent_name, r.pcode, r.name, "yes" if r.whole_area else "",
                r.activity_code, r.activity_name, r.unit, r.in_need, "yes" if r.illustrative else "",
                r.targeted, r.reached, coverage, r.gap, r.quantity_targeted, r.quantity_reached,
                r.quantity_to_partners, r.partners, r.rows,
            ]  # fmt: skip

    notes = [f"Gap analysis {report.selection.describe()}, as of {timezone.localdate():%Y-%m-%d}."]
    if report.illustrative:
        notes.append(
            "Needs marked illustrative were derived for the scenario from published totals, "
            "not taken from a source."
        )
    notes.append(
        "Households reached count completed rows after the double-counting rules: items handed to "
        "partners are not reached, and a programming partner's row is set aside when its implementing "
        "partner reports the same activity."
    )
    name = f"cluster-gaps-{report.level}"
    return write_table(GAP_COLUMNS, values(), fmt=fmt, name=name, sheet="Gaps", notes=notes)


def gap_payload(report: GapReport) -> dict[str, Any]:
    """The gap table as JSON-ready data."""
    return {
        "selection": report.selection.describe(),
        "needs_illustrative": report.illustrative,
        "rows": [
            {
                "pcode": r.pcode,
                "name": r.name,
                "parent_pcode": r.parent_pcode,
                "whole_area": r.whole_area,
                "activity": r.activity_code,
                "unit": r.unit,
                "households_in_need": r.in_need,
                "need_illustrative": r.illustrative,
                "households_targeted": r.targeted,
                "households_reached": r.reached,
                "coverage": round(r.coverage, 4) if r.coverage is not None else None,
                "gap": r.gap,
                "quantity_targeted": r.quantity_targeted,
                "quantity_reached": r.quantity_reached,
                "quantity_to_partners": r.quantity_to_partners,
                "partners": r.partners,
                "rows": r.rows,
            }
            for r in report.rows
        ],
        "no_partner": [
            {"pcode": info.pcode, "name": info.name, "households_in_need": need.households if need else None}
            for info, need in report.no_partner
        ],
    }


MATRIX_COLUMNS = (
    ExportColumn("Implementing organisation", "#org+impl", 28),
    ExportColumn("P-code", "#adm+code", 12),
    ExportColumn("Area", "#adm+name", 18),
    ExportColumn("Activity code", "#activity+code", 14),
    ExportColumn("Rows", "#meta+count", 8),
    ExportColumn("Households reached", "#reached+hh", 12),
    ExportColumn("Quantity reached", "#output+num", 12),
)


def matrix_export(matrix: Matrix, fmt: str) -> ExportFile:
    rows = (
        [
            e["organisation"],
            e["pcode"],
            e["area"],
            e["activity"],
            e["rows"],
            e["households_reached"],
            e["quantity_reached"],
        ]
        for e in matrix.entries
    )
    notes = [f"4W matrix {matrix.selection.describe()}, as of {timezone.localdate():%Y-%m-%d}."]
    return write_table(
        MATRIX_COLUMNS, rows, fmt=fmt, name=f"cluster-4w-matrix-{matrix.selection.level}", notes=notes
    )


TOTAL_COLUMNS = (
    ExportColumn("Activity code", "#activity+code", 14),
    ExportColumn("Activity", "#activity+name", 30),
    ExportColumn("Unit", "#output+unit", 10),
    ExportColumn("Quantity reached", "#output+num", 14),
    ExportColumn("Households reached", "#reached+hh", 14),
    ExportColumn("Quantity targeted", "#targeted+num", 14),
    ExportColumn("Quantity handed to partners", "#output+num+pipeline", 14),
    ExportColumn("Quantity as reported (before the rules)", "#output+num+reported", 14),
    ExportColumn("Rows", "#meta+count", 8),
    ExportColumn("Rows set aside (counted in the implementing partner's row)", "#meta+count+setaside", 12),
)


def totals_export(totals: list[ActivityTotal], fmt: str) -> ExportFile:
    rows = (
        [t.code, t.name, t.unit, t.quantity_reached, t.households_reached, t.quantity_targeted,
         t.quantity_to_partners, t.quantity_as_reported, t.rows, t.rows_set_aside]
        for t in totals
    )  # fmt: skip
    return write_table(TOTAL_COLUMNS, rows, fmt=fmt, name="cluster-totals", sheet="Totals")


# --- the 4W template and partners' rows ---------------------------------------------------------------

TEMPLATE_COLUMNS = (
    ExportColumn("Row ID", "#meta+id", 12),
    ExportColumn("Action (New / Update / Delete)", "#meta+action", 12),
    ExportColumn("Reporting organisation", "#org+reporting", 24),
    ExportColumn("Programming organisation", "#org+prog", 24),
    ExportColumn("Implementing organisation", "#org+impl", 24),
    ExportColumn("Funding organisation", "#org+funder", 22),
    ExportColumn("Handed to partner (pipeline)", "#org+recipient", 22),
    ExportColumn("Activity", "#activity", 28),
    ExportColumn("Province P-code", "#adm1+code", 12),
    ExportColumn("District P-code", "#adm2+code", 18),
    ExportColumn("Tehsil P-code", "#adm3+code", 18),
    ExportColumn("Place or site", "#loc+name", 18),
    ExportColumn("Status", "#status", 12),
    ExportColumn("Start date", "#date+start", 12),
    ExportColumn("End date", "#date+end", 12),
    ExportColumn("Quantity", "#output+num", 10),
    ExportColumn("Households", "#reached+hh", 11),
    ExportColumn("Women and girls", "#reached+ind+f", 10),
    ExportColumn("Men and boys", "#reached+ind+m", 10),
)
READ_ME = (
    "Emergency Shelter Cluster 4W template: who does what, where, when, for whom.",
    "",
    "Fill in one row per activity, place and month on the '4W' sheet, below the row of hashtags "
    "(#org+prog, #activity ...). Keep the hashtag row: the cluster reads the columns by it.",
    "Row ID: your own id for the row (any text, unique in your organisation). Upload the file "
    "again with the same ids to correct rows; rows you leave out of a later file are left alone.",
    "Action: leave empty or write New to add a row (or to correct the stored row of its id); "
    "Update to correct a row uploaded before (a row id that no stored row has is then refused, "
    "so that a mistyped id does not add the activity twice); Delete to withdraw a row.",
    "Reporting organisation: who reports the row; empty means your own organisation.",
    "Programming / implementing / funding organisation: who is accountable, who does the work, "
    "who pays. When you implement for another agency, name it as the programming or funding "
    "organisation: the cluster then counts the activity once even if both of you report it.",
    "Handed to partner: fill in only when you handed the items to another organisation to "
    "distribute (pipeline); they are then counted where that partner distributes them.",
    "Place: the P-code of the tehsil where you can, else the district (or province). The lists "
    "show the P-code with the name (PK504 Batagram), and a cell written as the list writes it is "
    "read; a name alone goes in a name column (#adm2+name, #adm3+name).",
    "Status: planned, ongoing or completed. Dates: 2005-11-30 or 30/11/2005. The reporting month "
    "is the month of the end date.",
    "Quantity: in the activity's unit (see the 'Lists' sheet). Households: households reached "
    "(completed) or targeted (planned, ongoing).",
    "Other columns you add are kept with your rows and shown back to you.",
)


def _area_choices(level: str) -> list[str]:
    return [
        f"{pcode} {name}"
        for pcode, name in AdminArea.objects.filter(level=level).values_list("pcode", "name")
    ]


def template_values(row: ActivityRow) -> list[Any]:
    """A stored row in the template's columns (P-codes, names as the organisation list has them); a
    withdrawal (a batch's record of a row it withdrew) is marked Delete, so that the file uploads
    again unchanged."""

    def org(value: Organisation | None) -> str:
        return value.name if value is not None else ""

    # A row of a union council (below the tehsils) has its own P-code written where the tehsil's
    # goes: the import reads a P-code of any level in any P-code column, and the row goes back where
    # it was rather than to its tehsil.
    own = row.admin_area.pcode
    adm3 = own if own not in {row.adm1, row.adm2, row.adm3} else (row.adm3 or "")
    return [
        row.row_id, "Delete" if row.withdrawn else "", org(row.reporting_org), org(row.programming_org),
        org(row.implementing_org), org(row.funding_org), org(row.recipient_org), row.activity.name,
        row.adm1, row.adm2, adm3, row.location or (row.site.name if row.site else ""), row.status,
        row.start_date, row.end_date, row.quantity, row.households, row.people_female, row.people_male,
    ]  # fmt: skip


def extra_labels(rows: QuerySet[ActivityRow]) -> list[str]:
    """The columns outside the 4W schema that the rows' files had (kept aside with them), sorted."""
    labels: set[str] = set()
    for extra in rows.filter(extra__isnull=False).values_list("extra", flat=True).iterator(chunk_size=2000):
        labels.update(extra or ())
    return sorted(labels)


def extra_column(label: str) -> ExportColumn:
    """Where a kept-aside column goes back: its header, or its hashtag when it had only that."""
    return ExportColumn("", label, 18) if label.startswith("#") else ExportColumn(label, "", 18)


def template_xlsx(*, rows: QuerySet[ActivityRow] | None = None) -> bytes:
    """The 4W template: the '4W' sheet (headers, hashtags, lists of valid values on every row),
    the 'Lists' sheet, a 'Read me'; pre-filled with the given rows. Without rows it holds none, not
    even a reporting organisation: a row holding only that would be read as a row with its id,
    activity, place and status missing, and an empty reporting organisation is the uploader's own
    anyway."""
    import xlsxwriter

    out = io.BytesIO()
    # Partners' text is never read as a formula, a link or a number.
    workbook = xlsxwriter.Workbook(
        out,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    header = workbook.add_format(
        {"bold": True, "bg_color": "#0F4C6E", "font_color": "#FFFFFF", "text_wrap": True}
    )
    tag = workbook.add_format({"italic": True, "font_color": "#4B5868", "bg_color": "#E6F0F5"})
    date = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet = workbook.add_worksheet("4W")
    lists = workbook.add_worksheet("Lists")
    read_me = workbook.add_worksheet("Read me")

    organisations = list(Organisation.objects.order_by("name").values_list("name", flat=True))
    activities = list(ActivityType.objects.filter(is_active=True).order_by("sort_order", "name"))
    choices: dict[str, list[str]] = {
        "Organisations": organisations,
        "Activities": [a.name for a in activities],
        "Units": [a.unit for a in activities],
        "Statuses": [s.value for s in ActivityStatus],
        "Actions": ["New", "Update", "Delete"],
        "Provinces": _area_choices(AdminLevel.PROVINCE),
        "Districts": _area_choices(AdminLevel.DISTRICT),
        "Tehsils": _area_choices(AdminLevel.TEHSIL),
    }
    ranges: dict[str, str] = {}
    for index, (name, values) in enumerate(choices.items()):
        lists.write(0, index, name, header)
        for number, value in enumerate(values, start=1):
            lists.write(number, index, value)
        letter = xlsxwriter.utility.xl_col_to_name(index)
        ranges[name] = f"=Lists!${letter}$2:${letter}${max(len(values), 1) + 1}"
        lists.set_column(index, index, 30 if name in {"Organisations", "Activities", "Tehsils"} else 16)

    labels = extra_labels(rows) if rows is not None else []
    for index, column in enumerate((*TEMPLATE_COLUMNS, *map(extra_column, labels))):
        sheet.write(0, index, column.header, header)
        sheet.write(1, index, column.tag, tag)
        sheet.set_column(index, index, column.width, date if column.tag.startswith("#date") else None)
    sheet.set_row(0, 30)
    sheet.freeze_panes(2, 1)
    last = 1 + TEMPLATE_ROWS
    by_tag = {c.tag: i for i, c in enumerate(TEMPLATE_COLUMNS)}

    def validate(tag_name: str, options: dict[str, Any]) -> None:
        column = by_tag[tag_name]
        sheet.data_validation(2, column, last, column, {"error_type": "warning", **options})

    for tag_name in ("#org+reporting", "#org+prog", "#org+impl", "#org+funder", "#org+recipient"):
        validate(tag_name, {"validate": "list", "source": ranges["Organisations"]})
    validate("#activity", {"validate": "list", "source": ranges["Activities"]})
    validate("#status", {"validate": "list", "source": ranges["Statuses"]})
    validate("#meta+action", {"validate": "list", "source": ranges["Actions"]})
    validate("#adm1+code", {"validate": "list", "source": ranges["Provinces"]})
    validate("#adm2+code", {"validate": "list", "source": ranges["Districts"]})
    validate("#adm3+code", {"validate": "list", "source": ranges["Tehsils"]})
    for tag_name in ("#date+start", "#date+end"):
        validate(
            tag_name,
            {
                "validate": "date",
                "criteria": "between",
                "minimum": EARLIEST,
                "maximum": LATEST,
            },
        )
    for tag_name in ("#output+num", "#reached+hh", "#reached+ind+f", "#reached+ind+m"):
        validate(tag_name, {"validate": "integer", "criteria": ">=", "value": 0})

    number = 2
    if rows is not None:
        for stored in (
            rows_with_names(rows).order_by("reporting_org__name", "row_id").iterator(chunk_size=2000)
        ):
            for index, value in enumerate(with_extra(template_values(stored), stored, labels)):
                if isinstance(value, dt.date):
                    sheet.write_datetime(number, index, dt.datetime.combine(value, dt.time()), date)
                elif value not in (None, ""):
                    sheet.write(number, index, value)
            number += 1

    read_me.set_column(0, 0, 120)
    for line, text in enumerate(READ_ME):
        read_me.write(line, 0, text, header if line == 0 else None)
    sheet.activate()
    workbook.close()
    return out.getvalue()


def template_csv(*, rows: QuerySet[ActivityRow] | None = None) -> bytes:
    """The 4W template as CSV: headers, the hashtag row and, when given, the rows to correct."""
    if rows is None:
        return csv_bytes(ROWS, ())
    return csv_bytes(*rows_export(rows.order_by("reporting_org__name", "row_id")))


# --- the pages' tables: rows (in the template's layout), batches, needs ------------------------------

ROWS = as_table(TEMPLATE_COLUMNS, name="cluster-4w-rows", sheet="4W")


def with_extra(values: list[Any], row: ActivityRow, labels: Sequence[str]) -> list[Any]:
    """The template's values of a row, then its kept-aside columns' (`labels`)."""
    if labels:
        extra = row.extra or {}
        values.extend(extra.get(label, "") for label in labels)
    return values


def rows_values(rows: QuerySet[ActivityRow], labels: Sequence[str] = ()) -> Iterable[list[Any]]:
    """Stored rows as the template's values, then those of the columns `labels`, read in chunks."""
    for stored in rows_with_names(rows).iterator(chunk_size=2000):
        yield with_extra(template_values(stored), stored, labels)


def rows_export(rows: QuerySet[ActivityRow], name: str = ROWS.name) -> tuple[Table, Iterable[list[Any]]]:
    """Stored rows as a file to correct and upload again unchanged: the template's columns and
    every column outside it that their files had, which the rows keep."""
    labels = extra_labels(rows)
    columns = (*TEMPLATE_COLUMNS, *map(extra_column, labels))
    return as_table(columns, name=name, sheet=ROWS.sheet), rows_values(rows, labels)


BATCHES = Table(
    "cluster-upload-batches",
    (
        Column("Batch", "#meta+id", "pk", 8),
        Column("When", "#date+uploaded", "created_at", 18),
        Column("Who", "#contact+name+staff", "created_by_label", 14),
        Column("Report of", "#org+reporting", lambda b: str(b.organisation) if b.organisation else "", 24),
        Column("File", "#meta+file", "filename", 24),
        Column("SHA-256", "#meta+digest", "digest", 20),
        Column("Rows read", "#meta+count", "rows_read", 9),
        Column("Added", "#meta+count+added", "added", 8),
        Column("Updated", "#meta+count+updated", "updated", 8),
        Column("Withdrawn", "#meta+count+withdrawn", "withdrawn", 9),
        Column("Left alone", "#meta+count+unchanged", "unchanged", 9),
        Column("Reverted", "#date+reverted", "reverted_at", 18),
    ),
    sheet="Batches",
)

NEEDS = Table(
    "cluster-needs",
    (
        Column("Province P-code", "#adm1+code", "adm1", 12),
        Column("District P-code", "#adm2+code", "adm2", 12),
        Column("Tehsil P-code", "#adm3+code", "adm3", 12),
        Column("Area", "#adm+name", "admin_area.name", 20),
        Column("Population", "#population", "population", 12),
        Column("Households", "#population+hh", "households", 12),
        Column("Houses destroyed", "#impact+destroyed", "houses_destroyed", 12),
        Column("Houses damaged", "#impact+damaged", "houses_damaged", 12),
        Column("Households in need of shelter", "#inneed+hh", "households_in_need", 14),
        Column("Elevation band", "#geo+elevation", "elevation_band", 10),
        Column("Illustrative", "#meta+illustrative", lambda b: "yes" if b.illustrative else "", 10),
        Column("Source", "#meta+source", "source", 40),
    ),
    sheet="Needs",
)
